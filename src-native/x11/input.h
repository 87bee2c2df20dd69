// Mouse and keyboard injection into an X display with XTest (libXtst), for viewers allowed to control.
// Runs on the JS thread: each call is a few requests to a local X server, then a flush.
#pragma once

#include <napi.h>

#include "common/addon_data.h"

namespace wrtc {

class XInput : public Napi::ObjectWrap<XInput>, public LiveHandle {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit XInput(const Napi::CallbackInfo& info);
  ~XInput() override;
  void CloseForExit() override { Release(); }

 private:
  Napi::Value Size(const Napi::CallbackInfo& info);
  Napi::Value Move(const Napi::CallbackInfo& info);
  Napi::Value Button(const Napi::CallbackInfo& info);
  Napi::Value Key(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  void Release();
  void* display_ = nullptr;  // Display*, kept opaque so X11's macros stay out of other files
  int spare_keycode_ = 0;
  bool lost_ = false;        // the X server went away: every call is a no-op    // remapped on demand for keysyms the keymap lacks (non-ASCII)
};

}  // namespace wrtc
