// The JavaScript side of WEBRTCBIN_LATENCY_TRACE (src-native/common/latency_trace.h): the same line,
// `wrtc-lat STAGE MONOTONIC_US PTS SIZE ELEMENT`, on the same clock (process.hrtime is CLOCK_MONOTONIC
// on Linux, as g_get_monotonic_time) and to the same place (stderr for "1", else the file, appended),
// so bench/lib/latency-stages.ts puts the JS steps of one input between the native ones. Unset, a call
// is one comparison.
import { closeSync, openSync, writeSync } from 'node:fs';

const setting = process.env.WEBRTCBIN_LATENCY_TRACE;
let fd: number | undefined;
if (setting && setting !== '0') {
  try {
    fd = setting === '1' ? 2 : openSync(setting, 'a', 0o600);
  } catch {
    fd = 2;
  }
  if (fd !== 2) process.once('exit', () => closeSync(fd!));
}

/** Writes one trace line for `stage` now (one write(): lines of several writers never interleave). */
export function latencyTrace(stage: string, element = 'js'): void {
  if (fd === undefined) return;
  writeSync(fd, `wrtc-lat ${stage} ${process.hrtime.bigint() / 1000n} -1 0 ${element}\n`);
}
