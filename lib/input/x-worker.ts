// What the X clients on a thread of their own (src-native/x11/x_worker.h: the clipboard, the cursor)
// share on the JS side: opening with a worded error, close() once, ref/unref, and the two events every
// one of them has: `warning` (something could not be done; it goes on) and `error` (the display went
// away; it closes).
import { EventEmitter } from 'node:events';
import { WebRtcBinError } from '../errors.js';
import { emitError } from '../util/emit.js';

/** The events every worker has; each adds its own. */
export interface XWorkerEvents {
  warning: [WebRtcBinError];
  error: [WebRtcBinError];
}

type CommonEvent = { type: 'warning' | 'error'; code: string; message: string };

/** The native side: its own events besides CommonEvent, and the methods x_worker.h gives every worker. */
export interface XWorkerNative<Own> {
  onevent?: (event: Own | CommonEvent) => void;
  close(): Promise<void>;
  ref(): void;
  unref(): void;
}

export abstract class XWorkerEmitter<Events extends XWorkerEvents & Record<keyof Events, unknown[]>, Own extends { type: string }, Native extends XWorkerNative<Own>> extends EventEmitter<Events> {
  readonly display: string;
  protected readonly native: Native;
  #closing: Promise<void> | undefined;

  /** Throws WebRtcBinError ERR_X_DISPLAY when the display cannot be opened or lacks what it needs. */
  protected constructor(display: string, open: (display: string) => Native, source: string) {
    super();
    this.display = display;
    try {
      this.native = open(display);
    } catch (error) {
      const e = error as { message?: string; code?: string };
      throw new WebRtcBinError(e.message ?? String(error), e.code ?? 'ERR_X_DISPLAY');
    }
    this.native.onevent = (event) => {
      if (event.type !== 'warning' && event.type !== 'error') return this.onOwnEvent(event as Own);
      const { code, message } = event as CommonEvent;
      const emitter = this as unknown as EventEmitter<XWorkerEvents>;
      if (event.type === 'warning') emitter.emit('warning', new WebRtcBinError(message, code));
      else {
        void this.close();
        emitError(emitter, new WebRtcBinError(message, code), { source });
      }
    };
  }

  /** One of the worker's own events (not a warning or error). */
  protected abstract onOwnEvent(event: Own): void;

  /** close() was called (or the display went away): commands are ignored from now on. */
  protected get closing(): boolean {
    return this.#closing !== undefined;
  }

  /** Ends the X thread and closes the connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.native.close();
    return this.#closing;
  }

  /** An open worker keeps the process alive, like a socket; unref() lets it exit anyway. */
  unref(): this {
    this.native.unref();
    return this;
  }

  ref(): this {
    this.native.ref();
    return this;
  }
}
