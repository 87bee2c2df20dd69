// A W3C-shaped RTCDataChannel over one of webrtcbin's GstWebRTCDataChannel objects, and the peer's
// SCTP transport (RTCSctpTransport's maxMessageSize) that bounds what one send() may carry.
import { EventEmitter } from 'node:events';
import { InvalidArgumentError, InvalidStateError, OperationError } from '../errors.js';
import type { NativeChannelInfo, NativeEvent, NativePeer, NativeSctpInfo } from '../native/binding.js';

export type DataChannelState = 'connecting' | 'open' | 'closing' | 'closed';

export interface DataChannelEvents {
  open: [];
  /** The remote began closing the channel (not emitted for our own close()). */
  closing: [];
  close: [];
  error: [Error];
  /** A text message as a string, a binary one as a Buffer. */
  message: [string | Buffer];
  /** bufferedAmount fell from above bufferedAmountLowThreshold to it or below. */
  bufferedamountlow: [];
}

export interface DataChannelInit {
  ordered?: boolean;
  /** ms a message may be retransmitted for; not with maxRetransmits. */
  maxPacketLifeTime?: number;
  /** times a message may be retransmitted; not with maxPacketLifeTime. */
  maxRetransmits?: number;
  protocol?: string;
  /** true: both sides create the channel themselves with the same `id` (no in-band announcement). */
  negotiated?: boolean;
  /** The SCTP stream id, 0–65534; required with `negotiated: true`. */
  id?: number;
}

/** The peer's SCTP transport, as the browser's RTCSctpTransport. */
export interface SctpTransport {
  /**
   * Bytes one send() may carry, from the descriptions' a=max-message-size (RFC 8841; 65536 where a
   * description has none). webrtcbin 1.22 takes the smaller of the offer's and the answer's and
   * writes none in its own, so it is 65536 unless both sides said more.
   */
  readonly maxMessageSize: number;
  readonly maxChannels: number | null;
  readonly state: 'new' | 'connecting' | 'connected' | 'closed';
}

/** The channel events the peer routes to a DataChannel by key. */
export type ChannelEvent = Extract<NativeEvent, { type: `channel-${string}` }>;

/** webrtcbin's SCTP transport as JSON → SctpTransport; null before a description with data channels. */
export function sctpTransport(native: NativePeer | null): SctpTransport | null {
  const json = native?.sctpInfo();
  const info = json ? (JSON.parse(json) as NativeSctpInfo | null) : null;
  // webrtcbin makes its transport with the first description and sets the size with the answer.
  if (!info || info.maxMessageSize === 0) return null;
  return { maxMessageSize: info.maxMessageSize, maxChannels: info.maxChannels || null, state: info.state };
}

export class DataChannel extends EventEmitter<DataChannelEvents> {
  readonly label: string;
  readonly ordered: boolean;
  /** null when the channel is reliable (or limited by maxRetransmits). */
  readonly maxPacketLifeTime: number | null;
  /** null when the channel is reliable (or limited by maxPacketLifeTime). */
  readonly maxRetransmits: number | null;
  readonly protocol: string;
  readonly negotiated: boolean;
  #native: NativePeer | null;
  #key: number;
  #state: DataChannelState;
  #id: number | null = null;
  #threshold = 0;
  #lastBuffered = 0;

  /**
   * @internal created by WebRtcPeer. `readyState` is the state the channel had when it was handed
   * over: a channel the remote announced is already 'open' then (its open came before it reached
   * us, so no 'open' event follows — as in browsers).
   */
  constructor(native: NativePeer, key: number, readyState: DataChannelState = 'connecting') {
    super();
    this.#native = native;
    this.#key = key;
    this.#state = readyState;
    const info = this.#info();
    this.label = info?.label ?? '';
    this.ordered = info?.ordered ?? true;
    this.maxPacketLifeTime = info && info.maxPacketLifeTime >= 0 ? info.maxPacketLifeTime : null;
    this.maxRetransmits = info && info.maxRetransmits >= 0 ? info.maxRetransmits : null;
    this.protocol = info?.protocol ?? '';
    this.negotiated = info?.negotiated ?? false;
    if (info && info.id >= 0) this.#id = info.id;
    // A channel created on a connected transport may open inside create-data-channel, before our
    // handlers were on: its on-open is then lost, so it is announced here, as browsers do, a task
    // later (the caller's listeners are on by then).
    if (readyState === 'connecting' && info?.readyState === 'open') setImmediate(() => this._handle({ type: 'channel-open', channel: key }));
  }

  #info(): NativeChannelInfo | null {
    const json = this.#native?.channelInfo(this.#key);
    return json ? (JSON.parse(json) as NativeChannelInfo | null) : null;
  }

  get readyState(): DataChannelState {
    return this.#state;
  }

  /** The SCTP stream id; null until the transport assigned one (a channel created before the offer). */
  get id(): number | null {
    if (this.#id === null) {
      const id = this.#info()?.id ?? -1;
      if (id >= 0) this.#id = id;
    }
    return this.#id;
  }

  /** Bytes given to send() and not yet handed to the SCTP transport (kept once the channel closes). */
  get bufferedAmount(): number {
    if (this.#state !== 'closed') {
      const info = this.#info();
      if (info) this.#lastBuffered = info.bufferedAmount;
    }
    return this.#lastBuffered;
  }

  /** 'bufferedamountlow' fires when bufferedAmount falls to this many bytes or below. Default 0. */
  get bufferedAmountLowThreshold(): number {
    return this.#threshold;
  }

  set bufferedAmountLowThreshold(bytes: number) {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new TypeError(`bufferedAmountLowThreshold must be a whole number of bytes, 0 or more; got ${String(bytes)}`);
    }
    this.#threshold = bytes;
    this.#native?.setChannelLowThreshold(this.#key, bytes);
  }

  /** The most one send() may carry: the SCTP transport's maxMessageSize (null before negotiation). */
  get maxMessageSize(): number | null {
    return sctpTransport(this.#native)?.maxMessageSize ?? null;
  }

  /**
   * Sends a string as text, a Buffer/typed array/ArrayBuffer as binary. Throws InvalidStateError
   * unless the channel is open, TypeError above the SCTP transport's maxMessageSize (as browsers do).
   */
  send(data: string | Buffer | ArrayBufferView | ArrayBuffer): void {
    const payload = toPayload(data);
    if (this.#state !== 'open' || !this.#native) {
      throw new InvalidStateError(`data channel '${this.label}' is ${this.#state}, not open: wait for its 'open' event before send()`);
    }
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    if (size === 0) {
      // webrtcbin 1.22 hands an empty message to its SCTP encoder, which fails and closes the channel.
      throw new OperationError(`send on data channel '${this.label}'`, 'webrtcbin 1.22 cannot send an empty message (it would close the channel); send at least one byte');
    }
    const max = this.maxMessageSize;
    if (max !== null && size > max) throw tooLarge(this.label, size, max);
    try {
      this.#native.sendOnChannel(this.#key, payload);
    } catch (error) {
      const { code, message } = error as { code?: string; message: string };
      if (code === 'ERR_DATA_CHANNEL_TOO_LARGE') throw tooLarge(this.label, size, max ?? 0);
      if (code === 'ERR_INVALID_STATE') throw new InvalidStateError(`data channel '${this.label}' is not open: ${message}`);
      throw new OperationError(`send on data channel '${this.label}'`, message);
    }
  }

  /** Starts closing: readyState 'closing' at once, 'close' once the stream is reset. Idempotent. */
  close(): void {
    if (this.#state === 'closed' || this.#state === 'closing') return;
    this.#state = 'closing';
    this.#native?.closeChannel(this.#key);
  }

  /** @internal one of this channel's events from the native side */
  _handle(event: ChannelEvent): void {
    switch (event.type) {
      case 'channel-open':
        // An announced channel was open when handed over: its late on-open is not a second open.
        if (this.#state !== 'connecting') return;
        this.#state = 'open';
        this.emit('open');
        break;
      case 'channel-closing':
        if (this.#state === 'closing' || this.#state === 'closed') return;
        this.#state = 'closing';
        this.emit('closing');
        break;
      case 'channel-close':
        this.#finish();
        break;
      case 'channel-error':
        if (this.listenerCount('error') > 0) this.emit('error', new OperationError(`data channel '${this.label}'`, event.message));
        break;
      case 'channel-message':
        this.emit('message', event.data);
        break;
      case 'channel-buffered-amount-low':
        // webrtcbin signals each drain on its streaming thread; one that send() has since refilled
        // is stale (a later drain signals again), so only a true one is delivered.
        if (this.#state === 'closed' || this.bufferedAmount > this.#threshold) return;
        this.emit('bufferedamountlow');
        break;
    }
  }

  #finish(): void {
    if (this.#state === 'closed') return;
    this.bufferedAmount; // keep the last value: a closed channel still reports what was left unsent
    this.#state = 'closed';
    this.#native = null;
    this.emit('close');
  }

  /** @internal the peer closed: no more native calls */
  _detach(): void {
    this.#finish();
  }
}

function tooLarge(label: string, size: number, max: number): TypeError {
  return new TypeError(
    `data channel '${label}': a message of ${size} bytes is larger than the SCTP transport's maxMessageSize of ${max} bytes ` +
      '(negotiated from the descriptions\' a=max-message-size); split it into messages of at most that size',
  );
}

function toPayload(data: unknown): string | Buffer {
  if (typeof data === 'string' || Buffer.isBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) return Buffer.from(data);
  throw new TypeError(`DataChannel.send takes a string, a Buffer, a typed array, a DataView or an ArrayBuffer; got ${data === null ? 'null' : typeof data}`);
}

const INIT_KEYS = ['ordered', 'maxPacketLifeTime', 'maxRetransmits', 'protocol', 'negotiated', 'id'];

function unsignedShort(name: string, value: unknown, max = 65535): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new TypeError(`createDataChannel: ${name} must be a whole number from 0 to ${max}; got ${String(value)}`);
  }
  return value;
}

/**
 * Checks a label and DataChannelInit as the spec's createDataChannel does (TypeError for what it
 * calls a TypeError) and gives the GstStructure text webrtcbin's create-data-channel takes.
 */
export function channelOptions(label: unknown, init: DataChannelInit = {}): string | undefined {
  if (typeof label !== 'string' || Buffer.byteLength(label) > 65535) {
    throw new InvalidArgumentError('createDataChannel: label must be a string of at most 65535 bytes');
  }
  if (typeof init !== 'object' || init === null) throw new TypeError('createDataChannel: options must be an object');
  const unknown = Object.keys(init).filter((key) => !INIT_KEYS.includes(key));
  if (unknown.length) {
    throw new TypeError(`createDataChannel: unknown option ${unknown.map((k) => `'${k}'`).join(', ')}; valid options: ${INIT_KEYS.join(', ')}`);
  }
  const fields: string[] = [];
  if (init.maxPacketLifeTime !== undefined && init.maxRetransmits !== undefined) {
    throw new TypeError('createDataChannel: maxPacketLifeTime and maxRetransmits cannot both be set; give one (or neither, for a reliable channel)');
  }
  if (init.ordered !== undefined) {
    if (typeof init.ordered !== 'boolean') throw new TypeError(`createDataChannel: ordered must be a boolean; got ${String(init.ordered)}`);
    fields.push(`ordered=(boolean)${init.ordered}`);
  }
  if (init.maxPacketLifeTime !== undefined) fields.push(`max-packet-lifetime=(int)${unsignedShort('maxPacketLifeTime', init.maxPacketLifeTime)}`);
  if (init.maxRetransmits !== undefined) fields.push(`max-retransmits=(int)${unsignedShort('maxRetransmits', init.maxRetransmits)}`);
  if (init.protocol !== undefined) {
    if (typeof init.protocol !== 'string' || Buffer.byteLength(init.protocol) > 65535) {
      throw new TypeError('createDataChannel: protocol must be a string of at most 65535 bytes');
    }
    // GstStructure text: a quoted string with its quotes and backslashes escaped.
    fields.push(`protocol=(string)"${init.protocol.replace(/["\\]/g, '\\$&')}"`);
  }
  if (init.negotiated !== undefined && typeof init.negotiated !== 'boolean') {
    throw new TypeError(`createDataChannel: negotiated must be a boolean; got ${String(init.negotiated)}`);
  }
  if (init.negotiated) {
    if (init.id === undefined) throw new TypeError('createDataChannel: negotiated: true needs an id (the same on both sides)');
    fields.push('negotiated=(boolean)true');
  }
  if (init.id !== undefined) {
    // 65535 is reserved (RFC 8831 §6.5); an id without negotiated is ignored, as in browsers.
    const id = unsignedShort('id', init.id, 65534);
    if (init.negotiated) fields.push(`id=(int)${id}`);
  }
  return fields.length ? `options,${fields.join(',')}` : undefined;
}
