// The first half of PeerCore::SetDescription (src-native/peer_core.cc), for the fuzzers: the text as
// JS hands it over (a C string, so it ends at the first NUL), GStreamer's parser, then the guard.
#pragma once

#include <gst/sdp/sdp.h>

#include <cstddef>
#include <cstdint>

namespace fuzz {

// Returns the parsed description when the addon would hand it to webrtcbin, else nullptr.
// WEBRTCBIN_FUZZ_SKIP_GUARD=1 leaves out wrtc::CheckDescription (to show what the fuzzer finds
// without it).
GstSDPMessage* ParseAsAddonDoes(const uint8_t* data, size_t size);

}  // namespace fuzz
