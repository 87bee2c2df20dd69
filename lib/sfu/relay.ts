// relay(): the standalone relay: a capture and encoder of its own, pushed once into a Janus VideoRoom,
// without a signaling daemon (the `webrtcbin relay` command). publish({sfu}) does the same from the
// publisher's shared encoder, beside its direct viewers.
import { EventEmitter } from 'node:events';
import { Streamer } from '../encoder/streamer.js';
import type { Logger } from '../signaling/client.js';
import type { PlayoutDelay, SendVideoOptions, SourceOptions } from '../types.js';
import { emitError } from '../util/emit.js';
import { JanusRelay, janusOptions, type JanusOptions } from './janus-relay.js';
import type { JanusRelayError } from './relay-error.js';

export interface RelayOptions extends JanusOptions {
  source: SourceOptions;
  /** The codec defaults to H.264 (what every browser decodes through Janus); vp8 and vp9 work too. */
  video?: SendVideoOptions;
  logger?: Logger;
}

export interface RelayEvents {
  published: [{ room: number; feed: number | string }];
  /** A JanusRelayError (retried unless its retryInMs is undefined), or the encoder's error (the relay stops). */
  error: [Error];
}

export class Relay extends EventEmitter<RelayEvents> {
  readonly streamer: Streamer;
  readonly janus: JanusRelay;
  #closing: Promise<void> | undefined;

  constructor(options: RelayOptions) {
    super();
    const checked = janusOptions(options);
    // The encoder starts here: a source or codec that cannot work throws before anything connects.
    this.streamer = new Streamer({ source: options.source, video: { codec: 'h264', ...options.video } });
    this.streamer.on('error', (error) => {
      emitError(this, error, { source: 'relay' });
      void this.close();
    });
    // Frames go to Janus as they are encoded: no playout-delay wait in the viewers' jitter buffers.
    const playoutDelay: PlayoutDelay = { minMs: 0, maxMs: 0 };
    this.janus = new JanusRelay({
      ...checked,
      codec: this.streamer.codec,
      createPeer: () => this.streamer.createPeer({ playoutDelay }),
      logger: options.logger,
    });
    this.janus.on('published', (info) => this.emit('published', info));
    this.janus.on('error', (error: JanusRelayError) => emitError(this, error, { source: 'relay' }));
  }

  /** Leaves the room, then stops the encoder. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.janus.close().then(() => this.streamer.close());
    return this.#closing;
  }
}

/** Pushes `source` once into Janus's VideoRoom `room`; viewers subscribe to Janus. Returns at once. */
export function relay(options: RelayOptions): Relay {
  return new Relay(options);
}
