// An X client on a thread of its own (the clipboard, the cursor): its own xcb connection, woken by an
// eventfd when JS has a command, its events to JS through an EventPipe. XWorker is that thread's
// scaffolding; XWorkerJs and XWorkerWrap are the JS side every such class shares: events to the
// wrapper's `onevent`, one close promise, ref/unref, teardown at exit and when collected unclosed.
// Each worker's own events carry `void ToJs(Napi::Object&) const` (their fields, by the TS names).
#pragma once

#include <napi.h>
#include <poll.h>
#include <xcb/xcb.h>

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/addon_data.h"
#include "common/close_promise.h"
#include "common/event_pipe.h"
#include "common/native_error.h"

namespace wrtc {

// The events every worker may send besides its own.
namespace x_event {
// Something could not be done; the worker goes on.
struct Warning {
  static constexpr const char* kType = "warning";
  std::string code;
  std::string message;
  void ToJs(Napi::Object& o) const {
    o.Set("code", code);
    o.Set("message", message);
  }
};
// The display went away; the X thread has ended.
struct Error {
  static constexpr const char* kType = "error";
  std::string code;
  std::string message;
  void ToJs(Napi::Object& o) const {
    o.Set("code", code);
    o.Set("message", message);
  }
};
}  // namespace x_event

class XWorker {
 public:
  XWorker() = default;
  XWorker(const XWorker&) = delete;
  XWorker& operator=(const XWorker&) = delete;
  virtual ~XWorker();

  // JS thread, once the pipe is open.
  void Start();
  // Any thread: the thread ends at its next wake-up.
  void Stop();
  // JS thread, from the pipe's finalizer or at exit: the thread never waits on JS, so this is short.
  void Join();

  // JS thread only.
  bool finalized = false;
  bool closing = false;

 protected:
  // JS thread, from Open: false (with `error` said) when the eventfd cannot be made.
  bool OpenWake(const char* what, std::string* error);
  // Any thread, with mutex_ held: the X thread looks at its commands again.
  void Wake();
  // X thread: true once Stop() was called (takes mutex_).
  bool Stopping();
  // X thread: flushes, then sleeps until the X connection has input, JS woke it, or `timeout_ms`
  // (-1: no limit) passed. False when poll itself failed.
  bool Sleep(xcb_connection_t* c, int timeout_ms);
  // X thread: the worker's loop; it posts its last event and releases its pipe before returning.
  virtual void Run() = 0;

  std::mutex mutex_;  // guards the commands from JS (stop_ and each worker's own)

 private:
  std::thread thread_;
  int wake_fd_ = -1;
  bool stop_ = false;
};

// The JS-thread side of one worker: `Core` has `Event` (a std::variant of its events) and `pipe`
// (EventPipe<Event>); `Wrap` is the ObjectWrap.
template <typename Core, typename Wrap>
class XWorkerJs final : public EventReceiver<typename Core::Event> {
 public:
  explicit XWorkerJs(std::shared_ptr<Core> core) : core_(std::move(core)) {}

  void OnEvent(Napi::Env env, typename Core::Event& event) override {
    if (!wrapper) return;
    Napi::HandleScope scope(env);
    CallOnevent(env, wrapper->Value(), event, [](Napi::Object& js, const auto& e) { e.ToJs(js); });
  }

  void OnPipeFinalized(Napi::Env env, bool released) override {
    core_->Join();
    core_->finalized = true;
    closed.Finish(env, released, [this] {
      // Its events may come at any time from another X client: like a listening socket it stayed
      // reachable while its thread ran (see XWorkerWrap's constructor).
      if (wrapper) wrapper->Napi::Reference<Napi::Object>::Unref();
    });
  }

  Wrap* wrapper = nullptr;  // while the ObjectWrap lives
  ClosePromise closed;

 private:
  std::shared_ptr<Core> core_;
};

// The ObjectWrap of a worker: `new Native…(display)`; close() idempotent, resolved once the thread has
// ended, the connection is closed and the pipe is gone; ref()/unref() of the event loop. `Core` may be
// incomplete where the wrapper is declared; the wrapper's constructor and destructor need it whole.
template <typename Self, typename Core>
class XWorkerWrap : public Napi::ObjectWrap<Self>, public LiveHandle {
 public:
  using Js = XWorkerJs<Core, Self>;

  // The methods every worker has, for DefineClass.
  static void AddCommonMethods(std::vector<Napi::ClassPropertyDescriptor<Self>>& methods) {
    methods.push_back(Napi::ObjectWrap<Self>::InstanceMethod("close", &XWorkerWrap::Close));
    methods.push_back(Napi::ObjectWrap<Self>::InstanceMethod("ref", &XWorkerWrap::Ref));
    methods.push_back(Napi::ObjectWrap<Self>::InstanceMethod("unref", &XWorkerWrap::Unref));
  }

  // The environment exits with the worker open: its thread stops (closing its connection and
  // releasing the pipe) and is joined here. Nothing is resolved: no JS runs any more.
  void CloseForExit() override {
    core_->closing = true;
    js_->wrapper = nullptr;
    js_->closed.Abandon();
    core_->Join();
  }

 protected:
  XWorkerWrap(const Napi::CallbackInfo& info, const char* pipe_name) : Napi::ObjectWrap<Self>(info) {
    Napi::Env env = info.Env();
    std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
    auto core = std::make_shared<Core>();
    std::string message;
    if (!core->Open(name, &message)) throw NativeError{"ERR_X_DISPLAY", message, ""}.ToJs(env);
    js_ = std::make_shared<Js>(core);
    js_->wrapper = static_cast<Self*>(this);
    core->pipe.Open(env, pipe_name, js_);
    core->Start();
    core_ = core;
    // Reachable while the X thread runs, as it was when JS handed the callback to the pipe: the
    // pipe's finalizer lets go.
    Napi::Reference<Napi::Object>::Ref();
    RegisterLive(env);
  }

  // Collected without close(): the thread is told to stop; the pipe's finalizer joins it.
  ~XWorkerWrap() override {
    if (js_) js_->wrapper = nullptr;
    if (core_) core_->Stop();
  }

  std::shared_ptr<Core> core_;

 private:
  Napi::Value Close(const Napi::CallbackInfo& info) {
    return js_->closed.Get(info.Env(), core_->finalized, [this] {
      core_->closing = true;
      core_->Stop();
    });
  }
  Napi::Value Ref(const Napi::CallbackInfo& info) {
    core_->pipe.SetKeepsLoopAlive(info.Env(), true);
    return info.Env().Undefined();
  }
  Napi::Value Unref(const Napi::CallbackInfo& info) {
    core_->pipe.SetKeepsLoopAlive(info.Env(), false);
    return info.Env().Undefined();
  }

  std::shared_ptr<Js> js_;
};

}  // namespace wrtc
