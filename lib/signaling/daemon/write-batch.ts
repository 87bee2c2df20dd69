// Coalescing socket writes per event-loop turn. `ws` writes every frame to its TCP socket at once, so
// a publisher that receives the candidates of 19 viewers in one turn costs 19 write syscalls. Corking
// the socket at its first message of a turn and uncorking every corked socket once, in the check phase
// of the same turn (setImmediate), makes them one writev: at 19,000 relayed msg/s one write per message
// was 3.5 s of the daemon's 11.4 s busy (docs/benchmarks.md 4a.1). Messages still go through ws.send in
// the order they were sent, so the order per socket is ws's; a lone message waits only until the
// loop's poll phase has handed out what arrived with it.
import type { Writable } from 'node:stream';

export class WriteBatcher {
  #corked = new Set<Writable>();
  #scheduled = false;

  /** Call before writing to `stream`: its writes of this turn go out together when the turn ends. */
  hold(stream: Writable): void {
    if (this.#corked.has(stream) || stream.destroyed) return;
    stream.cork();
    this.#corked.add(stream);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
  }

  /** Writes out what is held now (a socket about to be ended or destroyed). */
  release(stream: Writable): void {
    if (this.#corked.delete(stream)) stream.uncork();
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const corked = this.#corked;
    this.#corked = new Set();
    for (const stream of corked) stream.uncork();
  };
}
