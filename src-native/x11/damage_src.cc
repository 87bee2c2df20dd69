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
#include <vector>

#include "common/latency_trace.h"
#include "x11/capture_guard.h"  // kXDisplayLostDomain
#include "x11/error_trap.h"
#include "x11/frame_store.h"
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
    have_fixes_ = fixes != nullptr;
    have_cursor_ = false;
    ShowPointer(cursor);
    // The damage is subtracted into this region and fetched (XFixes 2.0 regions): only it is re-read.
    if (fixes && fixes->major_version >= 2) {
      region_ = xcb_generate_id(c_);
      xcb_xfixes_create_region(c_, region_, 0, nullptr);
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
    // BoundingBox: an event each time the bounding box of the accumulated damage grows (DAMAGE 1.1,
    // section 6: "the reported rectangle encloses the entire damage region", a bounding box, not the
    // rectangles: those come from DamageSubtract into region_, below). It is emptied only just before a
    // read of the screen, so a change after that read raises a new event (none is missed), and damage
    // outside the region is left to accumulate: it can never hide a later change inside (emptying it
    // on sight could discard in-region damage that raised no event of its own).
    damage_ = xcb_generate_id(c_);
    XErrorRecord err = CheckRequest(c_, xcb_damage_create_checked(c_, damage_, root_, XCB_DAMAGE_REPORT_LEVEL_BOUNDING_BOX));
    if (err.code) return "DamageCreate failed (X error " + std::to_string(err.code) + ")";
    return Resize();
  }

  void Close() {
    if (!c_) return;
    DetachShm();
    xcb_disconnect(c_);  // frees the damage object, the region and the cursor selection with it
    c_ = nullptr;
    region_ = 0;
    copy_.clear();
    store_.Clear();
  }

  // Draws the pointer into the frames from the next one on, or stops (show-pointer while playing).
  // True when that changed anything.
  bool ShowPointer(bool on) {
    on = on && have_fixes_;
    if (on == have_cursor_) return false;
    have_cursor_ = on;
    xcb_xfixes_select_cursor_input(c_, root_, on ? XCB_XFIXES_CURSOR_NOTIFY_MASK_DISPLAY_CURSOR : 0);
    xcb_flush(c_);
    if (!on) store_.SetPointer(PointerImage{});  // its band is converted again without it
    pointer_x_ = pointer_y_ = -1;
    return true;
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
    // The SHM segment is the kept copy of the screen: reads land in place, band by band.
    if (use_shm_ && !AttachShm(size_t(r.width) * r.height * 4)) use_shm_ = false;  // remote X: GetImage
    copy_.assign(use_shm_ ? 0 : size_t(r.width) * r.height * 4, 0);
    need_full_ = true;
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
          // The whole damage region's bounding box (BoundingBox level): covering the rectangle, the
          // read is a whole one at once, without fetching the region first.
          covers_all_ = covers_all_ || (d->area.x <= rect_.x && d->area.y <= rect_.y &&
                                        d->area.x + d->area.width >= rect_.x + rect_.width &&
                                        d->area.y + d->area.height >= rect_.y + rect_.height);
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

  // Brings the kept copy of the screen up to date and returns the frame (FrameStore::Update): all of
  // the rectangle when `full` (the first frame, a resize, frame-now, after a failed read), else only
  // the damage. Null when the read failed (the next read is a full one) or the server is gone.
  GstBuffer* Grab(bool full) {
    full = full || need_full_ || region_ == 0;
    bool ok = full || covers_all_ ? ReadAll() : ReadDamage();
    if (covers_all_) full = true;
    dirty_ = covers_all_ = false;
    if (!ok) {
      need_full_ = true;
      return nullptr;
    }
    need_full_ = false;
    if (full) store_.MarkAll();
    store_.SetPointer(have_cursor_ ? FetchPointer() : PointerImage{});
    return store_.Update(pixels());
  }

  // The last frame again, nothing read or converted (the refresh, refinement). Null before the first.
  GstBuffer* Again() const { return store_.Again(); }

  // The format downstream chose: I420 (`i420` set) or BGRx. Everything is converted again.
  void SetOutput(const GstVideoInfo* i420) {
    store_.Reset(rect_.width, rect_.height, i420);
    need_full_ = true;
  }
  int rows_converted() const { return store_.rows_converted(); }
  int rows_read() const { return rows_read_; }

  int Fd() const { return xcb_get_file_descriptor(c_); }
  bool dirty() const { return dirty_; }
  bool resized() const { return resized_; }
  void clear_resized() { resized_ = false; }
  void mark_resized() { resized_ = true; }
  const Rect& rect() const { return rect_; }
  bool opened() const { return c_ != nullptr; }
  bool lost() const { return Lost(c_); }
  bool shm() const { return use_shm_; }
  bool pointer_shown() const { return have_cursor_; }

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

  const uint8_t* pixels() const { return use_shm_ ? static_cast<const uint8_t*>(shm_addr_) : copy_.data(); }
  size_t stride() const { return size_t(rect_.width) * 4; }

  // Reads rows [y0, y1) of the rectangle, whole width, into the kept copy; several bands pipelined.
  bool ReadBands(const std::vector<std::pair<int, int>>& bands) {
    if (use_shm_) {
      std::vector<xcb_shm_get_image_cookie_t> cookies;
      for (auto [y0, y1] : bands) {
        cookies.push_back(xcb_shm_get_image(c_, root_, rect_.x, rect_.y + y0, rect_.width, y1 - y0, ~0u,
                                            XCB_IMAGE_FORMAT_Z_PIXMAP, seg_, uint32_t(y0 * stride())));
      }
      bool ok = true;
      for (auto cookie : cookies) {
        Reply<xcb_shm_get_image_reply_t> r(xcb_shm_get_image_reply(c_, cookie, nullptr));
        ok = ok && r != nullptr;
      }
      return ok;
    }
    for (auto [y0, y1] : bands) {
      size_t size = stride() * (y1 - y0);
      Reply<xcb_get_image_reply_t> r(xcb_get_image_reply(
          c_, xcb_get_image(c_, XCB_IMAGE_FORMAT_Z_PIXMAP, root_, rect_.x, rect_.y + y0, rect_.width, y1 - y0, ~0u), nullptr));
      if (!r || size_t(xcb_get_image_data_length(r.get())) < size) return false;
      memcpy(copy_.data() + stride() * y0, xcb_get_image_data(r.get()), size);
    }
    return true;
  }

  bool ReadAll() {
    // Emptied before reading: damage after this point raises a new event and a new frame.
    xcb_damage_subtract(c_, damage_, XCB_NONE, XCB_NONE);
    rows_read_ = rect_.height;
    return ReadBands({{0, rect_.height}});
  }

  // Many bands cost a round trip's worth of requests each; past this many they become one band.
  static constexpr size_t kMaxBands = 8;
  // Bands this close are read as one (a row of glyphs and its neighbour).
  static constexpr int kMergeGapRows = 16;

  // Reads only what was damaged: DamageSubtract(damage, None, region) moves the damage into region_
  // and empties it (DAMAGE 1.1, section 9: "if parts is not None, parts = damage; damage = <empty>"),
  // so damage after this point raises a new event and nothing is lost between the two. Its rectangles
  // become full-width 2-row-aligned bands (what the converter works on), read in place.
  bool ReadDamage() {
    xcb_damage_subtract(c_, damage_, XCB_NONE, region_);
    Reply<xcb_xfixes_fetch_region_reply_t> fetched(
        xcb_xfixes_fetch_region_reply(c_, xcb_xfixes_fetch_region(c_, region_), nullptr));
    if (!fetched) return false;
    const xcb_rectangle_t* rects = xcb_xfixes_fetch_region_rectangles(fetched.get());
    int n = xcb_xfixes_fetch_region_rectangles_length(fetched.get());
    std::vector<std::pair<int, int>> bands;
    for (int i = 0; i < n; ++i) {
      const xcb_rectangle_t& r = rects[i];
      if (!Intersects(r.x, r.y, r.width, r.height)) continue;
      int y0 = std::max(0, r.y - rect_.y) & ~1;
      int y1 = std::min(rect_.height, ((r.y - rect_.y + r.height) + 1) & ~1);
      if (y1 > y0) bands.emplace_back(y0, y1);
    }
    std::sort(bands.begin(), bands.end());
    std::vector<std::pair<int, int>> merged;
    for (auto band : bands) {
      if (!merged.empty() && band.first <= merged.back().second + kMergeGapRows) {
        merged.back().second = std::max(merged.back().second, band.second);
      } else {
        merged.push_back(band);
      }
    }
    if (merged.size() > kMaxBands) merged = {{merged.front().first, merged.back().second}};
    rows_read_ = 0;
    for (auto [y0, y1] : merged) {
      store_.MarkRows(y0, y1);
      rows_read_ += y1 - y0;
    }
    return merged.empty() || ReadBands(merged);
  }

  // The pointer's picture and place (one GetCursorImage round trip, as the pointer was drawn before).
  PointerImage FetchPointer() {
    PointerImage p;
    Reply<xcb_xfixes_get_cursor_image_reply_t> cur(
        xcb_xfixes_get_cursor_image_reply(c_, xcb_xfixes_get_cursor_image(c_), nullptr));
    if (!cur) return p;
    pointer_x_ = cur->x;
    pointer_y_ = cur->y;
    const uint32_t* pixels = xcb_xfixes_get_cursor_image_cursor_image(cur.get());
    p.shown = true;
    p.left = cur->x - cur->xhot - rect_.x;
    p.top = cur->y - cur->yhot - rect_.y;
    p.width = cur->width;
    p.height = cur->height;
    p.pixels.assign(pixels, pixels + size_t(cur->width) * cur->height);
    return p;
  }

  std::string display_;
  Rect wanted_, rect_;
  xcb_connection_t* c_ = nullptr;
  xcb_window_t root_ = 0;
  xcb_damage_damage_t damage_ = 0;
  int damage_event_ = -1, randr_event_ = 0;
  int screen_w_ = 0, screen_h_ = 0;
  bool use_shm_ = false, have_fixes_ = false, have_cursor_ = false, dirty_ = true, resized_ = false;
  bool need_full_ = true;        // the next read reads everything (first frame, resize, failed read)
  bool covers_all_ = false;      // the damage since the last read spans the whole rectangle
  xcb_xfixes_region_t region_ = 0;
  std::vector<uint8_t> copy_;    // the kept copy of the screen when there is no SHM segment
  FrameStore store_;
  int rows_read_ = 0;
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
    GST_STATIC_CAPS("video/x-raw,format=I420,width=[1,32767],height=[1,32767],framerate=[0/1,2147483647/1],"
                    "pixel-aspect-ratio=1/1,colorimetry=bt601; "
                    "video/x-raw,format=BGRx,width=[1,32767],height=[1,32767],framerate=[0/1,2147483647/1],"
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
    case PROP_SHOW_POINTER: {
      s->show_pointer = g_value_get_boolean(value);
      // While playing: create() picks it up at once (the pointer's band is converted again).
      uint64_t one = 1;
      ssize_t n = write(s->wake_fd, &one, sizeof(one));
      (void)n;
      break;
    }
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

// I420 first (BT.601, what the send pipelines ask for: their videoconvert then passes it through and
// only changed rows are ever converted), BGRx for callers that want the screen's own pixels.
GstCaps* CurrentCaps(WebrtcbinXDamageSrc* s) {
  const auto& r = s->capture->rect();
  GstCaps* caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT, r.width, "height",
                                      G_TYPE_INT, r.height, "framerate", GST_TYPE_FRACTION_RANGE, 0, 1, G_MAXINT, 1,
                                      "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, "colorimetry", G_TYPE_STRING, "bt601", nullptr);
  gst_caps_append(caps, gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "BGRx", "width", G_TYPE_INT, r.width,
                                            "height", G_TYPE_INT, r.height, "framerate", GST_TYPE_FRACTION_RANGE, 0, 1,
                                            G_MAXINT, 1, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr));
  return caps;
}

// The format chosen: the frame store converts to it from now on (everything again at the next frame).
gboolean SetCaps(GstBaseSrc* base, GstCaps* caps) {
  WebrtcbinXDamageSrc* s = Self(base);
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, caps)) return FALSE;
  bool i420 = GST_VIDEO_INFO_FORMAT(&info) == GST_VIDEO_FORMAT_I420;
  s->capture->SetOutput(i420 ? &info : nullptr);
  GST_INFO_OBJECT(s, "pushing %s", i420 ? "I420 (only changed rows converted)" : "BGRx");
  return TRUE;
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
  // Always: show-pointer may be turned on while playing.
  wrtc::AddPointerWaker(s->wake_fd);
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
  GST_OBJECT_UNLOCK(s);
  bool poll_pointer = false;
  // Pointer motion makes no damage: while the pointer is drawn, its position is polled (one
  // QueryPointer round trip), which also sees warps and other clients' XTest moves; our own XTest
  // input wakes the poll at once (pointer_nudge.h).
  gint64 fast_pointer_us = std::max<gint64>(min_gap_us, 8000);
  gint64 next_pointer_poll = 0;
  bool pointer_moved = false;
  for (;;) {
    if (s->flushing->load()) return GST_FLOW_FLUSHING;
    GST_OBJECT_LOCK(s);
    bool show = s->show_pointer;
    GST_OBJECT_UNLOCK(s);
    // show-pointer set while playing: a frame with (or without) the pointer, as for its moving.
    if (!s->lost_posted && cap->ShowPointer(show)) {
      pointer_moved = true;
      next_pointer_poll = 0;
    }
    poll_pointer = cap->pointer_shown();
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
    // A refinement or a refresh is the kept frame again: nothing read, nothing converted. A change
    // reads only its damage; the first frame, frame-now (a keyframe asked for) read everything.
    if (why == Why::kRefine || why == Why::kRefresh) buffer = cap->Again();
    if (!buffer) buffer = cap->Grab(why != Why::kChange);
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
  GST_LOG_OBJECT(s, "%s frame at %" G_GINT64_FORMAT " us (monotonic), read in %" G_GINT64_FORMAT " us, %d rows read, %d converted",
                 WhyName(why), s->last_push_us, s->last_push_us - read_from, cap->rows_read(), cap->rows_converted());
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
                                  g_param_spec_boolean("show-pointer", "Show pointer", "Draw the pointer into the frames (may be set while playing)", TRUE,
                                                       GParamFlags(flags | GST_PARAM_MUTABLE_PLAYING)));
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
  base->set_caps = SetCaps;
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
