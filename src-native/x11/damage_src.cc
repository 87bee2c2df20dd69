#include "x11/damage_src.h"

#include <gst/base/gstpushsrc.h>
#include <gst/gst.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>
#include <xcb/damage.h>
#include <xcb/randr.h>
#include <xcb/shm.h>
#include <xcb/xcb.h>
#include <xcb/xfixes.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "common/latency_trace.h"
#include "x11/capture_guard.h"  // kXDisplayLostDomain
#include "x11/error_trap.h"
#include "x11/pointer_nudge.h"

GST_DEBUG_CATEGORY_STATIC(damage_debug);
#define GST_CAT_DEFAULT damage_debug

namespace wrtc {

gint64 NowUs() { return g_get_monotonic_time(); }

namespace {

struct FreeReply {
  void operator()(void* p) const { free(p); }
};
template <typename T>
using Reply = std::unique_ptr<T, FreeReply>;

// The X side of one capture: the connection, the damage object, the SHM segment and the last
// cursor. Used by the streaming thread only (start/stop run while it is not).
class Capture {
 public:
  ~Capture() { Close(); }

  // The screen rectangle captured: the region clipped to the screen (0 width/height: to its edge).
  struct Rect {
    int x = 0, y = 0, width = 0, height = 0;
  };

  // Empty on success, else what failed.
  std::string Open(const std::string& display, bool cursor, Rect wanted) {
    display_ = display;
    wanted_ = wanted;
    XConnection x = ConnectX(display);
    if (!x.connection) return "cannot open X display '" + display + "' (is the X server running, and DISPLAY right?)";
    c_ = x.connection;
    root_ = x.screen->root;
    if (x.screen->root_depth != 24 && x.screen->root_depth != 32) {
      return "the X screen's depth is " + std::to_string(x.screen->root_depth) + "; only 24-bit (BGRx) is captured";
    }
    const xcb_query_extension_reply_t* damage_ext = xcb_get_extension_data(c_, &xcb_damage_id);
    if (!damage_ext || !damage_ext->present) return "the X server has no DAMAGE extension; use capture 'fixed'";
    // XFixes first: DAMAGE 1.1 requires the client to have announced XFixes 2.0+.
    Reply<xcb_xfixes_query_version_reply_t> fixes(
        xcb_xfixes_query_version_reply(c_, xcb_xfixes_query_version(c_, 4, 0), nullptr));
    Reply<xcb_damage_query_version_reply_t> dv(
        xcb_damage_query_version_reply(c_, xcb_damage_query_version(c_, 1, 1), nullptr));
    if (!dv) return "the X server's DAMAGE extension did not answer";
    damage_event_ = damage_ext->first_event + XCB_DAMAGE_NOTIFY;
    have_cursor_ = cursor && fixes != nullptr;
    if (have_cursor_) {
      xcb_xfixes_select_cursor_input(c_, root_, XCB_XFIXES_CURSOR_NOTIFY_MASK_DISPLAY_CURSOR);
    }
    const xcb_query_extension_reply_t* randr_ext = xcb_get_extension_data(c_, &xcb_randr_id);
    if (randr_ext && randr_ext->present) {
      randr_event_ = randr_ext->first_event + XCB_RANDR_SCREEN_CHANGE_NOTIFY;
      Reply<xcb_randr_query_version_reply_t> rv(
          xcb_randr_query_version_reply(c_, xcb_randr_query_version(c_, 1, 2), nullptr));
      xcb_randr_select_input(c_, root_, XCB_RANDR_NOTIFY_MASK_SCREEN_CHANGE);
    }
    const xcb_query_extension_reply_t* shm_ext = xcb_get_extension_data(c_, &xcb_shm_id);
    use_shm_ = shm_ext && shm_ext->present;
    // BoundingBox: an event each time the bounding box of the accumulated damage grows. It is emptied
    // only just before a read of the screen, so a change after that read raises a new event (none is
    // missed), and damage outside the region is left to accumulate: it can never hide a later change
    // inside (emptying it on sight could discard in-region damage that raised no event of its own).
    damage_ = xcb_generate_id(c_);
    XErrorRecord err = CheckRequest(c_, xcb_damage_create_checked(c_, damage_, root_, XCB_DAMAGE_REPORT_LEVEL_BOUNDING_BOX));
    if (err.code) return "DamageCreate failed (X error " + std::to_string(err.code) + ")";
    return Resize();
  }

  void Close() {
    if (!c_) return;
    DetachShm();
    xcb_disconnect(c_);  // frees the damage object and the cursor selection with the connection
    c_ = nullptr;
  }

  // Re-reads the screen size and fits the rectangle and the SHM segment to it. Empty on success.
  std::string Resize() {
    Reply<xcb_get_geometry_reply_t> g(xcb_get_geometry_reply(c_, xcb_get_geometry(c_, root_), nullptr));
    if (!g) return "the X display '" + display_ + "' did not answer";
    screen_w_ = g->width;
    screen_h_ = g->height;
    Rect r;
    r.x = wanted_.x;
    r.y = wanted_.y;
    if (r.x >= screen_w_ || r.y >= screen_h_) {
      return "the region (" + std::to_string(r.x) + "," + std::to_string(r.y) + ") lies outside the " +
             std::to_string(screen_w_) + "x" + std::to_string(screen_h_) + " screen";
    }
    r.width = wanted_.width > 0 ? std::min(wanted_.width, screen_w_ - r.x) : screen_w_ - r.x;
    r.height = wanted_.height > 0 ? std::min(wanted_.height, screen_h_ - r.y) : screen_h_ - r.y;
    r.width -= r.width % 2;  // 4:2:0 downstream
    r.height -= r.height % 2;
    if (r.width < 2 || r.height < 2) return "the capture region is empty on this screen";
    rect_ = r;
    DetachShm();
    if (use_shm_ && !AttachShm(size_t(r.width) * r.height * 4)) use_shm_ = false;  // remote X: GetImage
    return "";
  }

  // Drains the X events: damage, cursor shape and screen size changes. False when the server is gone.
  bool Drain() {
    while (xcb_generic_event_t* ev = xcb_poll_for_event(c_)) {
      int type = ev->response_type & 0x7f;
      if (type == damage_event_) {
        GST_LOG_OBJECT(nullptr, "damage at %" G_GINT64_FORMAT " us (monotonic)", NowUs());
        auto* d = reinterpret_cast<xcb_damage_notify_event_t*>(ev);
        // Only damage reaching the captured rectangle needs a frame.
        if (Intersects(d->area.x, d->area.y, d->area.width, d->area.height)) {
          dirty_ = true;
          LatencyTrace("damage");
        }
      } else if (type == randr_event_ && randr_event_ != 0) {
        resized_ = true;
      } else if (have_cursor_ && type == CursorEvent()) {
        dirty_ = dirty_ || PointerInside();
      }
      free(ev);
    }
    xcb_flush(c_);
    return !Lost(c_);
  }

  // Polls the pointer position; true when it moved (into, inside or out of the rectangle).
  bool PointerMoved() {
    if (!have_cursor_) return false;
    Reply<xcb_query_pointer_reply_t> p(xcb_query_pointer_reply(c_, xcb_query_pointer(c_, root_), nullptr));
    if (!p) return false;
    bool moved = p->root_x != pointer_x_ || p->root_y != pointer_y_;
    int old_x = pointer_x_, old_y = pointer_y_;
    pointer_x_ = p->root_x;
    pointer_y_ = p->root_y;
    if (!moved) return false;
    // 64 px: a cursor image's reach around its hot spot.
    return Intersects(old_x - 64, old_y - 64, 128, 128) || Intersects(pointer_x_ - 64, pointer_y_ - 64, 128, 128);
  }

  // Reads the rectangle into a new buffer (and draws the pointer). Null when the server is gone.
  GstBuffer* Grab() {
    // Emptied before reading: damage after this point raises a new event and a new frame.
    xcb_damage_subtract(c_, damage_, XCB_NONE, XCB_NONE);
    dirty_ = false;
    size_t stride = size_t(rect_.width) * 4;
    size_t size = stride * rect_.height;
    GstBuffer* buffer = gst_buffer_new_allocate(nullptr, size, nullptr);
    GstMapInfo map;
    gst_buffer_map(buffer, &map, GST_MAP_WRITE);
    bool ok = false;
    if (use_shm_) {
      Reply<xcb_shm_get_image_reply_t> r(xcb_shm_get_image_reply(
          c_, xcb_shm_get_image(c_, root_, rect_.x, rect_.y, rect_.width, rect_.height, ~0u, XCB_IMAGE_FORMAT_Z_PIXMAP, seg_, 0),
          nullptr));
      if (r) {
        memcpy(map.data, shm_addr_, size);
        ok = true;
      }
    } else {
      Reply<xcb_get_image_reply_t> r(xcb_get_image_reply(
          c_, xcb_get_image(c_, XCB_IMAGE_FORMAT_Z_PIXMAP, root_, rect_.x, rect_.y, rect_.width, rect_.height, ~0u), nullptr));
      if (r && size_t(xcb_get_image_data_length(r.get())) >= size) {
        memcpy(map.data, xcb_get_image_data(r.get()), size);
        ok = true;
      }
    }
    if (ok && have_cursor_) DrawCursor(map.data, stride);
    gst_buffer_unmap(buffer, &map);
    if (!ok) {
      gst_buffer_unref(buffer);
      return nullptr;
    }
    return buffer;
  }

  int Fd() const { return xcb_get_file_descriptor(c_); }
  bool dirty() const { return dirty_; }
  bool resized() const { return resized_; }
  void clear_resized() { resized_ = false; }
  void mark_resized() { resized_ = true; }
  const Rect& rect() const { return rect_; }
  bool opened() const { return c_ != nullptr; }
  bool lost() const { return Lost(c_); }
  bool shm() const { return use_shm_; }

 private:
  int CursorEvent() const {
    const xcb_query_extension_reply_t* e = xcb_get_extension_data(c_, &xcb_xfixes_id);
    return e && e->present ? e->first_event + XCB_XFIXES_CURSOR_NOTIFY : -1;
  }

  bool Intersects(int x, int y, int w, int h) const {
    return x < rect_.x + rect_.width && x + w > rect_.x && y < rect_.y + rect_.height && y + h > rect_.y;
  }
  bool PointerInside() const { return Intersects(pointer_x_ - 64, pointer_y_ - 64, 128, 128); }

  bool AttachShm(size_t size) {
    shm_id_ = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
    if (shm_id_ < 0) return false;
    shm_addr_ = shmat(shm_id_, nullptr, 0);
    if (shm_addr_ == reinterpret_cast<void*>(-1)) {
      shmctl(shm_id_, IPC_RMID, nullptr);
      shm_addr_ = nullptr;
      return false;
    }
    seg_ = xcb_generate_id(c_);
    XErrorRecord err = CheckRequest(c_, xcb_shm_attach_checked(c_, seg_, shm_id_, 0));
    // Marked for removal once attached on both sides: the segment cannot outlive us, even on a crash.
    shmctl(shm_id_, IPC_RMID, nullptr);
    if (err.code) {
      shmdt(shm_addr_);
      shm_addr_ = nullptr;
      seg_ = 0;
      return false;
    }
    return true;
  }

  void DetachShm() {
    if (!shm_addr_) return;
    if (!Lost(c_)) xcb_shm_detach(c_, seg_);
    shmdt(shm_addr_);
    shm_addr_ = nullptr;
    seg_ = 0;
  }

  // The cursor image is premultiplied ARGB; the frame is BGRx (ARGB in a little-endian word).
  void DrawCursor(uint8_t* data, size_t stride) {
    Reply<xcb_xfixes_get_cursor_image_reply_t> cur(
        xcb_xfixes_get_cursor_image_reply(c_, xcb_xfixes_get_cursor_image(c_), nullptr));
    if (!cur) return;
    pointer_x_ = cur->x;
    pointer_y_ = cur->y;
    const uint32_t* pixels = xcb_xfixes_get_cursor_image_cursor_image(cur.get());
    int left = cur->x - cur->xhot - rect_.x;
    int top = cur->y - cur->yhot - rect_.y;
    for (int j = std::max(0, -top); j < cur->height && top + j < rect_.height; ++j) {
      auto* row = reinterpret_cast<uint32_t*>(data + size_t(top + j) * stride);
      for (int i = std::max(0, -left); i < cur->width && left + i < rect_.width; ++i) {
        uint32_t s = pixels[j * cur->width + i];
        uint32_t a = s >> 24;
        if (a == 0) continue;
        uint32_t d = row[left + i];
        uint32_t out = 0;
        for (int shift = 0; shift < 24; shift += 8) {
          uint32_t sc = (s >> shift) & 0xff, dc = (d >> shift) & 0xff;
          out |= std::min<uint32_t>(255, sc + dc * (255 - a) / 255) << shift;
        }
        row[left + i] = out;
      }
    }
  }

  std::string display_;
  Rect wanted_, rect_;
  xcb_connection_t* c_ = nullptr;
  xcb_window_t root_ = 0;
  xcb_damage_damage_t damage_ = 0;
  int damage_event_ = -1, randr_event_ = 0;
  int screen_w_ = 0, screen_h_ = 0;
  bool use_shm_ = false, have_cursor_ = false, dirty_ = true, resized_ = false;
  int shm_id_ = -1;
  void* shm_addr_ = nullptr;
  xcb_shm_seg_t seg_ = 0;
  int pointer_x_ = -1, pointer_y_ = -1;
};

}  // namespace

}  // namespace wrtc

// ---- the GObject type (C linkage names, plain structs as GObject wants them) ----

struct WebrtcbinXDamageSrc {
  GstPushSrc parent;
  // Properties (object lock).
  gchar* display_name;
  gboolean show_pointer;
  gint max_fps;
  guint refresh_ms;
  gint x, y, width, height;
  // Streaming state.
  wrtc::Capture* capture;
  int wake_fd;                  // eventfd: unlock() wakes a create() waiting in poll()
  std::atomic<bool>* flushing;  // set by unlock(), cleared by unlock_stop()
  gint64 last_push_us;          // monotonic time of the last frame pushed; 0: none yet
  gint64 last_change_us;        // ... of the last frame pushed for a change (damage, the pointer)
  guint64 nudges_seen;          // pointer_nudge.h's count when last looked at
  gint64 pointer_fast_until;    // poll the pointer at the coalescing rate until then (it moved lately)
  std::atomic<bool>* frame_now;  // a kFrameNowEvent came: push a frame without waiting for a change
  std::atomic<bool>* refine;     // a kRefineFrameEvent came: push a frame at the coalescing rate
  gboolean lost_posted;
};

struct WebrtcbinXDamageSrcClass {
  GstPushSrcClass parent_class;
};

G_DEFINE_TYPE(WebrtcbinXDamageSrc, webrtcbin_xdamage_src, GST_TYPE_PUSH_SRC)

namespace {

enum { PROP_0, PROP_DISPLAY_NAME, PROP_SHOW_POINTER, PROP_MAX_FPS, PROP_REFRESH_MS, PROP_X, PROP_Y, PROP_WIDTH, PROP_HEIGHT };

GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("video/x-raw,format=BGRx,width=[1,32767],height=[1,32767],framerate=[0/1,2147483647/1],"
                    "pixel-aspect-ratio=1/1"));

WebrtcbinXDamageSrc* Self(gpointer p) { return reinterpret_cast<WebrtcbinXDamageSrc*>(p); }

void SetProperty(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  WebrtcbinXDamageSrc* s = Self(object);
  GST_OBJECT_LOCK(s);
  switch (id) {
    case PROP_DISPLAY_NAME:
      g_free(s->display_name);
      s->display_name = g_value_dup_string(value);
      break;
    case PROP_SHOW_POINTER: s->show_pointer = g_value_get_boolean(value); break;
    case PROP_MAX_FPS: s->max_fps = g_value_get_int(value); break;
    case PROP_REFRESH_MS: s->refresh_ms = g_value_get_uint(value); break;
    case PROP_X: s->x = g_value_get_int(value); break;
    case PROP_Y: s->y = g_value_get_int(value); break;
    case PROP_WIDTH: s->width = g_value_get_int(value); break;
    case PROP_HEIGHT: s->height = g_value_get_int(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  GST_OBJECT_UNLOCK(s);
}

void GetProperty(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  WebrtcbinXDamageSrc* s = Self(object);
  GST_OBJECT_LOCK(s);
  switch (id) {
    case PROP_DISPLAY_NAME: g_value_set_string(value, s->display_name); break;
    case PROP_SHOW_POINTER: g_value_set_boolean(value, s->show_pointer); break;
    case PROP_MAX_FPS: g_value_set_int(value, s->max_fps); break;
    case PROP_REFRESH_MS: g_value_set_uint(value, s->refresh_ms); break;
    case PROP_X: g_value_set_int(value, s->x); break;
    case PROP_Y: g_value_set_int(value, s->y); break;
    case PROP_WIDTH: g_value_set_int(value, s->width); break;
    case PROP_HEIGHT: g_value_set_int(value, s->height); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  GST_OBJECT_UNLOCK(s);
}

GstCaps* CurrentCaps(WebrtcbinXDamageSrc* s) {
  const auto& r = s->capture->rect();
  return gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "BGRx", "width", G_TYPE_INT, r.width, "height",
                             G_TYPE_INT, r.height, "framerate", GST_TYPE_FRACTION_RANGE, 0, 1, G_MAXINT, 1,
                             "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr);
}

GstCaps* GetCaps(GstBaseSrc* base, GstCaps* filter) {
  WebrtcbinXDamageSrc* s = Self(base);
  GstCaps* caps = s->capture->opened() ? CurrentCaps(s) : gst_pad_get_pad_template_caps(GST_BASE_SRC_PAD(base));
  if (filter) {
    GstCaps* both = gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(caps);
    caps = both;
  }
  return caps;
}

// A nominal rate for the encoder's rate control when downstream leaves it open: max-fps.
GstCaps* Fixate(GstBaseSrc* base, GstCaps* caps) {
  WebrtcbinXDamageSrc* s = Self(base);
  caps = gst_caps_make_writable(caps);
  GstStructure* st = gst_caps_get_structure(caps, 0);
  gst_structure_fixate_field_nearest_fraction(st, "framerate", s->max_fps, 1);
  return GST_BASE_SRC_CLASS(webrtcbin_xdamage_src_parent_class)->fixate(base, caps);
}

gboolean Start(GstBaseSrc* base) {
  WebrtcbinXDamageSrc* s = Self(base);
  GST_OBJECT_LOCK(s);
  std::string display = s->display_name ? s->display_name : "";
  bool cursor = s->show_pointer;
  wrtc::Capture::Rect wanted{s->x, s->y, s->width, s->height};
  GST_OBJECT_UNLOCK(s);
  std::string error = s->capture->Open(display, cursor, wanted);
  if (!error.empty()) {
    s->capture->Close();
    GST_ELEMENT_ERROR(s, RESOURCE, OPEN_READ, ("%s", error.c_str()), (nullptr));
    return FALSE;
  }
  GST_INFO_OBJECT(s, "capturing %dx%d+%d+%d of %s (%s)", s->capture->rect().width, s->capture->rect().height,
                  s->capture->rect().x, s->capture->rect().y, display.c_str(), s->capture->shm() ? "MIT-SHM" : "GetImage");
  s->last_push_us = 0;
  s->last_change_us = 0;
  s->nudges_seen = wrtc::PointerNudges();
  s->pointer_fast_until = 0;
  s->lost_posted = FALSE;
  if (cursor) wrtc::AddPointerWaker(s->wake_fd);
  return TRUE;
}

gboolean Stop(GstBaseSrc* base) {
  wrtc::RemovePointerWaker(Self(base)->wake_fd);
  Self(base)->capture->Close();
  return TRUE;
}

gboolean Unlock(GstBaseSrc* base) {
  WebrtcbinXDamageSrc* s = Self(base);
  s->flushing->store(true);
  uint64_t one = 1;
  ssize_t n = write(s->wake_fd, &one, sizeof(one));
  (void)n;
  return TRUE;
}

gboolean UnlockStop(GstBaseSrc* base) {
  WebrtcbinXDamageSrc* s = Self(base);
  s->flushing->store(false);
  uint64_t value;
  ssize_t n = read(s->wake_fd, &value, sizeof(value));  // non-blocking: empties the eventfd
  (void)n;
  return TRUE;
}

// Upstream events: a kFrameNowEvent wakes create() for a frame at once, a kRefineFrameEvent for one
// at the coalescing rate.
gboolean Event(GstBaseSrc* base, GstEvent* event) {
  WebrtcbinXDamageSrc* s = Self(base);
  bool now = gst_event_has_name(event, wrtc::kFrameNowEvent);
  if (GST_EVENT_TYPE(event) == GST_EVENT_CUSTOM_UPSTREAM && (now || gst_event_has_name(event, wrtc::kRefineFrameEvent))) {
    (now ? s->frame_now : s->refine)->store(true);
    uint64_t one = 1;
    ssize_t n = write(s->wake_fd, &one, sizeof(one));
    (void)n;
    return TRUE;
  }
  return GST_BASE_SRC_CLASS(webrtcbin_xdamage_src_parent_class)->event(base, event);
}

// Empties the eventfd after a wake: what woke us is in `flushing` and `frame_now`, read before sleeping.
void DrainWake(WebrtcbinXDamageSrc* s) {
  uint64_t value;
  ssize_t n = read(s->wake_fd, &value, sizeof(value));
  (void)n;
}

void PostDisplayLost(WebrtcbinXDamageSrc* s) {
  if (s->lost_posted) return;
  s->lost_posted = TRUE;
  GST_OBJECT_LOCK(s);
  std::string name = s->display_name ? s->display_name : "";
  GST_OBJECT_UNLOCK(s);
  GError* error = g_error_new(g_quark_from_static_string(wrtc::kXDisplayLostDomain), 1,
                              "the X display %s is gone (its X server closed the connection); close this "
                              "stream and start a new one once the display is back",
                              name.c_str());
  gst_element_post_message(GST_ELEMENT(s), gst_message_new_error(GST_OBJECT(s), error, "X connection lost"));
  g_error_free(error);
}

// Why a frame is pushed: only changes set the coalescing slot (and it is traced with WEBRTCBIN_LATENCY_TRACE).
enum class Why { kFirst, kNow, kChange, kRefine, kRefresh };
const char* WhyName(Why why) {
  switch (why) {
    case Why::kFirst: return "first";
    case Why::kNow: return "now";
    case Why::kChange: return "change";
    case Why::kRefine: return "refine";
    case Why::kRefresh: return "refresh";
  }
  return "?";
}

// The pointer, while it has not moved for this long, is polled every kSlowPointerUs; fast otherwise.
constexpr gint64 kPointerFastForUs = 1000000;
constexpr gint64 kSlowPointerUs = 250000;

// Waits until a frame is due: the first one, damage or the pointer moving (no sooner than 1/max-fps
// after the last such frame), a refinement frame asked for (no sooner than 1/max-fps after the last
// frame), or the refresh. Nothing is pushed on a still screen. Refinement and refresh frames never
// delay a change: a key pressed just after one is read at once, not at the next slot.
GstFlowReturn WaitForFrame(WebrtcbinXDamageSrc* s, Why* why) {
  wrtc::Capture* cap = s->capture;
  GST_OBJECT_LOCK(s);
  gint64 min_gap_us = s->max_fps > 0 ? 1000000 / s->max_fps : 0;
  gint64 refresh_us = gint64(s->refresh_ms) * 1000;
  bool poll_pointer = s->show_pointer;
  GST_OBJECT_UNLOCK(s);
  // Pointer motion makes no damage: while the pointer is drawn, its position is polled (one
  // QueryPointer round trip), which also sees warps and other clients' XTest moves; our own XTest
  // input wakes the poll at once (pointer_nudge.h).
  gint64 fast_pointer_us = std::max<gint64>(min_gap_us, 8000);
  gint64 next_pointer_poll = 0;
  bool pointer_moved = false;
  for (;;) {
    if (s->flushing->load()) return GST_FLOW_FLUSHING;
    guint64 nudges = wrtc::PointerNudges();
    if (nudges != s->nudges_seen) {
      s->nudges_seen = nudges;
      s->pointer_fast_until = wrtc::NowUs() + kPointerFastForUs;
      next_pointer_poll = 0;
    }
    // Before the drain: a round trip may read events into xcb's queue, where poll() below would not
    // see them (a damage event would then wait for the poll's timeout).
    if (poll_pointer && !s->lost_posted && next_pointer_poll <= wrtc::NowUs()) {
      if (cap->PointerMoved()) {
        pointer_moved = true;
        s->pointer_fast_until = wrtc::NowUs() + kPointerFastForUs;
      }
      gint64 now = wrtc::NowUs();
      next_pointer_poll = now + (now < s->pointer_fast_until ? fast_pointer_us : kSlowPointerUs);
    }
    if (s->lost_posted || !cap->Drain()) {
      // The error is on the bus; wait for the pipeline to stop us (as ximagesrc under capture_guard).
      PostDisplayLost(s);
      struct pollfd wake = {s->wake_fd, POLLIN, 0};
      if (poll(&wake, 1, 1000) > 0) DrainWake(s);
      continue;
    }
    if (cap->resized()) {
      cap->clear_resized();
      std::string error = cap->Resize();
      if (!error.empty()) {
        GST_ELEMENT_ERROR(s, RESOURCE, READ, ("%s", error.c_str()), (nullptr));
        return GST_FLOW_ERROR;
      }
      GST_INFO_OBJECT(s, "screen changed: now %dx%d", cap->rect().width, cap->rect().height);
      if (!gst_base_src_negotiate(GST_BASE_SRC(s))) return GST_FLOW_NOT_NEGOTIATED;
      s->last_push_us = 0;  // a frame of the new size at once
    }
    gint64 now = wrtc::NowUs();
    *why = Why::kFirst;
    if (s->last_push_us == 0) break;  // the first frame, or the first after a resize
    *why = Why::kNow;
    if (s->frame_now->exchange(false)) break;  // a keyframe request downstream (a viewer joined)
    gint64 since = now - s->last_push_us;
    bool changed = cap->dirty() || pointer_moved;
    bool refine = s->refine->load();
    *why = Why::kChange;
    if (changed && now - s->last_change_us >= min_gap_us) break;
    *why = Why::kRefine;
    if (refine && since >= min_gap_us) break;
    *why = Why::kRefresh;
    if (refresh_us > 0 && since >= refresh_us) break;
    // Sleep until the soonest of: the coalescing gap ending (a change or a refinement pending), the
    // refresh, the next pointer poll; an X event, a nudge or unlock() wakes it sooner.
    gint64 wait = G_MAXINT64;
    if (changed) wait = std::min(wait, s->last_change_us + min_gap_us - now);
    if (refine) wait = std::min(wait, s->last_push_us + min_gap_us - now);
    if (refresh_us > 0) wait = std::min(wait, s->last_push_us + refresh_us - now);
    if (poll_pointer) wait = std::min(wait, next_pointer_poll - now);
    int timeout = wait == G_MAXINT64 ? -1 : int(std::max<gint64>(0, (wait + 999) / 1000));
    struct pollfd fds[2] = {{cap->Fd(), POLLIN, 0}, {s->wake_fd, POLLIN, 0}};
    if (poll(fds, 2, timeout) > 0 && (fds[1].revents & POLLIN)) DrainWake(s);
  }
  return GST_FLOW_OK;
}

GstFlowReturn Create(GstPushSrc* push, GstBuffer** out) {
  WebrtcbinXDamageSrc* s = Self(push);
  wrtc::Capture* cap = s->capture;
  GstBuffer* buffer = nullptr;
  gint64 read_from = 0;
  Why why = Why::kFirst;
  for (int failed = 0; !buffer; ++failed) {
    GstFlowReturn ret = WaitForFrame(s, &why);
    if (ret != GST_FLOW_OK) return ret;
    s->refine->store(false);  // this read is the frame asked for (a request during it asks again)
    read_from = wrtc::NowUs();
    wrtc::LatencyTrace("read", -1, 0, WhyName(why));
    buffer = cap->Grab();
    if (buffer) break;
    if (s->flushing->load()) return GST_FLOW_FLUSHING;
    // A read refused on a live connection: the screen shrank under the rectangle before its RandR
    // event came. Re-read the size and try again (a few times: then it is something else).
    if (!cap->lost() && failed < 3) {
      cap->mark_resized();
      continue;
    }
    if (!cap->lost()) {
      GST_ELEMENT_ERROR(s, RESOURCE, READ, ("the X server refused to read the screen (GetImage)"), (nullptr));
      return GST_FLOW_ERROR;
    }
    PostDisplayLost(s);
    struct pollfd wake = {s->wake_fd, POLLIN, 0};
    while (!s->flushing->load()) {
      if (poll(&wake, 1, 1000) > 0) DrainWake(s);
    }
    return GST_FLOW_FLUSHING;
  }
  s->last_push_us = wrtc::NowUs();
  // Only changes are coalesced: a refinement, refresh or frame-now read does not hold back the change
  // that follows it (a key pressed 2 ms after a refinement frame is read at once).
  if (why == Why::kChange) s->last_change_us = s->last_push_us;
  GST_LOG_OBJECT(s, "frame at %" G_GINT64_FORMAT " us (monotonic), read in %" G_GINT64_FORMAT " us", s->last_push_us,
                 s->last_push_us - read_from);
  *out = buffer;
  return GST_FLOW_OK;
}

void Finalize(GObject* object) {
  WebrtcbinXDamageSrc* s = Self(object);
  delete s->capture;
  delete s->flushing;
  delete s->frame_now;
  delete s->refine;
  wrtc::RemovePointerWaker(s->wake_fd);  // stop() removed it; a source never stopped must not leave it
  close(s->wake_fd);
  g_free(s->display_name);
  G_OBJECT_CLASS(webrtcbin_xdamage_src_parent_class)->finalize(object);
}

}  // namespace

static void webrtcbin_xdamage_src_class_init(WebrtcbinXDamageSrcClass* klass) {
  GObjectClass* gobject = G_OBJECT_CLASS(klass);
  GstElementClass* element = GST_ELEMENT_CLASS(klass);
  GstBaseSrcClass* base = GST_BASE_SRC_CLASS(klass);
  gobject->set_property = SetProperty;
  gobject->get_property = GetProperty;
  gobject->finalize = Finalize;
  auto flags = GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_property(gobject, PROP_DISPLAY_NAME,
                                  g_param_spec_string("display-name", "Display", "X display name ($DISPLAY when unset)", nullptr, flags));
  g_object_class_install_property(gobject, PROP_SHOW_POINTER,
                                  g_param_spec_boolean("show-pointer", "Show pointer", "Draw the pointer into the frames", TRUE, flags));
  g_object_class_install_property(gobject, PROP_MAX_FPS,
                                  g_param_spec_int("max-fps", "Max fps", "Damage is coalesced to at most this many frames a second", 1, 240, 60, flags));
  g_object_class_install_property(gobject, PROP_REFRESH_MS,
                                  g_param_spec_uint("refresh-ms", "Refresh", "Repeat the last frame after this long without change (0: never)", 0, 3600000, 1000, flags));
  g_object_class_install_property(gobject, PROP_X, g_param_spec_int("x", "X", "Region left", 0, 32767, 0, flags));
  g_object_class_install_property(gobject, PROP_Y, g_param_spec_int("y", "Y", "Region top", 0, 32767, 0, flags));
  g_object_class_install_property(gobject, PROP_WIDTH, g_param_spec_int("width", "Width", "Region width (0: to the screen's edge)", 0, 32767, 0, flags));
  g_object_class_install_property(gobject, PROP_HEIGHT, g_param_spec_int("height", "Height", "Region height (0: to the screen's edge)", 0, 32767, 0, flags));
  gst_element_class_add_static_pad_template(element, &src_template);
  gst_element_class_set_static_metadata(element, "X damage source (node-webrtcbin)", "Source/Video",
                                        "Captures an X screen when it changes (DAMAGE + MIT-SHM over xcb)", "node-webrtcbin");
  base->get_caps = GetCaps;
  base->fixate = Fixate;
  base->start = Start;
  base->stop = Stop;
  base->unlock = Unlock;
  base->unlock_stop = UnlockStop;
  base->event = Event;
  GST_PUSH_SRC_CLASS(klass)->create = Create;
}

static void webrtcbin_xdamage_src_init(WebrtcbinXDamageSrc* s) {
  s->display_name = nullptr;
  s->show_pointer = TRUE;
  s->max_fps = 60;
  s->refresh_ms = 1000;
  s->x = s->y = s->width = s->height = 0;
  s->capture = new wrtc::Capture();
  s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  s->flushing = new std::atomic<bool>(false);
  s->frame_now = new std::atomic<bool>(false);
  s->refine = new std::atomic<bool>(false);
  s->last_push_us = 0;
  s->last_change_us = 0;
  s->nudges_seen = 0;
  s->pointer_fast_until = 0;
  s->lost_posted = FALSE;
  gst_base_src_set_live(GST_BASE_SRC(s), TRUE);
  gst_base_src_set_format(GST_BASE_SRC(s), GST_FORMAT_TIME);
  gst_base_src_set_do_timestamp(GST_BASE_SRC(s), TRUE);
}

namespace wrtc {

void RegisterXDamageSource() {
  GST_DEBUG_CATEGORY_INIT(damage_debug, "webrtcbinxdamagesrc", 0, "node-webrtcbin X damage capture");
  gst_element_register(nullptr, kXDamageSourceName, GST_RANK_NONE, webrtcbin_xdamage_src_get_type());
}

}  // namespace wrtc
