// The JS face of one peer (an ObjectWrap). Validation and wording live in lib/; this only converts
// arguments, starts GStreamer operations and settles promises when their replies come back.
//
// How native results reach JS (the convention of every native class that calls back; the X
// clipboard follows it too):
// - one EventPipe per object (common/event_pipe.h) carries typed plain-data payloads from any thread
//   to the JS thread;
// - an event becomes one object of the TS union NativeEvent (lib/native/binding.ts: same type
//   strings, same field names as the payload structs) and is handed to the wrapper's `onevent`
//   property, looked up at delivery: the wrapper is held weakly, so a collected object hears nothing;
// - the reply to a call is not an event: it settles the promise that call returned (by request id);
// - `frame` is the one event whose fields are filled in at delivery: the payload only says a frame
//   waits, and the newest one is taken then from the core's latest-frame slot (a slow consumer skips
//   to the newest instead of queueing them).
#pragma once

#include <napi.h>

#include <cstdint>
#include <map>
#include <memory>

#include "common/close_promise.h"
#include "common/event_pipe.h"
#include "common/native_error.h"
#include "common/addon_data.h"
#include "peer/peer_core.h"

namespace wrtc {

class Peer;

// The JS-thread state of one peer: promises by request id, the close promise, the wrapper. It is the
// receiving end of the core's pipe, so it lives until the pipe is finalized (after the wrapper when
// an unclosed peer is collected), and it holds the core so that the pipe lives as long.
class PeerJs final : public EventReceiver<PeerEvent> {
 public:
  explicit PeerJs(std::shared_ptr<PeerCore> core) : core_(std::move(core)) {}

  void OnEvent(Napi::Env env, PeerEvent& event) override;
  void OnPipeFinalized(Napi::Env env, bool released) override;

  // A promise settled by the PromiseReply carrying *id (registered before the request is made:
  // the reply may come at once).
  Napi::Promise Track(Napi::Env env, uint64_t* id);
  // The request failed before it started: no reply will come.
  void Forget(uint64_t id) { pending_.erase(id); }
  // The one promise every close() returns, as a handle of the caller's scope; the first call starts
  // the close.
  Napi::Promise Close(Napi::Env env);
  // The environment exits with the peer open: nothing will be settled, no JS runs any more.
  void AbandonForExit() {
    wrapper = nullptr;
    pending_.clear();
    closed_.Abandon();
  }

  Peer* wrapper = nullptr;  // while the ObjectWrap lives

 private:
  template <typename E>
  void Emit(Napi::Env env, const E& event);
  void Settle(Napi::Env env, const event::PromiseReply& reply);

  std::shared_ptr<PeerCore> core_;
  std::map<uint64_t, Napi::Promise::Deferred> pending_;
  uint64_t next_id_ = 1;
  ClosePromise closed_;  // resolved when the pipe is finalized
};

class Peer : public Napi::ObjectWrap<Peer>, public LiveHandle {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit Peer(const Napi::CallbackInfo& info);
  ~Peer() override;
  void CloseForExit() override;

 private:
  friend class PeerJs;
  bool Usable(Napi::Env env);
  void KeepAlive(bool keep);

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
  Napi::Value EnableAbsCaptureTime(const Napi::CallbackInfo& info);
  Napi::Value FramesDecoded(const Napi::CallbackInfo& info);
  Napi::Value WantFrames(const Napi::CallbackInfo& info);
  Napi::Value CreateDataChannel(const Napi::CallbackInfo& info);
  Napi::Value SendOnChannel(const Napi::CallbackInfo& info);
  Napi::Value CloseChannel(const Napi::CallbackInfo& info);
  Napi::Value ChannelInfo(const Napi::CallbackInfo& info);
  Napi::Value SetChannelLowThreshold(const Napi::CallbackInfo& info);
  Napi::Value SctpInfo(const Napi::CallbackInfo& info);
  Napi::Value Ref(const Napi::CallbackInfo& info);
  Napi::Value Unref(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  std::shared_ptr<PeerCore> core_;
  std::shared_ptr<PeerJs> js_;
  bool held_ = false;  // a strong reference to the JS object (see KeepAlive)
};

}  // namespace wrtc
