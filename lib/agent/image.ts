// Images from the view's frames, off the JS thread: screenshots (PNG, JPEG or raw RGBA at the VM's
// size) and the frames an agent asked for in another format or size. All of it runs in the addon's
// NativeImageEncoder (`appsrc ! <description> ! appsink` on a thread of its own with GStreamer's pngenc,
// jpegenc, videoscale and videoconvert: no new dependency). Measured against a PNG written with Node's
// zlib (deflate on the thread pool, rows laid out in JS): pngenc at compression-level 3 took 75 ms
// for a 1280×720 desktop against 210 ms, and under 1 ms of the JS thread against ~35 ms (docs/api.md).
import { InvalidArgumentError, InvalidStateError, fromNative } from '../errors.js';
import { loadBinding, type NativeImageEncoder } from '../native/binding.js';
import type { Frame } from '../types.js';
import { wholeNumber } from '../util/checks.js';

export interface ScreenshotOptions {
  /** `raw`: RGBA rows of width × 4 bytes (no padding), at the VM's size. */
  format: 'png' | 'jpeg' | 'raw';
  /** JPEG quality 1–100 (default 85). */
  quality?: number;
}

export interface FrameFormat {
  format?: 'RGBA' | 'BGR' | 'I420';
  width?: number;
  height?: number;
}

export function checkScreenshotOptions(options: ScreenshotOptions): void {
  if (!options || typeof options !== 'object' || !['png', 'jpeg', 'raw'].includes(options.format)) {
    throw new InvalidArgumentError(`screenshot: format must be "png", "jpeg" or "raw" (got ${JSON.stringify(options?.format)})`);
  }
  if (options.quality !== undefined) wholeNumber(options.quality, 'screenshot: quality', { min: 1, max: 100 });
}

const FORMATS = ['RGBA', 'BGR', 'I420'] as const;
const roundUp4 = (n: number) => (n + 3) & ~3;

/** GStreamer's default row stride of the first plane. */
function strideOf(format: Frame['format'], width: number): number {
  if (format === 'RGBA') return width * 4;
  if (format === 'BGR') return roundUp4(width * 3);
  return roundUp4(width); // I420's Y plane
}

// Caps of a tightly packed RGBA frame (what the view decodes to) for the encoder's appsrc.
const rgbaCaps = (width: number, height: number) => `video/x-raw,format=RGBA,width=${width},height=${height},framerate=0/1`;

/** An RGBA frame's rows without padding (a copy when the stride pads them). */
function packedRgba(frame: Frame): Buffer {
  const row = frame.width * 4;
  if (frame.stride === row || frame.stride === 0) return frame.data.subarray(0, row * frame.height);
  const out = Buffer.alloc(row * frame.height);
  for (let y = 0; y < frame.height; y++) frame.data.copy(out, y * row, y * frame.stride, y * frame.stride + row);
  return out;
}

/**
 * Screenshots, and the frames an agent sees in the format and size it asked for. One native encoder,
 * created on first use and closed with the view.
 */
export class FrameConverter {
  readonly #wanted: FrameFormat;
  #native: NativeImageEncoder | undefined;
  #closed = false;
  // One conversion of a user frame at a time; the newest frame waits, older ones are dropped.
  #busy = false;
  #next: { frame: Frame; deliver: (frame: Frame) => void } | undefined;
  #skipped = 0;

  constructor(wanted: FrameFormat) {
    const format = wanted.format ?? 'RGBA';
    if (!FORMATS.includes(format)) throw new InvalidArgumentError(`view(): video.format must be "RGBA", "BGR" or "I420" (got ${JSON.stringify(wanted.format)})`);
    for (const key of ['width', 'height'] as const) {
      if (wanted[key] !== undefined) wholeNumber(wanted[key], `view(): video.${key}`, { min: 16, max: 7680, even: true });
    }
    this.#wanted = { ...wanted, format };
  }

  /** The screenshot of `frame` (RGBA at the VM's size). */
  async screenshot(frame: Frame, options: ScreenshotOptions): Promise<Buffer> {
    if (options.format === 'raw') return Buffer.from(packedRgba(frame));
    // A screen is opaque: RGB, not RGBA (a quarter fewer bytes to compress). Level 3: most of level
    // 6's compression on screen content at a fifth of the time.
    const encoder = options.format === 'png' ? 'video/x-raw,format=RGB ! pngenc compression-level=3' : `jpegenc quality=${options.quality ?? 85}`;
    return this.#run(packedRgba(frame), rgbaCaps(frame.width, frame.height), `videoconvert ! ${encoder}`);
  }

  /** `frame` as the agent asked for it, to `deliver` (at once when nothing is to change). */
  forUser(frame: Frame, deliver: (frame: Frame) => void): void {
    const size = this.#sizeFor(frame);
    if (this.#wanted.format === 'RGBA' && size.width === frame.width && size.height === frame.height) {
      deliver(frame);
      return;
    }
    if (this.#next) this.#skipped++;
    this.#next = { frame, deliver };
    if (!this.#busy) void this.#convertNext();
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#next = undefined;
    const native = this.#native;
    this.#native = undefined;
    return native ? native.close() : Promise.resolve();
  }

  // The asked size; one side alone keeps the aspect ratio (rounded to even, as 4:2:0 wants).
  #sizeFor(frame: Frame): { width: number; height: number } {
    const { width, height } = this.#wanted;
    if (width !== undefined && height !== undefined) return { width, height };
    if (width !== undefined) return { width, height: Math.max(2, Math.round((frame.height * width) / frame.width / 2) * 2) };
    if (height !== undefined) return { width: Math.max(2, Math.round((frame.width * height) / frame.height / 2) * 2), height };
    return { width: frame.width, height: frame.height };
  }

  async #convertNext(): Promise<void> {
    this.#busy = true;
    try {
      while (this.#next && !this.#closed) {
        const { frame, deliver } = this.#next;
        this.#next = undefined;
        const size = this.#sizeFor(frame);
        const format = this.#wanted.format!;
        const description = `videoscale ! videoconvert ! video/x-raw,format=${format},width=${size.width},height=${size.height},pixel-aspect-ratio=1/1`;
        let data: Buffer;
        try {
          data = await this.#run(packedRgba(frame), rgbaCaps(frame.width, frame.height), description);
        } catch {
          if (this.#closed) return;
          continue; // one frame lost; the next one tries again
        }
        if (this.#closed) return;
        deliver({ ...frame, data, format, width: size.width, height: size.height, stride: strideOf(format, size.width), dropped: frame.dropped + this.#skipped });
      }
    } finally {
      this.#busy = false;
    }
  }

  async #run(data: Buffer, caps: string, description: string): Promise<Buffer> {
    if (this.#closed) throw new InvalidStateError('the view is closed');
    if (!this.#native) {
      const binding = loadBinding();
      try {
        this.#native = new binding.NativeImageEncoder();
      } catch (error) {
        throw fromNative(error, 'NativeImageEncoder');
      }
    }
    try {
      return await this.#native.encode(data, caps, description);
    } catch (error) {
      throw fromNative(error, 'image encoding');
    }
  }
}
