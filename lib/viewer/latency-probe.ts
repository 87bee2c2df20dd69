// Glass-to-glass in the page: each presented frame's capture instant (the publisher's abs-capture-time,
// which Chromium reports as getSynchronizationSources()' captureTimestamp, matched to the frame by the
// RTP timestamp requestVideoFrameCallback gives) against the instant it was presented, corrected by the
// publisher's clock offset, measured NTP-style over the input channel (`clock` / `clock-reply`).
// A browser without those (Firefox: no captureTimestamp, no rtpTimestamp in its frame metadata) gets no
// figure, and the viewer shows the receiver's share instead.
import { captureTimestampToUnixMs } from '../media/abs-capture-time.js';

/** One exchange: `t0`/`t3` the viewer's send and receive times, `t1`/`t2` the publisher's (all ms). */
export interface ClockSample {
  t0: number;
  t1: number;
  t2: number;
  t3: number;
}

/**
 * The publisher's clock minus ours, from the exchange with the smallest round trip among the last
 * `keep` (a queued or delayed reply only widens its round trip, so the quickest is the truest):
 * offset ((t1 − t0) + (t2 − t3)) / 2, uncertain by half that round trip.
 */
export class ClockOffset {
  readonly #samples: { offsetMs: number; rttMs: number }[] = [];
  constructor(private readonly keep = 8) {}

  add(s: ClockSample): void {
    const rttMs = s.t3 - s.t0 - (s.t2 - s.t1);
    if (!(rttMs >= 0) || !Number.isFinite(rttMs)) return; // clocks went backwards: no information
    this.#samples.push({ offsetMs: (s.t1 - s.t0 + (s.t2 - s.t3)) / 2, rttMs });
    if (this.#samples.length > this.keep) this.#samples.shift();
  }

  /** null before the first reply. The publisher stamps whole ms: half a ms more uncertainty. */
  get estimate(): { offsetMs: number; uncertaintyMs: number } | null {
    let best: { offsetMs: number; rttMs: number } | undefined;
    for (const s of this.#samples) if (!best || s.rttMs < best.rttMs) best = s;
    return best ? { offsetMs: best.offsetMs, uncertaintyMs: best.rttMs / 2 + 0.5 } : null;
  }
}

/** The median of what was measured over the last `windowMs`. */
export function p50(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

const CLOCK_FIRST_MS = 200; // the first exchanges, close together: an offset within a second
const CLOCK_EVERY_MS = 2000; // then one every two seconds (clocks drift; the minimum is kept)
const WINDOW_MS = 1000;
const MIN_SAMPLES = 5; // fewer in the window (the stream's first frames, a still screen): no figure yet

interface VideoFrameMetadataLike {
  presentationTime: number;
  rtpTimestamp?: number;
}
type FrameCallbackVideo = HTMLVideoElement & {
  requestVideoFrameCallback?(cb: (now: number, metadata: VideoFrameMetadataLike) => void): number;
  cancelVideoFrameCallback?(handle: number): void;
};
type SourceWithCapture = RTCRtpSynchronizationSource & { captureTimestamp?: number };

/** The browser's clock as the probe uses it: the frame callbacks' timeline, as ms since the epoch. */
const localNow = () => performance.timeOrigin + performance.now();

export class GlassToGlassProbe {
  readonly #clock = new ClockOffset();
  readonly #captures = new Map<number, number>(); // RTP timestamp → capture, publisher's Unix ms
  #samples: { at: number; ms: number }[] = [];
  #frameHandle: number | undefined;
  #clockTimer: ReturnType<typeof setTimeout> | undefined;
  #exchanges = 0;
  #stopped = false;

  /**
   * `send` puts a `clock` request on the input channel (false when it is not open). Without
   * requestVideoFrameCallback there is nothing to measure on: `supported` stays false.
   */
  constructor(
    private readonly video: HTMLVideoElement,
    private readonly receiver: RTCRtpReceiver,
    private readonly send: (t0: number) => boolean,
  ) {
    const v = video as FrameCallbackVideo;
    if (typeof v.requestVideoFrameCallback !== 'function' || typeof receiver.getSynchronizationSources !== 'function') return;
    this.#frameHandle = v.requestVideoFrameCallback(this.#onFrame);
    this.#askClock();
  }

  /** The publisher's answer to one of our `clock` requests. */
  onClockReply(reply: { t0: number; t1: number; t2: number }): void {
    this.#clock.add({ ...reply, t3: localNow() });
  }

  /** p50 capture → presentation over the last second, and the clock offset's uncertainty; null without a figure. */
  read(): { glassToGlassMs: number; uncertaintyMs: number } | null {
    const clock = this.#clock.estimate;
    const since = localNow() - WINDOW_MS;
    this.#samples = this.#samples.filter((s) => s.at >= since);
    const median = this.#samples.length < MIN_SAMPLES ? null : p50(this.#samples.map((s) => s.ms));
    return median === null || !clock ? null : { glassToGlassMs: median, uncertaintyMs: clock.uncertaintyMs };
  }

  stop(): void {
    this.#stopped = true;
    if (this.#frameHandle !== undefined) (this.video as FrameCallbackVideo).cancelVideoFrameCallback?.(this.#frameHandle);
    if (this.#clockTimer) clearTimeout(this.#clockTimer);
  }

  #askClock(): void {
    if (this.#stopped) return;
    if (this.send(localNow())) this.#exchanges++;
    this.#clockTimer = setTimeout(() => this.#askClock(), this.#exchanges < 5 ? CLOCK_FIRST_MS : CLOCK_EVERY_MS);
  }

  readonly #onFrame = (_now: number, metadata: VideoFrameMetadataLike): void => {
    if (this.#stopped) return;
    this.#frameHandle = (this.video as FrameCallbackVideo).requestVideoFrameCallback!(this.#onFrame);
    for (const source of this.receiver.getSynchronizationSources() as SourceWithCapture[]) {
      if (typeof source.captureTimestamp !== 'number' || source.captureTimestamp <= 0) continue;
      this.#captures.set(source.rtpTimestamp, captureTimestampToUnixMs(source.captureTimestamp));
      if (this.#captures.size > 64) this.#captures.delete(this.#captures.keys().next().value!);
    }
    const clock = this.#clock.estimate;
    if (typeof metadata.rtpTimestamp !== 'number' || !clock) return;
    const capture = this.#captureOf(metadata.rtpTimestamp);
    if (capture === undefined) return;
    const presented = performance.timeOrigin + metadata.presentationTime;
    const ms = presented - (capture - clock.offsetMs);
    // A figure outside any plausible range is a clock that jumped, not a latency.
    if (ms > -50 && ms < 10_000) this.#samples.push({ at: presented, ms });
  };

  // The frame's own capture instant, or undefined when its packets were never the newest at a poll. Not
  // moved from a neighbour by the RTP timestamps' difference: our RTP timestamps are the instants frames
  // left the encoder, so that difference carries the encoder's time per frame (a keyframe's 30 ms
  // against a P-frame's 5) and put a figure 15 ms below zero on a loaded machine.
  #captureOf(rtp: number): number | undefined {
    return this.#captures.get(rtp);
  }
}

/** The latency a page shows: glass-to-glass when the probe measures it, the receiver's share otherwise. */
export function describeLatency(s: { latencyEstimateMs: number | null; glassToGlassMs?: number | null; glassToGlassUncertaintyMs?: number | null }): {
  text: string;
  tooltip: string;
} | null {
  if (typeof s.glassToGlassMs === 'number') {
    const within = typeof s.glassToGlassUncertaintyMs === 'number' ? ` (clock offset known within ±${Math.max(1, Math.round(s.glassToGlassUncertaintyMs))} ms)` : '';
    // Within the clock offset's error a figure can come out below zero on loopback: shown as 0, never negative.
    const ms = Math.max(0, Math.round(s.glassToGlassMs));
    return {
      text: `glass-to-glass ≈ ${ms} ms`,
      tooltip: `Glass to glass ≈${ms} ms: capture on the desktop → shown here, median over the last second, from the frames' capture times (abs-capture-time)${within}.`,
    };
  }
  if (s.latencyEstimateMs === null) return null;
  return {
    text: `≈${Math.round(s.latencyEstimateMs)} ms`,
    tooltip: `Latency ≈${Math.round(s.latencyEstimateMs)} ms: this browser's share only (jitter buffer + decode + half the round trip); capture and encoding on the desktop are not counted: this browser does not report the frames' capture times.`,
  };
}
