// A viewer's "make the remote screen my window's size", over the native NativeXScreen (RandR on its
// own X connection, synchronous: a few requests to a local server). Requests are rate limited and
// answered with a `resize-result` message, never thrown: a refusal says why in words a viewer can show.
import { loadBinding, type NativeXScreen, type ScreenSize as Size } from '../native/binding.js';
import { WebRtcBinError } from '../errors.js';
import type { ResizeRefusal, ResizeResult } from './protocol.js';

const REFUSAL: Record<string, ResizeRefusal> = {
  ERR_X_RESIZE_UNSUPPORTED: 'unsupported',
  ERR_X_RESIZE_RANGE: 'out-of-range',
};

export class ScreenResizer {
  readonly display: string;
  readonly minIntervalMs: number;
  #native: NativeXScreen | undefined;
  #last = -Infinity;

  /** Throws WebRtcBinError ERR_X_DISPLAY when the display cannot be opened. */
  constructor(display: string, options: { minIntervalMs?: number } = {}) {
    this.display = display;
    this.minIntervalMs = options.minIntervalMs ?? 1000;
    try {
      this.#native = new (loadBinding().NativeXScreen)(display);
    } catch (error) {
      const e = error as { message?: string; code?: string };
      throw new WebRtcBinError(e.message ?? String(error), e.code ?? 'ERR_X_DISPLAY');
    }
  }

  /** The screen's current size (null once closed or when the display is gone). */
  size(): Size | null {
    return this.#native?.size() ?? null;
  }

  /** What the server allows (null without RandR 1.2). Xvfb: at most the size it started with. */
  range(): { minWidth: number; minHeight: number; maxWidth: number; maxHeight: number } | null {
    return this.#native?.range() ?? null;
  }

  /** Resizes the screen, at most once per `minIntervalMs`; the answer for the viewer either way. */
  request(width: number, height: number): ResizeResult {
    const now = performance.now();
    const current = this.size() ?? { width: 0, height: 0 };
    const refuse = (code: ResizeRefusal, message: string): ResizeResult => ({ t: 'resize-result', ok: false, ...current, code, message });
    if (!this.#native) return refuse('failed', 'the screen resizer is closed');
    if (now - this.#last < this.minIntervalMs) {
      return refuse('rate-limited', `one resize per ${this.minIntervalMs} ms: ask again after that`);
    }
    this.#last = now;
    if (current.width === width && current.height === height) return { t: 'resize-result', ok: true, width, height };
    try {
      return { t: 'resize-result', ok: true, ...this.#native.setSize(width, height) };
    } catch (error) {
      const e = error as { message?: string; code?: string };
      return refuse(REFUSAL[e.code ?? ''] ?? 'failed', e.message ?? String(error));
    }
  }

  close(): void {
    this.#native?.close();
    this.#native = undefined;
  }
}
