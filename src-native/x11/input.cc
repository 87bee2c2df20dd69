#include "x11/input.h"

#include "common/latency_trace.h"
#include "common/native_error.h"

#include <xcb/xcb.h>
#include <xcb/xtest.h>
// XStringToKeysym only: a lookup in libX11's built-in name table that needs no Display and sends
// nothing to a server (names it lacks fall back to XKeysymDB, read from a file).
#include <X11/Xlib.h>

#include <cstdlib>
#include <string>

#include "x11/error_trap.h"
#include "x11/pointer_nudge.h"

namespace wrtc {

namespace {

constexpr uint32_t kNoSymbol = 0;
constexpr uint32_t kTaken = ~0u;  // a spare's keysym once another client has bound its keycode: never ours again

// The lower and upper case of a keysym, for the letters a keymap may list in one case only. Latin-1
// covers what Xlib's rule for a lone keysym usually meets; a letter beyond it that the keymap lacks
// in the asked case takes a spare keycode instead.
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

// A keysym number, or a name XStringToKeysym knows (NoSymbol if it does not).
uint32_t KeysymArg(const Napi::Value& value) {
  if (value.IsNumber()) return static_cast<uint32_t>(value.As<Napi::Number>().Int64Value());
  return static_cast<uint32_t>(XStringToKeysym(value.ToString().Utf8Value().c_str()));
}

}  // namespace

Napi::Function XInput::DefineClass(Napi::Env env) {
  return ObjectWrap<XInput>::DefineClass(env, "NativeXInput",
                                         {
                                             InstanceMethod<&XInput::Size>("size"),
                                             InstanceMethod<&XInput::Move>("move"),
                                             InstanceMethod<&XInput::Button>("button"),
                                             InstanceMethod<&XInput::Key>("key"),
                                             InstanceMethod<&XInput::Level>("level"),
                                             InstanceMethod<&XInput::Spares>("spares"),
                                             InstanceMethod<&XInput::Sync>("sync"),
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
  FindSpares();
  RegisterLive(env);
}

XInput::~XInput() { Release(); }

bool XInput::Usable() { return connection_ && !Lost(connection_); }

void XInput::Release() {
  if (!connection_) return;
  // Borrowed keycodes get back what they held, so other clients see the keymap they knew (one
  // round trip for them all: the server has them before we disconnect).
  bool restored = false;
  for (Spare& spare : spares_) {
    if (!spare.keysym || spare.keysym == kTaken || Lost(connection_)) continue;
    xcb_change_keyboard_mapping(connection_, 1, spare.code, spare.per, spare.original.data());
    restored = true;
  }
  if (restored && !Lost(connection_)) free(xcb_get_input_focus_reply(connection_, xcb_get_input_focus(connection_), nullptr));
  spares_.clear();
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
  NudgePointer();  // damage sources drawing the pointer read it now (pointer_nudge.h)
  return info.Env().Undefined();
}

// X buttons: 1 left, 2 middle, 3 right, 4/5 wheel up/down, 6/7 wheel left/right.
Napi::Value XInput::Button(const Napi::CallbackInfo& info) {
  if (!Usable()) return info.Env().Undefined();
  uint8_t type = info[1].ToBoolean().Value() ? XCB_BUTTON_PRESS : XCB_BUTTON_RELEASE;
  xcb_test_fake_input(connection_, type, static_cast<uint8_t>(info[0].ToNumber().Uint32Value()), XCB_CURRENT_TIME,
                      XCB_NONE, 0, 0, 0);
  xcb_flush(connection_);
  NudgePointer();  // a press can change the cursor's shape
  return info.Env().Undefined();
}

void XInput::ReadEvents() {
  // Nothing is selected on this connection: what arrives is MappingNotify (sent to every client) and
  // the errors of unchecked requests, which need no answer.
  while (xcb_generic_event_t* event = xcb_poll_for_event(connection_)) {
    if ((event->response_type & 0x7f) == XCB_MAPPING_NOTIFY &&
        reinterpret_cast<xcb_mapping_notify_event_t*>(event)->request == XCB_MAPPING_KEYBOARD) {
      keymap_stale_ = true;
    }
    free(event);
  }
}

bool XInput::ReadKeymap() {
  uint8_t count = static_cast<uint8_t>(max_keycode_ - min_keycode_ + 1);
  xcb_get_keyboard_mapping_reply_t* map =
      xcb_get_keyboard_mapping_reply(connection_, xcb_get_keyboard_mapping(connection_, min_keycode_, count), nullptr);
  if (!map) return false;
  const uint32_t* syms = xcb_get_keyboard_mapping_keysyms(map);
  keymap_.assign(syms, syms + xcb_get_keyboard_mapping_keysyms_length(map));
  per_ = map->keysyms_per_keycode;
  free(map);
  keymap_stale_ = false;
  // A spare another client has since bound to something else is no longer ours to rebind.
  int rows = per_ ? static_cast<int>(keymap_.size()) / per_ : 0;
  for (Spare& spare : spares_) {
    int row = spare.code - min_keycode_;
    if (row >= rows) continue;
    bool empty = true;
    for (int col = 0; col < per_; ++col) empty = empty && keymap_[row * per_ + col] == kNoSymbol;
    if (!empty && (spare.keysym == kNoSymbol || keymap_[row * per_] != spare.keysym)) spare.keysym = kTaken;
  }
  return true;
}

// Where `keysym` is on the current keymap (the cached copy, read again after any client changed it),
// searched column by column like Xlib's XKeysymToKeycode, so the plain level of any key wins over a
// shifted one.
XInput::Place XInput::Find(uint32_t keysym) {
  Place place;
  ReadEvents();
  if (keymap_stale_ && !ReadKeymap()) return place;
  const uint32_t* syms = keymap_.data();
  int per = per_;
  int rows = per ? static_cast<int>(keymap_.size()) / per : 0;
  for (int col = 0; col < per && !place.code; ++col) {
    for (int row = 0; row < rows && !place.code; ++row) {
      if (At(syms + row * per, per, col) == keysym) place = {static_cast<uint8_t>(min_keycode_ + row), col};
    }
  }
  return place;
}

// The keycodes with no symbol at all, highest first (the low ones stay for other tools that borrow
// keycodes, as xdotool does, scanning from the bottom); at most kMaxSpares. With none, the highest
// keycode but one, as a single spare.
void XInput::FindSpares() {
  constexpr size_t kMaxSpares = 64;
  uint8_t count = static_cast<uint8_t>(max_keycode_ - min_keycode_ + 1);
  xcb_get_keyboard_mapping_reply_t* map =
      xcb_get_keyboard_mapping_reply(connection_, xcb_get_keyboard_mapping(connection_, min_keycode_, count), nullptr);
  if (!map) return;
  const uint32_t* syms = xcb_get_keyboard_mapping_keysyms(map);
  int per = map->keysyms_per_keycode;
  int rows = per ? xcb_get_keyboard_mapping_keysyms_length(map) / per : 0;
  for (int row = rows - 1; row >= 0 && spares_.size() < kMaxSpares; --row) {
    bool empty = true;
    for (int col = 0; col < per; ++col) empty = empty && syms[row * per + col] == kNoSymbol;
    if (!empty) continue;
    Spare spare;
    spare.code = static_cast<uint8_t>(min_keycode_ + row);
    spare.original.assign(syms + row * per, syms + (row + 1) * per);
    spare.per = static_cast<uint8_t>(per);
    spares_.push_back(std::move(spare));
  }
  int fallback = max_keycode_ - 1 - min_keycode_;
  if (spares_.empty() && fallback >= 0 && fallback < rows) {
    Spare spare;
    spare.code = static_cast<uint8_t>(max_keycode_ - 1);
    spare.original.assign(syms + fallback * per, syms + (fallback + 1) * per);
    spare.per = static_cast<uint8_t>(per);
    spares_.push_back(std::move(spare));
  }
  free(map);
}

uint8_t XInput::Borrow(uint32_t keysym) {
  Spare* pick = nullptr;
  for (Spare& spare : spares_) {
    if (spare.keysym == kTaken) continue;
    if (!pick || spare.used < pick->used) pick = &spare;
  }
  if (!pick) return 0;
  uint32_t pair[2] = {keysym, keysym};
  // Checked: the server has the new mapping before the fake key event refers to it.
  if (CheckRequest(connection_, xcb_change_keyboard_mapping_checked(connection_, 1, pick->code, 2, pair)).code) return 0;
  pick->keysym = keysym;
  keymap_stale_ = true;  // its MappingNotify may still be on the way
  return pick->code;
}

// key(keysymName | keysymNumber, down) → whether the key could be sent.
Napi::Value XInput::Key(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Usable()) return Napi::Boolean::New(env, false);
  uint32_t keysym = KeysymArg(info[0]);
  if (keysym == kNoSymbol) return Napi::Boolean::New(env, false);
  bool down = info[1].ToBoolean().Value();
  uint8_t code = Find(keysym).code;
  if (code == 0) {
    if (Lost(connection_)) return Napi::Boolean::New(env, false);
    // Not on the keyboard map (é, €, CJK…): bind a spare keycode to it.
    code = Borrow(keysym);
    if (code == 0) return Napi::Boolean::New(env, false);
  }
  if (down) {
    for (Spare& spare : spares_) {
      if (spare.code == code) spare.used = ++presses_;
    }
  }
  xcb_test_fake_input(connection_, down ? XCB_KEY_PRESS : XCB_KEY_RELEASE, code, XCB_CURRENT_TIME, XCB_NONE, 0, 0, 0);
  xcb_flush(connection_);
  if (down) LatencyTrace("xtest");
  return Napi::Boolean::New(env, true);
}

// level(keysym) → the keymap column that types it (0 plain, 1 with Shift, 2 and 3 in the second
// group), or -1 when the keymap lacks it (key() then binds a spare keycode to it, on both levels).
Napi::Value XInput::Level(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t keysym = KeysymArg(info[0]);
  if (!Usable() || keysym == kNoSymbol) return Napi::Number::New(env, -1);
  return Napi::Number::New(env, Find(keysym).column);
}

// spares() → how many keycodes key() rebinds in turn for keysyms the keymap lacks.
Napi::Value XInput::Spares(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(spares_.size()));
}

// sync() → a round trip: once the server answers, it has processed every event sent before. False
// when the display is gone.
Napi::Value XInput::Sync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Usable()) return Napi::Boolean::New(env, false);
  xcb_get_input_focus_reply_t* reply = xcb_get_input_focus_reply(connection_, xcb_get_input_focus(connection_), nullptr);
  free(reply);
  return Napi::Boolean::New(env, reply != nullptr);
}

}  // namespace wrtc
