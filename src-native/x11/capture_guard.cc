// src-native/x11/: X11 beside GStreamer: input, clipboard, resize, and surviving a dying X server.
#include "x11/capture_guard.h"

#include <gst/base/gstpushsrc.h>
#include <X11/Xlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>

namespace wrtc {

// ximagesrc's instance struct begins with its GstPushSrc parent and then the pointer to its X
// context, whose first field is the Display. That layout has held through every GStreamer 1.x
// release (gst-plugins-good sys/ximage); the header is private, so the two fields are mirrored here.
namespace {
struct XContextHead {
  Display* display;
};
struct XImageSrcHead {
  GstPushSrc parent;
  XContextHead* xcontext;
};
}  // namespace

struct XCaptureGuard::Capture {
  GstElement* element = nullptr;  // owned by its pipeline, which outlives the Display
  GstPad* pad = nullptr;          // its source pad, a ref of ours: the start gate parks the capture there
  Display* display = nullptr;
  std::string name;
  std::atomic<bool> lost{false};
};

namespace {

// Every guarded capture of the process, for the start gate. Never destroyed: guards may end at exit.
std::mutex& RunningMutex() {
  static auto* mutex = new std::mutex();
  return *mutex;
}
std::vector<XCaptureGuard::Capture*>& Running() {
  static auto* running = new std::vector<XCaptureGuard::Capture*>();
  return *running;
}
// One start at a time: a capture whose start has just finished is not parked by a second start that
// began before it was guarded.
std::mutex& StartMutex() {
  static auto* mutex = new std::mutex();
  return *mutex;
}

// Runs on the capture's streaming thread, inside the X call that failed. Returning is allowed
// because the exit handler is ours; libX11 then marks the connection dead and every later request
// on it fails at once, so the element loops harmlessly until the pipeline stops. libX11 (1.8) took
// the Display's user lock before calling us and does not release it when we return: released here,
// or ximagesrc's stop() and the free of its in-flight buffers (XShmDetach) wait for it forever.
void OnCaptureDisplayLost(Display* display, void* data) {
  auto* capture = static_cast<XCaptureGuard::Capture*>(data);
  XUnlockDisplay(display);
  if (capture->lost.exchange(true)) return;
  GError* error = g_error_new(g_quark_from_static_string(kXDisplayLostDomain), 1,
                              "the X display %s is gone (its X server closed the connection); close this "
                              "stream and start a new one once the display is back",
                              capture->name.c_str());
  gst_element_post_message(capture->element,
                           gst_message_new_error(GST_OBJECT(capture->element), error, "X connection lost"));
  g_error_free(error);
}

int LogXError(Display* display, XErrorEvent* event) {
  char text[160] = {0};
  XGetErrorText(display, event->error_code, text, sizeof(text) - 1);
  g_warning("webrtcbin: X protocol error ignored: %s (request %d.%d)", text, event->request_code,
            event->minor_code);
  return 0;
}

// Xlib's default IO-error handler exits by itself, before any per-Display exit handler could run.
// This one only reports; a Display without a handler of ours still exits in libX11's default.
int ReportIOError(Display* display) {
  g_warning("webrtcbin: lost the connection to X display %s", DisplayString(display));
  return 0;
}

}  // namespace

void XCaptureGuard::Protect(GstElement* bin) {
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(bin));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    GstElement* element = GST_ELEMENT(g_value_get_object(&item));
    GstElementFactory* factory = gst_element_get_factory(element);
    bool is_ximagesrc = factory && g_strcmp0(GST_OBJECT_NAME(factory), "ximagesrc") == 0;
    bool known = false;
    for (const auto& c : captures_) known = known || c->element == element;
    XContextHead* context = is_ximagesrc ? reinterpret_cast<XImageSrcHead*>(element)->xcontext : nullptr;
    if (context && context->display && !known) {
      auto capture = std::make_unique<Capture>();
      capture->element = element;
      capture->display = context->display;
      capture->name = DisplayString(context->display);
      capture->pad = gst_element_get_static_pad(element, "src");
      XSetIOErrorExitHandler(context->display, OnCaptureDisplayLost, capture.get());
      {
        std::lock_guard<std::mutex> lock(RunningMutex());
        Running().push_back(capture.get());
      }
      captures_.push_back(std::move(capture));
    }
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
}

// The Displays are closed by ximagesrc's stop() when the pipeline reaches NULL, before this runs.
XCaptureGuard::XCaptureGuard() = default;
XCaptureGuard::~XCaptureGuard() {
  std::lock_guard<std::mutex> lock(RunningMutex());
  auto& running = Running();
  for (auto& capture : captures_) {
    running.erase(std::remove(running.begin(), running.end(), capture.get()), running.end());
    if (capture->pad) gst_object_unref(capture->pad);
  }
}

struct XCaptureStartGate::Parking {
  struct Probe {
    GstPad* pad;  // a ref
    gulong id;
    bool parked;  // under `mutex`
  };
  std::vector<Probe> probes;
  std::mutex mutex;
  std::condition_variable parked_cv;
};

namespace {

// The capture's streaming thread, a buffer leaving ximagesrc: its frame is done (grab released).
// Returning OK keeps it blocked here until the gate removes the probe; a flush (the pipeline stopping)
// releases it as well.
using ParkingRef = std::shared_ptr<XCaptureStartGate::Parking>;

// A probe's callback may still run just after gst_pad_remove_probe returns: each probe holds the
// parking until GStreamer drops the probe.
void DropParking(gpointer data) { delete static_cast<ParkingRef*>(data); }

GstPadProbeReturn OnParked(GstPad* pad, GstPadProbeInfo*, gpointer data) {
  auto* parking = static_cast<ParkingRef*>(data)->get();
  {
    std::lock_guard<std::mutex> lock(parking->mutex);
    for (auto& probe : parking->probes) probe.parked = probe.parked || probe.pad == pad;
  }
  parking->parked_cv.notify_all();
  return GST_PAD_PROBE_OK;
}

// Deactivated: its streaming thread has been joined, so it is in no X call (ximagesrc's stop() then
// closes the Display, which waits for the server under that Display's own lock only).
bool Stopped(GstPad* pad) {
  GST_OBJECT_LOCK(pad);
  bool stopped = GST_PAD_MODE(pad) == GST_PAD_MODE_NONE;
  GST_OBJECT_UNLOCK(pad);
  return stopped;
}

}  // namespace

XCaptureStartGate::XCaptureStartGate(bool needed) {
  if (!needed) return;
  start_lock_ = std::unique_lock<std::mutex>(StartMutex());
  parking_ = std::make_shared<Parking>();
  {
    std::lock_guard<std::mutex> lock(RunningMutex());
    for (auto* capture : Running()) {
      if (!capture->pad || capture->lost || Stopped(capture->pad)) continue;
      gst_object_ref(capture->pad);
      // Held while adding: a frame that hits the probe at once finds its entry (OnParked waits).
      std::lock_guard<std::mutex> parking_lock(parking_->mutex);
      gulong id = gst_pad_add_probe(capture->pad, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BLOCK | GST_PAD_PROBE_TYPE_BUFFER),
                                    OnParked, new ParkingRef(parking_), DropParking);
      parking_->probes.push_back({capture->pad, id, false});
    }
  }
  // Done when each capture is parked or stopped. A pipeline going down pauses its live source first (no
  // frame comes) and deactivates its pad a little later: polled, as nothing signals it.
  size_t want = parking_->probes.size();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kParkTimeoutMs);
  size_t settled = 0;
  std::unique_lock<std::mutex> lock(parking_->mutex);
  for (;;) {
    settled = 0;
    for (auto& probe : parking_->probes) settled += probe.parked || Stopped(probe.pad) ? 1 : 0;
    if (settled >= want || std::chrono::steady_clock::now() >= deadline) break;
    parking_->parked_cv.wait_for(lock, std::chrono::milliseconds(5));
  }
  if (settled < want) {
    g_warning("webrtcbin: %zu of %zu running X captures did not pause for a new capture's start within %d ms",
              want - settled, want, kParkTimeoutMs);
  }
}

XCaptureStartGate::~XCaptureStartGate() {
  if (!parking_) return;
  // Removing a probe releases its blocked thread (a callback still running keeps its own parking ref).
  for (auto& probe : parking_->probes) {
    gst_pad_remove_probe(probe.pad, probe.id);
    gst_object_unref(probe.pad);
  }
}

void InstallXErrorHandler() {
  XSetErrorHandler(LogXError);
  XSetIOErrorHandler(ReportIOError);
}

}  // namespace wrtc
