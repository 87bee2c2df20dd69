// One capture + encoder feeding many peers: the encoder pipeline ends in an appsink; each subscribed
// peer's pipeline starts with an appsrc that gets the same encoded buffers (shared memory, no copy).
// A new subscriber starts at a keyframe (it asks for one), a viewer's PLI asks the encoder for one,
// and with no subscriber a valve before the encoder drops raw frames, so nobody pays for encoding.
// Warm: one frame is encoded at the start (the prime) so the encoded caps are known; a peer that
// subscribes later gets them at once, and its offer need not wait for the encoder.
#pragma once

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "common/gobject_ptr.h"
#include "encoder/start_gate.h"

namespace wrtc {

class SharedEncoder : public std::enable_shared_from_this<SharedEncoder> {
 public:
  // Streaming side: takes the encoder bin (holding an appsink "encoded" and a valve "gate").
  bool Attach(GstElement* bin);
  void Detach();
  // Any thread. The appsrc gets buffers from the next keyframe on, as `gate` admits them (none: all).
  void Subscribe(uintptr_t key, GstElement* appsrc, std::shared_ptr<StartGate> gate = nullptr);
  void Unsubscribe(uintptr_t key);
  void RequestKeyframe();
  uint64_t FramesEncoded() const { return encoded_.load(); }
  size_t Subscribers();
  // The encoded caps are known (the prime, or any frame since): a new subscriber's offer need not wait.
  bool CapsKnown();
  // Whether the capture is wanted: someone subscribed, or the prime has not been encoded yet.
  bool Wanted();
  // Called (on any thread, no lock held) when Wanted() may have changed: the owner pauses or resumes
  // the capture. Set once, before the pipeline starts.
  void SetDemandHook(std::function<void()> hook) { demand_hook_ = std::move(hook); }

  GstFlowReturn OnSample(GstAppSink* sink);
  // After a keyframe (a join, a PLI, the GOP's end) with someone watching: kRefineFrames more frames of
  // the screen, changed or not, each asked for once the last is encoded (so at most at the capture's
  // rate). A keyframe under the one-frame rate budget (lib/media/send.ts) is a smear on a detailed
  // still screen; these P-frames, each within the same budget, spend it on that picture until it is
  // sharp, instead of waiting for the next change or refresh. 30: half a second at a damage capture's
  // 60 fps (docs/benchmarks.md, "Keyframe refinement"), and half the GOP at 30 fps (2 s of frames), so
  // refining a still screen does not run into the next periodic keyframe.
  static constexpr int kRefineFrames = 30;
  // After a change larger than kConvergedBytes (a full-screen flip, a scroll: coarse under the one-frame
  // budget), nobody asking: up to kChangeRefineFrames more frames of the screen, as after a keyframe, but
  // stopped as soon as one is small (converged: at most kConvergedBytes or 1/16 of the change's size).
  // Without it a coarse change stayed coarse until the next refresh or keyframe, 1-4 s later
  // (docs/benchmarks.md, "Input → photon in the browser"). A change already sharp (typing) costs one small
  // frame; a still screen's repeats start nothing. Not yet reliable: a full screen of text with no refresh
  // came out sharp (32-35 dB) in 6 of 9 probes and stayed at 15-19 dB in 3 (docs/reliability.md).
  static constexpr int kChangeRefineFrames = 30;
  static constexpr gsize kConvergedBytes = 400;
  // Raw frames before the encoder: identical to the previous one → dropped (a still desktop costs no
  // encoding), but one a second still passes, and the next one always does after a keyframe request
  // and while refining.
  bool PassRawFrame(GstBuffer* buffer);
  uint64_t FramesUnchanged() const { return unchanged_.load(); }
  // Keyframes asked for (joins, viewers' PLI/FIR), each answered with a keyframe and its refinement.
  uint32_t KeyframeRequests() const { return keyframe_requests_.load(); }

 private:
  struct Subscriber {
    GObjectPtr<GstElement> appsrc;
    bool waiting_for_keyframe = true;
    bool caps_set = false;
    std::shared_ptr<StartGate> gate;
  };
  void SetGateLocked(bool open);
  void Refine(GstAppSink* sink, bool keyframe, gsize size);

  std::mutex mutex_;
  std::map<uintptr_t, Subscriber> subscribers_;
  GObjectPtr<GstElement> appsink_;
  GObjectPtr<GstElement> gate_;
  MiniObjectPtr<GstCaps> caps_;
  std::atomic<uint64_t> encoded_{0};
  std::atomic<uint64_t> unchanged_{0};
  std::atomic<bool> force_next_{true};
  // The gate is open for the prime: the first raw frame passes, then it shuts unless someone subscribed.
  std::atomic<bool> priming_{true};
  // The prime's encoded frame has not reached the appsink yet: the capture must run until it has
  // (paused earlier, the frame would wait in the sink's preroll and the caps stay unknown).
  std::atomic<bool> prime_pending_{true};
  // Refinement: P-frames of the unchanged screen left to encode after a keyframe (see kRefineFrames).
  std::atomic<int> refine_left_{0};
  std::atomic<bool> refine_pass_{false};  // the next raw frame passes even if unchanged
  gsize converged_bytes_ = 0;  // a change's run stops at a frame this small; 0: a keyframe's run (appsink thread only)
  std::atomic<uint64_t> changes_passed_{0};  // raw frames passed that differ from the one before
  uint64_t changes_refined_ = 0;              // changes_passed_ when the last change's run began (appsink thread)
  MiniObjectPtr<GstBuffer> previous_;  // streaming thread only
  gint64 last_passed_us_ = 0;          // streaming thread only
  std::atomic<uint32_t> keyframe_requests_{0};
  std::function<void()> demand_hook_;
};

}  // namespace wrtc
