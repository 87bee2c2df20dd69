// Resuming an id whose instance crashed. A participant of a killed instance reconnects to another one
// within a second, but the dead instance's key lives up to a TTL, so Redis still says a live instance
// holds the id. The new instance asks that owner over the bus whether it still has an open socket for
// the id (`probe`); the owner answers `open: true` (a duplicate: the resume is refused, a new id as in
// one process) or `open: false` (free). Nobody answers: Redis delivered the probe to no subscriber
// (the owner's connections are gone: it died) or the owner did not answer in PROBE_TIMEOUT_MS (stalled
// or cut off): the id is taken over, and the owner is sent `took` so that, should it wake, it closes
// the socket it still has for that id instead of keeping two sockets for one id. Only a join whose
// resume key verified (an HMAC under the cluster's shared secret, resume.ts) ever probes.
import { randomBytes } from 'node:crypto';

/** Does the receiving instance still hold an open socket for participant `id` of session `s`? */
export interface Probe {
  k: 'probe';
  /** Correlation id (random): the answer names it. */
  c: string;
  /** The asking instance: where the answer goes. */
  from: string;
  s: string;
  id: string;
}

export interface ProbeAnswer {
  k: 'probed';
  c: string;
  /** True: the owner holds the id with its socket open (refuse the resume). */
  open: boolean;
}

/** Instance `i` took over participant `id` of session `s` from the receiving instance. */
export interface Took {
  k: 'took';
  s: string;
  id: string;
  i: string;
}

/** How long an owner that received a probe has to answer before it is taken for stalled. */
export const PROBE_TIMEOUT_MS = 500;

/** Probes waiting at once; beyond it a resume of a held id is refused (a new id), as before. */
export const MAX_PENDING_PROBES = 1024;

const text = (v: unknown, max: number) => typeof v === 'string' && v.length > 0 && v.length <= max;

/** A probe-family envelope from the bus, checked field by field (undefined: dropped). */
export function parseTakeover(e: Record<string, unknown>): Probe | ProbeAnswer | Took | undefined {
  if (e.k === 'probe' && text(e.c, 64) && text(e.from, 256) && text(e.s, 64) && text(e.id, 64)) return e as unknown as Probe;
  if (e.k === 'probed' && text(e.c, 64) && typeof e.open === 'boolean') return e as unknown as ProbeAnswer;
  if (e.k === 'took' && text(e.s, 64) && text(e.id, 64) && text(e.i, 256)) return e as unknown as Took;
  return undefined;
}

/** What the probe found: `free` may be taken over, `held` may not. */
export type ProbeVerdict = { free: true; why: 'released' | 'no-subscriber' | 'no-answer' } | { free: false; why: 'open' | 'unreachable' | 'busy' };

export interface ProberOptions {
  self: string;
  timeoutMs?: number;
  /** Publishes on `instance`'s channel; resolves to the number of subscribers that got it (Redis PUBLISH). */
  publish(instance: string, envelope: Probe): Promise<number>;
}

/** The asking side: probes by correlation id, each settled by its answer or its timeout. */
export class Prober {
  readonly #options: ProberOptions;
  readonly #pending = new Map<string, (verdict: ProbeVerdict) => void>();

  constructor(options: ProberOptions) {
    this.#options = options;
  }

  /**
   * Whether `owner` still holds `id` of `session`. Settles within the timeout whatever Redis does: a
   * probe Redis has not acknowledged by then (slow or away) is `unreachable` (not free: we cannot
   * tell a stalled owner from a slow Redis); one acknowledged but unanswered is `no-answer` (free).
   */
  probe(owner: string, session: string, id: string): Promise<ProbeVerdict> {
    if (this.#pending.size >= MAX_PENDING_PROBES) return Promise.resolve({ free: false, why: 'busy' });
    const c = randomBytes(12).toString('base64url');
    const timeoutMs = this.#options.timeoutMs ?? PROBE_TIMEOUT_MS;
    return new Promise<ProbeVerdict>((resolve) => {
      let delivered = false;
      const settle = (verdict: ProbeVerdict) => {
        if (!this.#pending.delete(c)) return;
        clearTimeout(timer);
        resolve(verdict);
      };
      const timer = setTimeout(() => settle(delivered ? { free: true, why: 'no-answer' } : { free: false, why: 'unreachable' }), timeoutMs);
      this.#pending.set(c, settle);
      this.#options.publish(owner, { k: 'probe', c, from: this.#options.self, s: session, id }).then(
        (receivers) => {
          delivered = true;
          // No subscriber on the owner's channel: its Redis connections closed with its process.
          if (receivers === 0) settle({ free: true, why: 'no-subscriber' });
        },
        () => settle({ free: false, why: 'unreachable' }),
      );
    });
  }

  /** An owner's answer; one nobody waits for (timed out already) is dropped. */
  answered(answer: ProbeAnswer): void {
    this.#pending.get(answer.c)?.(answer.open ? { free: false, why: 'open' } : { free: true, why: 'released' });
  }

  /** Settles every waiting probe as not free (the instance is closing). Idempotent. */
  close(): void {
    for (const settle of [...this.#pending.values()]) settle({ free: false, why: 'unreachable' });
  }
}
