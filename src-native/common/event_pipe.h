// The one way native code calls back into JS: an event pipe per object, a typed ThreadSafeFunction
// guarded so that no other thread ever touches it after it was released or finalized (Node frees a
// TSFN at environment teardown even while other threads still hold it; a mutex + open flag turns such
// late calls into no-ops). Used by the peer (PeerEvent), the shared encoder
// (EncoderEvent), the X clipboard (ClipboardEvent) and the X cursor (CursorEvent).
#pragma once

#include <napi.h>

#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>
#include <variant>

namespace wrtc {

// The JS-thread end of a pipe. It must keep the pipe's owner alive (the pipe is touched by its
// finalizer), and it is kept alive itself until the pipe is finalized.
template <typename T>
class EventReceiver {
 public:
  virtual ~EventReceiver() = default;
  // JS thread, once per posted event, in order.
  virtual void OnEvent(Napi::Env env, T& event) = 0;
  // JS thread, last call: the pipe is gone. `released`: it was released and drained (the owner is
  // done); false: the environment is shutting down and JS cannot run any more.
  virtual void OnPipeFinalized(Napi::Env env, bool released) = 0;
};

// JS thread: the one shape every native class calls back with, `self.onevent({type, ...fields})`.
// `fill(js, payload)` sets the fields of one payload struct (its `kType` is the type). Nothing happens
// when the object is gone or has no handler; a throwing listener surfaces as an uncaught exception.
template <typename Payload, typename Fill>
void CallOnevent(Napi::Env env, Napi::Object self, const Payload& payload, Fill&& fill) {
  if (self.IsEmpty()) return;
  Napi::Value handler = self.Get("onevent");
  if (!handler.IsFunction()) return;
  Napi::Object js = Napi::Object::New(env);
  js.Set("type", Payload::kType);
  fill(js, payload);
  handler.As<Napi::Function>().Call(self, {js});
}

// The same for an event that is a std::variant of payload structs.
template <typename... Payloads, typename Fill>
void CallOnevent(Napi::Env env, Napi::Object self, const std::variant<Payloads...>& event, Fill&& fill) {
  std::visit([&](const auto& payload) { CallOnevent(env, self, payload, fill); }, event);
}

template <typename T>
class EventPipe {
 public:
  EventPipe() = default;
  EventPipe(const EventPipe&) = delete;
  EventPipe& operator=(const EventPipe&) = delete;

  // JS thread, once: creates the TSFN (no JS function: receivers find their handler themselves).
  void Open(Napi::Env env, const char* name, std::shared_ptr<EventReceiver<T>> receiver) {
    auto* context = new Context{this, std::move(receiver)};
    Tsfn tsfn = Tsfn::New(env, name, 0, 1, context, &EventPipe::Finalize, context);
    std::lock_guard<std::mutex> lock(mutex_);
    tsfn_ = tsfn;
    open_ = true;
  }

  // Any thread. Never blocks on JS: the queue is unbounded and the call is non-blocking.
  bool Post(T&& event) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!open_) return false;
    auto* heap = new T(std::move(event));
    if (tsfn_.NonBlockingCall(heap) != napi_ok) {
      delete heap;
      return false;
    }
    return true;
  }

  // Any thread: no more events. Queued ones are still delivered, then the TSFN finalizes.
  void Release() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!open_) return;
    open_ = false;
    released_ = true;
    tsfn_.Release();
  }

  // JS thread: whether this pipe keeps the event loop alive (like net.Socket ref/unref).
  void SetKeepsLoopAlive(Napi::Env env, bool keep) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!open_) return;
    if (keep) tsfn_.Ref(env);
    else tsfn_.Unref(env);
  }

 private:
  struct Context {
    EventPipe* pipe;
    std::shared_ptr<EventReceiver<T>> receiver;
  };

  // JS thread (env is null while the environment is shutting down: the event is only freed).
  static void Call(Napi::Env env, Napi::Function, Context* context, T* raw) {
    std::unique_ptr<T> event(raw);
    if (env == nullptr || context == nullptr) return;
    try {
      context->receiver->OnEvent(env, *event);
    } catch (const Napi::Error& error) {
      // A handler threw: it reaches JS as an uncaught exception. While the environment exits (its
      // handles cleaned up, a queued event delivered) no JS can run and that throw fails too: a C++
      // exception out of here would end the process with abort(), so the event is dropped.
      try {
        error.ThrowAsJavaScriptException();
      } catch (...) {
      }
    }
  }

  // JS thread, from the TSFN finalizer: it no longer exists.
  static void Finalize(Napi::Env env, Context* holder, Context*) {
    std::unique_ptr<Context> context(holder);
    bool released;
    {
      std::lock_guard<std::mutex> lock(context->pipe->mutex_);
      context->pipe->open_ = false;
      released = context->pipe->released_;
    }
    context->receiver->OnPipeFinalized(env, released);
  }

  using Tsfn = Napi::TypedThreadSafeFunction<Context, T, &EventPipe::Call>;

  std::mutex mutex_;
  Tsfn tsfn_;
  bool open_ = false;
  bool released_ = false;
};

}  // namespace wrtc
