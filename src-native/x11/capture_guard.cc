// src-native/x11/: X11 beside GStreamer: input, clipboard, resize, and surviving a dying X server.
#include "x11/capture_guard.h"

#include <gst/base/gstpushsrc.h>
#include <X11/Xlib.h>

#include <atomic>
#include <cstdio>
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
  Display* display = nullptr;
  std::string name;
  std::atomic<bool> lost{false};
};

namespace {

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
      XSetIOErrorExitHandler(context->display, OnCaptureDisplayLost, capture.get());
      captures_.push_back(std::move(capture));
    }
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
}

// The Displays are closed by ximagesrc's stop() when the pipeline reaches NULL, before this runs.
XCaptureGuard::XCaptureGuard() = default;
XCaptureGuard::~XCaptureGuard() = default;

void InstallXErrorHandler() {
  XSetErrorHandler(LogXError);
  XSetIOErrorHandler(ReportIOError);
}

}  // namespace wrtc
