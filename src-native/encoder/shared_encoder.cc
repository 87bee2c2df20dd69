#include "encoder/shared_encoder.h"
#include "x11/damage_src.h"  // NewFrameNowEvent, kRefineFrameEvent

#include "rtp/abs_capture_time.h"

#include <gst/video/video.h>

#include <algorithm>
#include <cstring>

namespace wrtc {

namespace {
using WeakEncoder = std::weak_ptr<SharedEncoder>;
GstFlowReturn NewSampleCb(GstAppSink* sink, gpointer data) {
  if (auto encoder = static_cast<WeakEncoder*>(data)->lock()) return encoder->OnSample(sink);
  return GST_FLOW_OK;
}
void FreeWeak(gpointer data) { delete static_cast<WeakEncoder*>(data); }
GstPadProbeReturn RawFrameCb(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto encoder = static_cast<WeakEncoder*>(data)->lock();
  if (!encoder) return GST_PAD_PROBE_OK;
  return encoder->PassRawFrame(GST_PAD_PROBE_INFO_BUFFER(info)) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}
}  // namespace

bool SharedEncoder::Attach(GstElement* bin) {
  GObjectPtr<GstElement> sink(gst_bin_get_by_name(GST_BIN(bin), "encoded"));
  GObjectPtr<GstElement> gate(gst_bin_get_by_name(GST_BIN(bin), "gate"));
  if (!sink || !gate || !GST_IS_APP_SINK(sink.get())) return false;
  GstAppSinkCallbacks callbacks{};
  callbacks.new_sample = NewSampleCb;
  gst_app_sink_set_callbacks(GST_APP_SINK(sink.get()), &callbacks, new WeakEncoder(weak_from_this()), FreeWeak);
  GObjectPtr<GstPad> gate_src(gst_element_get_static_pad(gate.get(), "src"));
  gst_pad_add_probe(gate_src.get(), GST_PAD_PROBE_TYPE_BUFFER, RawFrameCb, new WeakEncoder(weak_from_this()), FreeWeak);
  std::lock_guard<std::mutex> lock(mutex_);
  appsink_ = std::move(sink);
  gate_ = std::move(gate);
  SetGateLocked(!subscribers_.empty() || priming_.load());
  return true;
}

void SharedEncoder::Detach() {
  std::map<uintptr_t, Subscriber> dropped;
  std::lock_guard<std::mutex> lock(mutex_);
  dropped.swap(subscribers_);
  appsink_.reset();
  gate_.reset();
}

size_t SharedEncoder::Subscribers() {
  std::lock_guard<std::mutex> lock(mutex_);
  return subscribers_.size();
}

bool SharedEncoder::Wanted() {
  std::lock_guard<std::mutex> lock(mutex_);
  return !subscribers_.empty() || prime_pending_.load();
}

bool SharedEncoder::CapsKnown() {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<bool>(caps_);
}

void SharedEncoder::SetGateLocked(bool open) {
  if (gate_) g_object_set(gate_.get(), "drop", open ? FALSE : TRUE, nullptr);
}

void SharedEncoder::Subscribe(uintptr_t key, GstElement* appsrc, std::shared_ptr<StartGate> gate) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Subscriber& sub = subscribers_[key] = Subscriber{};
    sub.appsrc = GObjectPtr<GstElement>::ref(appsrc);
    sub.gate = std::move(gate);
    // Caps known (a warm encoder): the peer's payloader negotiates now, so its offer leaves before
    // the keyframe asked for below has been encoded.
    if (caps_) {
      gst_app_src_set_caps(GST_APP_SRC(appsrc), caps_.get());
      sub.caps_set = true;
    }
    SetGateLocked(true);
  }
  if (demand_hook_) demand_hook_();
  RequestKeyframe();
}

void SharedEncoder::Unsubscribe(uintptr_t key) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    subscribers_.erase(key);
    if (subscribers_.empty()) SetGateLocked(false);
  }
  if (demand_hook_) demand_hook_();
}

bool SharedEncoder::PassRawFrame(GstBuffer* buffer) {
  gint64 now = g_get_monotonic_time();
  bool force = force_next_.exchange(false) || refine_pass_.exchange(false) || now - last_passed_us_ >= G_USEC_PER_SEC;
  // Compared even when forced through: only a frame that differs from the last may start a change's
  // refinement (a forced repeat of a picture that never converges would otherwise start one each second).
  bool same = false;
  if (previous_ && gst_buffer_get_size(buffer) == gst_buffer_get_size(previous_.get())) {
    GstMapInfo a, b;
    if (gst_buffer_map(buffer, &a, GST_MAP_READ)) {
      if (gst_buffer_map(previous_.get(), &b, GST_MAP_READ)) {
        same = memcmp(a.data, b.data, a.size) == 0;
        gst_buffer_unmap(previous_.get(), &b);
      }
      gst_buffer_unmap(buffer, &a);
    }
  }
  if (same && !force) {
    unchanged_.fetch_add(1);
    return false;
  }
  if (!same) changes_passed_.fetch_add(1);
  previous_ = MiniObjectPtr<GstBuffer>(gst_buffer_ref(buffer));
  last_passed_us_ = now;
  if (priming_.exchange(false)) {
    // The prime's one frame is through: nobody watching, nothing more is encoded.
    std::lock_guard<std::mutex> lock(mutex_);
    if (subscribers_.empty()) SetGateLocked(false);
  }
  return true;
}

void SharedEncoder::RequestKeyframe() {
  force_next_ = true;  // a still screen must not delay the keyframe until the next change
  GObjectPtr<GstElement> sink;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!appsink_) return;
    sink = GObjectPtr<GstElement>::ref(appsink_.get());
  }
  // Upstream from the appsink's input: the encoder answers with a keyframe.
  GObjectPtr<GstPad> pad(gst_element_get_static_pad(sink.get(), "sink"));
  gst_pad_push_event(pad.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE,
                                                                           keyframe_requests_.fetch_add(1)));
  // The encoder keeps that event; a damage capture on a still screen sends its next frame only at the
  // next change or refresh: this one (passed on upstream by every element) asks it for one now.
  gst_pad_push_event(pad.get(), NewFrameNowEvent());
}

void SharedEncoder::Refine(GstAppSink* sink, bool keyframe, gsize size) {
  int left;
  uint64_t changes = changes_passed_.load();
  if (keyframe) {
    left = kRefineFrames;
    converged_bytes_ = 0;
    changes_refined_ = changes;  // the keyframe's run refines whatever changed before it
  } else if (refine_left_.load() > 0) {
    // A frame of a run in progress (it refines a change made meanwhile too); a change's run ends once
    // the picture has converged.
    left = converged_bytes_ > 0 && size <= converged_bytes_ ? 0 : refine_left_.load() - 1;
    changes_refined_ = changes;
  } else if (size > kConvergedBytes && changes != changes_refined_) {
    // A change nobody asked for, large enough to be coarse: a second pass of its own.
    changes_refined_ = changes;
    left = kChangeRefineFrames;
    converged_bytes_ = std::max(kConvergedBytes, size / 16);
  } else {
    return;
  }
  refine_left_ = left;
  if (left == 0) return;
  refine_pass_ = true;  // a fixed-rate capture: its next frame, though unchanged, is encoded
  // A damage capture sends nothing on a still screen: ask it for the next frame (at its max rate).
  GObjectPtr<GstPad> pad(gst_element_get_static_pad(GST_ELEMENT(sink), "sink"));
  gst_pad_push_event(pad.get(), gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, gst_structure_new_empty(kRefineFrameEvent)));
}

GstFlowReturn SharedEncoder::OnSample(GstAppSink* sink) {
  MiniObjectPtr<GstSample> sample(gst_app_sink_pull_sample(sink));
  if (!sample) return GST_FLOW_EOS;
  encoded_.fetch_add(1);
  GstBuffer* buffer = gst_sample_get_buffer(sample.get());
  GstCaps* caps = gst_sample_get_caps(sample.get());
  bool keyframe = buffer && !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  bool watched = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    watched = !subscribers_.empty();
    if (caps && (!caps_ || !gst_caps_is_equal(caps, caps_.get()))) {
      caps_ = MiniObjectPtr<GstCaps>(gst_caps_ref(caps));
      for (auto& entry : subscribers_) entry.second.caps_set = false;
    }
    // The frame's capture instant on this pipeline's clock, carried to the peers (abs-capture-time): their
    // appsrcs restamp the buffer with the time it reached them.
    int64_t capture_us = -1;
    if (buffer && !subscribers_.empty() && GST_BUFFER_PTS_IS_VALID(buffer)) {
      const GstSegment* segment = gst_sample_get_segment(sample.get());
      if (segment && segment->format == GST_FORMAT_TIME) {
        capture_us = abs_capture_time::WallClockUs(GST_ELEMENT(sink), gst_segment_to_running_time(segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer)));
      }
    }
    for (auto& [key, sub] : subscribers_) {
      if (!buffer) break;
      if (sub.waiting_for_keyframe) {
        if (!keyframe) continue;
        sub.waiting_for_keyframe = false;
      }
      if (sub.gate && !sub.gate->Admit(buffer)) continue;
      if (!sub.caps_set && caps_) {
        gst_app_src_set_caps(GST_APP_SRC(sub.appsrc.get()), caps_.get());
        sub.caps_set = true;
      }
      // Same memory, fresh metadata: each peer's appsrc stamps it with its own pipeline's clock.
      GstBuffer* copy = gst_buffer_copy(buffer);
      GST_BUFFER_PTS(copy) = GST_CLOCK_TIME_NONE;
      GST_BUFFER_DTS(copy) = GST_CLOCK_TIME_NONE;
      abs_capture_time::AttachCaptureMeta(copy, capture_us);
      gst_app_src_push_buffer(GST_APP_SRC(sub.appsrc.get()), copy);  // takes the buffer
    }
  }
  if (watched && buffer) Refine(sink, keyframe, gst_buffer_get_size(buffer));
  // The prime is encoded and its caps known: with nobody subscribed the capture may pause now.
  if (prime_pending_.exchange(false) && demand_hook_) demand_hook_();
  return GST_FLOW_OK;
}

}  // namespace wrtc
