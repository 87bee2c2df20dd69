#include "encoder/start_gate.h"

namespace wrtc {

bool StartGate::Admit(GstBuffer* buffer) {
  bool keyframe = !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  size_t size = gst_buffer_get_size(buffer);
  int state = state_.load();
  switch (state) {
    case kOpen:
      return true;
    case kWaitingFirstKeyframe:
      if (!keyframe) return false;
      // Connected() may have moved on meanwhile: then this keyframe is the fresh one it waits for.
      if (!state_.compare_exchange_strong(state, kHolding)) return Admit(buffer);
      held_frames_ = 1;
      held_bytes_ = size;
      held_since_us_ = g_get_monotonic_time();
      return true;
    case kHolding:
      if (held_frames_ + 1 > kMaxHeldFrames || held_bytes_ + size > kMaxHeldBytes ||
          g_get_monotonic_time() - held_since_us_ > kMaxHeldSpanUs) {
        // A dropped delta breaks the chain: nothing more until the fresh keyframe asked at connect.
        if (!state_.compare_exchange_strong(state, kOverflowed)) return Admit(buffer);
        return false;
      }
      held_frames_++;
      held_bytes_ += size;
      return true;
    case kOverflowed:
      return false;
    case kWaitingFreshKeyframe:
      if (!keyframe) return false;
      if (!state_.compare_exchange_strong(state, kOpen)) return Admit(buffer);
      return true;
  }
  return false;
}

bool StartGate::Connected() {
  int state = state_.load();
  for (;;) {
    switch (state) {
      case kHolding:
        // What is held leaves now, and a fresh keyframe is asked too: we are the DTLS server, the held
        // run goes right behind our last handshake flight, and a viewer can lose its head before it has
        // its SRTP keys (a Node view showed the keyframe's first slice broken: test/agent/view, CI on
        // 2026-12-08). The held keyframe shows at once when it arrives whole; the fresh one heals it if not.
        if (state_.compare_exchange_weak(state, kOpen)) return true;
        break;
      case kWaitingFirstKeyframe:
        // The keyframe asked for at the join is still being made: it is fresh enough, ask no other.
        if (state_.compare_exchange_weak(state, kWaitingFreshKeyframe)) return false;
        break;
      case kOverflowed:
        if (state_.compare_exchange_weak(state, kWaitingFreshKeyframe)) return true;
        break;
      default:  // already connected
        return false;
    }
  }
}

}  // namespace wrtc
