// Decoded frames and audio: appsink samples turned into events (audio) or held as the latest frame
// for JS to take (video).
#include "peer/peer_core.h"

#include <gst/app/gstappsink.h>

#include "peer/trampolines.h"

namespace wrtc {

using namespace trampolines;

GstFlowReturn PeerCore::OnSample(GstElement* appsink) {
  GstSample* sample = gst_app_sink_pull_sample(GST_APP_SINK(appsink));
  if (!sample) return GST_FLOW_EOS;
  frames_decoded_.fetch_add(1);
  // maxFps: frames closer together than the interval are not handed to JS at all.
  if (config_.minFrameIntervalNs > 0) {
    gint64 now = g_get_monotonic_time() * 1000;
    if (last_frame_ns_ && now - last_frame_ns_ < config_.minFrameIntervalNs) {
      gst_sample_unref(sample);
      frames_skipped_.fetch_add(1);
      return GST_FLOW_OK;
    }
    last_frame_ns_ = now;
  }
  std::unique_ptr<MappedFrame> frame = MappedFrame::Adopt(sample);
  if (!frame) return GST_FLOW_OK;
  // Decoded frames: latest only — while JS has not taken the previous one, a newer frame replaces it,
  // so a slow consumer never makes memory grow; one event is in flight at most. Compressed frames are
  // all needed by a decoder: they queue (bounded; the oldest go first).
  bool post = false;
  {
    std::lock_guard<std::mutex> lock(frame_mutex_);
    if (config_.receiveEncoded()) {
      if (pending_frames_.size() >= 300) {
        pending_frames_.pop_front();
        frames_dropped_.fetch_add(1);
      }
      pending_frames_.push_back(std::move(frame));
      post = true;
    } else {
      if (!pending_frames_.empty()) frames_dropped_.fetch_add(1);
      pending_frames_.clear();
      pending_frames_.push_back(std::move(frame));
      if (!frame_posted_) post = frame_posted_ = true;
    }
  }
  if (post) pipe.Post(Event{EventType::Frame});
  return GST_FLOW_OK;
}

// Audio is small and every sample matters: each buffer is copied into its own event, in order.
GstFlowReturn PeerCore::OnAudioSample(GstElement* appsink) {
  GstSample* sample = gst_app_sink_pull_sample(GST_APP_SINK(appsink));
  if (!sample) return GST_FLOW_EOS;
  GstBuffer* buffer = gst_sample_get_buffer(sample);
  GstMapInfo map;
  if (buffer && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    Event event{EventType::Audio};
    event.text.assign(reinterpret_cast<const char*>(map.data), map.size);
    // Format, rate and channels as the planned description's caps fixed them (lib/media/receive.ts).
    GstCaps* caps = gst_sample_get_caps(sample);
    const GstStructure* s = caps && !gst_caps_is_empty(caps) ? gst_caps_get_structure(caps, 0) : nullptr;
    const gchar* format = s ? gst_structure_get_string(s, "format") : nullptr;
    if (s) gst_structure_get_int(s, "rate", &event.width);
    if (s) gst_structure_get_int(s, "channels", &event.height);
    event.name = format ? format : "";
    event.pts = GST_BUFFER_PTS_IS_VALID(buffer) ? static_cast<int64_t>(GST_BUFFER_PTS(buffer)) : -1;
    gst_buffer_unmap(buffer, &map);
    pipe.Post(std::move(event));
  }
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

std::unique_ptr<MappedFrame> PeerCore::TakeFrame() {
  std::lock_guard<std::mutex> lock(frame_mutex_);
  frame_posted_ = false;
  if (pending_frames_.empty()) return nullptr;
  std::unique_ptr<MappedFrame> frame = std::move(pending_frames_.front());
  pending_frames_.pop_front();
  return frame;
}

}  // namespace wrtc
