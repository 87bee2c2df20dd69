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
  Napi::Value Level(const Napi::CallbackInfo& info);
  Napi::Value Spares(const Napi::CallbackInfo& info);
  Napi::Value Sync(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  void Release();
  bool Usable();  // open and its server still there: otherwise every call is a no-op
  // Where the current keymap types `keysym`: its keycode and column (0 plain, 1 with Shift), code 0 if nowhere.
  struct Place {
    uint8_t code = 0;
    int column = -1;
  };
  Place Find(uint32_t keysym);
  // The keymap as the server last told us: fetched once, and again only after a MappingNotify (every
  // client gets one when any client changes it), so a key costs no round trip to a busy server.
  void ReadEvents();     // takes the events waiting on the connection, without blocking
  bool ReadKeymap();     // one GetKeyboardMapping round trip into keymap_ / per_
  std::vector<uint32_t> keymap_;
  int per_ = 0;
  bool keymap_stale_ = true;
  uint8_t Borrow(uint32_t keysym);  // a spare keycode bound to `keysym`; 0 when X refused
  void FindSpares();
  xcb_connection_t* connection_ = nullptr;
  uint16_t width_ = 0, height_ = 0;  // the screen's size when connected (as Xlib's screen struct kept it)
  uint8_t min_keycode_ = 0, max_keycode_ = 0;
  // Keycodes the keymap leaves empty, bound on demand to keysyms it lacks (non-ASCII) and rebound least
  // recently used first: a client reads a press's symbol when it reads the event, so a keycode must not
  // change while a client may still be behind. What each held before goes back on close.
  struct Spare {
    uint8_t code = 0;
    uint32_t keysym = 0;    // bound to, 0 while still as found
    uint64_t used = 0;      // the press count when last pressed: the lowest is rebound first
    std::vector<uint32_t> original;
    uint8_t per = 0;        // keysyms per keycode of `original`
  };
  std::vector<Spare> spares_;
  uint64_t presses_ = 0;
};

}  // namespace wrtc
