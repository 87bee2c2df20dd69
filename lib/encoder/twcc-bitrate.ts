// A sending peer's transport-wide congestion control feedback (its `twcc` event) → the delay-based
// estimator (delay-based.ts) → the encoder's target. The counterpart of AdaptiveBitrate (receiver
// reports) for viewers that negotiated transport-cc; nothing polls: each feedback (~every 50–100 ms
// from Chromium) is one decision, applied when the target moved enough to matter.
import { DelayBasedEstimator, type DelayBasedEstimate, type DelayBasedOptions, type TwccPacket } from './delay-based.js';
import { renderMetrics, type Metric } from '../util/prometheus.js';

/** What a viewer's estimator last said, for logs and /metrics. */
export interface CongestionSnapshot {
  controller: 'twcc' | 'receiver-reports';
  /** The controller's target, kbit/s. */
  target: number;
  /** The estimate behind it (TWCC only). */
  estimate?: DelayBasedEstimate;
}

export interface TwccSource {
  on(event: 'twcc', listener: (packets: Float64Array) => void): unknown;
  off(event: 'twcc', listener: (packets: Float64Array) => void): unknown;
}

export interface TwccBitrateOptions extends DelayBasedOptions {
  source: TwccSource;
  /** Applies a new target (kbit/s). */
  apply: (kbps: number) => void;
  /** Every applied change, with the estimate that made it. */
  onChange?: (change: { from: number; to: number; estimate: DelayBasedEstimate }) => void;
  /** Clock (tests), ms. */
  now?: () => number;
}

/** Decreases apply from 2% (a queue is building: act now), increases from 5% (no encoder churn). */
const DECREASE_STEP = 0.02;
const INCREASE_STEP = 0.05;

/** Converts the addon's flat feedback (seq, sent, arrived, bytes per packet) to packets. */
export function twccPackets(flat: Float64Array): TwccPacket[] {
  const out: TwccPacket[] = [];
  for (let i = 0; i + 3 < flat.length; i += 4) {
    const arrival = flat[i + 2]!;
    out.push({ seq: flat[i]!, sendMs: flat[i + 1]!, arrivalMs: Number.isNaN(arrival) ? undefined : arrival, size: flat[i + 3]! });
  }
  return out;
}

export class TwccBitrate {
  readonly estimator: DelayBasedEstimator;
  readonly #options: TwccBitrateOptions;
  readonly #listener = (packets: Float64Array) => this.feed(packets);
  #applied: number;
  #last: DelayBasedEstimate | undefined;
  #started = false;

  constructor(options: TwccBitrateOptions) {
    this.#options = options;
    this.estimator = new DelayBasedEstimator(options);
    this.#applied = this.estimator.target;
  }

  /** The target last applied, kbit/s. */
  get target(): number {
    return this.#applied;
  }

  get last(): DelayBasedEstimate | undefined {
    return this.#last;
  }

  start(): this {
    if (!this.#started) this.#options.source.on('twcc', this.#listener);
    this.#started = true;
    return this;
  }

  stop(): void {
    if (this.#started) this.#options.source.off('twcc', this.#listener);
    this.#started = false;
  }

  /** One feedback report (the addon's flat form). */
  feed(flat: Float64Array): void {
    const now = (this.#options.now ?? performance.now.bind(performance))();
    const estimate = this.estimator.update(twccPackets(flat), now);
    this.#last = estimate;
    const from = this.#applied;
    const to = estimate.target;
    const moved = to < from ? from - to >= from * DECREASE_STEP : to - from >= from * INCREASE_STEP;
    const edge = to !== from && (to === this.estimator.max || to === this.estimator.min);
    if (!moved && !edge) return;
    this.#applied = to;
    this.#options.apply(to);
    this.#options.onChange?.({ from, to, estimate });
  }

  snapshot(): CongestionSnapshot {
    return { controller: 'twcc', target: this.#applied, ...(this.#last ? { estimate: this.#last } : {}) };
  }
}

/** Prometheus lines for each viewer's controller (appended to the daemon's /metrics by `webrtcbin start`). */
export function renderCongestionMetrics(viewers: ReadonlyMap<string, CongestionSnapshot>): string {
  const gauge = (name: string, help: string, value: (c: CongestionSnapshot) => number | undefined): Metric => ({
    name,
    help,
    type: 'gauge',
    samples: [...viewers].map(([viewer, c]) => ({ labels: { viewer, controller: c.controller }, value: value(c) })),
  });
  return renderMetrics([
    gauge('webrtcbin_viewer_target_kbps', "A viewer's bitrate target (its controller's), kbit/s.", (c) => c.target),
    gauge('webrtcbin_viewer_acked_kbps', 'What the viewer received over the last 500 ms (TWCC), kbit/s.', (c) => c.estimate?.ackedKbps),
    gauge('webrtcbin_viewer_link_kbps', "The rate the viewer's link drains our frames at (TWCC, frame bursts), kbit/s.", (c) => c.estimate?.linkKbps),
    gauge('webrtcbin_viewer_queue_delay_ms', 'One-way delay above the lowest of the last 30 s (TWCC): the standing queue, ms.', (c) => c.estimate?.queueDelayMs),
    gauge('webrtcbin_viewer_loss_ratio', 'Loss over the last TWCC-reported packets, 0-1.', (c) => c.estimate?.lossFraction),
  ]);
}
