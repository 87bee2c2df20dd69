// How every webrtcbin we make configures its ICE agent (shared by the addon and the fuzz harnesses).
#pragma once

#include <gst/gst.h>

namespace wrtc {

// libnice starts UPnP discovery by default: SSDP multicast on every interface, a GUPnP HTTP server
// per peer, warnings, and a slower start. A VM peer never needs a router port mapping: turn it off.
void DisableUpnp(GstElement* webrtc);

}  // namespace wrtc
