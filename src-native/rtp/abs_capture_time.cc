#include "rtp/abs_capture_time.h"

#include <gst/rtp/gstrtpbuffer.h>

namespace wrtc {
namespace abs_capture_time {

namespace {

constexpr int64_t kNtpEpochOffsetS = 2208988800;  // 1900-01-01 to 1970-01-01
constexpr size_t kRemembered = 32;                // frames in flight between two probes, at most

GstStaticCaps ntp_caps = GST_STATIC_CAPS("timestamp/x-ntp");

}  // namespace

uint64_t NtpFromUnixUs(int64_t unix_us) {
  if (unix_us < 0) return 0;
  uint64_t seconds = static_cast<uint64_t>(unix_us / 1000000 + kNtpEpochOffsetS);
  uint64_t fraction = (static_cast<uint64_t>(unix_us % 1000000) << 32) / 1000000;
  return (seconds << 32) | fraction;
}

int64_t UnixUsFromNtp(uint64_t ntp) {
  int64_t seconds = static_cast<int64_t>(ntp >> 32) - kNtpEpochOffsetS;
  int64_t micros = static_cast<int64_t>(((ntp & 0xffffffffu) * 1000000 + (1ull << 31)) >> 32);
  return seconds * 1000000 + micros;
}

int64_t WallClockUs(GstElement* element, GstClockTime running_time) {
  if (!element || !GST_CLOCK_TIME_IS_VALID(running_time)) return -1;
  GObjectPtr<GstClock> clock(gst_element_get_clock(element));
  if (!clock) return -1;
  // The clock read between two wall-clock reads: the age of the instant on one is its age on the other.
  // A thread preempted in between would skew the pair, so the tightest of a few tries is kept.
  GstClockTime now = 0;
  gint64 real_now = 0;
  gint64 best_gap = G_MAXINT64;
  for (int i = 0; i < 3 && best_gap > 50; i++) {
    gint64 before = g_get_real_time();
    GstClockTime clock_now = gst_clock_get_time(clock.get());
    gint64 after = g_get_real_time();
    if (after - before < best_gap) {
      best_gap = after - before;
      now = clock_now;
      real_now = before + (after - before) / 2;
    }
  }
  GstClockTimeDiff age = GST_CLOCK_DIFF(gst_element_get_base_time(element) + running_time, now);
  return real_now - age / 1000;
}

void AttachCaptureMeta(GstBuffer* buffer, int64_t unix_us) {
  if (unix_us < 0) return;
  MiniObjectPtr<GstCaps> caps(gst_static_caps_get(&ntp_caps));
  // x-ntp reference timestamps are nanoseconds since the NTP epoch.
  GstClockTime ntp_ns = static_cast<GstClockTime>(unix_us + kNtpEpochOffsetS * 1000000) * 1000;
  gst_buffer_add_reference_timestamp_meta(buffer, caps.get(), ntp_ns, GST_CLOCK_TIME_NONE);
}

int64_t CaptureMetaUs(GstBuffer* buffer) {
  MiniObjectPtr<GstCaps> caps(gst_static_caps_get(&ntp_caps));
  GstReferenceTimestampMeta* meta = gst_buffer_get_reference_timestamp_meta(buffer, caps.get());
  if (!meta) return -1;
  return static_cast<int64_t>(meta->timestamp / 1000) - kNtpEpochOffsetS * 1000000;
}

void Encode(int64_t unix_us, uint8_t out[8]) {
  uint64_t ntp = NtpFromUnixUs(unix_us);
  for (int i = 0; i < 8; i++) out[i] = static_cast<uint8_t>(ntp >> (56 - 8 * i));
}

int64_t Decode(const uint8_t* data, size_t size) {
  if (size < 8) return -1;
  uint64_t ntp = 0;
  for (int i = 0; i < 8; i++) ntp = (ntp << 8) | data[i];
  return UnixUsFromNtp(ntp);
}

}  // namespace abs_capture_time

namespace {

using State = AbsCaptureTimeWriter::State;

void Remember(std::deque<std::pair<GstClockTime, int64_t>>& captures, GstClockTime pts, int64_t us) {
  if (!captures.empty() && captures.back().first == pts) return;
  captures.emplace_back(pts, us);
  while (captures.size() > abs_capture_time::kRemembered) captures.pop_front();
}

// The capture instant of an encoded frame: carried from a shared encoder, or its PTS on this pipeline.
int64_t CaptureOf(GstPad* pad, GstBuffer* buffer) {
  int64_t carried = abs_capture_time::CaptureMetaUs(buffer);
  if (carried >= 0) return carried;
  MiniObjectPtr<GstEvent> event(gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0));
  if (!event) return -1;
  const GstSegment* segment = nullptr;
  gst_event_parse_segment(event.get(), &segment);
  if (segment->format != GST_FORMAT_TIME) return -1;
  GstClockTime running = gst_segment_to_running_time(segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
  GObjectPtr<GstElement> element(gst_pad_get_parent_element(pad));
  return abs_capture_time::WallClockUs(element.get(), running);
}

GstPadProbeReturn FramesCb(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  State* state = static_cast<std::shared_ptr<State>*>(data)->get();
  if (state->id.load(std::memory_order_relaxed) == 0 || !(info->type & GST_PAD_PROBE_TYPE_BUFFER)) return GST_PAD_PROBE_OK;
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (!GST_BUFFER_PTS_IS_VALID(buffer)) return GST_PAD_PROBE_OK;
  int64_t capture = CaptureOf(pad, buffer);
  if (capture < 0) return GST_PAD_PROBE_OK;
  std::lock_guard<std::mutex> lock(state->mutex);
  Remember(state->captures, GST_BUFFER_PTS(buffer), capture);
  return GST_PAD_PROBE_OK;
}

// Adds the extension to the packet when it is its frame's first (made writable first: the payloader
// may still hold a ref).
void WriteIfFirst(State* state, int id, GstBuffer** buffer) {
  GstClockTime pts = GST_BUFFER_PTS(*buffer);
  int64_t capture = -1;
  {
    std::lock_guard<std::mutex> lock(state->mutex);
    if (!GST_CLOCK_TIME_IS_VALID(pts) || pts == state->last_written) return;
    while (!state->captures.empty() && state->captures.front().first < pts) state->captures.pop_front();
    if (state->captures.empty() || state->captures.front().first != pts) return;
    capture = state->captures.front().second;
    state->captures.pop_front();
    state->last_written = pts;
  }
  uint8_t payload[8];
  abs_capture_time::Encode(capture, payload);
  *buffer = gst_buffer_make_writable(*buffer);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(*buffer, GST_MAP_READWRITE, &rtp)) return;
  gst_rtp_buffer_add_extension_onebyte_header(&rtp, static_cast<guint8>(id), payload, sizeof payload);
  gst_rtp_buffer_unmap(&rtp);
}

GstPadProbeReturn RtpCb(GstPad*, GstPadProbeInfo* info, gpointer data) {
  State* state = static_cast<std::shared_ptr<State>*>(data)->get();
  int id = state->id.load(std::memory_order_relaxed);
  if (id == 0) return GST_PAD_PROBE_OK;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    WriteIfFirst(state, id, &buffer);
    GST_PAD_PROBE_INFO_DATA(info) = buffer;
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList* list = gst_buffer_list_make_writable(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
    std::pair<State*, int> target{state, id};
    gst_buffer_list_foreach(
        list,
        [](GstBuffer** buffer, guint, gpointer target_ptr) -> gboolean {
          auto* t = static_cast<std::pair<State*, int>*>(target_ptr);
          WriteIfFirst(t->first, t->second, buffer);
          return TRUE;
        },
        &target);
    GST_PAD_PROBE_INFO_DATA(info) = list;
  }
  return GST_PAD_PROBE_OK;
}

void FreeState(gpointer data) { delete static_cast<std::shared_ptr<State>*>(data); }

}  // namespace

void AbsCaptureTimeWriter::Enable(GstPad* frames, GstPad* rtp, int id) {
  if (!frames_probe_) {
    state_ = std::make_shared<State>();
    frames_pad_ = GObjectPtr<GstPad>::ref(frames);
    rtp_pad_ = GObjectPtr<GstPad>::ref(rtp);
    frames_probe_ = gst_pad_add_probe(frames, GST_PAD_PROBE_TYPE_BUFFER, FramesCb, new std::shared_ptr<State>(state_), FreeState);
    rtp_probe_ = gst_pad_add_probe(rtp, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST), RtpCb,
                                   new std::shared_ptr<State>(state_), FreeState);
  }
  state_->id.store(id);
}

void AbsCaptureTimeWriter::Disable() {
  if (!frames_probe_) return;
  state_->id.store(0);
  gst_pad_remove_probe(frames_pad_.get(), frames_probe_);
  gst_pad_remove_probe(rtp_pad_.get(), rtp_probe_);
  frames_pad_.reset();
  rtp_pad_.reset();
  state_.reset();
  frames_probe_ = rtp_probe_ = 0;
}

namespace {

using ReaderState = AbsCaptureTimeReader::State;

// By PTS (decoders keep it): an x-ntp meta on the RTP buffer does not survive 1.22's depayloaders and
// decoders (1 frame of 30 kept it, VP8 and H.264). The jitter buffer may give late frames the PTS of the
// one before: a PTS seen with two instants says nothing.
void Read(ReaderState* state, int id, GstBuffer** buffer) {
  if (!GST_BUFFER_PTS_IS_VALID(*buffer)) return;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(*buffer, GST_MAP_READ, &rtp)) return;
  gpointer data = nullptr;
  guint size = 0;
  guint8 appbits = 0;
  // One-byte headers are what we and browsers send; two-byte ones are allowed by extmap-allow-mixed.
  bool found = gst_rtp_buffer_get_extension_onebyte_header(&rtp, static_cast<guint8>(id), 0, &data, &size) ||
               gst_rtp_buffer_get_extension_twobytes_header(&rtp, &appbits, static_cast<guint8>(id), 0, &data, &size);
  int64_t capture = found ? abs_capture_time::Decode(static_cast<const uint8_t*>(data), size) : -1;
  gst_rtp_buffer_unmap(&rtp);
  if (capture < 0) return;
  GstClockTime pts = GST_BUFFER_PTS(*buffer);
  std::lock_guard<std::mutex> lock(state->mutex);
  auto& captures = state->captures;
  if (!captures.empty() && captures.back().first == pts) {
    if (captures.back().second != capture) captures.back().second = -1;
    return;
  }
  captures.emplace_back(pts, capture);
  while (captures.size() > abs_capture_time::kRemembered) captures.pop_front();
}

GstPadProbeReturn ReadCb(GstPad*, GstPadProbeInfo* info, gpointer data) {
  ReaderState* state = static_cast<std::shared_ptr<ReaderState>*>(data)->get();
  int id = state->id.load(std::memory_order_relaxed);
  if (id == 0) return GST_PAD_PROBE_OK;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    Read(state, id, &buffer);
    GST_PAD_PROBE_INFO_DATA(info) = buffer;
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList* list = gst_buffer_list_make_writable(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
    std::pair<ReaderState*, int> target{state, id};
    gst_buffer_list_foreach(
        list,
        [](GstBuffer** buffer, guint, gpointer target_ptr) -> gboolean {
          auto* t = static_cast<std::pair<ReaderState*, int>*>(target_ptr);
          Read(t->first, t->second, buffer);
          return TRUE;
        },
        &target);
    GST_PAD_PROBE_INFO_DATA(info) = list;
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace

void AbsCaptureTimeReader::Watch(GstPad* rtp) {
  // The probe holds its own reference to the state: it goes with the pad, whichever outlives the other.
  gst_pad_add_probe(rtp, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST), ReadCb,
                    new std::shared_ptr<State>(state_), [](gpointer data) { delete static_cast<std::shared_ptr<State>*>(data); });
}

int64_t AbsCaptureTimeReader::CaptureUs(GstBuffer* frame) {
  GstClockTime pts = GST_BUFFER_PTS(frame);
  if (!GST_CLOCK_TIME_IS_VALID(pts)) return -1;
  std::lock_guard<std::mutex> lock(state_->mutex);
  for (auto it = state_->captures.rbegin(); it != state_->captures.rend(); ++it) {
    if (it->first == pts) return it->second;
  }
  return -1;
}

}  // namespace wrtc
