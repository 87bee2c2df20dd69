// Counters for the per-IP socket cap and the per-token participant cap. Both hand out a release
// function that is safe to call more than once, so every exit path may call it.

/** Concurrent holders per key (an IP, a token). `max` ≤ 0: unlimited. */
export class ConcurrencyCap {
  readonly #held = new Map<string, number>();
  constructor(readonly max: number) {}

  /** A release function, or undefined when `key` already holds `max`. */
  acquire(key: string): (() => void) | undefined {
    if (!(this.max > 0)) return () => {};
    const n = this.#held.get(key) ?? 0;
    if (n >= this.max) return undefined;
    this.#held.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#held.get(key) ?? 1) - 1;
      if (left > 0) this.#held.set(key, left);
      else this.#held.delete(key);
    };
  }

  held(key: string): number {
    return this.#held.get(key) ?? 0;
  }

  /** Keys with at least one holder (for tests and metrics). */
  get size(): number {
    return this.#held.size;
  }
}

/** A token's identity for the cap: its signature (never logged, never stored beyond the count). */
export function tokenKey(token: string): string {
  return token.slice(token.lastIndexOf('.') + 1);
}
