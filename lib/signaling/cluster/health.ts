// Redis health as the daemon acts on it. While Redis is away: participants already joined keep their
// sockets and their media (it never crosses the daemon), relays between participants of one instance
// still flow, relays to other instances are lost, and new joins are refused with `cluster-unavailable`
// (the client retries with backoff): without Redis no instance can check the one-publisher and
// per-token limits. When Redis is back, a grace period (one TTL plus a heartbeat) passes before any
// instance is declared dead, so every instance has re-registered its participants first.
import type { ClusterCounts } from './presence.js';
import { renderMetrics, type Metric } from '../../util/prometheus.js';

export class RedisHealth {
  #up = false;
  #everUp = false;
  #since = Date.now();
  #graceUntil = 0;

  constructor(readonly graceMs: number) {}

  get up(): boolean {
    return this.#up;
  }

  /** Whether this is a return (re-register everything) rather than the first connection. */
  markUp(now = Date.now()): boolean {
    const returning = this.#everUp && !this.#up;
    if (!this.#up) this.#since = now;
    this.#up = true;
    this.#everUp = true;
    if (returning) this.#graceUntil = now + this.graceMs;
    return returning;
  }

  /** Redis lost what we registered (a restart while connected): the same grace as a reconnect. */
  restartGrace(now = Date.now()): void {
    this.#graceUntil = now + this.graceMs;
  }

  /** Whether this was a change (log it once). */
  markDown(now = Date.now()): boolean {
    if (!this.#up) return false;
    this.#up = false;
    this.#since = now;
    return true;
  }

  /** Whether other instances' absence may be believed (up, and past the grace period). */
  maySweep(now = Date.now()): boolean {
    return this.#up && now >= this.#graceUntil;
  }

  /** Whether Redis came back less than the grace period ago (the mirrors are reconciled once it ends). */
  inGrace(now = Date.now()): boolean {
    return now < this.#graceUntil;
  }

  /** `/healthz` fields: `redis` up or down, and since when (ms ago). */
  fields(now = Date.now()): { redis: 'up' | 'down'; redisSinceMs: number } {
    return { redis: this.#up ? 'up' : 'down', redisSinceMs: now - this.#since };
  }
}

/** The cluster's part of /metrics (Prometheus text). `counts` undefined: Redis could not be read. */
export function renderClusterMetrics(up: boolean, counts: ClusterCounts | undefined): string {
  const metrics: Metric[] = [{ name: 'webrtcbin_cluster_redis_up', help: "Whether this instance reaches the cluster's Redis.", type: 'gauge', samples: [{ value: up ? 1 : 0 }] }];
  if (counts) {
    metrics.push(
      { name: 'webrtcbin_cluster_instances', help: 'Live daemon instances sharing this Redis.', type: 'gauge', samples: [{ value: counts.instances }] },
      {
        name: 'webrtcbin_cluster_sessions',
        help: "Sessions with a participant on any instance (as of each instance's last heartbeat).",
        type: 'gauge',
        samples: [{ value: counts.sessions }],
      },
      {
        name: 'webrtcbin_cluster_peers',
        help: "Joined participants on every instance, by role (as of each instance's last heartbeat).",
        type: 'gauge',
        samples: [
          { labels: { role: 'publisher' }, value: counts.publishers },
          { labels: { role: 'viewer' }, value: counts.viewers },
        ],
      },
    );
  }
  return renderMetrics(metrics);
}
