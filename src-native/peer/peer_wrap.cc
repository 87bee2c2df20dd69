#include "peer/peer_wrap.h"

namespace wrtc {

namespace {

std::string StringOption(const Napi::Object& options, const char* key, const char* fallback = "") {
  Napi::Value value = options.Get(key);
  return value.IsString() ? value.As<Napi::String>().Utf8Value() : fallback;
}

const char* EventName(EventType type) {
  switch (type) {
    case EventType::NegotiationNeeded: return "negotiation-needed";
    case EventType::IceCandidate: return "ice-candidate";
    case EventType::StateChange: return "state";
    case EventType::PromiseReply: return "promise";
    case EventType::BusError: return "bus-error";
    case EventType::BusWarning: return "bus-warning";
    case EventType::Eos: return "eos";
    case EventType::Latency: return "latency";
    case EventType::Track: return "track";
    case EventType::Frame: return "frame";
    case EventType::DataChannel: return "data-channel";
    case EventType::ChannelOpen: return "channel-open";
    case EventType::ChannelClose: return "channel-close";
    case EventType::ChannelError: return "channel-error";
    case EventType::ChannelMessage: return "channel-message";
    case EventType::SendCaps: return "send-caps";
    case EventType::Audio: return "audio";
  }
  return "unknown";
}

Napi::Object ToJs(Napi::Env env, const Event& e) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("type", EventName(e.type));
  switch (e.type) {
    case EventType::IceCandidate:
      o.Set("mline", e.mline);
      o.Set("candidate", e.text);
      break;
    case EventType::StateChange:
      o.Set("name", e.name);
      o.Set("value", e.text);
      break;
    case EventType::BusError:
    case EventType::BusWarning:
      o.Set("source", e.name);
      o.Set("domain", e.domain);
      o.Set("code", e.code);
      o.Set("message", e.message);
      o.Set("debug", e.debug);
      break;
    case EventType::SendCaps:
      o.Set("caps", e.text);
      break;
    case EventType::Audio:
      o.Set("data", Napi::Buffer<char>::Copy(env, e.text.data(), e.text.size()));
      o.Set("sampleRate", e.width);
      o.Set("channels", e.height);
      o.Set("format", e.name);
      o.Set("pts", static_cast<double>(e.pts));
      break;
    case EventType::Track:
      o.Set("kind", e.name);
      o.Set("encoding", e.text);
      break;
    case EventType::Frame:
      break;  // filled in by DeliverEvent from the pending frame
    case EventType::DataChannel:
      o.Set("channel", static_cast<double>(e.id));
      o.Set("label", e.name);
      break;
    case EventType::ChannelOpen:
    case EventType::ChannelClose:
      o.Set("channel", static_cast<double>(e.id));
      break;
    case EventType::ChannelError:
      o.Set("channel", static_cast<double>(e.id));
      o.Set("message", e.message);
      break;
    case EventType::ChannelMessage:
      o.Set("channel", static_cast<double>(e.id));
      if (e.binary) o.Set("data", Napi::Buffer<char>::Copy(env, e.text.data(), e.text.size()));
      else o.Set("data", e.text);
      break;
    default:
      break;
  }
  return o;
}

Napi::Error ClosedError(Napi::Env env) {
  Napi::Error error = Napi::Error::New(env, "the peer was closed before the operation finished");
  error.Set("code", "ERR_INVALID_STATE");
  return error;
}

// Runs on the JS thread once the pipe is released and drained, or at environment teardown.
void FinalizePipe(Napi::Env env, std::shared_ptr<PeerCore>* holder, PeerCore* core) {
  std::unique_ptr<std::shared_ptr<PeerCore>> keep(holder);
  core->pipe.Finalized();
  bool exiting = !core->closing();  // nobody asked to close: the environment is going away
  core->FinishTeardown();
  if (exiting) return;
  try {
    Napi::HandleScope scope(env);
    for (auto& [id, deferred] : core->js.pending) deferred.Reject(ClosedError(env).Value());
    core->js.pending.clear();
    if (core->js.closed) core->js.closed->Resolve(env.Undefined());
    core->js.closed.reset();
  } catch (...) {
    // Nothing useful can be done with a JS failure while finalizing.
  }
}

}  // namespace

void DeliverEvent(Napi::Env env, Napi::Function, PeerCore* core, Event* raw) {
  std::unique_ptr<Event> event(raw);
  if (env == nullptr || core == nullptr) return;
  Napi::HandleScope scope(env);
  try {
    if (event->type == EventType::PromiseReply) {
      auto it = core->js.pending.find(event->id);
      if (it == core->js.pending.end()) return;
      Napi::Promise::Deferred deferred = it->second;
      core->js.pending.erase(it);
      if (event->ok) {
        deferred.Resolve(event->text.empty() ? env.Undefined() : Napi::String::New(env, event->text));
      } else {
        Napi::Error error = Napi::Error::New(env, event->message);
        error.Set("code", "ERR_OPERATION");
        deferred.Reject(error.Value());
      }
      return;
    }
    auto* peer = static_cast<Peer*>(core->js.wrapper);
    if (!peer) return;
    std::unique_ptr<MappedFrame> frame;
    if (event->type == EventType::Frame) {
      frame = core->TakeFrame();
      if (!frame) return;
    }
    Napi::Object self = peer->Value();
    if (self.IsEmpty()) return;
    Napi::Value handler = self.Get("onevent");
    if (!handler.IsFunction()) return;
    Napi::Object js = ToJs(env, *event);
    if (frame) {
      js.Set("width", frame->width());
      js.Set("height", frame->height());
      js.Set("stride", frame->stride());
      js.Set("format", frame->format());
      js.Set("pts", static_cast<double>(frame->pts()));
      js.Set("dropped", static_cast<double>(core->FramesDropped()));
      if (frame->encoded()) js.Set("keyframe", frame->keyframe());
      js.Set("skipped", static_cast<double>(core->FramesSkipped()));
      // Zero copy: the Buffer points into the mapped GstBuffer and releases it when collected.
      MappedFrame* raw = frame.release();
      js.Set("data", Napi::Buffer<uint8_t>::New(env, raw->data(), raw->size(),
                                                [](Napi::Env, uint8_t*, MappedFrame* f) { delete f; }, raw));
    }
    handler.As<Napi::Function>().Call(self, {js});
  } catch (const Napi::Error& error) {
    // A listener threw: let Node report it as it would for any EventEmitter listener. (While the
    // environment shuts down JS cannot run and napi_throw fails: nothing is left to report to.)
    napi_throw(env, error.Value());
  } catch (...) {
  }
}

void ThrowNative(Napi::Env env, const NativeError& native) {
  Napi::Error error = Napi::Error::New(env, native.message);
  error.Set("code", native.code);
  if (!native.element.empty()) error.Set("element", native.element);
  throw error;
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
          InstanceMethod<&Peer::FramesDecoded>("framesDecoded"),
          InstanceMethod<&Peer::WantFrames>("wantFrames"),
          InstanceMethod<&Peer::EncoderStats>("encoderStats"),
          InstanceMethod<&Peer::CreateDataChannel>("createDataChannel"),
          InstanceMethod<&Peer::SendOnChannel>("sendOnChannel"),
          InstanceMethod<&Peer::CloseChannel>("closeChannel"),
          InstanceMethod<&Peer::ChannelInfo>("channelInfo"),
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

  config.encoderDescription = StringOption(options, "encoderDescription");
  Napi::Value encoder = options.Get("encoder");
  if (encoder.IsObject()) {
    Peer* source = nullptr;
    try {
      source = Peer::Unwrap(encoder.As<Napi::Object>());
    } catch (const Napi::Error&) {
    }
    if (!source || !source->core_->shared_encoder()) throw Napi::TypeError::New(env, "options.encoder must be an encoder-mode NativePeer");
    config.encoder = source->core_->shared_encoder();
  }
  core_ = std::make_shared<PeerCore>(std::move(config));
  NativeError error;
  if (!core_->Build(&error)) {
    core_->Teardown();
    ThrowNative(env, error);
  }
  // One TSFN per peer; its finalizer holds the core until the pipeline is gone.
  auto tsfn = EventTsfn::New(env, "webrtcbin-peer", 0, 1, core_.get(), FinalizePipe,
                             new std::shared_ptr<PeerCore>(core_));
  core_->pipe.Attach(tsfn);
  if (!core_->Start(&error)) {
    // A throwing constructor never runs ~Peer: the core must not keep pointing at this object
    // while the events already posted (the bus error that explains the failure) drain.
    core_->BeginClose();
    ThrowNative(env, error);
  }
  core_->js.wrapper = this;
}

Peer::~Peer() {
  if (!core_) return;
  core_->js.wrapper = nullptr;
  // Garbage-collected while still open (only possible when unref'd): tear down off-thread.
  core_->BeginClose();
}

bool Peer::Usable(Napi::Env env) {
  if (core_->closing()) {
    Napi::Error error = Napi::Error::New(env, "the peer is closed");
    error.Set("code", "ERR_INVALID_STATE");
    throw error;
  }
  return true;
}

Napi::Promise Peer::Track(Napi::Env env, uint64_t* id) {
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  *id = core_->js.next_id++;
  core_->js.pending.emplace(*id, deferred);  // registered before the request: a reply may come at once
  return deferred.Promise();
}

Napi::Value Peer::CreateOffer(const Napi::CallbackInfo& info) {
  Usable(info.Env());
  uint64_t id;
  Napi::Promise promise = Track(info.Env(), &id);
  core_->CreateOffer(id);
  return promise;
}

Napi::Value Peer::CreateAnswer(const Napi::CallbackInfo& info) {
  Usable(info.Env());
  uint64_t id;
  Napi::Promise promise = Track(info.Env(), &id);
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
  Napi::Promise promise = Track(env, &id);
  NativeError error;
  if (!core_->SetDescription(local, type, sdp, id, &error)) {
    core_->js.pending.erase(id);
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
  Napi::Promise promise = Track(info.Env(), &id);
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

Napi::Value Peer::EncoderStats(const Napi::CallbackInfo& info) {
  Napi::Object out = Napi::Object::New(info.Env());
  auto encoder = core_->shared_encoder();
  out.Set("framesEncoded", static_cast<double>(encoder ? encoder->FramesEncoded() : 0));
  out.Set("subscribers", static_cast<double>(encoder ? encoder->Subscribers() : 0));
  out.Set("framesUnchanged", static_cast<double>(encoder ? encoder->FramesUnchanged() : 0));
  return out;
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
  bool ok;
  if (info[1].IsBuffer()) {
    auto buffer = info[1].As<Napi::Buffer<char>>();
    ok = core_->SendOnChannel(key, {}, buffer.Data(), buffer.Length(), true);
  } else {
    ok = core_->SendOnChannel(key, info[1].ToString().Utf8Value(), nullptr, 0, false);
  }
  return Napi::Boolean::New(info.Env(), ok);
}

Napi::Value Peer::CloseChannel(const Napi::CallbackInfo& info) {
  if (!core_->closing()) core_->CloseChannel(static_cast<uint64_t>(info[0].ToNumber().Int64Value()));
  return info.Env().Undefined();
}

Napi::Value Peer::ChannelInfo(const Napi::CallbackInfo& info) {
  if (core_->closing()) return info.Env().Null();
  return Napi::String::New(info.Env(), core_->ChannelInfoJson(static_cast<uint64_t>(info[0].ToNumber().Int64Value())));
}

Napi::Value Peer::Ref(const Napi::CallbackInfo& info) {
  if (!core_->closing()) core_->pipe.SetKeepsLoopAlive(info.Env(), true);
  return info.Env().Undefined();
}

Napi::Value Peer::Unref(const Napi::CallbackInfo& info) {
  if (!core_->closing()) core_->pipe.SetKeepsLoopAlive(info.Env(), false);
  return info.Env().Undefined();
}

Napi::Value Peer::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!core_->js.closed) {
    if (core_->closing()) {
      // Closed already (constructor failure path or finalized): nothing left to wait for.
      auto done = Napi::Promise::Deferred::New(env);
      done.Resolve(env.Undefined());
      return done.Promise();
    }
    core_->js.closed = Napi::Promise::Deferred::New(env);
    core_->BeginClose();
  }
  return core_->js.closed->Promise();
}

}  // namespace wrtc
