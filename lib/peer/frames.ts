// The frames a receiving peer hands to JS. The native side owns what waits (src-native/peer/frames.cc:
// the newest decoded frame, or every compressed one in a bounded queue, and the `dropped` count of
// what JS never got); this side keeps no frame. It tells the native side when JS wants frames ('frame'
// listeners: as they arrive; an iterator in next(): what waits, now) and hands each frame that crosses
// to the waiting iterator.
import type { Frame } from '../types.js';

export class FrameHandOff {
  readonly #want: (listening: boolean, waiting: boolean) => void;
  readonly #listening: () => boolean;
  #waiter: ((result: IteratorResult<Frame>) => void) | undefined;
  #iterating = false;
  // Frames that crossed for 'frame' listeners while an iterator was busy: it never got them.
  #missed = 0;
  #ended = false;
  #told = { listening: false, waiting: false };

  /** `want` tells the native side; `listening` says whether the peer has 'frame' listeners. */
  constructor(want: (listening: boolean, waiting: boolean) => void, listening: () => boolean) {
    this.#want = want;
    this.#listening = listening;
  }

  /** Call when 'frame' listeners come or go (`adding`: one is about to be added). */
  update(adding = false): void {
    if (this.#ended) return;
    const listening = adding || this.#listening();
    const waiting = this.#waiter !== undefined;
    if (listening === this.#told.listening && waiting === this.#told.waiting) return;
    this.#told = { listening, waiting };
    this.#want(listening, waiting);
  }

  /** A frame crossed: to the waiting iterator, if any. */
  deliver(frame: Frame): void {
    if (this.#ended) return;
    const wake = this.#waiter;
    this.#waiter = undefined;
    if (wake) wake({ value: { ...frame, dropped: frame.dropped + this.#missed }, done: false });
    else if (this.#iterating) this.#missed++;
  }

  end(): void {
    this.#ended = true;
    this.#waiter?.({ value: undefined, done: true });
    this.#waiter = undefined;
  }

  iterate(): AsyncIterableIterator<Frame> {
    const self = this;
    this.#iterating = true;
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      next(): Promise<IteratorResult<Frame>> {
        if (self.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          self.#waiter = resolve;
          self.update();
        });
      },
      return(): Promise<IteratorResult<Frame>> {
        self.#iterating = false;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
