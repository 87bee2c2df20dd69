// Our own X capture element, "webrtcbinxdamagesrc": a live GstPushSrc that pushes a frame when the
// screen changes (X Damage), not on a clock. It reads the screen through MIT-SHM on an xcb connection
// of its own (no Xlib, no server grab: see error_trap.h and docs/reliability.md), coalesces a storm
// of damage to `max-fps`, repeats the last frame every `refresh-ms` (0: never) so a lost packet or a
// late joiner heals, and pushes nothing at all on a still screen. The first frame goes out at start;
// after a keyframe the shared encoder asks for a few more of the still screen (kRefineFrameEvent).
// Only the damage is read (onto a kept copy of the screen) and, when downstream takes I420, only the
// rows it touched are converted (frame_store.h); refresh and refinement frames are the kept frame.
// `show-pointer` may be set while playing.
// A lost X server posts the typed error capture_guard's ximagesrc path posts (kXDisplayLostDomain).
#pragma once

#include <gst/gst.h>

namespace wrtc {

constexpr const char* kXDamageSourceName = "webrtcbinxdamagesrc";

// An upstream custom event (a structure of this name) asking the source for a frame now: the shared
// encoder sends it with each keyframe request, so a viewer joining a still screen needs no change or
// refresh to get its first picture. Other sources never see a use for it (elements pass it upstream).
constexpr const char* kFrameNowEvent = "webrtcbin-frame-now";

// The kFrameNowEvent, built once for every sender of it (the shared encoder, a peer's own encoder).
inline GstEvent* NewFrameNowEvent() {
  return gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, gst_structure_new_empty(kFrameNowEvent));
}

// An upstream custom event asking for one more frame of the screen as it is, changed or not, at the
// coalescing rate (no sooner than 1/max-fps after the last): the shared encoder's refinement after a
// keyframe (shared_encoder.h). A keyframe under a one-frame rate budget is coarse; the P-frames that
// follow spend their budget on the same still picture until it is sharp.
constexpr const char* kRefineFrameEvent = "webrtcbin-refine-frame";

// Once per process, after gst_init: registers the element with no plugin (it is built into the addon,
// so no package provides it and gst-inspect does not list it).
void RegisterXDamageSource();

}  // namespace wrtc
