// Applies validated input messages to an X display through XTest (native), scaled to its screen.
import type { ScreenRegion } from '../types.js';
import { loadBinding, type NativeXInput } from '../native/binding.js';
import { WebRtcBinError, fromNative } from '../errors.js';
import { keysymFor, X_BUTTON, type TypedKey } from './keysyms.js';
import type { InputMessage } from './protocol.js';
import { REMAP_GAP_MS } from './limits.js';

export class InputInjector {
  #x: NativeXInput;
  #size: { width: number; height: number };
  #region: ScreenRegion | undefined;
  /** The last character typed through the spare keycode, and when. */
  #lastRemap: { keysym: string | number; at: number } | undefined;

  /** `region`: the captured rectangle, when not the whole screen (pointer fractions map into it). */
  constructor(display: string, region?: ScreenRegion) {
    this.#region = region;
    try {
      this.#x = new (loadBinding().NativeXInput)(display);
    } catch (error) {
      throw fromNative(error, 'input');
    }
    this.#size = this.#x.size() ?? { width: 1, height: 1 };
  }

  /** After the screen was resized (RandR): pointer fractions map onto the new size. */
  setScreenSize(size: { width: number; height: number }): void {
    this.#size = { width: size.width, height: size.height };
  }

  #at(x: number, y: number): void {
    const r = this.#region;
    if (r) this.#x.move(r.x + Math.round(x * (r.width - 1)), r.y + Math.round(y * (r.height - 1)));
    else this.#x.move(Math.round(x * (this.#size.width - 1)), Math.round(y * (this.#size.height - 1)));
  }

  /** Returns false for keys with no X equivalent (ignored). */
  apply(message: Exclude<InputMessage, { t: 'take-control' }>): boolean {
    switch (message.t) {
      case 'move':
        this.#at(message.x, message.y);
        return true;
      case 'button':
        if (message.x !== undefined && message.y !== undefined) this.#at(message.x, message.y);
        this.#x.button(X_BUTTON[message.button]!, message.down);
        return true;
      case 'wheel': {
        const button = message.dy < 0 ? 4 : message.dy > 0 ? 5 : message.dx < 0 ? 6 : message.dx > 0 ? 7 : 0;
        if (!button) return false;
        this.#x.button(button, true);
        this.#x.button(button, false);
        return true;
      }
      case 'key': {
        const keysym = keysymFor(message.key);
        return keysym === undefined ? false : this.#x.key(keysym, message.down);
      }
    }
  }

  /**
   * Types keys (typingPlan()) in order, Shift pressed and released around the shifted ones, paced
   * where the spare keycode is remapped. Stops early when `proceed()` turns false (control lost, agent
   * closing). Resolves with the number of keys typed; a key X has no keysym for throws.
   */
  async type(keys: TypedKey[], proceed: () => boolean): Promise<number> {
    let shift = false;
    let typed = 0;
    try {
      for (const key of keys) {
        if (!proceed()) break;
        if (key.remap && this.#lastRemap && this.#lastRemap.keysym !== key.keysym) {
          const wait = this.#lastRemap.at + REMAP_GAP_MS - performance.now();
          if (wait > 0) {
            await new Promise((resolve) => setTimeout(resolve, wait));
            if (!proceed()) break;
          }
        }
        if (key.shift !== shift) {
          this.#x.key('Shift_L', key.shift);
          shift = key.shift;
        }
        if (!this.#x.key(key.keysym, true) || !this.#x.key(key.keysym, false)) {
          const name = typeof key.keysym === 'number' ? `0x${key.keysym.toString(16)}` : key.keysym;
          throw new WebRtcBinError(`X could not type keysym ${name} (the display is gone, or it has no such key)`, 'ERR_X_INPUT');
        }
        if (key.remap) this.#lastRemap = { keysym: key.keysym, at: performance.now() };
        typed++;
      }
    } finally {
      if (shift) this.#x.key('Shift_L', false);
    }
    return typed;
  }

  close(): void {
    this.#x.close();
  }
}
