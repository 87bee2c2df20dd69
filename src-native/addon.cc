// Module entry: GStreamer is initialised once per process (never deinitialised: other environments,
// e.g. worker threads, may still use it), then the peer class and the doctor's probe are exported.
#include <gst/gst.h>
#include <napi.h>

#include <mutex>

#include "common/gobject_ptr.h"
#include "peer/peer_wrap.h"
#include "x11/capture_guard.h"
#include "x11/clipboard.h"
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
    GstElementFactory* factory = gst_element_factory_find(name.c_str());
    entry.Set("present", factory != nullptr);
    if (factory) {
      const gchar* plugin = gst_plugin_feature_get_plugin_name(GST_PLUGIN_FEATURE(factory));
      entry.Set("plugin", plugin ? plugin : "");
      gst_object_unref(factory);
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

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  std::call_once(gst_once, [] {
    gst_init(nullptr, nullptr);
    InstallXErrorHandler();
  });
  exports.Set("NativePeer", Peer::DefineClass(env));
  exports.Set("NativeXInput", XInput::DefineClass(env));
  exports.Set("NativeXClipboard", XClipboard::DefineClass(env));
  exports.Set("NativeXScreen", XScreen::DefineClass(env));
  exports.Set("findElements", Napi::Function::New(env, FindElements, "findElements"));
  exports.Set("gstVersion", Napi::Function::New(env, GstVersion, "gstVersion"));
  exports.Set("livePeers", Napi::Function::New(env, LivePeers, "livePeers"));
  return exports;
}

}  // namespace wrtc

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return wrtc::Init(env, exports); }

NODE_API_MODULE(webrtcbin, InitAddon)
