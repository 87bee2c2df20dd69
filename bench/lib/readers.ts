// Readers that run in the viewer's page: they find the clock row in what the viewer shows and record
// how old it is, on the viewer's own clock (same machine, same wall clock as the painter's).
import type { Page } from 'playwright-core';
import { CLOCK_CODE_PATH } from './clock.js';
import { percentile, summarize, type Summary } from './stats.js';

export interface Reading {
  /** Age of the clock when the frame is shown (WebRTC: rVFC expectedDisplayTime; noVNC: the rAF that saw it). */
  glass: Summary;
  /** WebRTC only: age when the frame's last packet arrived (rVFC receiveTime). */
  received?: Summary;
  /**
   * WebRTC only, the built-in probe on the same frames: capture (the sender's abs-capture-time, read from
   * getSynchronizationSources by the frame's RTP timestamp) → shown. Same machine: the sender's wall
   * clock is the page's (their difference, performance vs Date, sampled per frame).
   */
  probe?: Summary;
  /**
   * Painted − probe per frame: the painted time code's age at capture, i.e. the paint → capture delay
   * the probe cannot see. Its spread against the measured paint→capture row is the probe's error; a
   * negative value (captured before painted) is an error outright.
   */
  paintToCapture?: { n: number; p5: number; p50: number; p95: number; negative: number };
  /** Frames shown per second (distinct clock values for noVNC). */
  fps: number;
  misread: number;
}

interface Raw {
  glass: number[];
  received: number[];
  probe: number[];
  paintToCapture: number[];
  misread: number;
  firstMs: number;
  lastMs: number;
}

// tsx (esbuild keepNames) may wrap the functions below in __name(); the page needs a stand-in.
async function addClock(page: Page): Promise<void> {
  await page.addScriptTag({ path: CLOCK_CODE_PATH });
  await page.addScriptTag({ content: 'window.__name = (f) => f;' });
}

/**
 * Every frame the <video> presents (requestVideoFrameCallback), its top row drawn to a small canvas; and
 * the built-in probe's capture time of the same frame (Chromium is asked to negotiate abs-capture-time,
 * where its list still has it stopped, as lib/viewer/viewer.ts does).
 */
export async function installVideoReader(page: Page): Promise<void> {
  await addClock(page);
  await page.evaluate(() => {
    type Ext = { uri: string; direction: string };
    type T = RTCRtpTransceiver & { getHeaderExtensionsToNegotiate?(): Ext[]; setHeaderExtensionsToNegotiate?(l: Ext[]): void };
    const uri = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time';
    const createAnswer = RTCPeerConnection.prototype.createAnswer;
    RTCPeerConnection.prototype.createAnswer = function (this: RTCPeerConnection, ...args: unknown[]) {
      for (const t of this.getTransceivers() as T[]) {
        const list = t.getHeaderExtensionsToNegotiate?.();
        if (list?.some((e) => e.uri === uri && e.direction === 'stopped') && t.receiver.track.kind === 'video') {
          t.setHeaderExtensionsToNegotiate!(list.map((e) => (e.uri === uri ? { ...e, direction: 'recvonly' } : e)));
        }
      }
      return (createAnswer as (...a: unknown[]) => Promise<RTCSessionDescriptionInit>).apply(this, args);
    } as typeof createAnswer;
  });
  await page.evaluate(() => {
    const w = window as unknown as { __raw: unknown; CLOCK: import('./clock.js').Clock };
    const C = w.CLOCK;
    const width = C.blocks * C.block;
    const canvas = new OffscreenCanvas(width, C.block);
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    const raw = { glass: [] as number[], received: [] as number[], probe: [] as number[], paintToCapture: [] as number[], misread: 0, firstMs: 0, lastMs: 0, on: false };
    w.__raw = raw;
    // The probe: capture instants by RTP timestamp, from the receiver's synchronization sources.
    const captures = new Map<number, number>();
    const NTP_UNIX_MS = 2_208_988_800_000;
    const span = (1 << C.timeBits) / 10;
    const attach = () => {
      const video = document.querySelector('video');
      if (!video) return void setTimeout(attach, 20);
      const onFrame = (_now: number, meta: VideoFrameCallbackMetadata) => {
        if (raw.on) {
          ctx.drawImage(video, 0, 0, width, C.block, 0, 0, width, C.block);
          const value = C.decode(ctx.getImageData(0, 0, width, C.block).data as unknown as Uint8Array, width);
          const shown = performance.timeOrigin + meta.expectedDisplayTime;
          const pc = (window as unknown as { pc?: RTCPeerConnection }).pc;
          const receiver = pc?.getReceivers().find((r) => r.track.kind === 'video');
          for (const source of (receiver?.getSynchronizationSources() ?? []) as (RTCRtpSynchronizationSource & { captureTimestamp?: number })[]) {
            if (typeof source.captureTimestamp !== 'number') continue;
            captures.set(source.rtpTimestamp, source.captureTimestamp > 3e12 ? source.captureTimestamp - NTP_UNIX_MS : source.captureTimestamp);
            if (captures.size > 64) captures.delete(captures.keys().next().value!);
          }
          const rtp = (meta as VideoFrameCallbackMetadata & { rtpTimestamp?: number }).rtpTimestamp;
          const captureUnix = rtp === undefined ? undefined : captures.get(rtp);
          // The sender stamps g_get_real_time (Date's clock); the page measures on performance's.
          const capture = captureUnix === undefined ? undefined : captureUnix + (performance.timeOrigin + performance.now() - Date.now());
          if (value === null) raw.misread++;
          else {
            raw.glass.push(C.age(value, shown));
            if (meta.receiveTime) raw.received.push(C.age(value, performance.timeOrigin + meta.receiveTime));
            if (capture !== undefined) {
              raw.probe.push(shown - capture);
              const age = C.age(value, capture); // modular: a capture "before" the paint wraps around
              raw.paintToCapture.push(age > span / 2 ? age - span : age);
            }
          }
          raw.firstMs ||= shown;
          raw.lastMs = shown;
        }
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    };
    attach();
  });
}

/** noVNC draws into a <canvas>: poll it every animation frame and record each new clock value. */
export async function installCanvasReader(page: Page): Promise<void> {
  await addClock(page);
  await page.evaluate(() => {
    const w = window as unknown as { __raw: unknown; CLOCK: import('./clock.js').Clock };
    const C = w.CLOCK;
    const width = C.blocks * C.block;
    const raw = { glass: [] as number[], received: [] as number[], probe: [] as number[], paintToCapture: [] as number[], misread: 0, firstMs: 0, lastMs: 0, on: false };
    w.__raw = raw;
    let last: number | null = null;
    const poll = () => {
      const canvas = document.querySelector('canvas');
      if (raw.on && canvas && canvas.width >= width) {
        const now = C.now();
        const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
        const value = C.decode(ctx.getImageData(0, 0, width, C.block).data as unknown as Uint8Array, width);
        if (value === null) raw.misread++;
        else if (value !== last) {
          last = value;
          raw.glass.push(C.age(value, now));
          raw.firstMs ||= now;
          raw.lastMs = now;
        }
      }
      requestAnimationFrame(poll);
    };
    requestAnimationFrame(poll);
  });
}

/** Starts recording, waits for `frames` readings (or `timeoutMs`), and summarizes them. */
export async function record(page: Page, frames: number, timeoutMs: number): Promise<Reading> {
  await page.evaluate(() => ((window as unknown as { __raw: { on: boolean } }).__raw.on = true));
  const deadline = Date.now() + timeoutMs;
  let count = 0;
  while (Date.now() < deadline) {
    count = await page.evaluate(() => (window as unknown as { __raw: Raw }).__raw.glass.length);
    if (count >= frames) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const raw = await page.evaluate(() => {
    const r = (window as unknown as { __raw: Raw & { on: boolean } }).__raw;
    r.on = false;
    return { glass: r.glass, received: r.received, probe: r.probe, paintToCapture: r.paintToCapture, misread: r.misread, firstMs: r.firstMs, lastMs: r.lastMs };
  });
  const seconds = (raw.lastMs - raw.firstMs) / 1000;
  const diff = [...raw.paintToCapture].sort((a, b) => a - b);
  return {
    glass: summarize(raw.glass),
    ...(raw.received.length ? { received: summarize(raw.received) } : {}),
    ...(raw.probe.length ? { probe: summarize(raw.probe) } : {}),
    ...(diff.length ? { paintToCapture: { n: diff.length, p5: percentile(diff, 5), p50: percentile(diff, 50), p95: percentile(diff, 95), negative: diff.filter((d) => d < 0).length } } : {}),
    fps: seconds > 0 ? (raw.glass.length + raw.misread - 1) / seconds : 0,
    misread: raw.misread,
  };
}
