// Module entry: GStreamer is initialised once per process; each environment that loads the addon (the
// main thread, every worker) gets its own classes, a registry of its live handles and a cleanup hook
// that closes them when it exits. Exports the peer, encoder, image encoder and X classes and the doctor's probe.
#include <gst/gst.h>
#include <napi.h>

#include <mutex>

#include "common/addon_data.h"
#include "common/gobject_ptr.h"
#include "common/latency_trace.h"
#include "encoder/native_encoder.h"
#include "image/image_encoder.h"
#include "peer/dtls_certificate.h"
#include "peer/peer_wrap.h"
#include "x11/capture_guard.h"
#include "x11/clipboard.h"
#include "x11/damage_src.h"
#include "x11/cursor.h"
#include "x11/input.h"
#include "x11/screen.h"

namespace wrtc {
namespace {

std::once_flag gst_once;

// For each element name: is a factory registered, and from which plugin (the doctor's raw data).
Napi::Value FindElements(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw Napi::TypeError::New(env, "findElements expects an array of element names");
  Napi::Array names = info[0].As<Napi::Array>();
  Napi::Array out = Napi::Array::New(env, names.Length());
  for (uint32_t i = 0; i < names.Length(); ++i) {
    std::string name = names.Get(i).ToString().Utf8Value();
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("name", name);
    GObjectPtr<GstElementFactory> factory(gst_element_factory_find(name.c_str()));
    entry.Set("present", static_cast<bool>(factory));
    if (factory) {
      const gchar* plugin = gst_plugin_feature_get_plugin_name(GST_PLUGIN_FEATURE(factory.get()));
      entry.Set("plugin", plugin ? plugin : "");
    }
    out.Set(i, entry);
  }
  return out;
}

Napi::Value GstVersion(const Napi::CallbackInfo& info) {
  GCharPtr version(gst_version_string());
  return Napi::String::New(info.Env(), version.or_empty());
}

Napi::Value LivePeers(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(PeerCore::Alive()));
}

// The environment is exiting (its loop has ended, process.exit() in a worker, worker.terminate()):
// close every handle still open there, on its own thread, before Node frees the environment.
void CloseLiveHandles(void* data) { static_cast<AddonData*>(data)->live->CloseAll(); }

Napi::Function Keep(Napi::FunctionReference* slot, Napi::Function constructor) {
  *slot = Napi::Persistent(constructor);
  return constructor;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Never gst_deinit(): GStreamer is per process, and another environment (the main thread or a
  // worker) may still use it after this one ends; nor can gst_init() run again after a deinit.
  std::call_once(gst_once, [] {
    gst_init(nullptr, nullptr);
    InstallXErrorHandler();
    RegisterXDamageSource();  // built in: no plugin, no package
    InstallLatencyTracer();   // WEBRTCBIN_LATENCY_TRACE=1 only (bench/capture.ts --stages)
  });
  auto* data = new AddonData();
  env.SetInstanceData(data);  // deleted by Node after the environment's cleanup hooks have run
  napi_add_env_cleanup_hook(env, CloseLiveHandles, data);
  exports.Set("NativePeer", Keep(&data->peer, Peer::DefineClass(env)));
  exports.Set("NativeEncoder", Keep(&data->encoder, Encoder::DefineClass(env)));
  exports.Set("NativeImageEncoder", Keep(&data->image_encoder, ImageEncoder::DefineClass(env)));
  exports.Set("NativeXInput", Keep(&data->x_input, XInput::DefineClass(env)));
  exports.Set("NativeXClipboard", Keep(&data->x_clipboard, XClipboard::DefineClass(env)));
  exports.Set("NativeXScreen", Keep(&data->x_screen, XScreen::DefineClass(env)));
  exports.Set("NativeXCursor", Keep(&data->x_cursor, XCursor::DefineClass(env)));
  exports.Set("findElements", Napi::Function::New(env, FindElements, "findElements"));
  exports.Set("gstVersion", Napi::Function::New(env, GstVersion, "gstVersion"));
  exports.Set("livePeers", Napi::Function::New(env, LivePeers, "livePeers"));
  exports.Set("prepareDtlsCertificate", Napi::Function::New(env, PrepareDtlsCertificate, "prepareDtlsCertificate"));
  return exports;
}

}  // namespace wrtc

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return wrtc::Init(env, exports); }

NODE_API_MODULE(webrtcbin, InitAddon)
