// NativeEncoder: the JS face of one shared encoder (lib/encoder/streamer.ts). Its pipeline is a
// capture → convert → encode description ending in `valve name=gate ! … ! appsink name=encoded`, and no
// webrtcbin; SharedEncoder fans its output out to the peers built with `{encoder: <this object>}`.
// Bus errors and warnings reach JS as `onevent({type: 'bus-error' | 'bus-warning', …})`.
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "common/addon_data.h"
#include "encoder/shared_encoder.h"

namespace wrtc {

class EncoderCore;
class EncoderJs;

class Encoder : public Napi::ObjectWrap<Encoder>, public LiveHandle {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  // new NativeEncoder({description})
  explicit Encoder(const Napi::CallbackInfo& info);
  ~Encoder() override;
  void CloseForExit() override;

  // JS thread: the fan-out of `value` when it is a NativeEncoder of this environment, else null.
  static std::shared_ptr<SharedEncoder> SharedFrom(Napi::Env env, Napi::Value value);

 private:
  Napi::Value SetBitrate(const Napi::CallbackInfo& info);
  Napi::Value GetBitrate(const Napi::CallbackInfo& info);
  Napi::Value SetShowPointer(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Ref(const Napi::CallbackInfo& info);
  Napi::Value Unref(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  std::shared_ptr<EncoderCore> core_;
  std::shared_ptr<EncoderJs> js_;
};

}  // namespace wrtc
