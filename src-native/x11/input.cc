#include "x11/input.h"

#include "common/native_error.h"

#include <xcb/xcb.h>
#include <xcb/xtest.h>
// XStringToKeysym only: a lookup in libX11's built-in name table that needs no Display and sends
// nothing to a server (names it lacks fall back to XKeysymDB, read from a file).
#include <X11/Xlib.h>

#include <cstdlib>
#include <string>

#include "x11/error_trap.h"

namespace wrtc {

namespace {

constexpr uint32_t kNoSymbol = 0;

// The lower and upper case of a keysym, for the letters a keymap may list in one case only. Latin-1
// covers what Xlib's rule for a lone keysym usually meets; a letter beyond it that the keymap lacks
// in the asked case takes the spare keycode instead.
void ConvertCase(uint32_t sym, uint32_t* lower, uint32_t* upper) {
  *lower = *upper = sym;
  if ((sym >= 'A' && sym <= 'Z') || (sym >= 0xC0 && sym <= 0xDE && sym != 0xD7)) *lower = sym + 0x20;
  else if ((sym >= 'a' && sym <= 'z') || (sym >= 0xE0 && sym <= 0xFE && sym != 0xF7)) *upper = sym - 0x20;
}

// The keysym in column `col` of one keycode's row, by the core protocol's rule (a row of one keysym, or
// with NoSymbol beside it, stands for both its cases), as Xlib's XKeysymToKeycode reads it.
uint32_t At(const uint32_t* syms, int per, int col) {
  if (col < 4) {
    if (col > 1) {
      while (per > 2 && syms[per - 1] == kNoSymbol) per--;
      if (per < 3) col -= 2;
    }
    if (per <= (col | 1) || syms[col | 1] == kNoSymbol) {
      uint32_t lower, upper;
      ConvertCase(syms[col & ~1], &lower, &upper);
      if (!(col & 1)) return lower;
      return upper == lower ? kNoSymbol : upper;
    }
  }
  return col < per ? syms[col] : kNoSymbol;
}

}  // namespace

Napi::Function XInput::DefineClass(Napi::Env env) {
  return ObjectWrap<XInput>::DefineClass(env, "NativeXInput",
                                         {
                                             InstanceMethod<&XInput::Size>("size"),
                                             InstanceMethod<&XInput::Move>("move"),
                                             InstanceMethod<&XInput::Button>("button"),
                                             InstanceMethod<&XInput::Key>("key"),
                                             InstanceMethod<&XInput::Close>("close"),
                                         });
}

XInput::XInput(const Napi::CallbackInfo& info) : Napi::ObjectWrap<XInput>(info) {
  Napi::Env env = info.Env();
  std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  XConnection x = ConnectX(name);
  if (!x.connection) {
    throw NativeError{"ERR_X_DISPLAY", "cannot open X display " + name, ""}.ToJs(env);
  }
  const xcb_query_extension_reply_t* xtest = xcb_get_extension_data(x.connection, &xcb_test_id);
  if (!xtest || !xtest->present) {
    xcb_disconnect(x.connection);
    throw NativeError{"ERR_X_DISPLAY", "the X server " + name + " has no XTEST extension", ""}.ToJs(env);
  }
  const xcb_setup_t* setup = xcb_get_setup(x.connection);
  min_keycode_ = setup->min_keycode;
  max_keycode_ = setup->max_keycode;
  width_ = x.screen->width_in_pixels;
  height_ = x.screen->height_in_pixels;
  connection_ = x.connection;
  RegisterLive(env);
}

XInput::~XInput() { Release(); }

bool XInput::Usable() { return connection_ && !Lost(connection_); }

void XInput::Release() {
  if (!connection_) return;
  // The borrowed keycode gets back what it held, so other clients see the keymap they knew.
  if (!spare_original_.empty() && !Lost(connection_)) {
    CheckRequest(connection_, xcb_change_keyboard_mapping_checked(connection_, 1, spare_keycode_, spare_per_keycode_,
                                                                  spare_original_.data()));
  }
  xcb_disconnect(connection_);  // after a lost connection it only frees memory
  connection_ = nullptr;
}

Napi::Value XInput::Close(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value XInput::Size(const Napi::CallbackInfo& info) {
  if (!connection_) return info.Env().Null();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("width", width_);
  out.Set("height", height_);
  return out;
}

Napi::Value XInput::Move(const Napi::CallbackInfo& info) {
  if (!Usable()) return info.Env().Undefined();
  // Root None: the screen the pointer is on (XTest); detail 0: absolute coordinates.
  xcb_test_fake_input(connection_, XCB_MOTION_NOTIFY, 0, XCB_CURRENT_TIME, XCB_NONE,
                      static_cast<int16_t>(info[0].ToNumber().Int32Value()),
                      static_cast<int16_t>(info[1].ToNumber().Int32Value()), 0);
  xcb_flush(connection_);
  return info.Env().Undefined();
}

// X buttons: 1 left, 2 middle, 3 right, 4/5 wheel up/down, 6/7 wheel left/right.
Napi::Value XInput::Button(const Napi::CallbackInfo& info) {
  if (!Usable()) return info.Env().Undefined();
  uint8_t type = info[1].ToBoolean().Value() ? XCB_BUTTON_PRESS : XCB_BUTTON_RELEASE;
  xcb_test_fake_input(connection_, type, static_cast<uint8_t>(info[0].ToNumber().Uint32Value()), XCB_CURRENT_TIME,
                      XCB_NONE, 0, 0, 0);
  xcb_flush(connection_);
  return info.Env().Undefined();
}

// The keycode that types `keysym` on the current keymap (read anew: another client may have changed
// it), searched column by column like Xlib; 0 if none.
uint8_t XInput::Keycode(uint32_t keysym) {
  uint8_t count = static_cast<uint8_t>(max_keycode_ - min_keycode_ + 1);
  xcb_get_keyboard_mapping_reply_t* map =
      xcb_get_keyboard_mapping_reply(connection_, xcb_get_keyboard_mapping(connection_, min_keycode_, count), nullptr);
  if (!map) return 0;
  const uint32_t* syms = xcb_get_keyboard_mapping_keysyms(map);
  int per = map->keysyms_per_keycode;
  int rows = per ? xcb_get_keyboard_mapping_keysyms_length(map) / per : 0;
  uint8_t found = 0;
  for (int col = 0; col < per && !found; ++col) {
    for (int row = 0; row < rows && !found; ++row) {
      if (At(syms + row * per, per, col) == keysym) found = static_cast<uint8_t>(min_keycode_ + row);
    }
  }
  free(map);
  return found;
}

// key(keysymName | keysymNumber, down) → whether the key could be sent.
Napi::Value XInput::Key(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Usable()) return Napi::Boolean::New(env, false);
  uint32_t keysym = kNoSymbol;
  if (info[0].IsNumber()) keysym = static_cast<uint32_t>(info[0].As<Napi::Number>().Int64Value());
  else keysym = static_cast<uint32_t>(XStringToKeysym(info[0].ToString().Utf8Value().c_str()));
  if (keysym == kNoSymbol) return Napi::Boolean::New(env, false);
  bool down = info[1].ToBoolean().Value();
  uint8_t code = Keycode(keysym);
  if (code == 0) {
    if (Lost(connection_)) return Napi::Boolean::New(env, false);
    // Not on the keyboard map (é, €, CJK…): borrow the highest keycode but one for it.
    uint8_t spare = static_cast<uint8_t>(max_keycode_ - 1);
    if (spare_original_.empty()) {
      xcb_get_keyboard_mapping_reply_t* before =
          xcb_get_keyboard_mapping_reply(connection_, xcb_get_keyboard_mapping(connection_, spare, 1), nullptr);
      if (before) {
        const uint32_t* syms = xcb_get_keyboard_mapping_keysyms(before);
        spare_original_.assign(syms, syms + xcb_get_keyboard_mapping_keysyms_length(before));
        spare_per_keycode_ = before->keysyms_per_keycode;
        free(before);
      }
    }
    spare_keycode_ = spare;
    uint32_t pair[2] = {keysym, keysym};
    // Checked: the server has the new mapping before the fake key event refers to it.
    if (CheckRequest(connection_, xcb_change_keyboard_mapping_checked(connection_, 1, spare, 2, pair)).code) {
      return Napi::Boolean::New(env, false);
    }
    code = spare;
  }
  xcb_test_fake_input(connection_, down ? XCB_KEY_PRESS : XCB_KEY_RELEASE, code, XCB_CURRENT_TIME, XCB_NONE, 0, 0, 0);
  xcb_flush(connection_);
  return Napi::Boolean::New(env, true);
}

}  // namespace wrtc
