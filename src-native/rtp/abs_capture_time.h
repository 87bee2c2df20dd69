// The abs-capture-time RTP header extension (http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time):
// the wall-clock instant a video frame was captured, as a 64-bit NTP timestamp (UQ32.32) of the
// sender's clock, on the first RTP packet of each frame. We write the 8-byte form: we are the capturer,
// so the 16-byte form's capture clock offset would always be 0. A browser that negotiated it reports it
// as getSynchronizationSources()' captureTimestamp; our receivers hand it on as Frame.captureTime.
// GStreamer 1.22 has no header extension element for it: pad probes write and read it.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>

#include "common/gobject_ptr.h"

namespace wrtc {
namespace abs_capture_time {

// Unix time (µs) ↔ NTP UQ32.32 (seconds since 1900 in the high word, the fraction in the low one).
uint64_t NtpFromUnixUs(int64_t unix_us);
int64_t UnixUsFromNtp(uint64_t ntp);

// The wall-clock time (Unix µs) of the instant `running_time` on `element`'s pipeline: its clock and
// base time read together with g_get_real_time(). -1 when the element has no clock (not playing).
int64_t WallClockUs(GstElement* element, GstClockTime running_time);

// The capture instant carried on an encoded buffer from a shared encoder's pipeline to a peer's (which
// restamps the buffer with its own clock): a GstReferenceTimestampMeta of caps timestamp/x-ntp.
void AttachCaptureMeta(GstBuffer* buffer, int64_t unix_us);
int64_t CaptureMetaUs(GstBuffer* buffer);  // -1 without one

// The extension's 8 data bytes for a capture instant (big-endian NTP).
void Encode(int64_t unix_us, uint8_t out[8]);
// A capture instant from the extension's data (8 or 16 bytes); -1 when too short.
int64_t Decode(const uint8_t* data, size_t size);

}  // namespace abs_capture_time

// Sender: remembers each encoded frame's capture instant at the payloader's input, writes it on the
// first RTP packet of that frame at the payloader's output (RTP packets keep their frame's PTS).
class AbsCaptureTimeWriter {
 public:
  // `frames`: the payloader's sink pad (encoded frames); `rtp`: where the finished RTP leaves.
  // After the extmap `id` (1-14) was negotiated. Idempotent; a new id retargets.
  void Enable(GstPad* frames, GstPad* rtp, int id);
  void Disable();
  ~AbsCaptureTimeWriter() { Disable(); }

  // Shared by both probes, freed by GStreamer when the last one goes (a packet in flight never reads
  // freed memory).
  struct State {
    std::atomic<int> id{0};
    std::mutex mutex;
    std::deque<std::pair<GstClockTime, int64_t>> captures;  // PTS → capture µs, oldest first, bounded
    GstClockTime last_written = GST_CLOCK_TIME_NONE;
  };

 private:
  std::shared_ptr<State> state_;
  GObjectPtr<GstPad> frames_pad_;
  GObjectPtr<GstPad> rtp_pad_;
  gulong frames_probe_ = 0;
  gulong rtp_probe_ = 0;
};

// Receiver: reads the extension from the RTP webrtcbin hands out (before depayloading) and answers
// "when was this frame captured" for the decoded frame (by PTS: decoders keep it).
class AbsCaptureTimeReader {
 public:
  // Streaming thread (pad-added): reads from `rtp` while an id is set.
  void Watch(GstPad* rtp);
  // JS thread: the negotiated extmap id (0: none).
  void SetId(int id) { state_->id.store(id); }
  // Any thread: the capture instant (Unix µs) of a decoded (or depayloaded) frame, by its PTS; -1
  // when unknown or ambiguous.
  int64_t CaptureUs(GstBuffer* frame);

  struct State {
    std::atomic<int> id{0};
    std::mutex mutex;
    std::deque<std::pair<GstClockTime, int64_t>> captures;  // PTS → capture µs (-1: ambiguous), bounded
  };

 private:
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace wrtc
