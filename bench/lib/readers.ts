// Readers that run in the viewer's page: they find the clock row in what the viewer shows and record
// how old it is, on the viewer's own clock (same machine, same wall clock as the painter's).
import type { Page } from 'playwright-core';
import { CLOCK_CODE_PATH } from './clock.js';
import { summarize, type Summary } from './stats.js';

export interface Reading {
  /** Age of the clock when the frame is shown (WebRTC: rVFC expectedDisplayTime; noVNC: the rAF that saw it). */
  glass: Summary;
  /** WebRTC only: age when the frame's last packet arrived (rVFC receiveTime). */
  received?: Summary;
  /** Frames shown per second (distinct clock values for noVNC). */
  fps: number;
  misread: number;
}

interface Raw {
  glass: number[];
  received: number[];
  misread: number;
  firstMs: number;
  lastMs: number;
}

// tsx (esbuild keepNames) may wrap the functions below in __name(); the page needs a stand-in.
async function addClock(page: Page): Promise<void> {
  await page.addScriptTag({ path: CLOCK_CODE_PATH });
  await page.addScriptTag({ content: 'window.__name = (f) => f;' });
}

/** Every frame the <video> presents (requestVideoFrameCallback), its top row drawn to a small canvas. */
export async function installVideoReader(page: Page): Promise<void> {
  await addClock(page);
  await page.evaluate(() => {
    const w = window as unknown as { __raw: unknown; CLOCK: import('./clock.js').Clock };
    const C = w.CLOCK;
    const width = C.blocks * C.block;
    const canvas = new OffscreenCanvas(width, C.block);
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    const raw = { glass: [] as number[], received: [] as number[], misread: 0, firstMs: 0, lastMs: 0, on: false };
    w.__raw = raw;
    const attach = () => {
      const video = document.querySelector('video');
      if (!video) return void setTimeout(attach, 20);
      const onFrame = (_now: number, meta: VideoFrameCallbackMetadata) => {
        if (raw.on) {
          ctx.drawImage(video, 0, 0, width, C.block, 0, 0, width, C.block);
          const value = C.decode(ctx.getImageData(0, 0, width, C.block).data as unknown as Uint8Array, width);
          const shown = performance.timeOrigin + meta.expectedDisplayTime;
          if (value === null) raw.misread++;
          else {
            raw.glass.push(C.age(value, shown));
            if (meta.receiveTime) raw.received.push(C.age(value, performance.timeOrigin + meta.receiveTime));
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
    const raw = { glass: [] as number[], received: [] as number[], misread: 0, firstMs: 0, lastMs: 0, on: false };
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
    return { glass: r.glass, received: r.received, misread: r.misread, firstMs: r.firstMs, lastMs: r.lastMs };
  });
  const seconds = (raw.lastMs - raw.firstMs) / 1000;
  return {
    glass: summarize(raw.glass),
    ...(raw.received.length ? { received: summarize(raw.received) } : {}),
    fps: seconds > 0 ? (raw.glass.length + raw.misread - 1) / seconds : 0,
    misread: raw.misread,
  };
}
