#include "encoder/native_encoder.h"

#include <gst/gst.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <variant>

#include "common/bus_event.h"
#include "common/close_promise.h"
#include "common/event_pipe.h"
#include "common/gobject_ptr.h"
#include "encoder/bitrate.h"
#include "peer/peer_core.h"  // NativeError, NewPipeline, ParseDescription
#include "peer/peer_wrap.h"  // ThrowNative
#include "x11/capture_guard.h"

namespace wrtc {

namespace {

// Set on every NativeEncoder object: a peer's `encoder` option is checked against it, so no other
// wrapped object (nor a fake with NativeEncoder's prototype) is ever taken for one.
constexpr napi_type_tag kEncoderTag = {0x7765627274636269ULL, 0x6e2d656e636f6465ULL};

// The encoder's events: its pipeline's bus errors and warnings.
using EncoderEvent = std::variant<event::BusError, event::BusWarning>;

}  // namespace

// The GStreamer side of one encoder. Everything here may run on GStreamer threads except where
// marked "JS thread"; results leave only through `pipe`.
class EncoderCore : public std::enable_shared_from_this<EncoderCore> {
 public:
  ~EncoderCore() {
    // Teardown ran before the last reference went (FinishTeardown); this only frees memory.
    if (teardown_thread_.joinable()) teardown_thread_.detach();
  }

  // JS thread. Creates the pipeline and hooks the fan-out and the bus; no state change yet.
  bool Build(const std::string& description, NativeError* error) {
    pipeline_.reset(NewPipeline());
    GstElement* bin = ParseDescription(description, "encoder", false, error);
    if (!bin) return false;
    gst_object_set_name(GST_OBJECT(bin), "encoder");
    gst_bin_add(GST_BIN(pipeline_.get()), bin);  // the pipeline owns it from here
    bin_ = bin;
    shared_ = std::make_shared<SharedEncoder>();
    if (!shared_->Attach(bin)) {
      *error = {"ERR_PIPELINE", "the encoder pipeline needs a valve named gate and an appsink named encoded", ""};
      return false;
    }
    // Nobody subscribed (and the prime through): the capture pauses too, so a warm encoder costs nothing.
    shared_->SetDemandHook([weak = weak_from_this()] {
      if (auto core = weak.lock()) core->ScheduleCaptureState();
    });
    GObjectPtr<GstBus> bus(gst_element_get_bus(pipeline_.get()));
    gst_bus_set_sync_handler(bus.get(), BusSyncCb, new std::weak_ptr<EncoderCore>(weak_from_this()), FreeWeak);
    return true;
  }

  // JS thread. Just runs: the gate stays shut until a peer subscribes.
  bool Start(NativeError* error) {
    if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      std::lock_guard<std::mutex> lock(mutex_);
      *error = StartFailure("the encoder pipeline could not start", start_cause_);
      return false;
    }
    // Sources have started (ximagesrc has opened its Display): a lost X server must not exit().
    capture_guard_.Protect(pipeline_.get());
    return true;
  }

  // JS thread: the slow state change to NULL on a thread of its own (never blocks the JS thread).
  void BeginClose() {
    if (closing_.exchange(true)) return;
    auto self = shared_from_this();
    teardown_thread_ = std::thread([self] {
      self->Teardown();
      self->pipe.Release();
    });
  }

  // Any thread (a streaming one too). The capture follows the demand: PLAYING while someone
  // subscribed, PAUSED (a live source then captures nothing) otherwise. The state change itself runs
  // on GStreamer's own thread (a streaming thread must not change its pipeline's state); each one
  // applies the demand of its moment, so their order does not matter.
  void ScheduleCaptureState() {
    GObjectPtr<GstElement> pipeline;
    {
      std::lock_guard<std::mutex> lock(state_mutex_);
      if (stopped_ || !pipeline_) return;
      pipeline = GObjectPtr<GstElement>::ref(pipeline_.get());
    }
    gst_element_call_async(pipeline.get(), ApplyCaptureStateCb, new std::weak_ptr<EncoderCore>(weak_from_this()), FreeWeak);
  }

  // Any thread but a streaming one; idempotent. Subscribers dropped, pipeline to NULL, bus off, unref.
  void Teardown() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (torn_down_) return;
      torn_down_ = true;
    }
    {
      // No capture state change after this one (one in progress finishes first).
      std::lock_guard<std::mutex> lock(state_mutex_);
      stopped_ = true;
    }
    closing_ = true;
    if (shared_) shared_->Detach();
    if (pipeline_) {
      gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
      GObjectPtr<GstBus> bus(gst_element_get_bus(pipeline_.get()));
      gst_bus_set_sync_handler(bus.get(), nullptr, nullptr, nullptr);
    }
    bin_ = nullptr;
    pipeline_.reset();
  }

  // JS thread, from the TSFN finalizer or at environment exit: wait for the teardown thread, or
  // tear down now.
  void FinishTeardown() {
    if (teardown_thread_.joinable()) teardown_thread_.join();
    Teardown();
  }

  bool closing() const { return closing_.load(); }
  const std::shared_ptr<SharedEncoder>& shared() const { return shared_; }
  // JS thread, open encoder: kbit/s in and out; -1 when the description holds no encoder we know.
  int SetBitrate(int kbps) { return SetEncoderBitrate(bin_, kbps); }
  int GetBitrate() { return GetEncoderBitrate(bin_); }

  // JS thread, open encoder: sets `show-pointer` on each element of the description that honours it while
  // playing: one whose property says so (GST_PARAM_MUTABLE_PLAYING), or ximagesrc (it reads it per
  // frame, without the flag). False when none does (a capture that decides at start keeps its pointer).
  bool SetShowPointer(bool on) {
    if (!bin_) return false;
    bool found = false;
    GstIterator* it = gst_bin_iterate_recurse(GST_BIN(bin_));
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
      auto* element = GST_ELEMENT(g_value_get_object(&item));
      GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(element), "show-pointer");
      GstElementFactory* factory = gst_element_get_factory(element);
      bool per_frame = (spec && (spec->flags & GST_PARAM_MUTABLE_PLAYING)) ||
                       (factory && g_strcmp0(GST_OBJECT_NAME(factory), "ximagesrc") == 0);
      if (spec && per_frame && G_PARAM_SPEC_VALUE_TYPE(spec) == G_TYPE_BOOLEAN && (spec->flags & G_PARAM_WRITABLE)) {
        g_object_set(element, "show-pointer", on ? TRUE : FALSE, nullptr);
        found = true;
      }
      g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
    return found;
  }

  // Bus sync handler (any thread): errors and warnings become events; the rest is dropped.
  void OnBusMessage(GstMessage* message) {
    bool is_error = GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR;
    if (!is_error && GST_MESSAGE_TYPE(message) != GST_MESSAGE_WARNING) return;
    event::BusMessage fields = event::ReadBusMessage(message);
    if (is_error) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (start_cause_.message.empty()) start_cause_ = StartCause(message, fields);
      pipe.Post(event::BusError{std::move(fields)});
    } else {
      pipe.Post(event::BusWarning{std::move(fields)});
    }
  }

  EventPipe<EncoderEvent> pipe;

 private:
  static GstBusSyncReply BusSyncCb(GstBus*, GstMessage* message, gpointer data) {
    // No main loop reads this bus: returning DROP makes the message ours to unref.
    MiniObjectPtr<GstMessage> owned(message);
    if (auto core = static_cast<std::weak_ptr<EncoderCore>*>(data)->lock()) core->OnBusMessage(message);
    return GST_BUS_DROP;
  }
  static void FreeWeak(gpointer data) { delete static_cast<std::weak_ptr<EncoderCore>*>(data); }
  static void ApplyCaptureStateCb(GstElement*, gpointer data) {
    if (auto core = static_cast<std::weak_ptr<EncoderCore>*>(data)->lock()) core->ApplyCaptureState();
  }
  void ApplyCaptureState() {
    std::lock_guard<std::mutex> lock(state_mutex_);
    if (stopped_ || !pipeline_ || !shared_) return;
    gst_element_set_state(pipeline_.get(), shared_->Wanted() ? GST_STATE_PLAYING : GST_STATE_PAUSED);
  }

  GObjectPtr<GstElement> pipeline_;
  GstElement* bin_ = nullptr;  // owned by pipeline_
  std::shared_ptr<SharedEncoder> shared_;
  XCaptureGuard capture_guard_;
  std::atomic<bool> closing_{false};
  std::mutex mutex_;  // guards torn_down_, start_cause_
  bool torn_down_ = false;
  NativeError start_cause_;  // the first bus error: why a failed Start failed
  std::thread teardown_thread_;
  std::mutex state_mutex_;  // guards stopped_ and the capture's state changes against the teardown
  bool stopped_ = false;
};

// The JS-thread end of the encoder's pipe: bus events to `onevent`, the close promise. It holds the
// core, so the pipe (and the pipeline) live until the pipe is finalized.
class EncoderJs final : public EventReceiver<EncoderEvent> {
 public:
  explicit EncoderJs(std::shared_ptr<EncoderCore> core) : core_(std::move(core)) {}

  void OnEvent(Napi::Env env, EncoderEvent& event) override {
    if (!wrapper) return;
    Napi::HandleScope scope(env);
    CallOnevent(env, wrapper->Value(), event, [](Napi::Object& js, const event::BusMessage& e) { event::SetBusFields(js, e); });
  }

  void OnPipeFinalized(Napi::Env env, bool released) override {
    core_->FinishTeardown();  // joins the teardown thread, or tears down now (environment exit)
    finalized = true;
    closed.Finish(env, released);
  }

  Encoder* wrapper = nullptr;  // the ObjectWrap while it lives
  ClosePromise closed;         // resolved when the pipe is finalized
  bool finalized = false;

 private:
  std::shared_ptr<EncoderCore> core_;
};

Napi::Function Encoder::DefineClass(Napi::Env env) {
  return ObjectWrap<Encoder>::DefineClass(env, "NativeEncoder",
                                          {
                                              InstanceMethod<&Encoder::SetBitrate>("setBitrate"),
                                              InstanceMethod<&Encoder::GetBitrate>("getBitrate"),
                                              InstanceMethod<&Encoder::SetShowPointer>("setShowPointer"),
                                              InstanceMethod<&Encoder::Stats>("stats"),
                                              InstanceMethod<&Encoder::Ref>("ref"),
                                              InstanceMethod<&Encoder::Unref>("unref"),
                                              InstanceMethod<&Encoder::Close>("close"),
                                          });
}

Encoder::Encoder(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Encoder>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "NativeEncoder expects an options object");
  Napi::Value description = info[0].As<Napi::Object>().Get("description");
  if (!description.IsString()) {
    throw Napi::TypeError::New(env, "NativeEncoder needs options.description, the encoder's gst-launch description");
  }
  core_ = std::make_shared<EncoderCore>();
  NativeError error;
  std::string text = description.As<Napi::String>().Utf8Value();
  // An ximagesrc opens its Display while linking (caps) and starting: other captures wait meanwhile.
  XCaptureStartGate gate(text.find("ximagesrc") != std::string::npos);
  if (!core_->Build(text, &error)) {
    core_->Teardown();
    ThrowNative(env, error);
  }
  // The pipe's receiver holds the core until the pipeline is gone.
  js_ = std::make_shared<EncoderJs>(core_);
  core_->pipe.Open(env, "webrtcbin-encoder", js_);
  if (!core_->Start(&error)) {
    core_->BeginClose();  // the bus error that explains the failure still drains, to nobody
    ThrowNative(env, error);
  }
  js_->wrapper = this;
  info.This().As<Napi::Object>().TypeTag(&kEncoderTag);
  RegisterLive(env);
}

Encoder::~Encoder() {
  if (!core_) return;
  if (js_) js_->wrapper = nullptr;
  // Garbage-collected while still open (the Streamer unrefs it): tear down off-thread.
  core_->BeginClose();
}

void Encoder::CloseForExit() {
  js_->wrapper = nullptr;
  js_->closed.Abandon();  // no JS runs any more: nothing to resolve
  core_->FinishTeardown();
  core_->pipe.Release();
}

std::shared_ptr<SharedEncoder> Encoder::SharedFrom(Napi::Env env, Napi::Value value) {
  if (!value.IsObject()) return nullptr;
  Napi::Object object = value.As<Napi::Object>();
  AddonData* data = AddonData::Of(env);
  if (!data || data->encoder.IsEmpty() || !object.InstanceOf(data->encoder.Value())) return nullptr;
  if (!object.CheckTypeTag(&kEncoderTag)) return nullptr;
  return Unwrap(object)->core_->shared();
}

Napi::Value Encoder::SetBitrate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (core_->closing()) {
    Napi::Error error = Napi::Error::New(env, "the encoder is closed");
    error.Set("code", "ERR_INVALID_STATE");
    throw error;
  }
  return Napi::Number::New(env, core_->SetBitrate(info[0].ToNumber().Int32Value()));
}

Napi::Value Encoder::SetShowPointer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (core_->closing()) return Napi::Boolean::New(env, false);
  return Napi::Boolean::New(env, core_->SetShowPointer(info[0].ToBoolean().Value()));
}

Napi::Value Encoder::GetBitrate(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), core_->closing() ? -1 : core_->GetBitrate());
}

// Kept after close(): the counters of a detached encoder stay readable (no subscribers).
Napi::Value Encoder::Stats(const Napi::CallbackInfo& info) {
  Napi::Object out = Napi::Object::New(info.Env());
  const auto& shared = core_->shared();
  out.Set("framesEncoded", static_cast<double>(shared->FramesEncoded()));
  out.Set("subscribers", static_cast<double>(shared->Subscribers()));
  out.Set("framesUnchanged", static_cast<double>(shared->FramesUnchanged()));
  out.Set("keyframeRequests", static_cast<double>(shared->KeyframeRequests()));
  out.Set("capsKnown", shared->CapsKnown());
  return out;
}

Napi::Value Encoder::Ref(const Napi::CallbackInfo& info) {
  if (!core_->closing()) core_->pipe.SetKeepsLoopAlive(info.Env(), true);
  return info.Env().Undefined();
}

Napi::Value Encoder::Unref(const Napi::CallbackInfo& info) {
  if (!core_->closing()) core_->pipe.SetKeepsLoopAlive(info.Env(), false);
  return info.Env().Undefined();
}

// Idempotent: every call returns the one close promise, resolved once the pipeline is torn down.
Napi::Value Encoder::Close(const Napi::CallbackInfo& info) {
  return js_->closed.Get(info.Env(), js_->finalized, [this] { core_->BeginClose(); });
}

}  // namespace wrtc
