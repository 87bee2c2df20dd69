// src-native/common/: what every native class shares: the event pipe, the close promise, NativeError,
// RAII owners of GLib/GStreamer references, GstStructure to JSON.
//
// The promise close() returns, the same for every call: an object closes once, and each call gets a
// handle of its own scope to that one promise (a Deferred's own handle belongs to the scope of the
// call that created it: returning it from a later call would hand JS a stale handle).
#pragma once

#include <napi.h>

#include <optional>

namespace wrtc {

class ClosePromise {
 public:
  // JS thread. The first call creates the promise and runs `start` (or, when `done`, resolves it at
  // once: nothing is left to wait for); every call returns it.
  template <typename Start>
  Napi::Promise Get(Napi::Env env, bool done, Start start) {
    if (promise_.IsEmpty()) {
      Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
      promise_ = Napi::Persistent(deferred.Promise());
      if (done) {
        deferred.Resolve(env.Undefined());
      } else {
        pending_ = deferred;
        start();
      }
    }
    return promise_.Value();
  }

  // JS thread, inside a HandleScope: the close has finished.
  void Resolve(Napi::Env env) {
    if (pending_) pending_->Resolve(env.Undefined());
    pending_.reset();
  }

  // JS thread, from a pipe's finalizer: the object is closed. `released` (the pipe was drained): the
  // promise resolves, then `also` runs in the same scope (rejecting what is pending, letting go of
  // the object); otherwise the environment is going away and nothing is settled.
  template <typename Also>
  void Finish(Napi::Env env, bool released, Also also) {
    if (!released) {
      Abandon();
      return;
    }
    try {
      Napi::HandleScope scope(env);
      also();
      Resolve(env);
    } catch (...) {
      // Nothing useful can be done with a JS failure while finalizing.
    }
  }
  void Finish(Napi::Env env, bool released) {
    Finish(env, released, [] {});
  }

  // JS thread, while the environment shuts down: no JS runs any more and its references go with it.
  void Abandon() {
    pending_.reset();
    promise_.SuppressDestruct();
  }

 private:
  std::optional<Napi::Promise::Deferred> pending_;
  Napi::Reference<Napi::Promise> promise_;
};

}  // namespace wrtc
