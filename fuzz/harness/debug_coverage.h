// Coverage from inside GStreamer. Debian's webrtcbin, libnice and SDP libraries are not built with
// coverage instrumentation, so libFuzzer alone would see only this harness. Every GST_DEBUG/LOG/
// WARNING statement webrtcbin reaches names its file and line: each such site is counted in
// libFuzzer's extra-counters section, so an input that makes webrtcbin take a new branch with a
// debug statement in it (nearly all of them have one) is kept as new coverage.
#pragma once

#include <cstddef>

namespace fuzz {

// Once, after gst_init: raise the webrtc-related debug categories to LOG and route their messages
// into the counters (nothing is printed).
void StartDebugCoverage();

// Distinct GStreamer debug sites reached so far in this process (printed at exit).
size_t DebugSitesReached();

}  // namespace fuzz
