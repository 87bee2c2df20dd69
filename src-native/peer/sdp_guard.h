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

// For a remote offer that renegotiates: `previous` is our current local description. Returns an empty
// string when every m-line the two share keeps its mid, else which m-line moved.
std::string CheckRenegotiation(const GstSDPMessage* previous, const GstSDPMessage* next);

// For add-ice-candidate ("candidate:<foundation> <component> <transport> <priority> <address> <port>
// typ <type> ..."): an empty string when libnice can take it without a critical and without a DNS
// lookup of a name the remote chose, else what is wrong.
std::string CheckCandidate(const std::string& candidate);

// True for a candidate whose address is an mDNS name ("<uuid>.local", what browsers send for host
// candidates). webrtcbin 1.22 would resolve it on a task that outlives the peer when close() comes
// first (the ICE agent, its sockets and a thread are never freed); the VM has no mDNS resolver, and the
// browser's checks reach us anyway as peer-reflexive candidates, so such candidates are left out.
bool IsMdnsCandidate(const std::string& candidate);

// Removes the a=candidate lines with an mDNS address from every m-line (a non-trickle offer carries
// them); returns how many were removed.
guint DropMdnsCandidates(GstSDPMessage* sdp);

// webrtcbin 1.22 turns every SDP attribute and fmtp parameter into a caps field, and GLib keeps each
// field name for the life of the process: a peer inventing new names grows memory without bound
// (~550 bytes a name). Removes the attributes and fmtp parameters no WebRTC peer needs (the names
// browsers, WHIP/WHEP clients and webrtcbin use are kept); returns how many were removed.
guint DropUnknownAttributes(GstSDPMessage* sdp);

// For a remote answer (or pranswer): checks it against the offer `webrtc` has made (its
// pending-local-description); "" when it may be applied, else what is wrong. "" too when there is
// no local offer (webrtcbin then refuses the answer itself).
std::string CheckRemoteAnswer(const GstSDPMessage* answer, GstElement* webrtc);

}  // namespace wrtc
