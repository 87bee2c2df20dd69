// An opt-in breakdown of one input → frame (bench/capture.ts --stages). With WEBRTCBIN_LATENCY_TRACE
// in a process's environment (1: to stderr; else a file to append to), each stage a frame passes
// writes one line:
//   wrtc-lat STAGE MONOTONIC_US PTS_NS SIZE ELEMENT
// on CLOCK_MONOTONIC (g_get_monotonic_time, and Node's process.hrtime on Linux), so the lines of the
// publisher and of the receiving process can be put on one time line. The stages on pad pushes come
// from a GstTracer hooked on every push of the process (sources, converters, encoders, payloaders,
// the network, jitter buffers, depayloaders, decoders); others are written where they happen
// (XTest injection, X damage events, the damage source's reason for a frame). Off, it costs one
// branch per call: nothing is hooked.
#pragma once

#include <cstdint>

namespace wrtc {

// Whether WEBRTCBIN_LATENCY_TRACE was set when the addon loaded.
bool LatencyTraceOn();

// One line for a stage that is not a pad push (pts -1: none).
void LatencyTrace(const char* stage, int64_t pts = -1, uint64_t size = 0, const char* element = "-");

// Once per process, after gst_init: hooks the tracer when the variable is set; does nothing otherwise.
void InstallLatencyTracer();

}  // namespace wrtc
