#include "peer/ice_agent.h"

#include "common/gobject_ptr.h"

namespace wrtc {

void DisableUpnp(GstElement* webrtc) {
  GObject* ice_ref = nullptr;
  g_object_get(webrtc, "ice-agent", &ice_ref, nullptr);
  GObjectPtr<GObject> ice(ice_ref);
  if (!ice) return;
  // The NiceAgent behind webrtcbin's GstWebRTCICE; both properties are looked up, not assumed.
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice.get()), "agent")) {
    GObject* agent_ref = nullptr;
    g_object_get(ice.get(), "agent", &agent_ref, nullptr);
    GObjectPtr<GObject> agent(agent_ref);
    if (agent && g_object_class_find_property(G_OBJECT_GET_CLASS(agent.get()), "upnp")) {
      g_object_set(agent.get(), "upnp", FALSE, nullptr);
    }
  }
}

}  // namespace wrtc
