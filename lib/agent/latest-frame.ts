// The latest-frame async iterator of RemoteView.frames(): each next() gets the newest frame not yet
// handed out (waiting for one when there is none). Frames that came and went meanwhile are counted in
// `dropped`, never queued: at most one frame waits, however slow the consumer.
import type { Frame } from '../types.js';

export class LatestFrame {
  #latest: Frame | undefined;
  #waiter: ((result: IteratorResult<Frame>) => void) | undefined;
  #skipped = 0;
  #ended = false;

  /** A new frame: to the waiting next(), or kept as the newest (replacing an untaken one). */
  push(frame: Frame): void {
    if (this.#ended) return;
    const wake = this.#waiter;
    if (wake) {
      this.#waiter = undefined;
      wake({ value: this.#stamp(frame), done: false });
      return;
    }
    if (this.#latest) this.#skipped++;
    this.#latest = frame;
  }

  end(): void {
    this.#ended = true;
    this.#latest = undefined;
    this.#waiter?.({ value: undefined, done: true });
    this.#waiter = undefined;
  }

  get ended(): boolean {
    return this.#ended;
  }

  next(): Promise<IteratorResult<Frame>> {
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    const latest = this.#latest;
    if (latest) {
      this.#latest = undefined;
      return Promise.resolve({ value: this.#stamp(latest), done: false });
    }
    // One consumer per iterator: a second next() before the first settled takes its place.
    this.#waiter?.({ value: undefined, done: true });
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  #stamp(frame: Frame): Frame {
    const dropped = frame.dropped + this.#skipped;
    return dropped === frame.dropped ? frame : { ...frame, dropped };
  }
}
