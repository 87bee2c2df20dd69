// Resizing an X screen with RandR (xcb-randr), for viewers that ask the remote desktop to match their
// window. Runs on the JS thread like the input injector: a few requests to a local X server.
#pragma once

#include <napi.h>

#include <cstdint>

#include "common/addon_data.h"

struct xcb_connection_t;

namespace wrtc {

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
  bool Usable();  // open and its server still there
  bool HasRandR12();
  xcb_connection_t* connection_ = nullptr;
  uint32_t root_ = 0;
  uint16_t width_ = 0, height_ = 0;  // the screen's size when connected
};

}  // namespace wrtc
