// The X pointer as an EventEmitter over the native NativeXCursor (its own X connection and thread):
// `shape` whenever the displayed cursor changes (XFixes; a PNG made once per cursor, cached by its
// XFixes serial), `position` when the pointer moved, only while watch() is on (QueryPointer polled at
// most CURSOR_LIMITS.positionHz times a second, nothing sent while it stands still; unwatched, no
// polling at all). A display that dies emits `error` (ERR_X_DISPLAY_LOST) and the watcher closes.
import { loadBinding, type NativeCursorEvent, type NativeXCursor } from '../native/binding.js';
import type { WebRtcBinError } from '../errors.js';
import { CURSOR_LIMITS } from './limits.js';
import { encodePng } from './png.js';
import { XWorkerEmitter } from './x-worker.js';

export interface CursorShape {
  /** XFixes' serial of this cursor: the same cursor shown again has the same id. */
  id: number;
  width: number;
  height: number;
  /** The hotspot: the pixel of the image that is the pointer's position. */
  xhot: number;
  yhot: number;
  /** PNG, base64, at most CURSOR_LIMITS.maxSide a side and maxPngChars long. */
  png: string;
  /** False for a fully transparent cursor (an application hid the pointer). */
  visible: boolean;
}

export interface CursorPosition {
  /** Screen pixels of the X screen (root window). */
  x: number;
  y: number;
  /** False when the pointer is on another screen of the display. */
  onScreen: boolean;
  /** The X screen's size now (RandR may change it). */
  screenWidth: number;
  screenHeight: number;
}

export interface XCursorEvents {
  shape: [CursorShape];
  position: [CursorPosition];
  /** A shape could not be sent (too large); the watcher goes on. */
  warning: [WebRtcBinError];
  /** The X display went away; the watcher is closed. */
  error: [WebRtcBinError];
}

// Cursors an application cycles through (arrow, I-beam, hands, resize arrows, a busy animation's frames).
const CACHED_SHAPES = 64;

type OwnEvent = Exclude<NativeCursorEvent, { type: 'warning' | 'error' }>;

export class XCursorWatcher extends XWorkerEmitter<XCursorEvents, OwnEvent, NativeXCursor> {
  readonly #shapes = new Map<number, CursorShape>();
  #shape: CursorShape | undefined;
  #position: CursorPosition | undefined;
  #hz = 0;

  /** Throws WebRtcBinError ERR_X_DISPLAY when the display cannot be opened or has no XFIXES. */
  constructor(display: string) {
    super(display, (name) => new (loadBinding().NativeXCursor)(name), 'cursor');
  }

  /** The cursor showing now (undefined until the X thread has read it, within ms of construction). */
  get shape(): CursorShape | undefined {
    return this.#shape;
  }

  /** The last position read (undefined while never watched). */
  get position(): CursorPosition | undefined {
    return this.#position;
  }

  /** Polling counters of the native side: QueryPointer round trips, shapes read. */
  get stats(): { polls: number; shapes: number } {
    return this.native.stats();
  }

  /** Reads the position `hz` times a second (default CURSOR_LIMITS.positionHz), `position` on change. */
  watch(hz: number = CURSOR_LIMITS.positionHz): void {
    if (this.closing) return;
    if (!(Number.isInteger(hz) && hz >= 1 && hz <= 1000)) throw new RangeError(`XCursorWatcher.watch(): hz must be a whole number from 1 to 1000 (got ${hz})`);
    if (hz === this.#hz) return;
    this.#hz = hz;
    this.native.watchPosition(hz);
  }

  /** Stops reading the position: no X request at all until watch() again. */
  unwatch(): void {
    if (this.closing || this.#hz === 0) return;
    this.#hz = 0;
    this.native.watchPosition(0);
  }

  protected onOwnEvent(event: OwnEvent): void {
    if (event.type === 'shape') {
      let shape = this.#shapes.get(event.serial);
      if (!shape) {
        shape = toShape(event);
        this.#shapes.set(event.serial, shape);
        if (this.#shapes.size > CACHED_SHAPES) this.#shapes.delete(this.#shapes.keys().next().value!);
      }
      this.#shape = shape;
      this.emit('shape', shape);
    } else if (event.type === 'position') {
      this.#position = { x: event.x, y: event.y, onScreen: event.onScreen, screenWidth: event.screenWidth, screenHeight: event.screenHeight };
      this.emit('position', this.#position);
    }
  }
}

/** The native shape as the page gets it: scaled into CURSOR_LIMITS, PNG-encoded. */
export function toShape(event: { serial: number; width: number; height: number; xhot: number; yhot: number; rgba: Uint8Array }): CursorShape {
  let { width, height, xhot, yhot, rgba } = event;
  let visible = false;
  for (let i = 3; i < rgba.length; i += 4) {
    if (rgba[i] !== 0) {
      visible = true;
      break;
    }
  }
  let side: number = CURSOR_LIMITS.maxSide;
  for (;;) {
    if (width > side || height > side) {
      const scale = side / Math.max(width, height);
      const w = Math.max(1, Math.round(width * scale));
      const h = Math.max(1, Math.round(height * scale));
      rgba = scaleNearest(rgba, width, height, w, h);
      xhot = Math.min(w - 1, Math.floor(xhot * scale));
      yhot = Math.min(h - 1, Math.floor(yhot * scale));
      width = w;
      height = h;
    }
    const png = width && height ? encodePng(rgba, width, height).toString('base64') : '';
    if (png.length <= CURSOR_LIMITS.maxPngChars) return { id: event.serial, width, height, xhot, yhot, png, visible };
    side = Math.floor(Math.max(width, height) / 2); // a noisy image: halve until it fits (64×64 raw always does)
  }
}

function scaleNearest(rgba: Uint8Array, width: number, height: number, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(height - 1, Math.floor((y * height) / h));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(width - 1, Math.floor((x * width) / w));
      out.set(rgba.subarray((sy * width + sx) * 4, (sy * width + sx) * 4 + 4), (y * w + x) * 4);
    }
  }
  return out;
}
