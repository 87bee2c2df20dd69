// The X CLIPBOARD selection, both ways: own it with a given UTF-8 text (answering other clients'
// requests), and report the text whenever another client takes it (XFixes selection notify). All X work
// happens on one thread of its own with its own xcb connection (x11/x_worker.h); JS hears about it
// through its event pipe.
#pragma once

#include <napi.h>

#include "x11/x_worker.h"

namespace wrtc {

class ClipboardCore;

class XClipboard : public XWorkerWrap<XClipboard, ClipboardCore> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  // new NativeXClipboard(display); events go to its `onevent` (NativeClipboardEvent in lib/native/binding.ts)
  explicit XClipboard(const Napi::CallbackInfo& info);
  ~XClipboard() override;

 private:
  Napi::Value SetText(const Napi::CallbackInfo& info);
  Napi::Value Fetch(const Napi::CallbackInfo& info);
};

}  // namespace wrtc
