// lib/agent/: the agent's end of a VM session: view() joins as a viewer and gives frames, screenshots and
// waits for the screen (remote-view.ts); this file: telling whether the screen changed.
// Has the screen changed? A cheap, downsampled comparison of two RGBA frames: each frame becomes a
// grid of mean luma values, one per BLOCK × BLOCK pixel square (read on every second row and column),
// and two grids differ where one square's mean moved by more than LUMA_THRESHOLD.
//
// Why these numbers: a video codec does not hand back the same pixels twice: a still screen
// re-encoded as the publisher's once-a-second refresh comes back within ±1–3 of each pixel's luma,
// which moves a square's mean by well under 2. One typed character (a glyph ~8×16 px, a fifth of it
// ink) moves its square's mean by 10–40; a cursor blink or a hover highlight by more. A threshold of
// 6 on a 16-px square sits between the two, and sampling a quarter of the pixels keeps a 1280×720
// frame at ~0.2 M reads (about a millisecond).
import type { Frame } from '../types.js';

/** Side of one compared square, in screen pixels. */
export const BLOCK = 16;
/** A square's mean luma (0–255) must move by more than this to count as a change. */
export const LUMA_THRESHOLD = 6;

/** A region of the screen in its pixels. */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Signature {
  width: number;
  height: number;
  cols: number;
  rows: number;
  /** Mean luma per square, row by row. */
  luma: Float32Array;
}

/** The grid of an RGBA (or BGR) frame; channel order does not matter much for luma changes. */
export function signatureOf(frame: Pick<Frame, 'data' | 'width' | 'height' | 'stride' | 'format'>): Signature {
  const { data, width, height } = frame;
  const bpp = frame.format === 'BGR' ? 3 : 4;
  const stride = frame.stride || width * bpp;
  const cols = Math.ceil(width / BLOCK);
  const rows = Math.ceil(height / BLOCK);
  const sums = new Float32Array(cols * rows);
  const counts = new Uint32Array(cols * rows);
  for (let y = 0; y < height; y += 2) {
    const row = y * stride;
    const base = ((y / BLOCK) | 0) * cols;
    for (let x = 0; x < width; x += 2) {
      const i = row + x * bpp;
      // Rec. 601 weights in integers (the red and blue swap of BGR changes little of a change).
      const luma = (data[i]! * 77 + data[i + 1]! * 150 + data[i + 2]! * 29) >> 8;
      const cell = base + ((x / BLOCK) | 0);
      sums[cell]! += luma;
      counts[cell]!++;
    }
  }
  for (let i = 0; i < sums.length; i++) sums[i] = counts[i] ? sums[i]! / counts[i]! : 0;
  return { width, height, cols, rows, luma: sums };
}

/**
 * How many squares differ (in `region` when given). A size change counts as a change of every square.
 */
export function changedBlocks(a: Signature, b: Signature, region?: Region): number {
  if (a.width !== b.width || a.height !== b.height) return a.cols * a.rows || 1;
  const [c0, r0, c1, r1] = region
    ? [
        Math.max(0, Math.floor(region.x / BLOCK)),
        Math.max(0, Math.floor(region.y / BLOCK)),
        Math.min(a.cols, Math.ceil((region.x + region.width) / BLOCK)),
        Math.min(a.rows, Math.ceil((region.y + region.height) / BLOCK)),
      ]
    : [0, 0, a.cols, a.rows];
  let changed = 0;
  for (let r = r0; r < r1; r++) {
    for (let c = c0; c < c1; c++) {
      const i = r * a.cols + c;
      if (Math.abs(a.luma[i]! - b.luma[i]!) > LUMA_THRESHOLD) changed++;
    }
  }
  return changed;
}
