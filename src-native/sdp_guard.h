// The preconditions webrtcbin 1.22 asserts on, checked on the description GStreamer's own SDP parser
// produced (never on the text): a remote peer must not be able to reach a g_assert and abort the process.
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>

#include <string>

namespace wrtc {

// Returns an empty string when webrtcbin can take `sdp` safely, else what is wrong, naming the line
// (e.g. "more than one session-level a=ice-ufrag"). `remote` is true for set-remote-description.
std::string CheckDescription(const GstSDPMessage* sdp, bool remote);

// For a remote answer (or pranswer): checks it against the offer `webrtc` has made (its
// pending-local-description); "" when it may be applied, else what is wrong. "" too when there is
// no local offer (webrtcbin then refuses the answer itself).
std::string CheckRemoteAnswer(const GstSDPMessage* answer, GstElement* webrtc);

}  // namespace wrtc
