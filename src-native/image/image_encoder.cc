// NativeImageEncoder (see image_encoder.h): a job queue, one thread that runs each job's small
// pipeline to the end, and the JS-thread half that settles each encode()'s promise by job id.
#include "image/image_encoder.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "common/close_promise.h"
#include "common/event_pipe.h"
#include "common/gobject_ptr.h"
#include "common/native_error.h"

namespace wrtc {

namespace {

// How long one job may take before it fails (a description that never outputs, e.g. a wrong caps
// filter): long enough for a 4K PNG on a busy core, short enough that close() is never held long.
constexpr GstClockTime kJobTimeout = 5 * GST_SECOND;

struct ImageResult {
  static constexpr const char* kType = "result";
  uint32_t id = 0;
  bool ok = false;
  std::string bytes;
  NativeError error;
};

struct Job {
  uint32_t id;
  MiniObjectPtr<GstBuffer> buffer;
  std::string caps;
  std::string description;
};

// The first bus error of a failed job, in words.
std::string BusErrorText(GstElement* pipeline) {
  GObjectPtr<GstBus> bus(gst_element_get_bus(pipeline));
  MiniObjectPtr<GstMessage> message(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
  if (!message) return "";
  GError* error = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_error(message.get(), &error, &debug);
  std::string text = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message.get()))) + ": " + (error ? error->message : "error");
  if (error) g_error_free(error);
  g_free(debug);
  return text;
}

ImageResult RunJob(Job& job) {
  ImageResult result;
  result.id = job.id;
  std::string launch = "appsrc name=src ! " + job.description + " ! appsink name=sink sync=false";
  GstParseContext* context = gst_parse_context_new();
  GErrorPtr error;
  GstElement* parsed = gst_parse_launch_full(launch.c_str(), context, GST_PARSE_FLAG_FATAL_ERRORS, error.out());
  if (!parsed || error) {
    if (parsed) gst_object_unref(parsed);
    gchar** missing = gst_parse_context_get_missing_elements(context);
    if (missing && missing[0]) result.error = NativeError{"ERR_MISSING_PLUGIN", std::string("no element ") + missing[0], missing[0]};
    else result.error = NativeError{"ERR_PIPELINE", std::string("image pipeline: ") + (error ? error.get()->message : "could not be built"), ""};
    g_strfreev(missing);
    gst_parse_context_free(context);
    return result;
  }
  gst_parse_context_free(context);
  GObjectPtr<GstElement> pipeline(GST_ELEMENT(gst_object_ref_sink(parsed)));
  GObjectPtr<GstElement> src(gst_bin_get_by_name(GST_BIN(pipeline.get()), "src"));
  GObjectPtr<GstElement> sink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "sink"));
  MiniObjectPtr<GstCaps> caps = CapsFromString(job.caps);
  if (!src || !sink || !caps) {
    result.error = NativeError{"ERR_PIPELINE", "image pipeline: the description must be a chain (and the caps valid)", ""};
    return result;
  }
  g_object_set(src.get(), "caps", caps.get(), "format", GST_FORMAT_TIME, nullptr);
  if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    std::string cause = BusErrorText(pipeline.get());
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    result.error = NativeError{"ERR_STATE_CHANGE", "image pipeline could not start" + (cause.empty() ? "" : ": " + cause), ""};
    return result;
  }
  GST_BUFFER_PTS(job.buffer.get()) = 0;
  gst_app_src_push_buffer(GST_APP_SRC(src.get()), job.buffer.release());  // takes the reference
  gst_app_src_end_of_stream(GST_APP_SRC(src.get()));
  MiniObjectPtr<GstSample> sample(gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), kJobTimeout));
  GstBuffer* out = sample ? gst_sample_get_buffer(sample.get()) : nullptr;
  GstMapInfo map;
  if (out && gst_buffer_map(out, &map, GST_MAP_READ)) {
    result.bytes.assign(reinterpret_cast<const char*>(map.data), map.size);
    gst_buffer_unmap(out, &map);
    result.ok = true;
  } else {
    std::string cause = BusErrorText(pipeline.get());
    result.error = NativeError{"ERR_PIPELINE", "image pipeline produced nothing" + (cause.empty() ? " within 5 s" : ": " + cause), ""};
  }
  // Our own thread, never a streaming one: the state change may wait for them.
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return result;
}

}  // namespace

class ImageCore {
 public:
  void Start() { thread_ = std::thread([this] { Run(); }); }

  // JS thread. False once stopping.
  bool Enqueue(Job job) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_) return false;
    jobs_.push_back(std::move(job));
    wake_.notify_one();
    return true;
  }

  // Any thread: the queue is dropped, a job in progress finishes, then the thread ends.
  void Stop() {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    jobs_.clear();
    wake_.notify_one();
  }

  void Join() {
    Stop();
    if (thread_.joinable()) thread_.join();
  }

  EventPipe<ImageResult> pipe;
  // JS thread only.
  bool finalized = false;
  bool closing = false;

 private:
  void Run() {
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
        if (stop_) break;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      pipe.Post(RunJob(job));
    }
    pipe.Release();
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stop_ = false;
  std::thread thread_;
};

class ImageJs final : public EventReceiver<ImageResult> {
 public:
  explicit ImageJs(std::shared_ptr<ImageCore> core) : core_(std::move(core)) {}

  // JS thread: a promise to settle later; the loop stays alive while any waits.
  void Add(Napi::Env env, uint32_t id, Napi::Promise::Deferred deferred) {
    if (pending_.empty()) core_->pipe.SetKeepsLoopAlive(env, true);
    pending_.emplace(id, deferred);
  }

  void OnEvent(Napi::Env env, ImageResult& result) override {
    auto found = pending_.find(result.id);
    if (found == pending_.end()) return;
    Napi::Promise::Deferred deferred = found->second;
    pending_.erase(found);
    if (pending_.empty()) core_->pipe.SetKeepsLoopAlive(env, false);
    Napi::HandleScope scope(env);
    if (result.ok) deferred.Resolve(Napi::Buffer<char>::Copy(env, result.bytes.data(), result.bytes.size()));
    else deferred.Reject(result.error.ToJs(env).Value());
  }

  void OnPipeFinalized(Napi::Env env, bool released) override {
    core_->Join();
    core_->finalized = true;
    closed.Finish(env, released, [this, env] { RejectPending(env); });
    pending_.clear();
  }

  // JS thread: what close() leaves unanswered.
  void RejectPending(Napi::Env env) {
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& [id, deferred] : pending) {
      deferred.Reject(NativeError{"ERR_INVALID_STATE", "the image encoder was closed before it finished", ""}.ToJs(env).Value());
    }
  }

  // The environment is exiting: nothing may be settled any more.
  void Abandon() {
    pending_.clear();
    closed.Abandon();
  }

  ClosePromise closed;
  uint32_t next_id = 1;

 private:
  std::shared_ptr<ImageCore> core_;
  std::map<uint32_t, Napi::Promise::Deferred> pending_;
};

Napi::Function ImageEncoder::DefineClass(Napi::Env env) {
  return ObjectWrap<ImageEncoder>::DefineClass(env, "NativeImageEncoder",
                                               {
                                                   InstanceMethod<&ImageEncoder::Encode>("encode"),
                                                   InstanceMethod<&ImageEncoder::Close>("close"),
                                               });
}

ImageEncoder::ImageEncoder(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ImageEncoder>(info) {
  Napi::Env env = info.Env();
  auto core = std::make_shared<ImageCore>();
  js_ = std::make_shared<ImageJs>(core);
  core->pipe.Open(env, "webrtcbin-image-encoder", js_);
  core->pipe.SetKeepsLoopAlive(env, false);  // idle: like an unreferenced timer, until a job waits
  core->Start();
  core_ = core;
  RegisterLive(env);
}

// The environment exits with the encoder open: the thread stops after its current job and is joined.
void ImageEncoder::CloseForExit() {
  core_->closing = true;
  js_->Abandon();
  core_->Join();
}

// Collected without close(): the thread is told to stop; the pipe's finalizer joins it.
ImageEncoder::~ImageEncoder() {
  if (core_) core_->Stop();
}

Napi::Value ImageEncoder::Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsBuffer() || !info[1].IsString() || !info[2].IsString()) {
    throw Napi::TypeError::New(env, "encode(data: Buffer, caps: string, description: string)");
  }
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  if (core_->closing) {
    deferred.Reject(NativeError{"ERR_INVALID_STATE", "the image encoder is closed", ""}.ToJs(env).Value());
    return deferred.Promise();
  }
  Napi::Buffer<uint8_t> data = info[0].As<Napi::Buffer<uint8_t>>();
  // A copy: the JS buffer may change or go once this call returns.
  Job job{js_->next_id++, MiniObjectPtr<GstBuffer>(gst_buffer_new_memdup(data.Data(), data.Length())),
          info[1].As<Napi::String>().Utf8Value(), info[2].As<Napi::String>().Utf8Value()};
  uint32_t id = job.id;
  if (!core_->Enqueue(std::move(job))) {
    deferred.Reject(NativeError{"ERR_INVALID_STATE", "the image encoder is closed", ""}.ToJs(env).Value());
    return deferred.Promise();
  }
  js_->Add(env, id, deferred);
  return deferred.Promise();
}

// Idempotent; resolves once the thread has ended and the pipe is gone (pending encodes are rejected).
Napi::Value ImageEncoder::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return js_->closed.Get(env, core_->finalized, [this, env] {
    core_->closing = true;
    // Alive until the thread has ended and the promise resolved, as `await close()` expects.
    core_->pipe.SetKeepsLoopAlive(env, true);
    core_->Stop();
  });
}

}  // namespace wrtc
