// The X pointer as data: its shape (XFixes cursor notify → GetCursorImage: pixels, hotspot, serial) and
// its position (QueryPointer, polled at a bounded rate only while JS asks for it). Own xcb connection
// and thread, like the clipboard; JS hears about it through its event pipe.
#pragma once

#include <napi.h>

#include <memory>

#include "common/addon_data.h"

namespace wrtc {

class CursorCore;
class CursorJs;

class XCursor : public Napi::ObjectWrap<XCursor>, public LiveHandle {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  // new NativeXCursor(display); events go to its `onevent` (NativeCursorEvent in lib/native/binding.ts)
  explicit XCursor(const Napi::CallbackInfo& info);
  ~XCursor() override;
  void CloseForExit() override;

 private:
  Napi::Value WatchPosition(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Ref(const Napi::CallbackInfo& info);
  Napi::Value Unref(const Napi::CallbackInfo& info);
  std::shared_ptr<CursorCore> core_;
  std::shared_ptr<CursorJs> js_;
};

}  // namespace wrtc
