// X protocol errors caught per Display, without a process-wide handler: Xlib consults a display's own
// error vector (XESetWireToError) before the global XSetErrorHandler, and an entry returning False
// swallows the error. Each helper with its own connection (clipboard, screen) records its errors here
// instead of letting Xlib's default handler exit the process. Include after <X11/Xlib.h>.
#pragma once

#include <X11/Xlib.h>

namespace wrtc {

struct XErrorRecord {
  int code = 0;           // 0: none since the last Take()
  int request_code = 0;  // major opcode of the failed request
  int minor_code = 0;
};

// One per Display; Install() before the first request that may fail, Remove() before XCloseDisplay.
// Safe to use from whichever single thread owns the Display.
class XErrorTrap {
 public:
  void Install(Display* display);
  void Remove();
  // The first error since the last call (code 0 if none), then forgets it.
  XErrorRecord Take();
  ~XErrorTrap() { Remove(); }

 private:
  Display* display_ = nullptr;
};

}  // namespace wrtc
