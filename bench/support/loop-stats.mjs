// Where a process's event loop went during a measurement window: how late a 1 ms timer ran (event-loop
// delay) and the garbage collector's pauses. The load generator and the daemon child
// (bench/support/daemon-child.mjs) both keep one, so a relay latency tail can be put on the process
// that caused it (bench/cluster-sockets.ts). Plain JS: the daemon child runs without tsx.
import { PerformanceObserver, constants, monitorEventLoopDelay } from 'node:perf_hooks';

const RESOLUTION_MS = 1;

export class LoopStats {
  #delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  #gc = LoopStats.#emptyGc();
  #observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const gc = this.#gc;
      gc.count++;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
      if (entry.duration >= 10) gc.over10ms++;
      const kind = entry.detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
    }
  });

  static #emptyGc() {
    return { count: 0, major: 0, totalMs: 0, maxMs: 0, over10ms: 0 };
  }

  start() {
    this.#delay.enable();
    this.#observer.observe({ entryTypes: ['gc'] });
    return this;
  }

  reset() {
    this.#delay.reset();
    this.#gc = LoopStats.#emptyGc();
  }

  /** Delay in ms beyond the 1 ms sampling interval (the histogram records the whole interval). */
  read() {
    const late = (ns) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
    const d = this.#delay;
    return {
      delay: { p50: late(d.percentile(50)), p99: late(d.percentile(99)), p999: late(d.percentile(99.9)), max: late(d.max), samples: d.count },
      gc: { ...this.#gc },
    };
  }

  stop() {
    this.#delay.disable();
    this.#observer.disconnect();
  }
}
