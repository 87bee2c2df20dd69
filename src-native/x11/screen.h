// Resizing an X screen with RandR (libXrandr), for viewers that ask the remote desktop to match their
// window. Runs on the JS thread like the input injector: a few requests to a local X server.
#pragma once

#include <napi.h>

#include <atomic>

#include "common/addon_data.h"

namespace wrtc {

class XErrorTrap;

class XScreen : public Napi::ObjectWrap<XScreen>, public LiveHandle {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit XScreen(const Napi::CallbackInfo& info);
  ~XScreen() override;
  void CloseForExit() override { Release(); }

 private:
  Napi::Value Size(const Napi::CallbackInfo& info);
  Napi::Value Range(const Napi::CallbackInfo& info);
  Napi::Value SetSize(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  void Release();
  void* display_ = nullptr;  // Display*, opaque so X11's macros stay out of other files
  XErrorTrap* trap_ = nullptr;
  std::atomic<bool> lost_{false};
};

}  // namespace wrtc
