#include <cstring>
#include <string>

#include "x11/screen.h"
#include "common/native_error.h"

#include <X11/Xlib.h>
#include <X11/extensions/Xrandr.h>

#include "x11/error_trap.h"

namespace wrtc {

namespace {

Display* D(void* p) { return static_cast<Display*>(p); }

void DisplayGone(Display*, void* flag) { static_cast<std::atomic<bool>*>(flag)->store(true); }

Napi::Error Typed(Napi::Env env, const char* code, const std::string& message) {
  return NativeError{code, message, ""}.ToJs(env);
}

std::string Dim(int w, int h) { return std::to_string(w) + "x" + std::to_string(h); }

// The output whose CRTC gets the new mode: RandR's primary output, else the first connected one
// that drives a CRTC (Xvfb has exactly one, "screen").
RROutput PickOutput(Display* display, Window root, XRRScreenResources* res) {
  RROutput primary = XRRGetOutputPrimary(display, root);
  RROutput fallback = None;
  for (int i = 0; i < res->noutput; ++i) {
    XRROutputInfo* info = XRRGetOutputInfo(display, res, res->outputs[i]);
    if (!info) continue;
    bool usable = info->connection == RR_Connected && info->crtc != None;
    XRRFreeOutputInfo(info);
    if (!usable) continue;
    if (res->outputs[i] == primary) return primary;
    if (fallback == None) fallback = res->outputs[i];
  }
  return fallback;
}

}  // namespace

Napi::Function XScreen::DefineClass(Napi::Env env) {
  return ObjectWrap<XScreen>::DefineClass(env, "NativeXScreen",
                                          {
                                              InstanceMethod<&XScreen::Size>("size"),
                                              InstanceMethod<&XScreen::Range>("range"),
                                              InstanceMethod<&XScreen::SetSize>("setSize"),
                                              InstanceMethod<&XScreen::Close>("close"),
                                          });
}

XScreen::XScreen(const Napi::CallbackInfo& info) : Napi::ObjectWrap<XScreen>(info) {
  std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  Display* display = XOpenDisplay(name.empty() ? nullptr : name.c_str());
  if (!display) throw Typed(info.Env(), "ERR_X_DISPLAY", "cannot open X display " + name + " to resize it (is the server running?)");
  // A dead server must not end the process, nor a refused request (Xlib's defaults exit).
  XSetIOErrorExitHandler(display, DisplayGone, &lost_);
  trap_ = new XErrorTrap();
  trap_->Install(display);
  display_ = display;
  RegisterLive(info.Env());
}

XScreen::~XScreen() { Release(); }

void XScreen::Release() {
  if (!display_) return;
  trap_->Remove();
  XCloseDisplay(D(display_));  // after an IO error it only frees memory
  display_ = nullptr;
  delete trap_;
  trap_ = nullptr;
}

Napi::Value XScreen::Close(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

// The root window's geometry: current even after a RandR change (Xlib's cached screen size is not).
Napi::Value XScreen::Size(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!display_ || lost_) return env.Null();
  Window root, child;
  int x, y;
  unsigned width = 0, height = 0, border, depth;
  if (!XGetGeometry(D(display_), DefaultRootWindow(D(display_)), &root, &x, &y, &width, &height, &border, &depth) || lost_) {
    return env.Null();
  }
  (void)child;
  Napi::Object out = Napi::Object::New(env);
  out.Set("width", width);
  out.Set("height", height);
  return out;
}

Napi::Value XScreen::Range(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!display_ || lost_) return env.Null();
  Display* display = D(display_);
  int event_base, error_base, major = 0, minor = 0;
  if (!XRRQueryExtension(display, &event_base, &error_base) || !XRRQueryVersion(display, &major, &minor) ||
      (major == 1 && minor < 2)) {
    return env.Null();
  }
  int min_w, min_h, max_w, max_h;
  if (!XRRGetScreenSizeRange(display, DefaultRootWindow(display), &min_w, &min_h, &max_w, &max_h)) return env.Null();
  Napi::Object out = Napi::Object::New(env);
  out.Set("minWidth", min_w);
  out.Set("minHeight", min_h);
  out.Set("maxWidth", max_w);
  out.Set("maxHeight", max_h);
  return out;
}

// setSize(width, height) → the new {width, height}; throws ERR_X_RESIZE_UNSUPPORTED (no RandR 1.2 or
// no output to drive), ERR_X_RESIZE_RANGE (outside what the server allows) or ERR_X_RESIZE_FAILED.
Napi::Value XScreen::SetSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!display_ || lost_) throw Typed(env, "ERR_X_DISPLAY", "the X display is closed or gone: cannot resize it");
  int width = info[0].ToNumber().Int32Value();
  int height = info[1].ToNumber().Int32Value();
  Display* display = D(display_);
  Window root = DefaultRootWindow(display);
  int event_base, error_base, major = 0, minor = 0;
  if (!XRRQueryExtension(display, &event_base, &error_base) || !XRRQueryVersion(display, &major, &minor) ||
      (major == 1 && minor < 2)) {
    if (lost_) throw Typed(env, "ERR_X_DISPLAY", "the X display went away: cannot resize it");
    throw Typed(env, "ERR_X_RESIZE_UNSUPPORTED", "the X server has no RandR 1.2 or later: its screen size cannot be changed");
  }
  int min_w, min_h, max_w, max_h;
  XRRGetScreenSizeRange(display, root, &min_w, &min_h, &max_w, &max_h);
  if (width < min_w || height < min_h || width > max_w || height > max_h) {
    throw Typed(env, "ERR_X_RESIZE_RANGE",
                "the X server allows screen sizes from " + Dim(min_w, min_h) + " to " + Dim(max_w, max_h) + ", not " +
                    Dim(width, height) +
                    " (Xvfb cannot grow beyond the size it started with: start it with the largest size to allow, "
                    "e.g. -screen 0 3840x2160x24)");
  }
  trap_->Take();
  XRRScreenResources* res = XRRGetScreenResourcesCurrent(display, root);
  if (!res) throw Typed(env, "ERR_X_RESIZE_UNSUPPORTED", "the X server reports no RandR screen resources");
  RROutput output = PickOutput(display, root, res);
  XRROutputInfo* out_info = output ? XRRGetOutputInfo(display, res, output) : nullptr;
  XRRCrtcInfo* crtc = out_info ? XRRGetCrtcInfo(display, res, out_info->crtc) : nullptr;
  auto free_all = [&] {
    if (crtc) XRRFreeCrtcInfo(crtc);
    if (out_info) XRRFreeOutputInfo(out_info);
    XRRFreeScreenResources(res);
  };
  if (!crtc) {
    free_all();
    throw Typed(env, "ERR_X_RESIZE_UNSUPPORTED", "the X server has no connected RandR output driving a CRTC to resize");
  }

  // A mode of exactly that size: one the output has, one the server knows (added to the output), or a
  // new one. Virtual servers (Xvfb, Xorg dummy, VM GPUs) accept any; timings are nominal (60 Hz).
  RRMode mode = None;
  for (int i = 0; i < res->nmode && mode == None; ++i) {
    const XRRModeInfo& m = res->modes[i];
    if (static_cast<int>(m.width) != width || static_cast<int>(m.height) != height) continue;
    for (int j = 0; j < out_info->nmode; ++j) {
      if (out_info->modes[j] == m.id) mode = m.id;
    }
  }
  for (int i = 0; i < res->nmode && mode == None; ++i) {
    const XRRModeInfo& m = res->modes[i];
    if (static_cast<int>(m.width) == width && static_cast<int>(m.height) == height) {
      mode = m.id;
      XRRAddOutputMode(display, output, mode);
    }
  }
  if (mode == None) {
    std::string name = Dim(width, height);
    XRRModeInfo mode_info{};
    mode_info.width = width;
    mode_info.height = height;
    mode_info.hTotal = width;
    mode_info.vTotal = height;
    mode_info.dotClock = static_cast<unsigned long>(width) * height * 60;
    mode_info.name = &name[0];
    mode_info.nameLength = name.size();
    mode = XRRCreateMode(display, root, &mode_info);
    if (mode) XRRAddOutputMode(display, output, mode);
  }
  XSync(display, False);
  XErrorRecord error = trap_->Take();
  if (!mode || error.code || lost_) {
    free_all();
    throw Typed(env, "ERR_X_RESIZE_FAILED", "the X server refused a " + Dim(width, height) + " mode (X error " +
                                                std::to_string(error.code) + ")");
  }

  // The CRTC must fit in the screen at every step: shrink the CRTC before the screen, grow the screen
  // before the CRTC; when neither order works, switch the CRTC off in between.
  int screen_w = DisplayWidth(display, DefaultScreen(display));
  int screen_h = DisplayHeight(display, DefaultScreen(display));
  {
    Window r;
    int x, y;
    unsigned w, h, b, d;
    if (XGetGeometry(display, root, &r, &x, &y, &w, &h, &b, &d)) {
      screen_w = static_cast<int>(w);
      screen_h = static_cast<int>(h);
    }
  }
  // Keep the DPI at 96 for the physical size RandR asks for.
  int mm_w = static_cast<int>(width * 25.4 / 96 + 0.5);
  int mm_h = static_cast<int>(height * 25.4 / 96 + 0.5);
  RRCrtc crtc_id = out_info->crtc;
  Status status = RRSetConfigSuccess;
  XGrabServer(display);
  if (width <= screen_w && height <= screen_h) {
    status = XRRSetCrtcConfig(display, res, crtc_id, CurrentTime, 0, 0, mode, crtc->rotation, &output, 1);
    if (status == RRSetConfigSuccess) XRRSetScreenSize(display, root, width, height, mm_w, mm_h);
  } else if (static_cast<int>(crtc->width) + crtc->x <= width && static_cast<int>(crtc->height) + crtc->y <= height) {
    XRRSetScreenSize(display, root, width, height, mm_w, mm_h);
    status = XRRSetCrtcConfig(display, res, crtc_id, CurrentTime, 0, 0, mode, crtc->rotation, &output, 1);
  } else {
    status = XRRSetCrtcConfig(display, res, crtc_id, CurrentTime, 0, 0, None, RR_Rotate_0, nullptr, 0);
    XRRSetScreenSize(display, root, width, height, mm_w, mm_h);
    if (status == RRSetConfigSuccess) {
      status = XRRSetCrtcConfig(display, res, crtc_id, CurrentTime, 0, 0, mode, crtc->rotation, &output, 1);
    }
  }
  XUngrabServer(display);
  XSync(display, False);
  error = trap_->Take();
  if (status != RRSetConfigSuccess || error.code) {
    // Leave the screen as it was rather than half-changed (best effort: failures here are ignored).
    XRRSetCrtcConfig(display, res, crtc_id, CurrentTime, crtc->x, crtc->y, crtc->mode, crtc->rotation, crtc->outputs,
                     crtc->noutput);
    XSync(display, False);
    trap_->Take();
    free_all();
    if (lost_) throw Typed(env, "ERR_X_DISPLAY", "the X display went away while resizing it");
    throw Typed(env, "ERR_X_RESIZE_FAILED",
                "the X server refused to switch to " + Dim(width, height) + " (RandR status " + std::to_string(status) +
                    ", X error " + std::to_string(error.code) + "; another output may not fit in that size)");
  }
  free_all();
  return XScreen::Size(info);
}

}  // namespace wrtc
