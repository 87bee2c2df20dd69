// Streamer: one capture → convert → encode pipeline per source, fanned out to one webrtcbin peer per
// viewer. A second, fourth or eighth viewer costs its own payloader, SRTP and ICE, not another encoder.
// With no viewer the encoder receives nothing (a valve before it is shut) and the capture pauses, except
// for one frame at the start (the prime) that makes the encoded caps known: a peer created later
// negotiates without waiting for the encoder.
import { EventEmitter } from 'node:events';
import { loadBinding, type NativeEncoder, type NativeEncoderEvent } from '../native/binding.js';
import { elementsPresent } from '../native/elements.js';
import { GStreamerError, InvalidStateError, MissingPluginError, busError, fromNative } from '../errors.js';
import { captureDisplay, planSharedEncoder } from '../media/send.js';
import { WebRtcPeer } from '../peer/peer.js';
import type { SendVideoOptions, SourceOptions, VideoCodec, WebRtcPeerOptions } from '../types.js';
import { emitError } from '../util/emit.js';
import { wholeNumber } from '../util/checks.js';

export interface StreamerEvents {
  error: [Error];
  warning: [GStreamerError];
}

export interface StreamerOptions {
  source: SourceOptions;
  video?: SendVideoOptions;
}

export class Streamer extends EventEmitter<StreamerEvents> {
  readonly codec: VideoCodec;
  /** @internal the native encoder its peers subscribe to (handed to them as `sharedEncoder`) */
  readonly native: NativeEncoder;
  #closing: Promise<void> | undefined;

  constructor(options: StreamerOptions) {
    super();
    const present = elementsPresent(['x264enc', 'openh264enc']);
    const plan = planSharedEncoder(options.source, options.video ?? {}, (name) => present.get(name) === true);
    const have = elementsPresent(plan.elements);
    const missing = plan.elements.find((e) => !have.get(e));
    if (missing) throw new MissingPluginError(missing);
    try {
      this.native = new (loadBinding().NativeEncoder)({ description: plan.description });
    } catch (error) {
      throw fromNative(error, 'Streamer', { display: captureDisplay(options.source) });
    }
    this.codec = plan.codec;
    this.native.onevent = (event: NativeEncoderEvent) => {
      if (event.type === 'bus-error') {
        emitError(this, busError(event), { source: 'streamer' });
      } else if (event.type === 'bus-warning') {
        this.emit('warning', new GStreamerError(event));
      }
    };
    // The streamer alone never keeps the process alive; its peers do while they are open.
    this.native.unref();
  }

  /** A peer that sends this streamer's encoded video (same options as WebRtcPeer, minus media). */
  createPeer(options: Omit<WebRtcPeerOptions, 'source' | 'video' | 'sharedEncoder'> = {}): WebRtcPeer {
    if (this.#closing) throw new InvalidStateError('the streamer is closed');
    return new WebRtcPeer({ ...options, sharedEncoder: this });
  }

  /**
   * Frames the encoder produced (the prime included), peers it currently feeds, unchanged frames it was
   * spared, and whether its encoded caps are known yet.
   */
  get stats(): { framesEncoded: number; subscribers: number; framesUnchanged: number; capsKnown: boolean; keyframeRequests: number } {
    return this.native.stats();
  }

  /**
   * Changes the shared encoder's target bitrate (kbit/s, whole, 50–100000) for every viewer at once
   * and returns what the encoder now targets. publish() drives this from its adaptive controller.
   */
  setBitrate(kbps: number): number {
    if (this.#closing) throw new InvalidStateError('the streamer is closed');
    wholeNumber(kbps, 'setBitrate: kbps', { min: 50, max: 100_000 });
    return this.native.setBitrate(kbps);
  }

  /** The shared encoder's current target bitrate, kbit/s. */
  get bitrate(): number {
    return this.#closing ? -1 : this.native.getBitrate();
  }

  /** Stops capture and encoding. Peers created from it stop receiving media; close them too. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.native.ref(); // keeps the process alive until the teardown has finished
      this.#closing = this.native.close();
    }
    return this.#closing;
  }
}
