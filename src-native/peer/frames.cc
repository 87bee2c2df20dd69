// Decoded frames and audio: appsink samples turned into events (audio) or kept for JS to take
// (video: the newest decoded frame, or every compressed one, bounded) while JS wants frames.
#include "peer/peer_core.h"

#include <gst/app/gstappsink.h>

#include "peer/trampolines.h"

namespace wrtc {

using namespace trampolines;

GstFlowReturn PeerCore::OnSample(GstElement* appsink) {
  MiniObjectPtr<GstSample> sample(gst_app_sink_pull_sample(GST_APP_SINK(appsink)));
  if (!sample) return GST_FLOW_EOS;
  frames_decoded_.fetch_add(1);
  GstBuffer* buffer = gst_sample_get_buffer(sample.get());
  int64_t capture_us = buffer ? abs_capture_reader_.CaptureUs(buffer) : -1;
  // maxFps: frames closer together than the interval are not handed to JS at all.
  if (config_.minFrameIntervalNs > 0) {
    gint64 now = g_get_monotonic_time() * 1000;
    if (last_frame_ns_ && now - last_frame_ns_ < config_.minFrameIntervalNs) {
      frames_skipped_.fetch_add(1);
      return GST_FLOW_OK;
    }
    last_frame_ns_ = now;
  }
  std::unique_ptr<MappedFrame> frame = MappedFrame::Adopt(sample.release());  // the frame owns the ref
  if (!frame) return GST_FLOW_OK;
  frame->set_capture_us(capture_us);
  // This side owns what waits for JS (lib/peer/frames.ts only hands frames on): decoded frames keep
  // the newest only (a newer one replaces the one JS has not taken, so a slow consumer never makes
  // memory grow); compressed frames are all needed by a decoder, so they queue, bounded (the oldest
  // go first). frames_dropped_ counts what JS never got. A frame crosses only while JS wants one,
  // one event in flight at a time.
  bool post = false;
  {
    std::lock_guard<std::mutex> lock(frame_mutex_);
    if (config_.receiveEncoded()) {
      if (pending_frames_.size() >= kMaxQueuedEncodedFrames) {
        pending_frames_.pop_front();
        frames_dropped_.fetch_add(1);
      }
    } else if (!pending_frames_.empty()) {
      frames_dropped_.fetch_add(1);
      pending_frames_.clear();
    }
    pending_frames_.push_back(std::move(frame));
    if (frames_wanted_ && !frame_posted_) post = frame_posted_ = true;
  }
  if (post) pipe.Post(event::Frame{});
  return GST_FLOW_OK;
}

// Audio is small and every sample matters: each buffer is copied into its own event, in order.
GstFlowReturn PeerCore::OnAudioSample(GstElement* appsink) {
  MiniObjectPtr<GstSample> sample(gst_app_sink_pull_sample(GST_APP_SINK(appsink)));
  if (!sample) return GST_FLOW_EOS;
  GstBuffer* buffer = gst_sample_get_buffer(sample.get());
  GstMapInfo map;
  if (buffer && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    event::Audio audio;
    audio.data.assign(reinterpret_cast<const char*>(map.data), map.size);
    // Format, rate and channels as the planned description's caps fixed them (lib/media/receive.ts).
    GstCaps* caps = gst_sample_get_caps(sample.get());  // borrowed from the sample
    const GstStructure* s = caps && !gst_caps_is_empty(caps) ? gst_caps_get_structure(caps, 0) : nullptr;
    const gchar* format = s ? gst_structure_get_string(s, "format") : nullptr;
    if (s) gst_structure_get_int(s, "rate", &audio.sampleRate);
    if (s) gst_structure_get_int(s, "channels", &audio.channels);
    audio.format = format ? format : "";
    audio.pts = GST_BUFFER_PTS_IS_VALID(buffer) ? static_cast<int64_t>(GST_BUFFER_PTS(buffer)) : -1;
    gst_buffer_unmap(buffer, &map);
    pipe.Post(std::move(audio));
  }
  return GST_FLOW_OK;
}

std::unique_ptr<MappedFrame> PeerCore::TakeFrame() {
  std::unique_ptr<MappedFrame> frame;
  bool post = false;
  {
    std::lock_guard<std::mutex> lock(frame_mutex_);
    frame_posted_ = false;
    // Wanted when posted but no longer (the iterator took one meanwhile): it stays here, for later.
    if (!frames_wanted_ || pending_frames_.empty()) return nullptr;
    frame = std::move(pending_frames_.front());
    pending_frames_.pop_front();
    // Compressed frames that queued meanwhile: the next crosses as soon as this one is handled.
    if (!pending_frames_.empty()) post = frame_posted_ = true;
  }
  if (post) pipe.Post(event::Frame{});
  return frame;
}

void PeerCore::WantFrames(bool listening, bool waiting) {
  bool post = false;
  {
    std::lock_guard<std::mutex> lock(frame_mutex_);
    frames_wanted_ = listening || waiting;
    // What waited goes to an iterator that asks; 'frame' listeners see frames as they arrive.
    if (waiting && !frame_posted_ && !pending_frames_.empty()) post = frame_posted_ = true;
  }
  if (post) pipe.Post(event::Frame{});
}

}  // namespace wrtc
