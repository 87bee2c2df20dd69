#include "peer/ice_agent.h"

#include "common/gobject_ptr.h"

namespace wrtc {

namespace {

// Sets a property of the NiceAgent only if this libnice has it and lets it change after construction.
template <typename T>
void SetIfWritable(GObject* agent, const char* name, T value) {
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(agent), name);
  if (spec && (spec->flags & G_PARAM_WRITABLE) && !(spec->flags & G_PARAM_CONSTRUCT_ONLY)) {
    g_object_set(agent, name, value, nullptr);
  }
}

}  // namespace

void ConfigureIceAgent(GstElement* webrtc) {
  GObject* ice_ref = nullptr;
  g_object_get(webrtc, "ice-agent", &ice_ref, nullptr);
  GObjectPtr<GObject> ice(ice_ref);
  if (!ice) return;
  // The NiceAgent behind webrtcbin's GstWebRTCICE; both properties are looked up, not assumed.
  if (!g_object_class_find_property(G_OBJECT_GET_CLASS(ice.get()), "agent")) return;
  GObject* agent_ref = nullptr;
  g_object_get(ice.get(), "agent", &agent_ref, nullptr);
  GObjectPtr<GObject> agent(agent_ref);
  if (!agent) return;
  SetIfWritable(agent.get(), "upnp", FALSE);
  SetIfWritable(agent.get(), "stun-pacing-timer", kIcePacingMs);
}

}  // namespace wrtc
