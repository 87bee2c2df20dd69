// Mouse and keyboard injection into an X display with XTest (xcb-xtest), for viewers allowed to control.
// Runs on the JS thread: each call is a few requests to a local X server, then a flush.
#pragma once

#include <napi.h>

#include <cstdint>
#include <vector>

#include "common/addon_data.h"

struct xcb_connection_t;

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
  bool Usable();  // open and its server still there: otherwise every call is a no-op
  uint8_t Keycode(uint32_t keysym);
  xcb_connection_t* connection_ = nullptr;
  uint16_t width_ = 0, height_ = 0;  // the screen's size when connected (as Xlib's screen struct kept it)
  uint8_t min_keycode_ = 0, max_keycode_ = 0;
  // Remapped on demand for keysyms the keymap lacks (non-ASCII), and what it held before: put back on close.
  uint8_t spare_keycode_ = 0;
  std::vector<uint32_t> spare_original_;
  uint8_t spare_per_keycode_ = 0;
};

}  // namespace wrtc
