// Per-environment state of the addon. Each environment that loads it (the main thread, every worker
// thread) gets its own class constructors and its own registry of live native handles; the
// environment's cleanup hook (addon.cc) closes whatever is still open there when it exits, so no
// pipeline, thread or X connection outlives the environment that made it.
#pragma once

#include <napi.h>

#include <memory>
#include <unordered_set>

namespace wrtc {

class LiveRegistry;

// A native object that holds something outside the JS heap (a pipeline, a thread, an X connection).
class LiveHandle {
 public:
  // JS thread of the handle's environment, while that environment exits: release everything now,
  // synchronously; no JS can run any more, so nothing is settled or emitted.
  virtual void CloseForExit() = 0;

 protected:
  LiveHandle() = default;
  // JS thread, at the end of a constructor that succeeded (a throwing constructor never registers).
  void RegisterLive(Napi::Env env);
  ~LiveHandle();

 private:
  std::shared_ptr<LiveRegistry> registry_;  // shared: a handle finalized after the addon data is safe
};

class LiveRegistry {
 public:
  void Add(LiveHandle* handle) { live_.insert(handle); }
  void Remove(LiveHandle* handle) { live_.erase(handle); }
  size_t size() const { return live_.size(); }
  // Closes every handle still registered, once. JS thread only, like every call here.
  void CloseAll();

 private:
  std::unordered_set<LiveHandle*> live_;
  bool closed_ = false;
};

struct AddonData {
  Napi::FunctionReference peer;
  Napi::FunctionReference encoder;
  Napi::FunctionReference image_encoder;
  Napi::FunctionReference x_input;
  Napi::FunctionReference x_clipboard;
  Napi::FunctionReference x_screen;
  Napi::FunctionReference x_cursor;
  std::shared_ptr<LiveRegistry> live = std::make_shared<LiveRegistry>();

  static AddonData* Of(Napi::Env env) { return env.GetInstanceData<AddonData>(); }
};

}  // namespace wrtc
