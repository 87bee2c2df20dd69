// lib/peer/: WebRtcPeer and what it is made of: options, frames, stats, data channels.
// A W3C-shaped RTCDataChannel over one of webrtcbin's GstWebRTCDataChannel objects.
import { EventEmitter } from 'node:events';
import { InvalidStateError } from '../errors.js';
import type { NativePeer } from '../native/binding.js';

export type DataChannelState = 'connecting' | 'open' | 'closing' | 'closed';

export interface DataChannelEvents {
  open: [];
  close: [];
  error: [Error];
  message: [string | Buffer];
}

export interface DataChannelInit {
  ordered?: boolean;
  maxPacketLifeTime?: number;
  maxRetransmits?: number;
  protocol?: string;
  negotiated?: boolean;
  id?: number;
}

export class DataChannel extends EventEmitter<DataChannelEvents> {
  readonly label: string;
  #native: NativePeer | null;
  #key: number;
  #state: DataChannelState = 'connecting';

  /** @internal created by WebRtcPeer */
  constructor(native: NativePeer, key: number, label: string) {
    super();
    this.#native = native;
    this.#key = key;
    this.label = label;
  }

  get readyState(): DataChannelState {
    return this.#state;
  }

  get bufferedAmount(): number {
    const info = this.#native?.channelInfo(this.#key);
    return info ? (JSON.parse(info) as { bufferedAmount: number }).bufferedAmount : 0;
  }

  send(data: string | Buffer | Uint8Array): void {
    if (this.#state !== 'open' || !this.#native) {
      throw new InvalidStateError(`data channel '${this.label}' is ${this.#state}, not open`);
    }
    const payload = typeof data === 'string' || Buffer.isBuffer(data) ? data : Buffer.from(data);
    this.#native.sendOnChannel(this.#key, payload);
  }

  close(): void {
    if (this.#state === 'closed' || this.#state === 'closing') return;
    this.#state = 'closing';
    this.#native?.closeChannel(this.#key);
  }

  /** @internal */
  _handle(type: 'open' | 'close' | 'error' | 'message', payload?: string | Buffer): void {
    switch (type) {
      case 'open':
        this.#state = 'open';
        this.emit('open');
        break;
      case 'close':
        if (this.#state === 'closed') return;
        this.#state = 'closed';
        this.emit('close');
        break;
      case 'error':
        if (this.listenerCount('error') > 0) this.emit('error', new Error(String(payload)));
        break;
      case 'message':
        this.emit('message', payload ?? '');
        break;
    }
  }

  /** @internal the peer closed: no more native calls */
  _detach(): void {
    this.#native = null;
    this._handle('close');
  }
}

/** DataChannelInit → the GstStructure text webrtcbin's create-data-channel takes. */
export function channelOptions(init: DataChannelInit = {}): string | undefined {
  const fields: string[] = [];
  if (init.ordered !== undefined) fields.push(`ordered=(boolean)${init.ordered ? 'true' : 'false'}`);
  if (init.maxPacketLifeTime !== undefined) fields.push(`max-packet-lifetime=(int)${Math.trunc(init.maxPacketLifeTime)}`);
  if (init.maxRetransmits !== undefined) fields.push(`max-retransmits=(int)${Math.trunc(init.maxRetransmits)}`);
  if (init.protocol !== undefined) fields.push(`protocol=(string)"${init.protocol.replace(/["\\]/g, '')}"`);
  if (init.negotiated !== undefined) fields.push(`negotiated=(boolean)${init.negotiated ? 'true' : 'false'}`);
  if (init.id !== undefined) fields.push(`id=(int)${Math.trunc(init.id)}`);
  return fields.length ? `options,${fields.join(',')}` : undefined;
}
