// The delay signal of Google Congestion Control (draft-ietf-rmcat-gcc, and libwebrtc's trendline
// estimator): transport-wide feedback (each packet's send and arrival time) → packet groups → the
// growth of one-way delay between groups → its trend over the last groups → overuse, normal or underuse
// against an adaptive threshold. Pure: times come in with the packets, nothing here reads a clock.
//
// Arrival times are the receiver's clock and send times ours: neither offset nor skew matters, since
// only differences between groups are used (and the queueing delay is relative to the lowest seen).

/** One packet of transport-wide feedback: ours to send, the receiver's to say when it arrived. */
export interface TwccPacket {
  /** Transport-wide sequence number (16 bits, wraps). */
  seq: number;
  /** When we sent it, ms (our clock). */
  sendMs: number;
  /** When it arrived, ms (the receiver's clock); undefined when the feedback reports it lost. */
  arrivalMs?: number;
  /** RTP payload bytes. */
  size: number;
}

export type Usage = 'overuse' | 'normal' | 'underuse';

interface Group {
  firstSend: number;
  lastSend: number;
  firstArrival: number;
  lastArrival: number;
  size: number;
}

export interface TrendlineOptions {
  /** Packets sent within this many ms of a group's first belong to it (a frame's burst; default 5). */
  burstMs?: number;
  /** How many delay samples the slope is fitted over (default 20). */
  window?: number;
  /** Smoothing of the accumulated delay (default 0.9). */
  smoothing?: number;
  /** Gain from slope to the compared trend (default 4, libwebrtc's). */
  gain?: number;
  /** Initial threshold, ms (default 12.5). */
  threshold?: number;
  /** Overuse must last this long (ms, default 10) and grow before it is signalled. */
  overuseTimeMs?: number;
}

export class Trendline {
  readonly #burstMs: number;
  readonly #window: number;
  readonly #smoothing: number;
  readonly #gain: number;
  readonly #overuseTimeMs: number;
  #current: Group | undefined;
  #previous: Group | undefined;
  #accumulated = 0;
  #smoothed = 0;
  #firstArrival: number | undefined;
  #samples: { x: number; y: number }[] = [];
  #deltas = 0;
  #threshold: number;
  #lastThresholdUpdate: number | undefined;
  #trend = 0;
  #previousTrend = 0;
  #overuseSince: number | undefined;
  #overuseCount = 0;
  #usage: Usage = 'normal';

  constructor(options: TrendlineOptions = {}) {
    this.#burstMs = options.burstMs ?? 5;
    this.#window = options.window ?? 20;
    this.#smoothing = options.smoothing ?? 0.9;
    this.#gain = options.gain ?? 4;
    this.#threshold = options.threshold ?? 12.5;
    this.#overuseTimeMs = options.overuseTimeMs ?? 10;
  }

  get usage(): Usage {
    return this.#usage;
  }

  /** The last modified trend (slope × samples × gain), ms: what is compared with the threshold. */
  get trend(): number {
    return this.#trend;
  }

  get threshold(): number {
    return this.#threshold;
  }

  /** Feeds one received packet (in send order). Returns the usage after it. */
  add(packet: { sendMs: number; arrivalMs: number; size: number }): Usage {
    const g = this.#current;
    if (!g) {
      this.#current = { firstSend: packet.sendMs, lastSend: packet.sendMs, firstArrival: packet.arrivalMs, lastArrival: packet.arrivalMs, size: packet.size };
      return this.#usage;
    }
    // A packet sent before the group's start arrived reordered: it belongs to no new group.
    if (packet.sendMs < g.firstSend) return this.#usage;
    // Same burst: sent within burstMs of the group's first packet, or arrived within it while its own
    // arrival delta is shorter than its send delta (a queue releasing a burst it held).
    const sameBurst = packet.sendMs - g.firstSend <= this.#burstMs;
    const released = packet.arrivalMs - g.lastArrival < packet.sendMs - g.lastSend && packet.arrivalMs - g.firstArrival <= this.#burstMs;
    if (sameBurst || released) {
      g.lastSend = Math.max(g.lastSend, packet.sendMs);
      g.lastArrival = Math.max(g.lastArrival, packet.arrivalMs);
      g.size += packet.size;
      return this.#usage;
    }
    if (this.#previous) this.#delta(this.#previous, g);
    this.#previous = g;
    this.#current = { firstSend: packet.sendMs, lastSend: packet.sendMs, firstArrival: packet.arrivalMs, lastArrival: packet.arrivalMs, size: packet.size };
    return this.#usage;
  }

  #delta(previous: Group, group: Group): void {
    const sendDelta = group.lastSend - previous.lastSend;
    const arrivalDelta = group.lastArrival - previous.lastArrival;
    // A jump in arrival times far beyond the send gap (a clock reset, a long stall) restarts the fit.
    if (arrivalDelta - sendDelta > 3000 || arrivalDelta < 0) {
      this.#samples = [];
      this.#accumulated = 0;
      this.#smoothed = 0;
      this.#deltas = 0;
      this.#firstArrival = undefined;
      return;
    }
    const variation = arrivalDelta - sendDelta;
    this.#deltas = Math.min(this.#deltas + 1, 1000);
    this.#accumulated += variation;
    this.#smoothed = this.#smoothing * this.#smoothed + (1 - this.#smoothing) * this.#accumulated;
    this.#firstArrival ??= group.lastArrival;
    this.#samples.push({ x: group.lastArrival - this.#firstArrival, y: this.#smoothed });
    if (this.#samples.length > this.#window) this.#samples.shift();
    if (this.#samples.length === this.#window) this.#trend = slope(this.#samples) * Math.min(this.#deltas, 60) * this.#gain;
    this.#detect(sendDelta, group.lastArrival);
  }

  #detect(sendDelta: number, now: number): void {
    const trend = this.#trend;
    if (trend > this.#threshold) {
      // Overuse needs to last a little and not to be shrinking already (a queue draining).
      this.#overuseSince ??= now - sendDelta / 2;
      this.#overuseCount++;
      if (now - this.#overuseSince > this.#overuseTimeMs && this.#overuseCount > 1 && trend >= this.#previousTrend) {
        this.#overuseSince = undefined;
        this.#overuseCount = 0;
        this.#usage = 'overuse';
      }
    } else if (trend < -this.#threshold) {
      this.#overuseSince = undefined;
      this.#overuseCount = 0;
      this.#usage = 'underuse';
    } else {
      this.#overuseSince = undefined;
      this.#overuseCount = 0;
      this.#usage = 'normal';
    }
    this.#previousTrend = trend;
    this.#adapt(trend, now);
  }

  // The threshold follows |trend| (up slowly, down faster), so a link's own jitter stops reading as
  // overuse, and a competing TCP flow does not starve us (draft-ietf-rmcat-gcc §5.4).
  #adapt(trend: number, now: number): void {
    const last = this.#lastThresholdUpdate ?? now;
    this.#lastThresholdUpdate = now;
    const magnitude = Math.abs(trend);
    if (magnitude > this.#threshold + 15) return; // a spike: not a reason to move the threshold
    const k = magnitude < this.#threshold ? 0.039 : 0.0087;
    const dt = Math.min(now - last, 100);
    this.#threshold = Math.min(600, Math.max(6, this.#threshold + k * (magnitude - this.#threshold) * dt));
  }
}

/** Least-squares slope of y over x. */
function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.y;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) * (p.x - mx);
  }
  return den === 0 ? 0 : num / den;
}
