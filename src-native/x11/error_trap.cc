#include <mutex>
#include <unordered_map>

#include "x11/error_trap.h"
// Last: Xlibint.h (for XESetWireToError) defines macros that must not leak into the std headers.
#include <X11/Xlibint.h>

namespace wrtc {
namespace {

// The wire-to-error hook gets no user data: displays are looked up here.
std::mutex registry_mutex;
std::unordered_map<Display*, XErrorRecord>& Registry() {
  static auto* registry = new std::unordered_map<Display*, XErrorRecord>();  // never destroyed: hooks may run at exit
  return *registry;
}

Bool Record(Display* display, XErrorEvent* event, xError*) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  auto it = Registry().find(display);
  if (it != Registry().end() && it->second.code == 0) {
    it->second.code = event->error_code;
    it->second.request_code = event->request_code;
    it->second.minor_code = event->minor_code;
  }
  return False;  // handled: neither the global handler nor Xlib's exiting default sees it
}

}  // namespace

void XErrorTrap::Install(Display* display) {
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    Registry()[display] = XErrorRecord{};
  }
  display_ = display;
  // Codes 1..127 are core errors; extensions (RandR, XFixes, …) get theirs above: cover all.
  for (int code = 1; code < 256; ++code) XESetWireToError(display, code, Record);
}

void XErrorTrap::Remove() {
  if (!display_) return;
  std::lock_guard<std::mutex> lock(registry_mutex);
  Registry().erase(display_);
  display_ = nullptr;
}

XErrorRecord XErrorTrap::Take() {
  std::lock_guard<std::mutex> lock(registry_mutex);
  auto it = Registry().find(display_);
  if (it == Registry().end()) return {};
  XErrorRecord out = it->second;
  it->second = XErrorRecord{};
  return out;
}

}  // namespace wrtc
