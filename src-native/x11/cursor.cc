#include "x11/cursor.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include <xcb/xcb.h>
#include <xcb/xfixes.h>

#include "x11/error_trap.h"
#include "x11/x_worker.h"

namespace wrtc {

namespace {

// Shapes over this size are not read (X cursors are 16–64 px, themes at 2× scale up to 128): a client
// could set any pixmap as its cursor, and one image is copied whole through the pipe.
constexpr uint16_t kMaxShapeSide = 256;

// The events of the cursor watcher, as the TS union NativeCursorEvent (lib/native/binding.ts).
namespace event {
// The displayed cursor changed: RGBA pixels (straight alpha, row by row), hotspot, XFixes serial.
struct Shape {
  static constexpr const char* kType = "shape";
  uint32_t serial = 0;
  uint16_t width = 0, height = 0, xhot = 0, yhot = 0;
  std::vector<uint8_t> rgba;
  void ToJs(Napi::Object& o) const {
    o.Set("serial", serial);
    o.Set("width", width);
    o.Set("height", height);
    o.Set("xhot", xhot);
    o.Set("yhot", yhot);
    o.Set("rgba", Napi::Buffer<uint8_t>::Copy(o.Env(), rgba.data(), rgba.size()));
  }
};
// The pointer moved (only sent on change, while position is watched). `onScreen`: false when the
// pointer is on another screen of the display.
struct Position {
  static constexpr const char* kType = "position";
  int x = 0, y = 0;
  bool on_screen = true;
  int screen_width = 0, screen_height = 0;  // the root window's size now (RandR may change it)
  void ToJs(Napi::Object& o) const {
    o.Set("x", x);
    o.Set("y", y);
    o.Set("onScreen", on_screen);
    o.Set("screenWidth", screen_width);
    o.Set("screenHeight", screen_height);
  }
};
// An unreadable shape (x_event::Warning); the display went away (x_event::Error).
using x_event::Error;
using x_event::Warning;
}  // namespace event

}  // namespace

class CursorCore final : public XWorker {
 public:
  using Event = std::variant<event::Shape, event::Position, event::Warning, event::Error>;

  // JS thread, before the thread starts: everything that can fail, so the constructor can throw.
  bool Open(const std::string& name, std::string* error) {
    XConnection x = ConnectX(name);
    if (!x.connection) {
      *error = "cannot open X display " + name + " for the cursor (is DISPLAY right and the server running?)";
      return false;
    }
    c_ = x.connection;
    root_ = x.screen->root;
    root_width_ = x.screen->width_in_pixels;
    root_height_ = x.screen->height_in_pixels;
    const xcb_query_extension_reply_t* fixes = xcb_get_extension_data(c_, &xcb_xfixes_id);
    if (!fixes || !fixes->present) {
      *error = "the X server " + name + " has no XFIXES extension: the cursor shape cannot be watched (send the pointer in the video)";
      Shutdown();
      return false;
    }
    fixes_event_base_ = fixes->first_event;
    // XFixes serves a client only once it has said which version it speaks (cursor images: 2.0+).
    free(xcb_xfixes_query_version_reply(c_, xcb_xfixes_query_version(c_, 5, 0), nullptr));
    if (!OpenWake("cursor", error)) {
      Shutdown();
      return false;
    }
    xcb_void_cookie_t watched =
        xcb_xfixes_select_cursor_input_checked(c_, root_, XCB_XFIXES_CURSOR_NOTIFY_MASK_DISPLAY_CURSOR);
    // The root's ConfigureNotify tells of RandR resizes: positions are sent with the screen's size.
    uint32_t structure = XCB_EVENT_MASK_STRUCTURE_NOTIFY;
    xcb_change_window_attributes(c_, root_, XCB_CW_EVENT_MASK, &structure);
    if (CheckRequest(c_, watched).code != 0 || Lost(c_)) {
      *error = "the X server " + name + " refused cursor notifications (XFixes SelectCursorInput)";
      Shutdown();
      return false;
    }
    return true;
  }

  // Any thread: positions polled `hz` times a second from now on; 0 stops polling.
  void WatchPosition(int hz) {
    std::lock_guard<std::mutex> lock(mutex_);
    hz_ = hz;
    Wake();
  }

  EventPipe<Event> pipe;
  std::atomic<uint64_t> polls{0};
  std::atomic<uint64_t> shapes{0};


 private:
  using Clock = std::chrono::steady_clock;

  void Run() override {
    ReadShape();  // the shape showing now: a viewer needs one before the first change
    Clock::time_point next_poll = Clock::now();
    int polling_hz = 0;
    while (!Stopping()) {
      int hz;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        hz = hz_;
      }
      if (hz != polling_hz) {
        polling_hz = hz;
        next_poll = Clock::now();
        have_position_ = false;  // a new watcher hears where the pointer is at once
      }
      bool changed = false;
      while (xcb_generic_event_t* e = xcb_poll_for_event(c_)) {
        uint8_t type = e->response_type & 0x7f;
        if (type == fixes_event_base_ + XCB_XFIXES_CURSOR_NOTIFY) changed = true;
        if (type == XCB_CONFIGURE_NOTIFY) {
          auto* configure = reinterpret_cast<xcb_configure_notify_event_t*>(e);
          if (configure->window == root_ && (configure->width != root_width_ || configure->height != root_height_)) {
            root_width_ = configure->width;
            root_height_ = configure->height;
            have_position_ = false;  // sent again with the new size
          }
        }
        free(e);
      }
      if (changed) ReadShape();
      int timeout = -1;
      if (polling_hz > 0) {
        Clock::time_point now = Clock::now();
        if (now >= next_poll) {
          ReadPosition();
          auto period = std::chrono::microseconds(1000000 / polling_hz);
          next_poll += period;
          if (next_poll < now) next_poll = now + period;  // late (a busy server): no burst to catch up
        }
        timeout = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(next_poll - Clock::now()).count());
        if (timeout < 0) timeout = 0;
      }
      if (Lost(c_)) {
        pipe.Post(event::Error{"ERR_X_DISPLAY_LOST", "the X display of the cursor watcher went away"});
        break;
      }
      if (!Sleep(c_, timeout)) {
        pipe.Post(event::Error{"ERR_X_DISPLAY_LOST", "poll failed on the X cursor connection"});
        break;
      }
    }
    Shutdown();
    pipe.Release();
  }

  void ReadShape() {
    xcb_generic_error_t* error = nullptr;
    xcb_xfixes_get_cursor_image_reply_t* reply =
        xcb_xfixes_get_cursor_image_reply(c_, xcb_xfixes_get_cursor_image(c_), &error);
    if (!reply) {
      // A lost server is the loop's to report. BadAccess: the server's access check looks the cursor
      // up by the XID of the client that made it, and that client has gone (xsetroot defines the root
      // cursor and exits): the shape cannot be read until the next change.
      XErrorRecord refused = TakeError(error);
      if (refused.code != 0 && !Lost(c_)) {
        pipe.Post(event::Warning{"ERR_CURSOR_UNREADABLE", "the X server refused the cursor image (error " + std::to_string(refused.code) +
                                                              ": its creator has left); the previous shape stays"});
      }
      return;
    }  // a lost server is noticed by the loop
    if (reply->cursor_serial == serial_ && have_shape_) {
      free(reply);
      return;
    }
    serial_ = reply->cursor_serial;
    have_shape_ = true;
    if (reply->width > kMaxShapeSide || reply->height > kMaxShapeSide) {
      pipe.Post(event::Warning{"ERR_CURSOR_TOO_LARGE", "the X cursor is " + std::to_string(reply->width) + "×" +
                                                           std::to_string(reply->height) + " px, over 256×256: not sent"});
      free(reply);
      return;
    }
    event::Shape shape;
    shape.serial = reply->cursor_serial;
    shape.width = reply->width;
    shape.height = reply->height;
    shape.xhot = reply->xhot;
    shape.yhot = reply->yhot;
    const uint32_t* argb = xcb_xfixes_get_cursor_image_cursor_image(reply);
    size_t n = static_cast<size_t>(reply->width) * reply->height;
    if (static_cast<size_t>(xcb_xfixes_get_cursor_image_cursor_image_length(reply)) < n) n = 0;
    shape.rgba.resize(n * 4);
    // XFixes gives premultiplied ARGB in 32-bit words; PNG and canvas want straight RGBA bytes.
    for (size_t i = 0; i < n; ++i) {
      uint32_t p = argb[i];
      uint32_t a = p >> 24, r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff;
      if (a != 0 && a != 255) {
        r = r * 255 / a;
        g = g * 255 / a;
        b = b * 255 / a;
        if (r > 255) r = 255;
        if (g > 255) g = 255;
        if (b > 255) b = 255;
      }
      uint8_t* out = &shape.rgba[i * 4];
      out[0] = static_cast<uint8_t>(r);
      out[1] = static_cast<uint8_t>(g);
      out[2] = static_cast<uint8_t>(b);
      out[3] = static_cast<uint8_t>(a);
    }
    free(reply);
    shapes.fetch_add(1, std::memory_order_relaxed);
    pipe.Post(std::move(shape));
  }

  void ReadPosition() {
    polls.fetch_add(1, std::memory_order_relaxed);
    xcb_query_pointer_reply_t* reply = xcb_query_pointer_reply(c_, xcb_query_pointer(c_, root_), nullptr);
    if (!reply) return;
    event::Position position{reply->root_x, reply->root_y, reply->same_screen != 0, root_width_, root_height_};
    free(reply);
    if (have_position_ && position.x == last_.x && position.y == last_.y && position.on_screen == last_.on_screen) return;
    have_position_ = true;
    last_ = position;
    pipe.Post(std::move(position));
  }

  // X thread (or the JS thread before it starts).
  void Shutdown() {
    if (!c_) return;
    xcb_disconnect(c_);
    c_ = nullptr;
  }

  // Touched by the X thread only once it runs.
  xcb_connection_t* c_ = nullptr;
  xcb_window_t root_ = 0;
  int root_width_ = 0, root_height_ = 0;
  uint8_t fixes_event_base_ = 0;
  uint32_t serial_ = 0;
  bool have_shape_ = false;
  bool have_position_ = false;
  event::Position last_;

  // Commands from JS (under mutex_).
  int hz_ = 0;
};

Napi::Function XCursor::DefineClass(Napi::Env env) {
  std::vector<Napi::ClassPropertyDescriptor<XCursor>> methods = {
      InstanceMethod<&XCursor::WatchPosition>("watchPosition"),
      InstanceMethod<&XCursor::Stats>("stats"),
  };
  AddCommonMethods(methods);
  return ObjectWrap<XCursor>::DefineClass(env, "NativeXCursor", methods);
}

XCursor::XCursor(const Napi::CallbackInfo& info) : XWorkerWrap(info, "webrtcbin-x-cursor") {}
XCursor::~XCursor() = default;

// watchPosition(hz): 0 stops polling (the default); otherwise 1–1000 polls a second, a position event
// only when it changed. Range and defaults are lib/input/cursor.ts's.
Napi::Value XCursor::WatchPosition(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "watchPosition(hz) needs a number");
  int hz = info[0].As<Napi::Number>().Int32Value();
  if (hz < 0) hz = 0;
  if (hz > 1000) hz = 1000;
  if (!core_->closing) core_->WatchPosition(hz);
  return info.Env().Undefined();
}

Napi::Value XCursor::Stats(const Napi::CallbackInfo& info) {
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("polls", static_cast<double>(core_->polls.load(std::memory_order_relaxed)));
  out.Set("shapes", static_cast<double>(core_->shapes.load(std::memory_order_relaxed)));
  return out;
}

}  // namespace wrtc
