// Keeps a dying X server from ending the process through ximagesrc.
//
// libX11 calls exit() when a connection breaks, unless that Display has a non-exiting IO-error exit
// handler (libX11 >= 1.7). ximagesrc opens its Display in its own start() and offers no way to set
// one, so after the capture has started we read its Display and install ours: the capture then
// fails quietly, and the element posts a typed error instead of taking the process down.
#pragma once

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace wrtc {

// The quark of the GError a lost capture display posts; the JS side maps it to XDisplayLostError.
constexpr const char* kXDisplayLostDomain = "webrtcbin-x-display-lost";

class XCaptureGuard {
 public:
  // Any thread. Installs the handler on every started ximagesrc inside `bin` (recursively).
  void Protect(GstElement* bin);
  XCaptureGuard();
  ~XCaptureGuard();
  XCaptureGuard(const XCaptureGuard&) = delete;
  XCaptureGuard& operator=(const XCaptureGuard&) = delete;

  struct Capture;  // one guarded ximagesrc (defined in the .cc)

 private:
  std::vector<std::unique_ptr<Capture>> captures_;
};

// While one lives (JS thread, around the build and start of a pipeline that holds an ximagesrc), every
// other running capture guarded here is parked between two frames: a blocking probe on its source pad
// holds its streaming thread after create(), outside any X call. The new ximagesrc's XOpenDisplay holds
// Xlib's process-wide lock while it waits for the server's setup reply; a running ximagesrc grabs the
// server for each frame and, on an XFixes/Xext cache miss (two captures evict each other's every frame),
// waits for that lock while grabbing: a deadlock that freezes the X server (docs/reliability.md).
// Starts are serialized; a capture that does not reach the probe within `kParkTimeoutMs` is left be.
class XCaptureStartGate {
 public:
  explicit XCaptureStartGate(bool needed);
  ~XCaptureStartGate();
  XCaptureStartGate(const XCaptureStartGate&) = delete;
  XCaptureStartGate& operator=(const XCaptureStartGate&) = delete;
  static constexpr int kParkTimeoutMs = 1000;

  struct Parking;  // the probes it placed (defined in the .cc)

 private:
  std::shared_ptr<Parking> parking_;
  std::unique_lock<std::mutex> start_lock_;  // one start at a time, process-wide
};

// Once per process, JS thread: X protocol errors (a window gone while captured, say) are logged,
// not fatal. Xlib's default handler would exit the process for them too.
void InstallXErrorHandler();

}  // namespace wrtc
