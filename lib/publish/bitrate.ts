// lib/publish/: publish() and receive(), a peer per viewer negotiated through the signaling daemon.
// publish()'s adaptive bitrate: one AdaptiveBitrate per sending viewer. With a shared encoder the
// encoder gets the lowest of its viewers' targets, floored (a BitrateGroup per shared encoder: one per
// codec in use); with an encoder per viewer
// each viewer's controller drives its own encoder. A viewer may set a ceiling on its own target
// (`quality` on the input channel): the controller's target is applied capped by it. Every change is
// logged at info level.
//
// Which controller: a viewer that negotiated transport-cc (Chromium and Firefox do) gets the delay-based
// estimator over its TWCC feedback (TwccBitrate), which sees a queue building before it overflows;
// one without it keeps the receiver-report controller (AdaptiveBitrate). `controller` forces one.
// A TWCC viewer starts at `startKbps` (1000 by default), not at the configured bitrate: a link's
// capacity is unknown until its first feedback, and a second at the configured rate fills a slow
// uplink's queue before any feedback can act. The estimator then doubles the rate each second while
// the link shows room, up to 0.9 of the link's rate. With a shared encoder a joining viewer pulls the encoder down to its start
// (above the group's floor) for the second or two that takes.
import { AdaptiveBitrate, BitrateGroup, type BitrateChange } from '../encoder/adaptive-bitrate.js';
import { TwccBitrate, type CongestionSnapshot } from '../encoder/twcc-bitrate.js';
import type { DelayBasedOptions } from '../encoder/delay-based.js';
import { twccNegotiated } from '../media/twcc.js';
import type { WebRtcPeer } from '../peer/peer.js';
import type { Logger } from '../signaling/client.js';
import type { Streamer } from '../encoder/streamer.js';
import { errorMessage } from '../util/emit.js';
import { number, shown, wholeNumber } from '../util/checks.js';
import { InvalidArgumentError } from '../errors.js';

export interface PublisherBitrateOptions {
  /** The configured video bitrate: the ceiling, kbit/s. */
  max: number;
  /** The lowest target one viewer's controller may choose, kbit/s (default 150). */
  min?: number;
  /** With a shared encoder, the lowest bitrate one bad viewer can impose on the others (default 300). */
  floor?: number;
  log: Logger;
  /** Called after every change the encoder received. */
  onChange?: (kbps: number, viewer: string | undefined) => void;
  /** 'auto' (default): TWCC where negotiated, else receiver reports; or force one ('twcc' still falls back without transport-cc). */
  controller?: 'auto' | 'twcc' | 'receiver-reports';
  /** Where a TWCC viewer's target starts, kbit/s (default 1000, at most `max`). */
  startKbps?: number;
  /** The TWCC estimator's tuning (benchmarks compare variants; the defaults are the measured ones). */
  estimator?: Pick<DelayBasedOptions, 'increasePerSecond' | 'fastRecovery' | 'linkShare'>;
}

/** Where a TWCC viewer's target starts when `startKbps` is not given, kbit/s. */
export const DEFAULT_START_KBPS = 1000;

/** The highest rate any of the options may name, kbit/s: video.bitrate's own bound. */
const MAX_KBPS = 100_000;

// The caller's `adaptiveBitrate` object, checked as every numeric option is (lib/util/checks.ts): a typo
// here would otherwise surface as a rate stuck at NaN or a controller that never starts.
function checkOptions(options: PublisherBitrateOptions): void {
  const kbps = { min: 1, max: MAX_KBPS, unit: 'kbit/s' };
  if (options.min !== undefined) wholeNumber(options.min, 'adaptiveBitrate.min', kbps);
  if (options.floor !== undefined) wholeNumber(options.floor, 'adaptiveBitrate.floor', kbps);
  if (options.startKbps !== undefined) number(options.startKbps, 'adaptiveBitrate.startKbps', { above: 0, max: MAX_KBPS, unit: 'kbit/s' });
  const controllers = ['auto', 'twcc', 'receiver-reports'];
  if (options.controller !== undefined && !controllers.includes(options.controller)) {
    throw new InvalidArgumentError(`adaptiveBitrate.controller must be "auto", "twcc" or "receiver-reports" (got ${shown(options.controller)})`);
  }
}

/** One viewer's controller, either kind. */
interface ViewerController {
  readonly target: number;
  stop(): void;
  snapshot(): CongestionSnapshot;
}

/** Whether a connected peer negotiated transport-cc on its video (both descriptions say so). */
export function usesTwcc(peer: Pick<WebRtcPeer, 'localDescription' | 'remoteDescription'>): boolean {
  const local = peer.localDescription?.sdp;
  const remote = peer.remoteDescription?.sdp;
  return !!local && !!remote && twccNegotiated(local) && twccNegotiated(remote);
}

export class PublisherBitrate {
  readonly #options: PublisherBitrateOptions;
  readonly #controllers = new Map<string, ViewerController>();
  // One group per shared encoder (one per codec in use), and which group each viewer is in.
  readonly #groups = new Map<Streamer, BitrateGroup>();
  readonly #groupOf = new Map<string, BitrateGroup>();
  // Viewers' own ceilings (kbit/s, within [min, max]), and how to apply a target to each viewer.
  readonly #caps = new Map<string, number>();
  readonly #apply = new Map<string, (kbps: number) => void>();

  constructor(options: PublisherBitrateOptions) {
    checkOptions(options);
    this.#options = options;
  }

  /** Starts a controller for a viewer whose peer just connected. `streamer`: its shared encoder, if any. */
  add(id: string, peer: WebRtcPeer, streamer: Streamer | undefined): void {
    this.#stop(id);
    const { max, min = 150, log } = this.#options;
    const describe = (change: BitrateChange) => ({
      viewer: id, from: change.from, to: change.to, reason: change.reason,
      lossPct: Math.round(change.fractionLost * 1000) / 10,
      rttMs: change.rttMs === undefined ? undefined : Math.round(change.rttMs),
      sentKbps: change.sentKbps === undefined ? undefined : Math.round(change.sentKbps),
    });
    let apply: (kbps: number) => void;
    let group: BitrateGroup | undefined;
    if (streamer) {
      group = this.#groups.get(streamer);
      if (!group) {
        group = new BitrateGroup({
          floor: Math.min(this.#options.floor ?? 300, max),
          max,
          apply: (kbps) => {
            try {
              const now = streamer.setBitrate(kbps);
              log.info({ kbps: now, codec: streamer.codec }, 'publisher: shared encoder bitrate changed');
              this.#options.onChange?.(now, undefined);
            } catch (error) {
              log.warn({ err: errorMessage(error) }, 'publisher: could not set the encoder bitrate');
            }
          },
        });
        this.#groups.set(streamer, group);
      }
      const joined = group;
      this.#groupOf.set(id, joined);
      apply = (kbps) => joined.set(id, kbps);
    } else {
      apply = (kbps) => {
        try {
          const now = peer.setBitrate(kbps);
          this.#options.onChange?.(now, id);
        } catch (error) {
          log.warn({ viewer: id, err: errorMessage(error) }, 'publisher: could not set the encoder bitrate');
        }
      };
    }
    const capped = (kbps: number) => apply(Math.min(kbps, this.#caps.get(id) ?? Infinity));
    const twcc = this.#options.controller !== 'receiver-reports' && usesTwcc(peer);
    const current = group?.target ?? max;
    const start = twcc ? Math.min(current, this.#options.startKbps ?? DEFAULT_START_KBPS) : current;
    let controller: ViewerController;
    if (twcc) {
      controller = new TwccBitrate({
        ...this.#options.estimator,
        min,
        max,
        start,
        source: peer,
        apply: capped,
        onChange: ({ from, to, estimate: e }) =>
          log.info(
            {
              viewer: id, from, to, reason: e.reason, controller: 'twcc', usage: e.usage,
              queueDelayMs: e.queueDelayMs === undefined ? undefined : Math.round(e.queueDelayMs),
              lossPct: Math.round(e.lossFraction * 1000) / 10,
              ackedKbps: e.ackedKbps === undefined ? undefined : Math.round(e.ackedKbps),
              linkKbps: e.linkKbps === undefined ? undefined : Math.round(e.linkKbps),
            },
            'publisher: viewer bitrate target changed',
          ),
      }).start();
    } else {
      const rr = new AdaptiveBitrate({
        min,
        max,
        start,
        getStats: () => peer.getStats(),
        apply: capped,
        onChange: (change) => log.info({ ...describe(change), controller: 'receiver-reports' }, 'publisher: viewer bitrate target changed'),
      }).start();
      controller = { get target() { return rr.target; }, stop: () => rr.stop(), snapshot: () => ({ controller: 'receiver-reports', target: rr.target }) };
    }
    log.info({ viewer: id, controller: twcc ? 'twcc' : 'receiver-reports', start }, 'publisher: viewer bitrate controller started');
    this.#controllers.set(id, controller);
    this.#apply.set(id, capped);
    // The start below the current rate (TWCC), or a ceiling set before the peer connected, applies now.
    if (start < current || this.#caps.has(id)) capped(controller.target);
  }

  /**
   * A viewer's ceiling on its own target, kbit/s (undefined lifts it); clamped to [min, max]. Applies at
   * once when the viewer is connected, else when it connects. Returns the ceiling now in force.
   */
  cap(id: string, kbps: number | undefined): number | undefined {
    const { max, min = 150 } = this.#options;
    if (kbps === undefined) this.#caps.delete(id);
    else this.#caps.set(id, Math.round(Math.max(Math.min(min, max), Math.min(max, kbps))));
    const controller = this.#controllers.get(id);
    if (controller) this.#apply.get(id)?.(controller.target);
    return this.#caps.get(id);
  }

  /** Each connected viewer's controller, target and (TWCC) estimate: for logs and /metrics. */
  snapshot(): Map<string, CongestionSnapshot> {
    return new Map([...this.#controllers].map(([id, c]) => [id, c.snapshot()]));
  }

  /** The viewer is gone: its controller stops and its ceiling is forgotten. */
  remove(id: string): void {
    this.#caps.delete(id);
    this.#stop(id);
  }

  #stop(id: string): void {
    const controller = this.#controllers.get(id);
    if (!controller) return;
    this.#apply.delete(id);
    controller.stop();
    this.#controllers.delete(id);
    this.#groupOf.get(id)?.delete(id);
    this.#groupOf.delete(id);
  }

  /** A shared encoder was closed (its last viewer left): its group goes with it. */
  forget(streamer: Streamer): void {
    this.#groups.delete(streamer);
  }

  close(): void {
    for (const id of [...this.#controllers.keys()]) this.remove(id);
  }
}
