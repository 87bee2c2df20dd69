#include "peer/ice_agent.h"

namespace wrtc {

void DisableUpnp(GstElement* webrtc) {
  GObject* ice = nullptr;
  g_object_get(webrtc, "ice-agent", &ice, nullptr);
  if (!ice) return;
  // The NiceAgent behind webrtcbin's GstWebRTCICE; both properties are looked up, not assumed.
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent")) {
    GObject* agent = nullptr;
    g_object_get(ice, "agent", &agent, nullptr);
    if (agent) {
      if (g_object_class_find_property(G_OBJECT_GET_CLASS(agent), "upnp")) g_object_set(agent, "upnp", FALSE, nullptr);
      g_object_unref(agent);
    }
  }
  g_object_unref(ice);
}

}  // namespace wrtc
