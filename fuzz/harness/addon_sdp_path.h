// The first half of PeerCore::SetDescription (src-native/peer/peer_core.cc), for the fuzzers: the text as
// JS hands it over (a C string, so it ends at the first NUL), GStreamer's parser, then the guard's
// checks (src-native/peer/sdp_guard.cc, linked, not copied): CheckDescription, and CheckRemoteAnswer for
// an answer.
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>

#include <cstddef>
#include <cstdint>

namespace fuzz {

// Returns the parsed description when the addon would hand it to webrtcbin, else nullptr.
// `answered` is the webrtcbin the description answers (its offer is checked against), or nullptr for
// an offer. WEBRTCBIN_FUZZ_SKIP_GUARD=description and/or =answer (comma-separated) leave checks
// out, to show what the fuzzer finds without them.
GstSDPMessage* ParseAsAddonDoes(const uint8_t* data, size_t size, GstElement* answered);

}  // namespace fuzz
