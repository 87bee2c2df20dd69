// The JS face of one peer (an ObjectWrap). Validation and wording live in lib/; this only converts
// arguments, starts GStreamer operations and settles promises when their replies come back.
#pragma once

#include <napi.h>

#include <memory>

#include "peer/peer_core.h"

namespace wrtc {

class Peer : public Napi::ObjectWrap<Peer> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit Peer(const Napi::CallbackInfo& info);
  ~Peer() override;

 private:
  bool Usable(Napi::Env env);
  Napi::Promise Track(Napi::Env env, uint64_t* id);

  Napi::Value CreateOffer(const Napi::CallbackInfo& info);
  Napi::Value CreateAnswer(const Napi::CallbackInfo& info);
  Napi::Value SetLocalDescription(const Napi::CallbackInfo& info);
  Napi::Value SetRemoteDescription(const Napi::CallbackInfo& info);
  Napi::Value SetDescription(const Napi::CallbackInfo& info, bool local);
  Napi::Value AddIceCandidate(const Napi::CallbackInfo& info);
  Napi::Value GetStats(const Napi::CallbackInfo& info);
  Napi::Value GetDescription(const Napi::CallbackInfo& info);
  Napi::Value GetState(const Napi::CallbackInfo& info);
  Napi::Value RecalculateLatency(const Napi::CallbackInfo& info);
  Napi::Value SetSendPayloadType(const Napi::CallbackInfo& info);
  Napi::Value ReleaseMedia(const Napi::CallbackInfo& info);
  Napi::Value SetBitrate(const Napi::CallbackInfo& info);
  Napi::Value GetBitrate(const Napi::CallbackInfo& info);
  Napi::Value SetReceivePreferences(const Napi::CallbackInfo& info);
  Napi::Value EnablePlayoutDelay(const Napi::CallbackInfo& info);
  Napi::Value FramesDecoded(const Napi::CallbackInfo& info);
  Napi::Value WantFrames(const Napi::CallbackInfo& info);
  Napi::Value EncoderStats(const Napi::CallbackInfo& info);
  Napi::Value CreateDataChannel(const Napi::CallbackInfo& info);
  Napi::Value SendOnChannel(const Napi::CallbackInfo& info);
  Napi::Value CloseChannel(const Napi::CallbackInfo& info);
  Napi::Value ChannelInfo(const Napi::CallbackInfo& info);
  Napi::Value Ref(const Napi::CallbackInfo& info);
  Napi::Value Unref(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  std::shared_ptr<PeerCore> core_;
};

// Throws a JS Error whose `code` (and `element`) lib/errors.ts turns into a typed error class.
void ThrowNative(Napi::Env env, const NativeError& error);

}  // namespace wrtc
