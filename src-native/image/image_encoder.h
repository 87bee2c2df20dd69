// src-native/image/: images from raw frames, off the JS thread (the agent's screenshots and converted
// frames, lib/agent/image.ts).
//
// NativeImageEncoder: each encode(data, caps, description) runs `appsrc ! <description> ! appsink` for
// one buffer on the encoder's own thread (jpegenc, videoscale, videoconvert… on GStreamer's streaming
// thread inside it) and resolves with the bytes that come out, through the encoder's event pipe.
// Jobs run one after another. It keeps the event loop alive only while an encode() is pending.
#pragma once

#include <napi.h>

#include <memory>

#include "common/addon_data.h"

namespace wrtc {

class ImageCore;
class ImageJs;

class ImageEncoder : public Napi::ObjectWrap<ImageEncoder>, public LiveHandle {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit ImageEncoder(const Napi::CallbackInfo& info);
  ~ImageEncoder() override;
  void CloseForExit() override;

 private:
  Napi::Value Encode(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  std::shared_ptr<ImageCore> core_;
  std::shared_ptr<ImageJs> js_;
};

}  // namespace wrtc
