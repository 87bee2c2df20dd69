// lib/input/: remote control of an X display: the input messages, keysyms, injection, clipboard, resize.
// The X CLIPBOARD selection as an EventEmitter over the native NativeXClipboard (its own X connection
// and thread): setText() makes this process the owner of the text; `text` fires whenever another X
// client puts text on the clipboard. Texts over 1 MiB, or sent incrementally (INCR), are refused with a
// `warning`. A display that dies emits `error` (code ERR_X_DISPLAY_LOST) and the clipboard closes.
import { EventEmitter } from 'node:events';
import { loadBinding, type NativeClipboardEvent, type NativeXClipboard } from '../native/binding.js';
import { WebRtcBinError } from '../errors.js';
import { emitError } from '../util/emit.js';

export interface XClipboardEvents {
  /** Another X client set the clipboard to this text. */
  text: [text: string];
  /** A clipboard text could not be fetched or set (too large, not text, no answer); it goes on. */
  warning: [WebRtcBinError];
  /** The X display went away; the clipboard is closed. */
  error: [WebRtcBinError];
}

export class XClipboard extends EventEmitter<XClipboardEvents> {
  readonly display: string;
  #native: NativeXClipboard;
  #closing: Promise<void> | undefined;

  /** Throws WebRtcBinError ERR_X_DISPLAY when the display cannot be opened or has no XFIXES. */
  constructor(display: string) {
    super();
    this.display = display;
    try {
      this.#native = new (loadBinding().NativeXClipboard)(display);
    } catch (error) {
      const e = error as { message?: string; code?: string };
      throw new WebRtcBinError(e.message ?? String(error), e.code ?? 'ERR_X_DISPLAY');
    }
    this.#native.onevent = (event) => this.#onEvent(event);
  }

  #onEvent(event: NativeClipboardEvent): void {
    if (event.type === 'text') {
      this.emit('text', event.text);
    } else if (event.type === 'warning') {
      this.emit('warning', new WebRtcBinError(event.message, event.code));
    } else {
      void this.close();
      emitError(this, new WebRtcBinError(event.message, event.code), { source: 'clipboard' });
    }
  }

  /** Puts `text` on the X CLIPBOARD (this process answers other clients' paste requests). */
  setText(text: string): void {
    if (!this.#closing) this.#native.setText(text);
  }

  /** Fetches the current clipboard text (emitted as `text`) unless this process owns it. */
  fetch(): void {
    if (!this.#closing) this.#native.fetch();
  }

  /** Releases the selection, ends the X thread and closes the connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#native.close();
    return this.#closing;
  }

  /** An open clipboard keeps the process alive, like a socket; unref() lets it exit anyway. */
  unref(): this {
    this.#native.unref();
    return this;
  }

  ref(): this {
    this.#native.ref();
    return this;
  }
}
