// src-native/common/: what every native class shares (see close_promise.h); this file: per-environment data.
#include "common/addon_data.h"

#include <vector>

namespace wrtc {

void LiveHandle::RegisterLive(Napi::Env env) {
  AddonData* data = AddonData::Of(env);
  if (!data) return;
  registry_ = data->live;
  registry_->Add(this);
}

LiveHandle::~LiveHandle() {
  if (registry_) registry_->Remove(this);
}

void LiveRegistry::CloseAll() {
  if (closed_) return;
  closed_ = true;
  // A copy: closing one handle may finalize another (which then removes itself from live_).
  std::vector<LiveHandle*> handles(live_.begin(), live_.end());
  for (LiveHandle* handle : handles) {
    if (live_.count(handle)) handle->CloseForExit();
  }
}

}  // namespace wrtc
