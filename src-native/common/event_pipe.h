// The one event pipe of a peer: a typed ThreadSafeFunction guarded so that no GStreamer thread ever
// touches it after it was released or finalized (Node frees a TSFN at environment teardown even while
// other threads still hold it; a mutex + open flag turns such late calls into no-ops).
#pragma once

#include <napi.h>

#include <mutex>

#include "peer/peer_event.h"

namespace wrtc {

class PeerCore;
// Runs on the JS thread for every event (env is null while the environment is shutting down).
void DeliverEvent(Napi::Env env, Napi::Function unused, PeerCore* core, Event* event);
using EventTsfn = Napi::TypedThreadSafeFunction<PeerCore, Event, DeliverEvent>;

class EventPipe {
 public:
  void Attach(EventTsfn tsfn) {
    std::lock_guard<std::mutex> lock(mutex_);
    tsfn_ = tsfn;
    open_ = true;
  }

  // Any thread. Never blocks on JS: the queue is unbounded and the call is non-blocking.
  bool Post(Event&& event) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!open_) return false;
    auto* heap = new Event(std::move(event));
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
    tsfn_.Release();
  }

  // JS thread, from the TSFN finalizer: it no longer exists.
  void Finalized() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = false;
  }

  // JS thread: whether this pipe keeps the event loop alive (like net.Socket ref/unref).
  void SetKeepsLoopAlive(Napi::Env env, bool keep) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!open_) return;
    if (keep) tsfn_.Ref(env); else tsfn_.Unref(env);
  }

 private:
  std::mutex mutex_;
  EventTsfn tsfn_;
  bool open_ = false;
};

}  // namespace wrtc
