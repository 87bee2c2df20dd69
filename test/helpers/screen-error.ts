// How far a decoded frame is from the X screen it shows: the screen read with xwd (the X server's own
// pixels, no encoder in between) and the frame compared pixel by pixel, as PSNR and mean absolute error
// over R, G and B. A keyframe smeared by a one-frame rate budget reads ~20 dB on text; a refined one 35+.
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const TEXT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src-native', 'x11', 'damage_src.cc');

/**
 * Fills the screen of `display` (width × height pixels) with small black text on white, still once
 * painted: an xterm in its 6×13 font showing a source file, the hardest still picture for a small rate
 * budget. Resolves once it has painted (waits `settleMs`); the returned function ends it.
 */
export async function showText(display: string, width: number, height: number, settleMs = 1500): Promise<() => void> {
  const geometry = `${Math.ceil(width / 6)}x${Math.ceil(height / 13) + 1}+0+0`;
  const term = spawn('xterm', ['-display', display, '-geometry', geometry, '-bg', 'white', '-fg', 'black', '-e', 'sh', '-c', `head -c 20000 ${TEXT}; exec sleep 100000`], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, settleMs));
  if (term.exitCode !== null) throw new Error(`xterm exited with ${term.exitCode} before it painted`);
  return () => term.kill('SIGKILL');
}

/** The screen's pixels as packed RGB rows. */
export interface ScreenImage {
  width: number;
  height: number;
  rgb: Buffer;
}

/** Reads the root window of `display` (xwd, ZPixmap, 24/32-bit TrueColor). */
export async function readScreen(display: string): Promise<ScreenImage> {
  const { stdout } = await run('xwd', ['-display', display, '-root', '-silent'], { encoding: 'buffer', maxBuffer: 256 * 2 ** 20 });
  const xwd = stdout as Buffer;
  // XWDFileHeader: 25 CARD32 fields, big-endian; the colour map (12 bytes an entry) follows the header.
  const field = (i: number) => xwd.readUInt32BE(i * 4);
  const headerSize = field(0);
  const [width, height, byteOrder, bitsPerPixel, bytesPerLine, ncolors] = [field(4), field(5), field(7), field(11), field(12), field(19)];
  if (bitsPerPixel !== 32) throw new Error(`xwd: ${bitsPerPixel} bits per pixel; the test screens are 24-bit (32 bits a pixel)`);
  const masks = [field(14), field(15), field(16)]; // red, green, blue
  const data = headerSize + ncolors * 12;
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = data + y * bytesPerLine + x * 4;
      const pixel = byteOrder === 0 ? xwd.readUInt32LE(at) : xwd.readUInt32BE(at);
      for (let c = 0; c < 3; c++) {
        const mask = masks[c]!;
        const shift = Math.clz32(1) - Math.clz32(mask & -mask); // index of the mask's lowest bit
        rgb[(y * width + x) * 3 + c] = (pixel & mask) >>> shift;
      }
    }
  }
  return { width, height, rgb };
}

/** An RGBA (or BGRA with `bgr`) frame as the receivers hand it out. */
export interface RgbaFrame {
  width: number;
  height: number;
  stride: number;
  data: Buffer;
}

export interface FrameError {
  /** Peak signal-to-noise ratio over R, G, B (dB; higher is closer; identical is Infinity). */
  psnr: number;
  /** Mean absolute difference per channel, 0–255. */
  mae: number;
}

/**
 * The frame against the screen (same size), on every `step`-th pixel of every `step`-th row (1: all;
 * 2 reads a quarter, enough for a figure and four times cheaper on a busy core).
 */
export function frameError(frame: RgbaFrame, screen: ScreenImage, step = 1): FrameError {
  if (frame.width !== screen.width || frame.height !== screen.height) {
    throw new Error(`frame ${frame.width}x${frame.height} against a ${screen.width}x${screen.height} screen`);
  }
  let squares = 0;
  let absolute = 0;
  let n = 0;
  for (let y = 0; y < frame.height; y += step) {
    for (let x = 0; x < frame.width; x += step) {
      const f = y * frame.stride + x * 4;
      const s = (y * screen.width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const d = frame.data[f + c]! - screen.rgb[s + c]!;
        squares += d * d;
        absolute += Math.abs(d);
      }
      n += 3;
    }
  }
  const mse = squares / n;
  return { psnr: mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse), mae: absolute / n };
}
