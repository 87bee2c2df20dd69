// How every webrtcbin we make configures its ICE agent (shared by the addon and the fuzz harnesses).
#pragma once

#include <gst/gst.h>

namespace wrtc {

// The connectivity-check pacing we use (libnice's Ta). libnice's default is 20 ms; RFC 8445 §14.2
// allows down to 5 ms. A VM peer has a handful of candidate pairs, so the pacing never adds up to a
// burst, and with regular nomination each of the two check rounds first waits for a Ta tick: while it
// waits, the viewer's DTLS ClientHello sits behind webrtcbin's "ICE not connected" block.
constexpr guint kIcePacingMs = 5;

// libnice starts UPnP discovery by default: SSDP multicast on every interface, a GUPnP HTTP server
// per peer, warnings, and a slower start. A VM peer never needs a router port mapping: turn it off.
// And the checks are paced at kIcePacingMs.
void ConfigureIceAgent(GstElement* webrtc);

}  // namespace wrtc
