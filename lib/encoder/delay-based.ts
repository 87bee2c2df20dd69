// The delay-based rate estimator over transport-wide congestion control feedback (draft-ietf-rmcat-gcc):
// the trendline's overuse signal (trendline.ts) drives an AIMD rate controller (overuse → 0.85 × the
// rate that got through; normal → increase, multiplicative far from the last known capacity and
// additive near it; underuse → hold while the queue drains), bounded by a loss-based controller.
// Each frame leaves unpaced, so its packets arrive at the bottleneck's rate: the link's rate (linkKbps).
// With no capacity known (at the start, or once the link drains frames far faster than the capacity
// known: a cap lifted) and that room, the increase doubles the rate each second: GCC's probes find a
// link in a second or two, and our frames are probes too.
// Pure: feedback in (with its own times), a target out. No timers, no clock.
import { Trendline, type TrendlineOptions, type TwccPacket, type Usage } from './trendline.js';

export type { TwccPacket, Usage } from './trendline.js';

export interface DelayBasedOptions extends TrendlineOptions {
  /** kbit/s the target never goes below (default 150). */
  min?: number;
  /** kbit/s the target never goes above: the configured video bitrate. */
  max: number;
  /** Initial target, kbit/s (default max). */
  start?: number;
  /**
   * Multiplicative increase per second with no capacity known and room on the link (default 1,
   * doubling: 1→6 Mbit/s in ~2.6 s; GCC's 8 %/s relies on its probes to find a link fast).
   */
  increasePerSecond?: number;
  /**
   * Recover fast (default true): a known capacity is forgotten once the link drains our frames 1.5 × faster
   * than it for 300 ms (a cap lifted), and the fast increase runs only with no capacity known and that
   * room (25 %/s otherwise). false: the capacity is left only once the received rate passes it, and far
   * from it the increase is always `increasePerSecond` (the estimator before this, with 0.25).
   */
  fastRecovery?: boolean;
  /**
   * The increase stops at this share of the link's rate (linkKbps; default 0.9; 1: no bound). It trades
   * ~10 % of the bitrate on a link that is the bottleneck for latency: run below its rate, the link
   * keeps no standing queue and the controller no sawtooth (bench/congestion.ts, bufferbloat link).
   */
  linkShare?: number;
  /** Minimum time between two decreases, ms (default 300: a decrease takes one RTT and a frame to show). */
  decreaseIntervalMs?: number;
  /** Window of the received-rate measure, ms (default 500). */
  ackedWindowMs?: number;
  /**
   * A standing queue this long (ms above the lowest one-way delay of the last 30 s, in two feedbacks
   * in a row) counts as overuse too (default 40): a full tail-drop queue shows no delay gradient, a
   * bufferbloated uplink can hold one for seconds, and a 50 ms one under random loss hides behind it.
   */
  standingQueueMs?: number;
}

export interface DelayBasedEstimate {
  /** The target, kbit/s. */
  target: number;
  /** Why the target is what it is after this feedback. */
  reason: 'overuse' | 'queue' | 'loss' | 'increase' | 'hold';
  usage: Usage;
  /** One-way delay above the lowest of the last 30 s, ms (the standing queue), when known. */
  queueDelayMs?: number;
  /** Loss over the last packets reported (at least ~50 of them), 0–1. */
  lossFraction: number;
  /** What the receiver got over the last ackedWindowMs, kbit/s, when known. */
  ackedKbps?: number;
  /** The rate the link drains our frames at (the median over the last bursts), kbit/s, when known. */
  linkKbps?: number;
  /** The trend compared with the threshold (ms) and the threshold. */
  trend: number;
  threshold: number;
}

const BASE_WINDOW_MS = 30_000;
const BUCKET_MS = 250;
/** The link has room when it drains our frames at this many times our rate or more. */
const ROOM = 1.5;
/** A link that drains frames ROOM × faster than the capacity known, this long (ms): that capacity is stale. */
const STALE_MS = 300;
/** Packets sent within this many ms of a burst's first are one burst (a frame, sent unpaced). */
const BURST_MS = 5;
/** The link rate is the median over this many bursts. */
const BURSTS = 15;
/** The multiplicative increase per second far from a known capacity when some queue shows. */
const FAR_INCREASE = 0.25;

export class DelayBasedEstimator {
  readonly min: number;
  readonly max: number;
  readonly #trendline: Trendline;
  readonly #increasePerSecond: number;
  readonly #fastRecovery: boolean;
  readonly #linkShare: number;
  readonly #decreaseIntervalMs: number;
  readonly #ackedWindowMs: number;
  #target: number;
  #lossBound: number;
  #lastSeq: number | undefined; // unwrapped
  #acked: { at: number; size: number }[] = [];
  // Lowest one-way delay per bucket of send time: the base the queueing delay is measured from.
  #owdBuckets: { at: number; min: number }[] = [];
  #lastOwd: number | undefined;
  // Packets reported since the last loss decision, and the loss of the last complete window.
  #lossWindow = { lost: 0, total: 0 };
  #lossFraction = 0;
  #lossDecided = false;
  #lastDecrease = -Infinity;
  #lastLossCut = -Infinity;
  #lastUpdate: number | undefined;
  // The capacity measured at overuse: its running mean and variance (kbit/s), libwebrtc's "link capacity".
  #capacity: { mean: number; variance: number } | undefined;
  #usage: Usage = 'normal';
  readonly #standingQueueMs: number;
  #standing = 0; // feedbacks in a row with a standing queue
  #fasterSince: number | undefined; // since when the link has drained frames far faster than the capacity
  // The arrival rate of the last frames' bursts (kbit/s), and the burst being gathered.
  #burstRates: { at: number; kbps: number }[] = [];
  #currentBurst: { firstSend: number; firstArrival: number; lastArrival: number; firstSize: number; bytes: number; packets: number } | undefined;

  constructor(options: DelayBasedOptions) {
    this.max = options.max;
    this.min = Math.min(options.min ?? 150, this.max);
    this.#target = clamp(options.start ?? this.max, this.min, this.max);
    this.#lossBound = this.max;
    this.#trendline = new Trendline(options);
    this.#increasePerSecond = options.increasePerSecond ?? 1;
    this.#fastRecovery = options.fastRecovery ?? true;
    this.#linkShare = options.linkShare ?? 0.9;
    this.#decreaseIntervalMs = options.decreaseIntervalMs ?? 300;
    this.#ackedWindowMs = options.ackedWindowMs ?? 500;
    this.#standingQueueMs = options.standingQueueMs ?? 40;
  }

  get target(): number {
    return this.#target;
  }

  /**
   * One feedback report's packets (any order; repeats of packets already seen are skipped). `now` is
   * when it was received, ms on the send clock.
   */
  update(packets: readonly TwccPacket[], now: number): DelayBasedEstimate {
    const fresh = this.#fresh(packets);
    let lost = 0;
    for (const p of fresh) {
      if (p.arrivalMs === undefined || !Number.isFinite(p.arrivalMs) || !Number.isFinite(p.sendMs)) {
        lost++;
        continue;
      }
      this.#usage = this.#trendline.add({ sendMs: p.sendMs, arrivalMs: p.arrivalMs, size: p.size });
      this.#acked.push({ at: p.arrivalMs, size: p.size });
      this.#owd(p.sendMs, p.arrivalMs - p.sendMs);
      this.#burst(p.sendMs, p.arrivalMs, p.size);
    }
    const lossFraction = this.#loss(lost, fresh.length);
    const ackedKbps = this.#ackedKbps();
    const dt = this.#lastUpdate === undefined ? 0 : Math.min(Math.max(now - this.#lastUpdate, 0), 1000);
    this.#lastUpdate = now;

    let reason: DelayBasedEstimate['reason'] = 'hold';
    let next = this.#target;
    const queueDelayMs = this.#queueDelay();
    const linkKbps = this.#linkKbps();
    this.#standing = fresh.length && queueDelayMs !== undefined && queueDelayMs > this.#standingQueueMs ? this.#standing + 1 : fresh.length ? 0 : this.#standing;
    if (this.#standing >= 2 && this.#usage !== 'overuse') {
      // The queue stands (full, no gradient): drain it, the faster the longer it is.
      if (now - this.#lastDecrease >= this.#decreaseIntervalMs) {
        const factor = Math.max(0.5, 0.85 - (queueDelayMs ?? 0) / 1000);
        next = Math.min(this.#target, factor * (ackedKbps ?? this.#target));
        this.#lastDecrease = now;
        // A full queue is the link's capacity as surely as a gradient: grow near it additively.
        if (ackedKbps !== undefined) this.#learnCapacity(ackedKbps);
        reason = 'queue';
      }
    } else if (this.#usage === 'overuse') {
      if (now - this.#lastDecrease >= this.#decreaseIntervalMs) {
        const base = ackedKbps ?? this.#target;
        next = Math.min(this.#target, 0.85 * base);
        this.#lastDecrease = now;
        if (ackedKbps !== undefined) {
          // Far below what the link took before: that capacity is gone (a cap came down), learn anew.
          if (this.#capacity && ackedKbps < this.#capacity.mean - 3 * this.#deviation()) this.#capacity = undefined;
          this.#learnCapacity(ackedKbps);
        }
        reason = 'overuse';
      }
    } else if (this.#usage === 'normal' && dt > 0) {
      // Room: the link drains our frames at 1.5 × our rate or more (their bursts' arrival rate).
      const roomy = linkKbps !== undefined && linkKbps >= ROOM * this.#target;
      if (this.#capacity && ackedKbps !== undefined && ackedKbps > this.#capacity.mean + 3 * this.#deviation()) {
        this.#capacity = undefined; // the link got faster than it was: far from convergence again
      }
      // A link now draining frames far faster than the capacity known (a cap lifted), for a few reports:
      // that capacity is stale.
      const faster = this.#capacity !== undefined && linkKbps !== undefined && linkKbps >= ROOM * this.#capacity.mean;
      this.#fasterSince = faster ? (this.#fasterSince ?? now) : undefined;
      if (this.#fastRecovery && this.#fasterSince !== undefined && now - this.#fasterSince >= STALE_MS) {
        this.#capacity = undefined;
        this.#fasterSince = undefined;
      }
      const near = this.#capacity && ackedKbps !== undefined && Math.abs(ackedKbps - this.#capacity.mean) <= 3 * this.#deviation();
      if (near) {
        // Near the capacity last measured at overuse: about a packet per response time (~1200 bytes per
        // 200 ms), at least 4%/s. Far from it, below or above, multiplicative.
        next = this.#target + Math.max(48, this.#target * 0.04) * (dt / 1000);
      } else {
        // Fast (doubling by default) only with no capacity known (the start, or a stale one forgotten) and
        // room, else 25 %/s: the last stretch to a link's rate is where an overshoot fills its queue, and
        // below a known capacity (after a cut) the climb back to it needs no haste.
        const fast = !this.#fastRecovery || (roomy && !this.#capacity);
        const rate = fast ? this.#increasePerSecond : Math.min(this.#increasePerSecond, FAR_INCREASE);
        next = this.#target * (1 + rate) ** (dt / 1000);
      }
      // Never far above what the sender actually gets through (an idle screen does not run it up).
      if (ackedKbps !== undefined) next = Math.min(next, Math.max(this.#target, 1.5 * ackedKbps + 10));
      if (linkKbps !== undefined && this.#linkShare < 1) next = Math.min(next, Math.max(this.#target, this.#linkShare * linkKbps));
      if (next > this.#target) reason = 'increase';
    }
    // Loss-based bound (draft-ietf-rmcat-gcc §6), one decision per window of ≥ 50 packets (each loss
    // counted once): > 10% lost cuts it by half the loss; < 2% lets it grow.
    const decided = this.#lossDecided;
    this.#lossDecided = false;
    if (decided && lossFraction > 0.1 && now - this.#lastLossCut >= this.#decreaseIntervalMs) {
      // Not below half of what got through: on a full tail-drop queue webrtcbin's retransmissions (which
      // TWCC counts too) can read as 80% loss while the link still carries its rate.
      const cut = Math.min(this.#lossBound, this.#target) * (1 - 0.5 * lossFraction);
      this.#lossBound = Math.min(this.#lossBound, Math.max(cut, ackedKbps === undefined ? 0 : 0.5 * ackedKbps));
      this.#lastLossCut = now;
    } else if (lossFraction < 0.02 && dt > 0) {
      this.#lossBound = Math.min(this.max, Math.max(this.#lossBound, next) * 1.08 ** (dt / 1000));
    } else if (lossFraction >= 0.02 && dt > 0) {
      // 2–10%: hold (the draft's middle band). Without this the delay-based increase would run on past
      // a tail-drop cap until the drops it causes reach 10% on top of any random loss.
      this.#lossBound = Math.min(this.#lossBound, this.#target);
    }
    if (this.#lossBound < next) {
      next = this.#lossBound;
      if (next < this.#target) reason = 'loss';
    }
    next = clamp(Math.round(next), this.min, this.max);
    if (next === this.#target && reason !== 'hold' && reason !== 'overuse' && reason !== 'queue') reason = 'hold';
    this.#target = next;
    return {
      target: next,
      reason,
      usage: this.#usage,
      queueDelayMs,
      lossFraction,
      ackedKbps,
      linkKbps,
      trend: this.#trendline.trend,
      threshold: this.#trendline.threshold,
    };
  }

  // Unwraps 16-bit sequence numbers and keeps packets newer than any seen, in order.
  #fresh(packets: readonly TwccPacket[]): TwccPacket[] {
    const out: (TwccPacket & { unwrapped: number })[] = [];
    let reference = this.#lastSeq;
    for (const p of packets) {
      const seq = p.seq & 0xffff;
      let unwrapped: number;
      if (reference === undefined) unwrapped = seq;
      else {
        let delta = seq - (reference & 0xffff);
        if (delta > 0x8000) delta -= 0x10000;
        if (delta < -0x8000) delta += 0x10000;
        unwrapped = reference + delta;
      }
      out.push({ ...p, unwrapped });
    }
    out.sort((a, b) => a.unwrapped - b.unwrapped);
    const last = this.#lastSeq;
    const fresh = last === undefined ? out : out.filter((p) => p.unwrapped > last);
    if (fresh.length) this.#lastSeq = fresh[fresh.length - 1]!.unwrapped;
    reference = this.#lastSeq;
    return fresh;
  }

  // A frame's packets leave back to back, so they reach the receiver at the bottleneck's rate: its
  // bytes after the first over the arrival spread (packet-train dispersion; cross traffic only widens it).
  #burst(sendMs: number, arrivalMs: number, size: number): void {
    const b = this.#currentBurst;
    if (b && sendMs - b.firstSend <= BURST_MS) {
      b.lastArrival = Math.max(b.lastArrival, arrivalMs);
      b.firstArrival = Math.min(b.firstArrival, arrivalMs);
      b.bytes += size;
      b.packets++;
      return;
    }
    if (b && b.packets >= 3) {
      // A burst that arrived within a millisecond says only that the link is at least that fast.
      const kbps = ((b.bytes - b.firstSize) * 8) / Math.max(b.lastArrival - b.firstArrival, 1);
      this.#burstRates.push({ at: b.lastArrival, kbps });
      if (this.#burstRates.length > BURSTS) this.#burstRates.shift();
    }
    this.#currentBurst = { firstSend: sendMs, firstArrival: arrivalMs, lastArrival: arrivalMs, firstSize: size, bytes: size, packets: 1 };
  }

  // The median of the bursts of the last 2 s (frames too small to measure leave none), when ≥ 5.
  #linkKbps(): number | undefined {
    const newest = this.#burstRates.at(-1)?.at;
    if (newest === undefined) return undefined;
    const recent = this.#burstRates.filter((r) => r.at > newest - 2000).map((r) => r.kbps);
    if (recent.length < 5) return undefined;
    recent.sort((a, b) => a - b);
    return recent[Math.floor(recent.length / 2)];
  }

  #ackedKbps(): number | undefined {
    if (!this.#acked.length) return undefined;
    const newest = Math.max(...this.#acked.slice(-32).map((a) => a.at));
    this.#acked = this.#acked.filter((a) => a.at > newest - this.#ackedWindowMs);
    const oldest = Math.min(...this.#acked.map((a) => a.at));
    const span = newest - oldest;
    if (span < 100) return undefined;
    const bytes = this.#acked.reduce((sum, a) => sum + a.size, 0);
    // Bytes over the span the packets arrived in (the first packet's own bytes arrived at its start).
    return (bytes * 8) / Math.max(span, this.#ackedWindowMs * 0.5);
  }

  // Loss over windows of at least 50 packets: the last complete window's (a new one sets #lossDecided).
  #loss(lost: number, total: number): number {
    this.#lossWindow.lost += lost;
    this.#lossWindow.total += total;
    if (this.#lossWindow.total >= 50) {
      this.#lossFraction = this.#lossWindow.lost / this.#lossWindow.total;
      this.#lossWindow = { lost: 0, total: 0 };
      this.#lossDecided = true;
    }
    return this.#lossFraction;
  }

  #owd(sendMs: number, owd: number): void {
    const bucket = Math.floor(sendMs / BUCKET_MS) * BUCKET_MS;
    const last = this.#owdBuckets[this.#owdBuckets.length - 1];
    if (last && last.at === bucket) last.min = Math.min(last.min, owd);
    else this.#owdBuckets.push({ at: bucket, min: owd });
    while (this.#owdBuckets.length && this.#owdBuckets[0]!.at < bucket - BASE_WINDOW_MS) this.#owdBuckets.shift();
    this.#lastOwd = owd;
  }

  #queueDelay(): number | undefined {
    if (this.#lastOwd === undefined || !this.#owdBuckets.length) return undefined;
    const base = Math.min(...this.#owdBuckets.map((b) => b.min));
    return Math.max(0, this.#lastOwd - base);
  }

  // The capacity's standard deviation, kbit/s (the variance is kept normalised by the mean), at least 5% of it.
  #deviation(): number {
    return this.#capacity ? Math.max(Math.sqrt(this.#capacity.variance * this.#capacity.mean), this.#capacity.mean * 0.05) : 0;
  }

  #learnCapacity(kbps: number): void {
    const c = this.#capacity;
    if (!c) {
      this.#capacity = { mean: kbps, variance: 0.4 };
      return;
    }
    // libwebrtc's normalised variance: (x − mean)² / mean, smoothed; clamped so one outlier does not stick.
    const mean = 0.95 * c.mean + 0.05 * kbps;
    const norm = ((kbps - mean) ** 2) / Math.max(mean, 1);
    this.#capacity = { mean, variance: Math.min(Math.max(0.95 * c.variance + 0.05 * norm, 0.4), 2.5) };
  }
}

function clamp(value: number, low: number, high: number): number {
  return Math.max(low, Math.min(high, value));
}
