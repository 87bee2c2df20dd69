// lib/encoder/: one capture and encoder feeding many peers (streamer.ts), and the bitrate it runs at (this file).
// Adaptive bitrate: reads a sending peer's RTCP receiver reports (through getStats) and moves the
// video encoder's target bitrate between a floor and the configured bitrate. Loss and round-trip
// time are what webrtcbin 1.22 reports about the far side (remote-inbound-rtp); it reports no
// transport-wide congestion control or available-bitrate estimate unless TWCC is negotiated, so the
// controller works from receiver reports alone.
//
// The decision logic (BitrateController) is pure: samples in, a target out, no timers. AdaptiveBitrate
// polls getStats() and feeds it; BitrateGroup combines several viewers of one shared encoder.

/** What one receiver report says, reduced to what the decision needs. */
export interface BitrateSample {
  /** Milliseconds (monotonic) when the sample was taken. */
  at: number;
  /** Fraction of packets lost since the previous report, 0–1. */
  fractionLost: number;
  /** Round-trip time from the report, ms (undefined when the report carried none). */
  rttMs?: number;
  /** What we sent over the last interval (RTP payload and headers, retransmissions included), kbit/s. */
  sentKbps?: number;
  /** RTP packets sent over the same interval (the loss fraction's sample size), when known. */
  sentPackets?: number;
}

export interface BitrateDecision {
  target: number;
  /** 'hold' when the target did not move. */
  reason: 'loss' | 'delay' | 'clean' | 'hold';
}

export interface BitrateControllerOptions {
  /** kbit/s the target never goes below (default 150). */
  min?: number;
  /** kbit/s the target never goes above: the configured video bitrate. */
  max: number;
  /** Initial target (default max). */
  start?: number;
  /** Loss fraction from which the link counts as congested (default 0.10). */
  highLoss?: number;
  /** RTT rise over the lowest recent RTT that counts as a queue building (ms, default 30, or 25% of it). */
  rttRiseMs?: number;
  /** After a decrease, reports are ignored for this long (they describe the old rate), ms (default 1200). */
  settleMs?: number;
}

/**
 * Loss-and-delay rate control, in the spirit of GCC's loss-based controller with a queue-delay check:
 * - congested (loss, averaged over two reports, ≥ highLoss; or the RTT stood rttRiseMs above the lowest
 *   RTT of the last 30 s in two reports in a row): the
 *   target drops to 85% of itself, or to 90% of what actually got through (sent × (1 − loss)) when that is
 *   lower, but never by more than half in one step, nor below min; then it waits settleMs before judging
 *   again;
 * - a report over an interval in which the sender sent almost nothing (< 50 kbit/s: a stalled host, a
 *   still screen) moves nothing;
 * - clean: +15% per report when the last decrease is more than 5 s old, else +8% (at least 30 kbit/s):
 *   quick recovery once a cap lifts, a slow approach to a rate that recently failed; never above max,
 *   and not while the encoder sends under 40% of its target (a still screen does not inflate it);
 * - with packet counts, loss is pooled over two reports and needs ≥ 6 lost packets to count: at low
 *   rates a report covers a dozen packets, and one or two lost is chance, not congestion;
 * - random loss below highLoss alone is not congestion: NACK/RTX repair it, and backing off would not
 *   reduce it.
 */
export class BitrateController {
  readonly min: number;
  readonly max: number;
  #target: number;
  readonly #highLoss: number;
  readonly #rttRiseMs: number;
  readonly #settleMs: number;
  #rtts: { at: number; rtt: number }[] = [];
  #lastDecrease = -Infinity;
  #loss: number | undefined;
  #previous: { lost: number; sent: number } | undefined;
  #risen = false;

  constructor(options: BitrateControllerOptions) {
    this.max = options.max;
    this.min = Math.min(options.min ?? 150, this.max);
    this.#target = clamp(options.start ?? this.max, this.min, this.max);
    this.#highLoss = options.highLoss ?? 0.1;
    this.#rttRiseMs = options.rttRiseMs ?? 30;
    this.#settleMs = options.settleMs ?? 1200;
  }

  get target(): number {
    return this.#target;
  }

  /** The lowest RTT of the last 30 s (ms), the reference a rising queue is measured against. */
  get baseRttMs(): number | undefined {
    return this.#rtts.length ? Math.min(...this.#rtts.map((r) => r.rtt)) : undefined;
  }

  update(sample: BitrateSample): BitrateDecision {
    const base = this.baseRttMs;
    if (sample.rttMs !== undefined && Number.isFinite(sample.rttMs) && sample.rttMs > 0) {
      this.#rtts.push({ at: sample.at, rtt: sample.rttMs });
      this.#rtts = this.#rtts.filter((r) => sample.at - r.at <= 30_000);
    }
    // One report covers ~1 s (a few dozen packets at these rates): 5% random loss alone reads 0–14%.
    // Loss is smoothed over two reports, and a risen RTT must show in two reports in a row, so that
    // neither a noisy report nor one late packet (a busy host) counts as congestion.
    // With packet counts, loss is pooled over the two reports and must also be more than a handful of
    // packets: at 100 kbit/s a report covers ~10 packets, and 2 of them lost (20%) is still chance.
    const raw = clamp(sample.fractionLost, 0, 1);
    let loss = this.#loss === undefined ? raw : (this.#loss + raw) / 2;
    let significant = true;
    if (sample.sentPackets !== undefined && sample.sentPackets > 0) {
      const now = { lost: raw * sample.sentPackets, sent: sample.sentPackets };
      const pooled = this.#previous ? { lost: now.lost + this.#previous.lost, sent: now.sent + this.#previous.sent } : now;
      loss = pooled.lost / pooled.sent;
      significant = pooled.lost >= 6;
      this.#previous = now;
    }
    this.#loss = loss;
    const rise = base !== undefined && sample.rttMs !== undefined ? sample.rttMs - base : 0;
    const risen = base !== undefined && rise >= Math.max(this.#rttRiseMs, base * 0.25);
    const delayed = risen && this.#risen;
    this.#risen = risen;
    if (sample.at - this.#lastDecrease < this.#settleMs) return { target: this.#target, reason: 'hold' };
    // Next to nothing sent over the report's interval: the sender itself stalled (a busy host) or the
    // screen is still. Such a report's loss and RTT say little about the link: no move either way.
    if (sample.sentKbps !== undefined && sample.sentKbps < 50) return { target: this.#target, reason: 'hold' };
    if ((loss >= this.#highLoss && significant) || delayed) {
      let next = this.#target * 0.85;
      if (sample.sentKbps !== undefined) next = Math.min(next, sample.sentKbps * (1 - loss) * 0.9);
      // One report never cuts more than half: a short or odd interval must not send the target to the floor.
      next = clamp(Math.round(Math.max(next, this.#target * 0.5)), this.min, this.max);
      this.#lastDecrease = sample.at;
      const moved = next !== this.#target;
      this.#target = next;
      return { target: next, reason: moved ? (delayed ? 'delay' : 'loss') : 'hold' };
    }
    const sinceDecrease = sample.at - this.#lastDecrease;
    let next = sinceDecrease > 5000 ? this.#target * 1.15 : this.#target + Math.max(30, this.#target * 0.08);
    // The encoder may send far less than its target (a still screen): do not run the target up on credit.
    if (sample.sentKbps !== undefined && sample.sentKbps < this.#target * 0.4) return { target: this.#target, reason: 'hold' };
    next = clamp(Math.round(next), this.min, this.max);
    const moved = next !== this.#target;
    this.#target = next;
    return { target: next, reason: moved ? 'clean' : 'hold' };
  }
}

function clamp(value: number, low: number, high: number): number {
  return Math.max(low, Math.min(high, value));
}

type StatsReport = Map<string, Record<string, unknown> & { type: string }>;

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/**
 * Reads the receiver report of the video stream from a webrtcbin stats report: remote-inbound-rtp
 * (fractionLost, roundTripTime in seconds) and the matching outbound-rtp (bytesSent). Returns
 * undefined while no report has arrived. `key` identifies the report (a new one changes it).
 */
export function readReport(report: StatsReport): { key: string; fractionLost: number; rttMs?: number; bytesSent?: number; packetsSent?: number } | undefined {
  let remote: Record<string, unknown> | undefined;
  let outbound: Record<string, unknown> | undefined;
  for (const stat of report.values()) {
    if (stat.type === 'remote-inbound-rtp' && (stat.kind === undefined || stat.kind === 'video')) {
      if (!remote || (num(stat.packetsLost) ?? 0) >= (num(remote.packetsLost) ?? 0)) remote = stat;
    }
    if (stat.type === 'outbound-rtp' && (stat.kind === undefined || stat.kind === 'video')) {
      if (!outbound || (num(stat.bytesSent) ?? 0) > (num(outbound.bytesSent) ?? 0)) outbound = stat;
    }
  }
  if (!remote) return undefined;
  const fraction = num(remote.fractionLost);
  if (fraction === undefined) return undefined;
  const rtt = num(remote.roundTripTime);
  return {
    key: `${num(remote.packetsLost) ?? ''}/${fraction}/${rtt ?? ''}/${num(remote.packetsReceived) ?? ''}`,
    // webrtcbin reports the RTCP fraction as 0–1 (a double); a value above 1 would be the raw /256.
    fractionLost: fraction > 1 ? fraction / 256 : fraction,
    rttMs: rtt === undefined ? undefined : rtt * 1000,
    bytesSent: num(outbound?.bytesSent),
    packetsSent: num(outbound?.packetsSent),
  };
}

export interface BitrateChange {
  from: number;
  to: number;
  reason: BitrateDecision['reason'];
  fractionLost: number;
  rttMs?: number;
  sentKbps?: number;
}

export interface AdaptiveBitrateOptions extends BitrateControllerOptions {
  getStats: () => Promise<StatsReport>;
  /** Applies a new target (kbit/s). */
  apply: (kbps: number) => void;
  onChange?: (change: BitrateChange) => void;
  /** How often getStats() is read, ms (default 500). */
  intervalMs?: number;
  /** Clock (tests). */
  now?: () => number;
}

/** Polls a sending peer's stats and applies the controller's target whenever it moves. */
export class AdaptiveBitrate {
  readonly controller: BitrateController;
  readonly #options: AdaptiveBitrateOptions;
  #timer: NodeJS.Timeout | undefined;
  #lastKey: string | undefined;
  #lastBytes: { at: number; bytes: number; packets?: number } | undefined;
  #busy = false;

  constructor(options: AdaptiveBitrateOptions) {
    this.#options = options;
    this.controller = new BitrateController(options);
  }

  get target(): number {
    return this.controller.target;
  }

  start(): this {
    if (!this.#timer) {
      this.#timer = setInterval(() => void this.poll(), this.#options.intervalMs ?? 500);
      this.#timer.unref();
    }
    return this;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One round: read the stats, and if a new receiver report came, decide and apply. */
  async poll(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const report = readReport(await this.#options.getStats());
      const at = (this.#options.now ?? performance.now.bind(performance))();
      if (!report || report.key === this.#lastKey) return;
      this.#lastKey = report.key;
      let sentKbps: number | undefined;
      let sentPackets: number | undefined;
      if (report.bytesSent !== undefined) {
        const last = this.#lastBytes;
        if (last && at > last.at && report.bytesSent >= last.bytes) {
          sentKbps = ((report.bytesSent - last.bytes) * 8) / (at - last.at);
          if (report.packetsSent !== undefined && last.packets !== undefined) sentPackets = report.packetsSent - last.packets;
        }
        this.#lastBytes = { at, bytes: report.bytesSent, packets: report.packetsSent };
      }
      const from = this.controller.target;
      const decision = this.controller.update({ at, fractionLost: report.fractionLost, rttMs: report.rttMs, sentKbps, sentPackets });
      if (decision.target !== from) {
        this.#options.apply(decision.target);
        this.#options.onChange?.({ from, to: decision.target, reason: decision.reason, fractionLost: report.fractionLost, rttMs: report.rttMs, sentKbps });
      }
    } catch {
      // A closing peer rejects getStats(); the owner stops the controller with the peer.
    } finally {
      this.#busy = false;
    }
  }
}

/**
 * Several viewers of one shared encoder: each has its own controller; the encoder gets the lowest of
 * their targets, but never less than `floor` — a viewer on a hopeless link gets what it gets (NACK,
 * keyframes), and does not drag everyone else below the floor.
 */
export class BitrateGroup {
  readonly #targets = new Map<string, number>();
  readonly #floor: number;
  readonly #max: number;
  readonly #apply: (kbps: number) => void;
  #current: number;

  constructor(options: { floor: number; max: number; apply: (kbps: number) => void }) {
    this.#floor = options.floor;
    this.#max = options.max;
    this.#apply = options.apply;
    this.#current = options.max;
  }

  get target(): number {
    return this.#current;
  }

  set(id: string, kbps: number): number {
    this.#targets.set(id, kbps);
    return this.#recompute();
  }

  delete(id: string): number {
    this.#targets.delete(id);
    return this.#recompute();
  }

  #recompute(): number {
    const lowest = this.#targets.size ? Math.min(...this.#targets.values()) : this.#max;
    const next = clamp(lowest, Math.min(this.#floor, this.#max), this.#max);
    if (next !== this.#current) {
      this.#current = next;
      this.#apply(next);
    }
    return next;
  }
}
