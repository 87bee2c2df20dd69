// The frames a receiving peer hands to JS: the newest decoded frame waits in one slot (a slow reader
// skips to the newest); compressed frames queue instead, bounded, since each one matters.
import type { Frame } from '../types.js';

// One slot: a frame waits here until the iterator takes it; a newer one replaces it.
// (For compressed frames every one matters: they queue instead, bounded.)
export class LatestFrame {
  #queue: Frame[] = [];
  readonly #keepAll: boolean;
  constructor(keepAll = false) {
    this.#keepAll = keepAll;
  }
  #frame: Frame | undefined;
  #replaced = 0;
  #waiter: ((result: IteratorResult<Frame>) => void) | undefined;
  #ended = false;

  offer(frame: Frame): void {
    if (this.#ended) return;
    if (this.#waiter) {
      const wake = this.#waiter;
      this.#waiter = undefined;
      wake({ value: { ...frame, dropped: frame.dropped + this.#replaced }, done: false });
      return;
    }
    if (this.#keepAll) {
      if (this.#queue.length >= 300) {
        this.#queue.shift();
        this.#replaced++;
      }
      this.#queue.push(frame);
      return;
    }
    if (this.#frame) this.#replaced++;
    this.#frame = frame;
  }

  end(): void {
    this.#ended = true;
    this.#frame = undefined;
    this.#queue = [];
    this.#waiter?.({ value: undefined, done: true });
    this.#waiter = undefined;
  }

  iterate(): AsyncIterableIterator<Frame> {
    const self = this;
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      next(): Promise<IteratorResult<Frame>> {
        const queued = self.#queue.shift();
        if (queued) return Promise.resolve({ value: { ...queued, dropped: queued.dropped + self.#replaced }, done: false });
        if (self.#frame) {
          const frame = self.#frame;
          self.#frame = undefined;
          return Promise.resolve({ value: { ...frame, dropped: frame.dropped + self.#replaced }, done: false });
        }
        if (self.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (self.#waiter = resolve));
      },
      return(): Promise<IteratorResult<Frame>> {
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

