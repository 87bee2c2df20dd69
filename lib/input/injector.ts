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
  /** Keysyms typed on spare keycodes, least recently pressed first, and when (the native pool's order). */
  #spares = new Map<string | number, number>();

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

  /**
   * Returns false for keys with no X equivalent (ignored). The events are flushed to the X server either
   * way; with `confirm` it returns after a round trip, once the server has processed them (an
   * acknowledgement sent then means they happened). Without, nothing waits on the server: a page's
   * stream of moves and keys (no acknowledgement asked) does not hold the event loop a round trip each.
   */
  apply(message: Exclude<InputMessage, { t: 'take-control' }>, confirm = true): boolean {
    const done = this.#inject(message);
    if (confirm) this.#x.sync();
    return done;
  }

  #inject(message: Exclude<InputMessage, { t: 'take-control' }>): boolean {
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
   * Types keys (typingPlan()) in order, with Shift held for those the keymap has on its shifted level.
   * A keysym the keymap lacks goes on a spare keycode (native, least recently pressed first); only when
   * every spare holds a character typed in the last REMAP_GAP_MS does it wait, so no X client reads a
   * keycode rebound under it. Stops early when `proceed()` turns false (control lost, agent closing).
   * Resolves, after a round trip to the X server, with the number of keys typed; a key X cannot type throws.
   */
  async type(keys: TypedKey[], proceed: () => boolean): Promise<number> {
    let shift = false;
    let typed = 0;
    try {
      for (const key of keys) {
        if (!proceed()) break;
        const level = this.#x.level(key.keysym);
        const spare = level < 0 || this.#spares.has(key.keysym);
        if (level < 0 && this.#spares.size >= this.#x.spares()) {
          // The native side rebinds the least recently pressed spare: the first in insertion order here.
          const [oldest, at] = this.#spares.entries().next().value!;
          const wait = at + REMAP_GAP_MS - performance.now();
          if (wait > 0) {
            await new Promise((resolve) => setTimeout(resolve, wait));
            if (!proceed()) break;
          }
          this.#spares.delete(oldest);
        }
        // Column 1 (and 3) is the shifted level; a spare keycode holds its keysym on both.
        const shifted = level >= 0 && level % 2 === 1;
        if (shifted !== shift) {
          this.#x.key('Shift_L', shifted);
          shift = shifted;
        }
        if (!this.#x.key(key.keysym, true) || !this.#x.key(key.keysym, false)) {
          const name = typeof key.keysym === 'number' ? `0x${key.keysym.toString(16)}` : key.keysym;
          throw new WebRtcBinError(`X could not type keysym ${name} (the display is gone, or it has no such key)`, 'ERR_X_INPUT');
        }
        if (spare) {
          this.#spares.delete(key.keysym);
          this.#spares.set(key.keysym, performance.now());
        }
        typed++;
      }
    } finally {
      if (shift) this.#x.key('Shift_L', false);
      this.#x.sync();
    }
    return typed;
  }

  close(): void {
    this.#x.close();
  }
}
