#include "x11/input.h"

#include "common/native_error.h"

#include <X11/Xlib.h>
#include <X11/XKBlib.h>
#include <X11/extensions/XTest.h>
#include <X11/keysym.h>

#include <string>

namespace wrtc {

namespace {
Display* D(void* p) { return static_cast<Display*>(p); }

// Nor may a dead X server (libX11 ≥ 1.7 lets an exit handler return): the injector goes quiet.
void XServerGone(Display*, void* flag) { *static_cast<bool*>(flag) = true; }
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
  Display* display = XOpenDisplay(name.empty() ? nullptr : name.c_str());
  if (!display) {
    throw NativeError{"ERR_X_DISPLAY", "cannot open X display " + name, ""}.ToJs(env);
  }
  int event_base, error_base, major, minor;
  if (!XTestQueryExtension(display, &event_base, &error_base, &major, &minor)) {
    XCloseDisplay(display);
    throw NativeError{"ERR_X_DISPLAY", "the X server " + name + " has no XTEST extension", ""}.ToJs(env);
  }
  XSetIOErrorExitHandler(display, XServerGone, &lost_);
  display_ = display;
  RegisterLive(env);
}

XInput::~XInput() { Release(); }

void XInput::Release() {
  if (display_ && !lost_) XCloseDisplay(D(display_));
  display_ = nullptr;
}

Napi::Value XInput::Close(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value XInput::Size(const Napi::CallbackInfo& info) {
  Napi::Object out = Napi::Object::New(info.Env());
  if (!display_) return info.Env().Null();
  Screen* screen = DefaultScreenOfDisplay(D(display_));
  out.Set("width", WidthOfScreen(screen));
  out.Set("height", HeightOfScreen(screen));
  return out;
}

Napi::Value XInput::Move(const Napi::CallbackInfo& info) {
  if (!display_ || lost_) return info.Env().Undefined();
  XTestFakeMotionEvent(D(display_), -1, info[0].ToNumber().Int32Value(), info[1].ToNumber().Int32Value(), CurrentTime);
  XFlush(D(display_));
  return info.Env().Undefined();
}

// X buttons: 1 left, 2 middle, 3 right, 4/5 wheel up/down, 6/7 wheel left/right.
Napi::Value XInput::Button(const Napi::CallbackInfo& info) {
  if (!display_ || lost_) return info.Env().Undefined();
  XTestFakeButtonEvent(D(display_), info[0].ToNumber().Uint32Value(), info[1].ToBoolean().Value(), CurrentTime);
  XFlush(D(display_));
  return info.Env().Undefined();
}

// key(keysymName | keysymNumber, down) → whether the key could be sent.
Napi::Value XInput::Key(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!display_ || lost_) return Napi::Boolean::New(env, false);
  Display* display = D(display_);
  KeySym keysym = NoSymbol;
  if (info[0].IsNumber()) keysym = static_cast<KeySym>(info[0].As<Napi::Number>().Int64Value());
  else keysym = XStringToKeysym(info[0].ToString().Utf8Value().c_str());
  if (keysym == NoSymbol) return Napi::Boolean::New(env, false);
  bool down = info[1].ToBoolean().Value();
  KeyCode code = XKeysymToKeycode(display, keysym);
  if (code == 0) {
    // Not on the keyboard map (é, €, CJK…): borrow the highest keycode for it.
    int min_code, max_code;
    XDisplayKeycodes(display, &min_code, &max_code);
    spare_keycode_ = max_code - 1;
    KeySym pair[2] = {keysym, keysym};
    XChangeKeyboardMapping(display, spare_keycode_, 2, pair, 1);
    XSync(display, False);
    code = static_cast<KeyCode>(spare_keycode_);
  }
  XTestFakeKeyEvent(display, code, down, CurrentTime);
  XFlush(display);
  return Napi::Boolean::New(env, true);
}

}  // namespace wrtc
