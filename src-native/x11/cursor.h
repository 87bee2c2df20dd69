// The X pointer as data: its shape (XFixes cursor notify → GetCursorImage: pixels, hotspot, serial) and
// its position (QueryPointer, polled at a bounded rate only while JS asks for it). Own xcb connection
// and thread (x11/x_worker.h), like the clipboard; JS hears about it through its event pipe.
#pragma once

#include <napi.h>

#include "x11/x_worker.h"

namespace wrtc {

class CursorCore;

class XCursor : public XWorkerWrap<XCursor, CursorCore> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  // new NativeXCursor(display); events go to its `onevent` (NativeCursorEvent in lib/native/binding.ts)
  explicit XCursor(const Napi::CallbackInfo& info);
  ~XCursor() override;

 private:
  Napi::Value WatchPosition(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
};

}  // namespace wrtc
