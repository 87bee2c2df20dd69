// The playout-delay RTP header extension (http://www.webrtc.org/experiments/rtp-hdrext/playout-delay),
// written by the sender. With min = max = 0 a browser renders each frame as soon as it is decoded
// instead of holding it in its jitter buffer: the remote-desktop case. GStreamer 1.22 has no header
// extension element for it, so a pad probe adds the one-byte extension to each outgoing RTP packet.
#pragma once

#include <gst/gst.h>

#include <atomic>

#include "common/gobject_ptr.h"

namespace wrtc {

class PlayoutDelayWriter {
 public:
  // Starts (or retargets) writing on `pad`, which carries RTP (the payloader's output) — after the
  // extmap `id` (1-14) was negotiated. Delays in ms, rounded to the extension's 10 ms unit, at most 40950.
  void Enable(GstPad* pad, int id, int min_ms, int max_ms);
  // Removes the probe (before the pad goes away).
  void Disable();
  ~PlayoutDelayWriter() { Disable(); }

  // Packed header value: id in the top byte, then the three payload bytes; 0 = off. Owned by the
  // probe (freed by GStreamer when the probe goes), so a packet in flight never reads freed memory.
  struct State {
    std::atomic<uint32_t> packed{0};
  };

 private:
  State* state_ = nullptr;  // valid while the probe is installed
  GObjectPtr<GstPad> pad_;  // set while the probe is installed
  gulong probe_ = 0;
};

}  // namespace wrtc
