#include "peer/peer_wrap.h"

#include <algorithm>
#include <type_traits>
#include <variant>

#include "encoder/native_encoder.h"

namespace wrtc {

namespace {

std::string StringOption(const Napi::Object& options, const char* key, const char* fallback = "") {
  Napi::Value value = options.Get(key);
  return value.IsString() ? value.As<Napi::String>().Utf8Value() : fallback;
}

// The fields of each event, named as in NativeEvent (lib/native/binding.ts).
void Fill(Napi::Env, Napi::Object&, const event::NegotiationNeeded&) {}
void Fill(Napi::Env, Napi::Object& o, const event::IceCandidate& e) {
  o.Set("mline", e.mline);
  o.Set("candidate", e.candidate);
}
void Fill(Napi::Env, Napi::Object& o, const event::State& e) {
  o.Set("name", e.name);
  o.Set("value", e.value);
}
void Fill(Napi::Env, Napi::Object& o, const event::BusMessage& e) { event::SetBusFields(o, e); }
void Fill(Napi::Env, Napi::Object&, const event::Eos&) {}
void Fill(Napi::Env, Napi::Object&, const event::Latency&) {}
void Fill(Napi::Env, Napi::Object& o, const event::SendCaps& e) { o.Set("caps", e.caps); }
void Fill(Napi::Env env, Napi::Object& o, const event::Twcc& e) {
  Napi::Float64Array packets = Napi::Float64Array::New(env, e.packets.size());
  std::copy(e.packets.begin(), e.packets.end(), packets.Data());
  o.Set("packets", packets);
}
void Fill(Napi::Env env, Napi::Object& o, const event::Audio& e) {
  o.Set("data", Napi::Buffer<char>::Copy(env, e.data.data(), e.data.size()));
  o.Set("sampleRate", e.sampleRate);
  o.Set("channels", e.channels);
  o.Set("format", e.format);
  o.Set("pts", static_cast<double>(e.pts));
}
void Fill(Napi::Env, Napi::Object& o, const event::Track& e) {
  o.Set("kind", e.kind);
  o.Set("encoding", e.encoding);
}
void Fill(Napi::Env, Napi::Object& o, const event::DataChannel& e) {
  o.Set("channel", static_cast<double>(e.channel));
  o.Set("label", e.label);
  o.Set("readyState", e.readyState);
}
void Fill(Napi::Env, Napi::Object& o, const event::ChannelOpen& e) { o.Set("channel", static_cast<double>(e.channel)); }
void Fill(Napi::Env, Napi::Object& o, const event::ChannelClose& e) { o.Set("channel", static_cast<double>(e.channel)); }
void Fill(Napi::Env, Napi::Object& o, const event::ChannelClosing& e) { o.Set("channel", static_cast<double>(e.channel)); }
void Fill(Napi::Env, Napi::Object& o, const event::ChannelBufferedAmountLow& e) {
  o.Set("channel", static_cast<double>(e.channel));
}
void Fill(Napi::Env, Napi::Object& o, const event::ChannelError& e) {
  o.Set("channel", static_cast<double>(e.channel));
  o.Set("message", e.message);
}
void Fill(Napi::Env env, Napi::Object& o, const event::ChannelMessage& e) {
  o.Set("channel", static_cast<double>(e.channel));
  if (e.binary) o.Set("data", Napi::Buffer<char>::Copy(env, e.data.data(), e.data.size()));
  else o.Set("data", e.data);
}
// The frame taken from the latest-frame slot, handed over without a copy.
void Fill(Napi::Env env, Napi::Object& o, std::unique_ptr<MappedFrame> frame, const PeerCore& core) {
  o.Set("width", frame->width());
  o.Set("height", frame->height());
  o.Set("stride", frame->stride());
  o.Set("format", frame->format());
  o.Set("pts", static_cast<double>(frame->pts()));
  if (frame->capture_us() >= 0) o.Set("captureTime", static_cast<double>(frame->capture_us()) / 1000.0);
  o.Set("dropped", static_cast<double>(core.FramesDropped()));
  if (frame->encoded()) o.Set("keyframe", frame->keyframe());
  o.Set("skipped", static_cast<double>(core.FramesSkipped()));
  // Zero copy: the Buffer points into the mapped GstBuffer and releases it when collected.
  MappedFrame* raw = frame.release();
  o.Set("data", Napi::Buffer<uint8_t>::New(env, raw->data(), raw->size(),
                                           [](Napi::Env, uint8_t*, MappedFrame* f) { delete f; }, raw));
}

Napi::Error ClosedError(Napi::Env env) {
  return NativeError{"ERR_INVALID_STATE", "the peer was closed before the operation finished", ""}.ToJs(env);
}

}  // namespace

void PeerJs::OnEvent(Napi::Env env, PeerEvent& event) {
  Napi::HandleScope scope(env);
  try {
    std::visit(
        [&](const auto& e) {
          using E = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<E, event::PromiseReply>) Settle(env, e);
          else Emit(env, e);
        },
        event);
  } catch (const Napi::Error& error) {
    // A listener threw: let Node report it as it would for any EventEmitter listener. (While the
    // environment shuts down JS cannot run and napi_throw fails: nothing is left to report to.)
    napi_throw(env, error.Value());
  } catch (...) {
  }
}

void PeerJs::Settle(Napi::Env env, const event::PromiseReply& reply) {
  auto it = pending_.find(reply.id);
  if (it == pending_.end()) return;
  Napi::Promise::Deferred deferred = it->second;
  pending_.erase(it);
  if (reply.ok) {
    deferred.Resolve(reply.value.empty() ? env.Undefined() : Napi::String::New(env, reply.value));
  } else {
    deferred.Reject(NativeError{"ERR_OPERATION", reply.message, ""}.ToJs(env).Value());
  }
}

template <typename E>
void PeerJs::Emit(Napi::Env env, const E& event) {
  if (!wrapper) return;
  std::unique_ptr<MappedFrame> frame;
  if constexpr (std::is_same_v<E, event::Frame>) {
    frame = core_->TakeFrame();
    if (!frame) return;
  }
  CallOnevent(env, wrapper->Value(), event, [&](Napi::Object& js, const E& payload) {
    if constexpr (std::is_same_v<E, event::Frame>) Fill(env, js, std::move(frame), *core_);
    else Fill(env, js, payload);
  });
}

void PeerJs::OnPipeFinalized(Napi::Env env, bool released) {
  core_->FinishTeardown();  // joins the teardown thread, or tears down now (environment exit)
  closed_.Finish(env, released, [&] {
    for (auto& [id, deferred] : pending_) deferred.Reject(ClosedError(env).Value());
    pending_.clear();
    if (wrapper) wrapper->KeepAlive(false);  // closed: nothing keeps it any more
  });
}

Napi::Promise PeerJs::Track(Napi::Env env, uint64_t* id) {
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  *id = next_id_++;
  pending_.emplace(*id, deferred);
  return deferred.Promise();
}

Napi::Promise PeerJs::Close(Napi::Env env) {
  // Closed already when the constructor failed: then nothing is left to wait for.
  return closed_.Get(env, core_->closing(), [this] { core_->BeginClose(); });
}

Napi::Function Peer::DefineClass(Napi::Env env) {
  return ObjectWrap<Peer>::DefineClass(
      env, "NativePeer",
      {
          InstanceMethod<&Peer::CreateOffer>("createOffer"),
          InstanceMethod<&Peer::CreateAnswer>("createAnswer"),
          InstanceMethod<&Peer::SetLocalDescription>("setLocalDescription"),
          InstanceMethod<&Peer::SetRemoteDescription>("setRemoteDescription"),
          InstanceMethod<&Peer::AddIceCandidate>("addIceCandidate"),
          InstanceMethod<&Peer::GetStats>("getStats"),
          InstanceMethod<&Peer::GetDescription>("getDescription"),
          InstanceMethod<&Peer::GetState>("getState"),
          InstanceMethod<&Peer::RecalculateLatency>("recalculateLatency"),
          InstanceMethod<&Peer::SetSendPayloadType>("setSendPayloadType"),
          InstanceMethod<&Peer::ReleaseMedia>("releaseMedia"),
          InstanceMethod<&Peer::SetBitrate>("setBitrate"),
          InstanceMethod<&Peer::GetBitrate>("getBitrate"),
          InstanceMethod<&Peer::SetReceivePreferences>("setReceivePreferences"),
          InstanceMethod<&Peer::EnablePlayoutDelay>("enablePlayoutDelay"),
          InstanceMethod<&Peer::EnableAbsCaptureTime>("enableAbsCaptureTime"),
          InstanceMethod<&Peer::FramesDecoded>("framesDecoded"),
          InstanceMethod<&Peer::WantFrames>("wantFrames"),
          InstanceMethod<&Peer::CreateDataChannel>("createDataChannel"),
          InstanceMethod<&Peer::SendOnChannel>("sendOnChannel"),
          InstanceMethod<&Peer::CloseChannel>("closeChannel"),
          InstanceMethod<&Peer::ChannelInfo>("channelInfo"),
          InstanceMethod<&Peer::SetChannelLowThreshold>("setChannelLowThreshold"),
          InstanceMethod<&Peer::SctpInfo>("sctpInfo"),
          InstanceMethod<&Peer::Ref>("ref"),
          InstanceMethod<&Peer::Unref>("unref"),
          InstanceMethod<&Peer::Close>("close"),
      });
}

Peer::Peer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Peer>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    throw Napi::TypeError::New(env, "NativePeer expects an options object");
  }
  Napi::Object options = info[0].As<Napi::Object>();
  PeerConfig config;
  config.sendDescription = StringOption(options, "sendDescription");
  config.sendCaps = StringOption(options, "sendCaps");
  config.sendAudioDescription = StringOption(options, "sendAudioDescription");
  config.sendAudioCaps = StringOption(options, "sendAudioCaps");
  config.receiveCaps = StringOption(options, "receiveCaps");
  config.receiveVideoDescription = StringOption(options, "receiveVideoDescription");
  Napi::Value encoded = options.Get("receiveEncodedDescriptions");
  if (encoded.IsObject()) {
    Napi::Object byEncoding = encoded.As<Napi::Object>();
    Napi::Array names = byEncoding.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); ++i) {
      std::string name = names.Get(i).ToString().Utf8Value();
      Napi::Value description = byEncoding.Get(name);
      if (description.IsString()) config.receiveEncodedDescriptions[name] = description.As<Napi::String>().Utf8Value();
    }
  }
  config.receiveAudioCaps = StringOption(options, "receiveAudioCaps");
  config.receiveAudioDescription = StringOption(options, "receiveAudioDescription");
  config.stunServer = StringOption(options, "stunServer");
  config.iceTransportPolicy = StringOption(options, "iceTransportPolicy", "all");
  config.bundlePolicy = StringOption(options, "bundlePolicy", "max-bundle");
  Napi::Value latency = options.Get("latency");
  config.latencyMs = latency.IsNumber() ? latency.As<Napi::Number>().Int32Value() : 0;
  Napi::Value maxFps = options.Get("maxFps");
  if (maxFps.IsNumber() && maxFps.As<Napi::Number>().DoubleValue() > 0) {
    config.minFrameIntervalNs = static_cast<int64_t>(1e9 / maxFps.As<Napi::Number>().DoubleValue());
  }
  Napi::Value nack = options.Get("nack");
  config.nack = nack.IsBoolean() ? nack.As<Napi::Boolean>().Value() : true;
  Napi::Value fec = options.Get("fecPercentage");
  if (fec.IsNumber()) config.fecPercentage = fec.As<Napi::Number>().Int32Value();
  Napi::Value turn = options.Get("turnServers");
  if (turn.IsArray()) {
    Napi::Array list = turn.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); ++i) config.turnServers.push_back(list.Get(i).ToString().Utf8Value());
  }

  Napi::Value encoder = options.Get("encoder");
  if (!encoder.IsUndefined()) {
    config.encoder = Encoder::SharedFrom(env, encoder);
    if (!config.encoder) throw Napi::TypeError::New(env, "options.encoder must be a NativeEncoder");
  }
  core_ = std::make_shared<PeerCore>(std::move(config));
  NativeError error;
  if (!core_->Build(&error)) {
    core_->Teardown();
    ThrowNative(env, error);
  }
  // One pipe per peer; its receiver (with the core) lives until the pipeline is gone.
  js_ = std::make_shared<PeerJs>(core_);
  core_->pipe.Open(env, "webrtcbin-peer", js_);
  if (!core_->Start(&error)) {
    // A throwing constructor never runs ~Peer: the core must not keep pointing at this object
    // while the events already posted (the bus error that explains the failure) drain.
    core_->BeginClose();
    ThrowNative(env, error);
  }
  js_->wrapper = this;
  KeepAlive(true);
  RegisterLive(env);
}

// The environment exits with this peer open: its pipeline goes to NULL here and now (the teardown
// thread, if one runs, is joined). Nothing pending is settled: no JS runs any more.
void Peer::CloseForExit() {
  js_->AbandonForExit();
  core_->FinishTeardown();
  core_->pipe.Release();
}

Peer::~Peer() {
  if (!core_) return;
  if (js_) js_->wrapper = nullptr;
  // Garbage-collected while still open (only possible when unref'd): tear down off-thread.
  core_->BeginClose();
}

// Like a socket's handle: an open, ref'd peer stays reachable although only its own listeners
// refer to it (its events keep coming); unref'd, or once closed, it may be collected.
void Peer::KeepAlive(bool keep) {
  if (keep == held_) return;
  held_ = keep;
  if (keep) Napi::Reference<Napi::Object>::Ref();
  else Napi::Reference<Napi::Object>::Unref();
}

bool Peer::Usable(Napi::Env env) {
  if (core_->closing()) {
    throw NativeError{"ERR_INVALID_STATE", "the peer is closed", ""}.ToJs(env);
  }
  return true;
}

Napi::Value Peer::CreateOffer(const Napi::CallbackInfo& info) {
  Usable(info.Env());
  uint64_t id;
  Napi::Promise promise = js_->Track(info.Env(), &id);
  core_->CreateOffer(id);
  return promise;
}

Napi::Value Peer::CreateAnswer(const Napi::CallbackInfo& info) {
  Usable(info.Env());
  uint64_t id;
  Napi::Promise promise = js_->Track(info.Env(), &id);
  core_->CreateAnswer(id);
  return promise;
}

Napi::Value Peer::SetLocalDescription(const Napi::CallbackInfo& info) { return SetDescription(info, true); }
Napi::Value Peer::SetRemoteDescription(const Napi::CallbackInfo& info) { return SetDescription(info, false); }

Napi::Value Peer::SetDescription(const Napi::CallbackInfo& info, bool local) {
  Napi::Env env = info.Env();
  Usable(env);
  std::string type = info[0].ToString().Utf8Value();
  std::string sdp = info[1].ToString().Utf8Value();
  uint64_t id;
  Napi::Promise promise = js_->Track(env, &id);
  NativeError error;
  if (!core_->SetDescription(local, type, sdp, id, &error)) {
    js_->Forget(id);
    ThrowNative(env, error);
  }
  return promise;
}

Napi::Value Peer::AddIceCandidate(const Napi::CallbackInfo& info) {
  Usable(info.Env());
  NativeError error;
  if (!core_->AddIceCandidate(info[0].ToNumber().Uint32Value(), info[1].ToString().Utf8Value(), &error)) {
    ThrowNative(info.Env(), error);
  }
  return info.Env().Undefined();
}

Napi::Value Peer::GetStats(const Napi::CallbackInfo& info) {
  Usable(info.Env());
  uint64_t id;
  Napi::Promise promise = js_->Track(info.Env(), &id);
  core_->GetStats(id);
  return promise;
}

Napi::Value Peer::GetDescription(const Napi::CallbackInfo& info) {
  if (core_->closing()) return info.Env().Null();
  std::string sdp = core_->GetDescription(info[0].ToString().Utf8Value().c_str());
  if (sdp.empty()) return info.Env().Null();
  return Napi::String::New(info.Env(), sdp);
}

Napi::Value Peer::GetState(const Napi::CallbackInfo& info) {
  if (core_->closing()) return Napi::String::New(info.Env(), "closed");
  return Napi::String::New(info.Env(), core_->GetState(info[0].ToString().Utf8Value().c_str()));
}

Napi::Value Peer::RecalculateLatency(const Napi::CallbackInfo& info) {
  if (!core_->closing()) core_->RecalculateLatency();
  return info.Env().Undefined();
}

Napi::Value Peer::SetSendPayloadType(const Napi::CallbackInfo& info) {
  Usable(info.Env());
  bool audio = info.Length() > 2 && info[2].IsString() && info[2].As<Napi::String>().Utf8Value() == "audio";
  return Napi::Boolean::New(info.Env(), core_->SetSendPayloadType(audio, info[0].ToNumber().Int32Value(),
                                                                  info[1].ToString().Utf8Value()));
}

Napi::Value Peer::ReleaseMedia(const Napi::CallbackInfo& info) {
  Usable(info.Env());
  core_->ReleaseMedia();
  return info.Env().Undefined();
}

// kbit/s in, kbit/s now set out (-1: no encoder in this pipeline).
Napi::Value Peer::SetBitrate(const Napi::CallbackInfo& info) {
  Usable(info.Env());
  return Napi::Number::New(info.Env(), core_->SetBitrate(info[0].ToNumber().Int32Value()));
}

Napi::Value Peer::GetBitrate(const Napi::CallbackInfo& info) {
  if (core_->closing()) return Napi::Number::New(info.Env(), -1);
  return Napi::Number::New(info.Env(), core_->GetBitrate());
}

Napi::Value Peer::SetReceivePreferences(const Napi::CallbackInfo& info) {
  Usable(info.Env());
  return Napi::Boolean::New(info.Env(), core_->SetReceivePreferences(info[0].ToString().Utf8Value()));
}

Napi::Value Peer::EnablePlayoutDelay(const Napi::CallbackInfo& info) {
  Usable(info.Env());
  return Napi::Boolean::New(info.Env(), core_->EnablePlayoutDelay(info[0].ToNumber().Int32Value(), info[1].ToNumber().Int32Value(),
                                                                  info[2].ToNumber().Int32Value()));
}

Napi::Value Peer::EnableAbsCaptureTime(const Napi::CallbackInfo& info) {
  Usable(info.Env());
  return Napi::Boolean::New(info.Env(), core_->EnableAbsCaptureTime(info[0].ToNumber().Int32Value()));
}

Napi::Value Peer::FramesDecoded(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(core_->FramesDecoded()));
}

Napi::Value Peer::WantFrames(const Napi::CallbackInfo& info) {
  if (!core_->closing()) core_->WantFrames(info[0].ToBoolean().Value(), info[1].ToBoolean().Value());
  return info.Env().Undefined();
}

Napi::Value Peer::CreateDataChannel(const Napi::CallbackInfo& info) {
  Usable(info.Env());
  uint64_t key = core_->CreateDataChannel(info[0].ToString().Utf8Value(),
                                          info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "");
  return Napi::Number::New(info.Env(), static_cast<double>(key));
}

Napi::Value Peer::SendOnChannel(const Napi::CallbackInfo& info) {
  Usable(info.Env());
  auto key = static_cast<uint64_t>(info[0].ToNumber().Int64Value());
  NativeError error;
  bool ok;
  if (info[1].IsBuffer()) {
    auto buffer = info[1].As<Napi::Buffer<char>>();
    ok = core_->SendOnChannel(key, {}, buffer.Data(), buffer.Length(), true, &error);
  } else {
    ok = core_->SendOnChannel(key, info[1].ToString().Utf8Value(), nullptr, 0, false, &error);
  }
  if (!ok) throw error.ToJs(info.Env());
  return info.Env().Undefined();
}

Napi::Value Peer::CloseChannel(const Napi::CallbackInfo& info) {
  if (!core_->closing()) core_->CloseChannel(static_cast<uint64_t>(info[0].ToNumber().Int64Value()));
  return info.Env().Undefined();
}

Napi::Value Peer::ChannelInfo(const Napi::CallbackInfo& info) {
  if (core_->closing()) return info.Env().Null();
  return Napi::String::New(info.Env(), core_->ChannelInfoJson(static_cast<uint64_t>(info[0].ToNumber().Int64Value())));
}

Napi::Value Peer::SetChannelLowThreshold(const Napi::CallbackInfo& info) {
  if (!core_->closing()) {
    core_->SetChannelLowThreshold(static_cast<uint64_t>(info[0].ToNumber().Int64Value()),
                                  static_cast<uint64_t>(info[1].ToNumber().Int64Value()));
  }
  return info.Env().Undefined();
}

Napi::Value Peer::SctpInfo(const Napi::CallbackInfo& info) {
  if (core_->closing()) return info.Env().Null();
  return Napi::String::New(info.Env(), core_->SctpInfoJson());
}

Napi::Value Peer::Ref(const Napi::CallbackInfo& info) {
  if (core_->closing()) return info.Env().Undefined();
  core_->pipe.SetKeepsLoopAlive(info.Env(), true);
  KeepAlive(true);
  return info.Env().Undefined();
}

Napi::Value Peer::Unref(const Napi::CallbackInfo& info) {
  if (core_->closing()) return info.Env().Undefined();
  core_->pipe.SetKeepsLoopAlive(info.Env(), false);
  KeepAlive(false);
  return info.Env().Undefined();
}

// Idempotent: every call returns the same promise, resolved once the pipeline is torn down.
Napi::Value Peer::Close(const Napi::CallbackInfo& info) { return js_->Close(info.Env()); }

}  // namespace wrtc
