// A shared-encoder peer's start: which encoded frames it gets before and as its connection comes up.
// webrtcbin holds RTP until DTLS is set up, so whatever passes before then leaves as one burst at
// connect. The gate keeps the keyframe asked for at the join and the frames that follow it, up to a
// bound, so the first RTP leaves the moment DTLS is up (no fresh keyframe to wait for, ~25 ms of encode
// plus a capture). Past the bound it drops the rest, and the peer asks a fresh keyframe at connect
// (the burst stays within the bound: issue 18's start-up queue). Thread-safe: Admit() runs on the
// encoder's streaming thread, Connected() on whichever thread saw the connection come up.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace wrtc {

class StartGate {
 public:
  // The hold before connect is a burst at connect, so it is bounded by what it spans: frames encoded
  // within this long of the keyframe (the burst is then ~this much of the stream: with the encoder at
  // the link's rate, ~this much queue; 8 frames at 30 fps read a start-up queue p95 of 192 ms on
  // test/net/congestion's 400 ms bufferbloat link)…
  static constexpr gint64 kMaxHeldSpanUs = 70 * 1000;
  // …at most this many frames (a damage capture at 60 fps or more)…
  static constexpr int kMaxHeldFrames = 6;
  // …and at most this many bytes (a detailed keyframe is the big one).
  static constexpr size_t kMaxHeldBytes = 256 * 1024;

  // Encoder thread: whether this frame goes to the peer now.
  bool Admit(GstBuffer* buffer);
  // The connection is up. True when the peer must ask the encoder for a fresh keyframe (something was
  // held or the hold overflowed: start_gate.cc says why a held run is followed by one); false when the
  // join's keyframe is still on its way. Idempotent: true at most once.
  bool Connected();

 private:
  enum State : int {
    kWaitingFirstKeyframe,  // before connect, nothing held yet: deltas are dropped
    kHolding,               // before connect, a keyframe and its followers pass (into webrtcbin's hold)
    kOverflowed,            // before connect, the bound was reached: everything is dropped
    kWaitingFreshKeyframe,  // connected after an overflow (or with nothing held): deltas dropped
    kOpen,                  // everything passes
  };
  std::atomic<int> state_{kWaitingFirstKeyframe};
  int held_frames_ = 0;           // encoder thread only
  size_t held_bytes_ = 0;        // encoder thread only
  gint64 held_since_us_ = 0;     // encoder thread only: when the held keyframe came
};

}  // namespace wrtc
