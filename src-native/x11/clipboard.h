// The X CLIPBOARD selection, both ways: own it with a given UTF-8 text (answering other clients'
// requests), and report the text whenever another client takes it (XFixes selection notify). All X work
// happens on one thread of its own with its own xcb connection; JS hears about it through its event pipe.
#pragma once

#include <napi.h>

#include <memory>

#include "common/addon_data.h"

namespace wrtc {

class ClipboardCore;
class ClipboardJs;

class XClipboard : public Napi::ObjectWrap<XClipboard>, public LiveHandle {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  // new NativeXClipboard(display); events go to its `onevent` (NativeClipboardEvent in lib/native/binding.ts)
  explicit XClipboard(const Napi::CallbackInfo& info);
  ~XClipboard() override;
  void CloseForExit() override;

 private:
  Napi::Value SetText(const Napi::CallbackInfo& info);
  Napi::Value Fetch(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Ref(const Napi::CallbackInfo& info);
  Napi::Value Unref(const Napi::CallbackInfo& info);
  std::shared_ptr<ClipboardCore> core_;
  std::shared_ptr<ClipboardJs> js_;
};

}  // namespace wrtc
