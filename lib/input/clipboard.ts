// lib/input/: remote control of an X display: the input messages, keysyms, injection, clipboard, resize.
// The X CLIPBOARD selection as an EventEmitter over the native NativeXClipboard (its own X connection
// and thread): setText() makes this process the owner of the text; `text` fires whenever another X
// client puts text on the clipboard. Texts over 1 MiB, or sent incrementally (INCR), are refused with a
// `warning`. A display that dies emits `error` (code ERR_X_DISPLAY_LOST) and the clipboard closes.
import { loadBinding, type NativeClipboardEvent, type NativeXClipboard } from '../native/binding.js';
import type { WebRtcBinError } from '../errors.js';
import { XWorkerEmitter } from './x-worker.js';

export interface XClipboardEvents {
  /** Another X client set the clipboard to this text. */
  text: [text: string];
  /** A clipboard text could not be fetched or set (too large, not text, no answer); it goes on. */
  warning: [WebRtcBinError];
  /** The X display went away; the clipboard is closed. */
  error: [WebRtcBinError];
}

export class XClipboard extends XWorkerEmitter<XClipboardEvents, Extract<NativeClipboardEvent, { type: 'text' }>, NativeXClipboard> {
  /** Throws WebRtcBinError ERR_X_DISPLAY when the display cannot be opened or has no XFIXES. */
  constructor(display: string) {
    super(display, (name) => new (loadBinding().NativeXClipboard)(name), 'clipboard');
  }

  protected onOwnEvent(event: Extract<NativeClipboardEvent, { type: 'text' }>): void {
    this.emit('text', event.text);
  }

  /** Puts `text` on the X CLIPBOARD (this process answers other clients' paste requests). */
  setText(text: string): void {
    if (!this.closing) this.native.setText(text);
  }

  /** Fetches the current clipboard text (emitted as `text`) unless this process owns it. */
  fetch(): void {
    if (!this.closing) this.native.fetch();
  }
}
