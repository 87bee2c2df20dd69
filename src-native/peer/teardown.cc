// Closing: handlers stop on the JS thread, the slow state change to NULL runs on a thread of its own.
#include "peer/peer_core.h"

#include "peer/trampolines.h"

namespace wrtc {

using namespace trampolines;

void PeerCore::BeginClose() {
  if (closing_.exchange(true)) return;
  DisconnectAll();
  auto self = shared_from_this();
  // set_state(NULL) can take long (network threads, a stuck source): never on the JS thread.
  teardown_thread_ = std::thread([self] {
    self->Teardown();
    self->pipe.Release();
  });
}

void PeerCore::Teardown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (torn_down_) return;
    torn_down_ = true;
  }
  closing_ = true;
  if (config_.encoder) config_.encoder->Unsubscribe(reinterpret_cast<uintptr_t>(this));
  DisconnectAll();
  if (pipeline_) {
    if (audio_send_.bin) gst_element_set_locked_state(audio_send_.bin, FALSE);  // never started: stop it too
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    GObjectPtr<GstBus> bus(gst_element_get_bus(pipeline_.get()));
    gst_bus_set_sync_handler(bus.get(), nullptr, nullptr, nullptr);
  }
  std::map<uint64_t, GObjectPtr<GstWebRTCDataChannel>> channels;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    channels.swap(channels_);
  }
  channels.clear();
  {
    std::lock_guard<std::mutex> lock(frame_mutex_);
    pending_frames_.clear();  // frames nobody took are released with the pipeline
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (SendStream* stream : {&video_send_, &audio_send_}) {
      stream->hold_pad.reset();
      stream->transceiver.reset();
      stream->bin = nullptr;
    }
    receive_transceiver_.reset();
    encoder_src_.reset();
    keyframe_pad_.reset();
  }
  webrtc_ = nullptr;
  media_ = nullptr;
  pipeline_.reset();
}

void PeerCore::FinishTeardown() {
  if (teardown_thread_.joinable()) teardown_thread_.join();
  Teardown();
}

}  // namespace wrtc
