#include <cstdlib>
#include <memory>
#include <string>

#include "x11/screen.h"
#include "common/native_error.h"

#include <xcb/randr.h>
#include <xcb/xcb.h>

#include "x11/error_trap.h"

namespace wrtc {

namespace {

struct FreeReply {
  void operator()(void* p) const { free(p); }
};
template <typename T>
using Reply = std::unique_ptr<T, FreeReply>;

Napi::Error Typed(Napi::Env env, const char* code, const std::string& message) {
  return NativeError{code, message, ""}.ToJs(env);
}

std::string Dim(int w, int h) { return std::to_string(w) + "x" + std::to_string(h); }

// The output whose CRTC gets the new mode: RandR's primary output, else the first connected one
// that drives a CRTC (Xvfb has exactly one, "screen").
xcb_randr_output_t PickOutput(xcb_connection_t* c, xcb_window_t root, xcb_randr_get_screen_resources_current_reply_t* res) {
  Reply<xcb_randr_get_output_primary_reply_t> primary_reply(
      xcb_randr_get_output_primary_reply(c, xcb_randr_get_output_primary(c, root), nullptr));
  xcb_randr_output_t primary = primary_reply ? primary_reply->output : XCB_NONE;
  xcb_randr_output_t fallback = XCB_NONE;
  const xcb_randr_output_t* outputs = xcb_randr_get_screen_resources_current_outputs(res);
  int n = xcb_randr_get_screen_resources_current_outputs_length(res);
  for (int i = 0; i < n; ++i) {
    Reply<xcb_randr_get_output_info_reply_t> info(
        xcb_randr_get_output_info_reply(c, xcb_randr_get_output_info(c, outputs[i], res->config_timestamp), nullptr));
    if (!info || info->connection != XCB_RANDR_CONNECTION_CONNECTED || info->crtc == XCB_NONE) continue;
    if (outputs[i] == primary) return primary;
    if (fallback == XCB_NONE) fallback = outputs[i];
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
  XConnection x = ConnectX(name);
  if (!x.connection) throw Typed(info.Env(), "ERR_X_DISPLAY", "cannot open X display " + name + " to resize it (is the server running?)");
  connection_ = x.connection;
  root_ = x.screen->root;
  width_ = x.screen->width_in_pixels;
  height_ = x.screen->height_in_pixels;
  RegisterLive(info.Env());
}

XScreen::~XScreen() { Release(); }

bool XScreen::Usable() { return connection_ && !Lost(connection_); }

void XScreen::Release() {
  if (!connection_) return;
  xcb_disconnect(connection_);  // after a lost connection it only frees memory
  connection_ = nullptr;
}

Napi::Value XScreen::Close(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

// The root window's geometry: current even after a RandR change (the connection's setup is not).
Napi::Value XScreen::Size(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Usable()) return env.Null();
  Reply<xcb_get_geometry_reply_t> geometry(xcb_get_geometry_reply(connection_, xcb_get_geometry(connection_, root_), nullptr));
  if (!geometry) return env.Null();
  Napi::Object out = Napi::Object::New(env);
  out.Set("width", geometry->width);
  out.Set("height", geometry->height);
  return out;
}

// RandR 1.2 or later (CRTCs, outputs, modes). The version asked for is the one this code speaks.
bool XScreen::HasRandR12() {
  const xcb_query_extension_reply_t* ext = xcb_get_extension_data(connection_, &xcb_randr_id);
  if (!ext || !ext->present) return false;
  Reply<xcb_randr_query_version_reply_t> version(
      xcb_randr_query_version_reply(connection_, xcb_randr_query_version(connection_, 1, 6), nullptr));
  return version && (version->major_version > 1 || (version->major_version == 1 && version->minor_version >= 2));
}

Napi::Value XScreen::Range(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Usable() || !HasRandR12()) return env.Null();
  Reply<xcb_randr_get_screen_size_range_reply_t> range(
      xcb_randr_get_screen_size_range_reply(connection_, xcb_randr_get_screen_size_range(connection_, root_), nullptr));
  if (!range) return env.Null();
  Napi::Object out = Napi::Object::New(env);
  out.Set("minWidth", range->min_width);
  out.Set("minHeight", range->min_height);
  out.Set("maxWidth", range->max_width);
  out.Set("maxHeight", range->max_height);
  return out;
}

// setSize(width, height) → the new {width, height}; throws ERR_X_RESIZE_UNSUPPORTED (no RandR 1.2 or
// no output to drive), ERR_X_RESIZE_RANGE (outside what the server allows) or ERR_X_RESIZE_FAILED.
Napi::Value XScreen::SetSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Usable()) throw Typed(env, "ERR_X_DISPLAY", "the X display is closed or gone: cannot resize it");
  int width = info[0].ToNumber().Int32Value();
  int height = info[1].ToNumber().Int32Value();
  xcb_connection_t* c = connection_;
  xcb_window_t root = root_;
  if (!HasRandR12()) {
    if (Lost(c)) throw Typed(env, "ERR_X_DISPLAY", "the X display went away: cannot resize it");
    throw Typed(env, "ERR_X_RESIZE_UNSUPPORTED", "the X server has no RandR 1.2 or later: its screen size cannot be changed");
  }
  int min_w = 0, min_h = 0, max_w = 0, max_h = 0;
  {
    Reply<xcb_randr_get_screen_size_range_reply_t> range(
        xcb_randr_get_screen_size_range_reply(c, xcb_randr_get_screen_size_range(c, root), nullptr));
    if (range) {
      min_w = range->min_width;
      min_h = range->min_height;
      max_w = range->max_width;
      max_h = range->max_height;
    }
  }
  if (width < min_w || height < min_h || width > max_w || height > max_h) {
    throw Typed(env, "ERR_X_RESIZE_RANGE",
                "the X server allows screen sizes from " + Dim(min_w, min_h) + " to " + Dim(max_w, max_h) + ", not " +
                    Dim(width, height) +
                    " (Xvfb cannot grow beyond the size it started with: start it with the largest size to allow, "
                    "e.g. -screen 0 3840x2160x24)");
  }
  Reply<xcb_randr_get_screen_resources_current_reply_t> res(
      xcb_randr_get_screen_resources_current_reply(c, xcb_randr_get_screen_resources_current(c, root), nullptr));
  if (!res) throw Typed(env, "ERR_X_RESIZE_UNSUPPORTED", "the X server reports no RandR screen resources");
  xcb_timestamp_t config_time = res->config_timestamp;
  xcb_randr_output_t output = PickOutput(c, root, res.get());
  Reply<xcb_randr_get_output_info_reply_t> out_info(
      output ? xcb_randr_get_output_info_reply(c, xcb_randr_get_output_info(c, output, config_time), nullptr) : nullptr);
  Reply<xcb_randr_get_crtc_info_reply_t> crtc(
      out_info ? xcb_randr_get_crtc_info_reply(c, xcb_randr_get_crtc_info(c, out_info->crtc, config_time), nullptr) : nullptr);
  if (!crtc) throw Typed(env, "ERR_X_RESIZE_UNSUPPORTED", "the X server has no connected RandR output driving a CRTC to resize");

  // A mode of exactly that size: one the output has, one the server knows (added to the output), or a
  // new one. Virtual servers (Xvfb, Xorg dummy, VM GPUs) accept any; timings are nominal (60 Hz).
  XErrorRecord error;
  auto note = [&error](XErrorRecord e) {
    if (!error.code) error = e;
  };
  const xcb_randr_mode_info_t* modes = xcb_randr_get_screen_resources_current_modes(res.get());
  int nmode = xcb_randr_get_screen_resources_current_modes_length(res.get());
  const xcb_randr_mode_t* out_modes = xcb_randr_get_output_info_modes(out_info.get());
  int out_nmode = xcb_randr_get_output_info_modes_length(out_info.get());
  xcb_randr_mode_t mode = XCB_NONE;
  for (int i = 0; i < nmode && mode == XCB_NONE; ++i) {
    if (modes[i].width != width || modes[i].height != height) continue;
    for (int j = 0; j < out_nmode; ++j) {
      if (out_modes[j] == modes[i].id) mode = modes[i].id;
    }
  }
  for (int i = 0; i < nmode && mode == XCB_NONE; ++i) {
    if (modes[i].width == width && modes[i].height == height) {
      mode = modes[i].id;
      note(CheckRequest(c, xcb_randr_add_output_mode_checked(c, output, mode)));
    }
  }
  if (mode == XCB_NONE) {
    std::string name = Dim(width, height);
    xcb_randr_mode_info_t mode_info{};
    mode_info.width = static_cast<uint16_t>(width);
    mode_info.height = static_cast<uint16_t>(height);
    mode_info.htotal = static_cast<uint16_t>(width);
    mode_info.vtotal = static_cast<uint16_t>(height);
    mode_info.dot_clock = static_cast<uint32_t>(width) * static_cast<uint32_t>(height) * 60;
    mode_info.name_len = static_cast<uint16_t>(name.size());
    xcb_generic_error_t* create_error = nullptr;
    Reply<xcb_randr_create_mode_reply_t> created(xcb_randr_create_mode_reply(
        c, xcb_randr_create_mode(c, root, mode_info, static_cast<uint32_t>(name.size()), name.data()), &create_error));
    note(TakeError(create_error));
    if (created) mode = created->mode;
    if (mode) note(CheckRequest(c, xcb_randr_add_output_mode_checked(c, output, mode)));
  }
  if (!mode || error.code || Lost(c)) {
    throw Typed(env, "ERR_X_RESIZE_FAILED", "the X server refused a " + Dim(width, height) + " mode (X error " +
                                                std::to_string(error.code) + ")");
  }

  // The CRTC must fit in the screen at every step: shrink the CRTC before the screen, grow the screen
  // before the CRTC; when neither order works, switch the CRTC off in between.
  int screen_w = width_, screen_h = height_;
  {
    Reply<xcb_get_geometry_reply_t> geometry(xcb_get_geometry_reply(c, xcb_get_geometry(c, root), nullptr));
    if (geometry) {
      screen_w = geometry->width;
      screen_h = geometry->height;
    }
  }
  // Keep the DPI at 96 for the physical size RandR asks for.
  uint32_t mm_w = static_cast<uint32_t>(width * 25.4 / 96 + 0.5);
  uint32_t mm_h = static_cast<uint32_t>(height * 25.4 / 96 + 0.5);
  xcb_randr_crtc_t crtc_id = out_info->crtc;
  uint16_t rotation = crtc->rotation;
  uint8_t status = XCB_RANDR_SET_CONFIG_SUCCESS;
  // Each step waits for its answer (the server serves only us while we hold the grab) and keeps the
  // first refusal; a step after a refused one is skipped, as RandR would refuse it too.
  auto set_crtc = [&](xcb_randr_mode_t m, uint16_t rot, uint32_t n, const xcb_randr_output_t* outs, int16_t x, int16_t y) {
    xcb_generic_error_t* e = nullptr;
    Reply<xcb_randr_set_crtc_config_reply_t> reply(xcb_randr_set_crtc_config_reply(
        c, xcb_randr_set_crtc_config(c, crtc_id, XCB_CURRENT_TIME, config_time, x, y, m, rot, n, outs), &e));
    note(TakeError(e));
    return reply ? reply->status : static_cast<uint8_t>(XCB_RANDR_SET_CONFIG_FAILED);
  };
  auto set_screen = [&] {
    note(CheckRequest(c, xcb_randr_set_screen_size_checked(c, root, static_cast<uint16_t>(width), static_cast<uint16_t>(height), mm_w, mm_h)));
  };
  xcb_grab_server(c);
  if (width <= screen_w && height <= screen_h) {
    status = set_crtc(mode, rotation, 1, &output, 0, 0);
    if (status == XCB_RANDR_SET_CONFIG_SUCCESS) set_screen();
  } else if (crtc->width + crtc->x <= width && crtc->height + crtc->y <= height) {
    set_screen();
    status = set_crtc(mode, rotation, 1, &output, 0, 0);
  } else {
    status = set_crtc(XCB_NONE, XCB_RANDR_ROTATION_ROTATE_0, 0, nullptr, 0, 0);
    set_screen();
    if (status == XCB_RANDR_SET_CONFIG_SUCCESS) status = set_crtc(mode, rotation, 1, &output, 0, 0);
  }
  xcb_ungrab_server(c);
  xcb_flush(c);
  if (status != XCB_RANDR_SET_CONFIG_SUCCESS || error.code || Lost(c)) {
    // Leave the screen as it was rather than half-changed (best effort: failures here are ignored).
    XErrorRecord first = error;
    set_crtc(crtc->mode, crtc->rotation, xcb_randr_get_crtc_info_outputs_length(crtc.get()),
             xcb_randr_get_crtc_info_outputs(crtc.get()), crtc->x, crtc->y);
    if (Lost(c)) throw Typed(env, "ERR_X_DISPLAY", "the X display went away while resizing it");
    throw Typed(env, "ERR_X_RESIZE_FAILED",
                "the X server refused to switch to " + Dim(width, height) + " (RandR status " + std::to_string(status) +
                    ", X error " + std::to_string(first.code) + "; another output may not fit in that size)");
  }
  return XScreen::Size(info);
}

}  // namespace wrtc
