// The browser side of the desktop stream: one WebSocket to the signaling daemon (protocol v1, see
// docs/protocol.md), one RTCPeerConnection answering the publisher's (the VM's) offer, the received
// track shown in a <video>. Reconnects with exponential backoff, reports stats every second, and says
// when WebRTC cannot get a picture through ('fallback') so a page can offer something else.
//
// Framework-free and dependency-free: only the protocol's *types* are imported (the compiled TypeBox
// validators would add ~400 kB to the bundle); the few fields used are checked by hand below, into
// types taken from the protocol's, so a protocol change the checks do not follow is a type error.
import type { ClientMessage, ServerMessage } from '../signaling/protocol/messages.js';
import type { QualityResult, ResizeResult, ViewerMessage } from '../input/protocol.js';
import { INPUT_CHANNEL, QUALITY_LIMITS } from '../input/limits.js';
import { parseKeyCombo } from './keyboard.js';
import { ABS_CAPTURE_TIME_URI } from '../media/abs-capture-time.js';
import { GlassToGlassProbe } from './latency-probe.js';
import { JanusSubscriber, type JanusSubscriberState } from './janus-subscriber.js';

export type ViewerState =
  | 'connecting' // opening the signaling socket / waiting for `joined` (first try)
  | 'waiting-for-publisher' // joined; the session has no publisher yet
  | 'negotiating' // a publisher is there: offer/answer and ICE in progress
  | 'connected' // the RTCPeerConnection is connected
  | 'reconnecting' // torn down; the next try is scheduled or under way
  | 'failed' // will not retry by itself (refused token, bad session name, bad URL): see `failureReason`
  | 'stopped'; // stop() was called

export interface ViewerStats {
  /** Frames decoded per second over the last interval. */
  fps: number | null;
  /** Received bitrate over the last interval (RTP payload and headers), kbit/s. */
  bitrateKbps: number | null;
  /** ICE round-trip time of the selected candidate pair, ms. */
  rttMs: number | null;
  /** Mean time a frame spent in the jitter buffer over the last interval, ms. */
  jitterBufferMs: number | null;
  /** Mean decode time per frame over the last interval, ms. */
  decodeMs: number | null;
  /** Frames decoded since this RTCPeerConnection started. */
  framesDecoded: number;
  /** jitterBufferMs + decodeMs + rttMs / 2: the receiver's share of the latency (no capture, encode or display). */
  latencyEstimateMs: number | null;
  /**
   * Capture on the publisher → presentation here, p50 over the last second, ms (the abs-capture-time
   * probe, latency-probe.ts); null where the browser does not report capture times (Firefox) or before
   * the clock offset is known.
   */
  glassToGlassMs: number | null;
  /** How far glassToGlassMs may be off: half the round trip of the best clock exchange, ms. */
  glassToGlassUncertaintyMs: number | null;
  /** "VP8", "H264", … */
  codec: string | null;
  width: number | null;
  height: number | null;
}

export interface ViewerOptions {
  /** ws(s)://host/v1/ws */
  url: string;
  session: string;
  token?: string;
  video: HTMLVideoElement;
  /** How long a publisher-present attempt may go without a decoded frame before 'fallback'; also the join timeout. */
  connectTimeoutMs?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** 'relay' forces TURN (the page maps `?relay=1` to this). */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** If set, RTCRtpReceiver.jitterBufferTarget (ms) where supported; 0 asks for the smallest buffer. */
  jitterBufferTargetMs?: number;
  /** Called (once per attempt) when no frame was decoded within connectTimeoutMs. */
  onFallback?: (reason: string) => void;
  /**
   * Video from Janus (docs/sfu.md): the <video> subscribes to the room's publisher feed in this Janus
   * VideoRoom (the publisher relays there with `publish({sfu})`), and the daemon join asks for the input
   * data channel only (`join.media: 'data'`): input, clipboard and resize as usual, no video peer on the VM.
   */
  janus?: JanusViewOptions;
}

export interface JanusViewOptions {
  /** Janus's WebSocket transport, `ws(s)://host:8188`. */
  url: string;
  room: number | string;
  /** The room's pin, when it has one. */
  pin?: string;
}

/** The Janus subscription of a viewer in Janus mode: its state and why. */
export interface JanusDetail {
  state: JanusSubscriberState;
  reason: string | null;
}

export interface FallbackDetail {
  reason: string;
  iceConnectionState: RTCIceConnectionState | 'none';
}
export interface ReconnectDetail {
  /** 1 for the first retry after a success. */
  attempt: number;
  delayMs: number;
  reason: string;
}
export interface ViewerErrorDetail {
  /** A daemon error code (docs/protocol.md) or 'bad-session' / 'bad-url' / 'bad-message' / 'token-expired'. */
  code: string;
  message: string;
  /** true: the viewer gave up (state 'failed'). */
  fatal: boolean;
}

export interface ViewerEventMap {
  state: CustomEvent<ViewerState>;
  stats: CustomEvent<ViewerStats>;
  /** The publisher sends audio. The element stays muted (autoplay rules) until a user gesture unmutes it. */
  audio: CustomEvent<MediaStreamTrack>;
  fallback: CustomEvent<FallbackDetail>;
  reconnect: CustomEvent<ReconnectDetail>;
  error: CustomEvent<ViewerErrorDetail>;
  /** Janus mode: the subscription to the room's feed changed state (`failed`: a refused pin, a URL the page may not reach). */
  janus: CustomEvent<JanusDetail>;
  /** The publisher opened a data channel (e.g. "input" for mouse and keyboard). */
  datachannel: CustomEvent<RTCDataChannel>;
  /** With remote extras attached (remote-extras.ts): the VM's clipboard text, sent while this viewer controls. */
  clipboard: CustomEvent<string>;
  /** Control of the VM's mouse and keyboard changed hands (sent to viewers whose token allows control). */
  control: CustomEvent<ControlDetail>;
  /** The publisher's answer to setMaxBitrate(): the ceiling in force for this viewer, or why it was refused. */
  quality: CustomEvent<QualityDetail>;
  /** With remote extras attached: the VM's answer to a resize request. */
  resize: CustomEvent<RemoteResizeResult>;
  /**
   * The signaling socket dropped while the stream is connected (`connected: false`, the stream stays
   * up and state stays 'connected'), or it rejoined (`connected: true`).
   */
  signaling: CustomEvent<SignalingDetail>;
}

export interface SignalingDetail {
  connected: boolean;
  /** Why it dropped (when `connected` is false). */
  reason?: string;
  /** When the next join is tried (when `connected` is false). */
  delayMs?: number;
}

/**
 * Who controls the VM: `controlling` this viewer does; `holder` the one that does (`self` when it is this
 * viewer; absent when nobody does — the next click or takeControl() takes it).
 */
export interface ControlDetail {
  controlling: boolean;
  holder?: { id: string; self: boolean };
}

/** The agent's `quality-result` without its tag: `maxBitrate` (bits per second) in force, absent for none. */
export type QualityDetail = Omit<QualityResult, 't'>;

/** The agent's `resize-result` (lib/input/protocol.ts) without its tag: the screen size now and, if refused, why. */
export type RemoteResizeResult = Omit<ResizeResult, 't'>;

type ViewerListener<K extends keyof ViewerEventMap> = ((event: ViewerEventMap[K]) => void) | { handleEvent(event: ViewerEventMap[K]): void };

// ---- incoming messages, checked by hand (only what this module reads) ----

type Server<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;
/** `W` where the protocol's field `P` is one of W's values (else never: the parse below stops compiling). */
type Widened<P, W> = [Exclude<P, undefined>] extends [W] ? W : never;

/**
 * What the viewer keeps of each daemon → client message: the protocol's fields, by name and type
 * (lib/signaling/protocol/messages.ts), except `joined.publisher` made `null` when absent, and
 * `bye.reason` and `error.code` kept as any string, so a newer daemon's words still reach the page.
 */
export type IncomingMessage =
  | (Pick<Server<'joined'>, 'type' | 'peerId' | 'iceServers' | 'resumeKey' | 'resumed'> & { publisher: Exclude<Server<'joined'>['publisher'], undefined> })
  | Pick<Server<'peer-joined' | 'peer-left'>, 'type' | 'peerId' | 'role'>
  | Pick<Server<'offer' | 'answer'>, 'type' | 'from' | 'sdp'>
  | Pick<Server<'candidate'>, 'type' | 'from' | 'candidate'>
  | (Pick<Server<'bye'>, 'type' | 'from' | 'codecs' | 'message'> & { reason?: Widened<Server<'bye'>['reason'], string> })
  | (Pick<Server<'error'>, 'type' | 'message'> & { code: Widened<Server<'error'>['code'], string> });

const SESSION_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** The video codecs this browser decodes, its preference first (`VP8`, `H264`…), for `join.codecs`. */
export function decodableVideoCodecs(): string[] | undefined {
  const caps = typeof RTCRtpReceiver !== 'undefined' && typeof RTCRtpReceiver.getCapabilities === 'function' ? RTCRtpReceiver.getCapabilities('video') : null;
  if (!caps) return undefined;
  const names = new Set<string>();
  for (const codec of caps.codecs) {
    const name = codec.mimeType.replace(/^video\//i, '').toUpperCase();
    if (!['RTX', 'RED', 'ULPFEC', 'FLEXFEC-03'].includes(name) && name.length <= 64) names.add(name);
  }
  return [...names].slice(0, 32);
}

/** What the page says when the publisher and this browser share no video codec. */
export function noCommonCodecText(codecs: { publisher: string[]; viewer: string[] } | undefined, message: string | undefined): string {
  const theirs = codecs?.publisher.length ? codecs.publisher.join(', ') : undefined;
  const ours = codecs?.viewer.length ? codecs.viewer : decodableVideoCodecs();
  if (!theirs) return `This browser cannot decode the video the desktop sends${message ? ` (${message})` : ''}.`;
  return `This browser cannot decode the desktop's video: it is sent as ${theirs}, and this browser decodes ${ours?.length ? ours.join(', ') : 'none of those'}. Open the link in a browser that decodes ${theirs}.`;
}

/** What a viewer whose token ran out is told (error code 'token-expired', fatal). */
export const EXPIRED_LINK = 'This link has expired. Ask for a new link to keep watching.';
const STABLE_JOIN_MS = 30_000; // joined this long before a drop: the next retry starts from initialMs again

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Parses one daemon → client frame; returns a string saying what is wrong when it is not usable. */
export function parseServerMessage(text: string): IncomingMessage | string {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (!isObject(m) || !isString(m.type)) return 'not an object with a string "type"';
  // Typed as the protocol's tags: every one must have its case (see default), any other string is refused.
  const type = m.type as ServerMessage['type'];
  switch (type) {
    case 'joined': {
      if (!isNonEmptyString(m.peerId)) return 'joined: no peerId';
      if (!Array.isArray(m.iceServers)) return 'joined: iceServers is not an array';
      const iceServers: Server<'joined'>['iceServers'] = [];
      for (const s of m.iceServers) {
        if (!isObject(s)) return 'joined: an ICE server is not an object';
        const urls = s.urls;
        if (!(isString(urls) || (Array.isArray(urls) && urls.every(isString)))) return 'joined: an ICE server has no urls';
        const server: Server<'joined'>['iceServers'][number] = { urls: urls as string | string[] };
        if (isString(s.username)) server.username = s.username;
        if (isString(s.credential)) server.credential = s.credential;
        iceServers.push(server);
      }
      const publisher = m.publisher === undefined || m.publisher === null ? null : m.publisher;
      if (publisher !== null && !isNonEmptyString(publisher)) return 'joined: publisher is not a string';
      const joined: IncomingMessage = { type: 'joined', peerId: m.peerId, iceServers, publisher };
      if (isNonEmptyString(m.resumeKey)) joined.resumeKey = m.resumeKey;
      if (typeof m.resumed === 'boolean') joined.resumed = m.resumed;
      return joined;
    }
    case 'peer-joined':
    case 'peer-left':
      if (!isNonEmptyString(m.peerId)) return `${type}: no peerId`;
      if (m.role !== 'publisher' && m.role !== 'viewer') return `${type}: bad role`;
      return { type, peerId: m.peerId, role: m.role };
    case 'offer':
    case 'answer':
      if (!isNonEmptyString(m.from)) return `${type}: no from`;
      if (!isNonEmptyString(m.sdp)) return `${type}: no sdp`;
      return { type, from: m.from, sdp: m.sdp };
    case 'candidate': {
      if (!isNonEmptyString(m.from)) return 'candidate: no from';
      const c = m.candidate;
      if (c === null) return { type: 'candidate', from: m.from, candidate: null };
      if (!isObject(c) || !isString(c.candidate)) return 'candidate: no candidate string';
      const init: NonNullable<Server<'candidate'>['candidate']> = { candidate: c.candidate };
      if (isString(c.sdpMid) || c.sdpMid === null) init.sdpMid = c.sdpMid;
      if (typeof c.sdpMLineIndex === 'number' || c.sdpMLineIndex === null) init.sdpMLineIndex = c.sdpMLineIndex;
      if (isString(c.usernameFragment) || c.usernameFragment === null) init.usernameFragment = c.usernameFragment;
      return { type: 'candidate', from: m.from, candidate: init };
    }
    case 'bye': {
      const bye: IncomingMessage = { type: 'bye' };
      if (isString(m.from)) bye.from = m.from;
      if (isString(m.reason)) bye.reason = m.reason;
      if (isString(m.message)) bye.message = m.message;
      const codecs = m.codecs as { publisher?: unknown; viewer?: unknown } | undefined;
      const names = (v: unknown) => (Array.isArray(v) ? v.filter(isString) : []);
      if (isObject(codecs)) bye.codecs = { publisher: names(codecs.publisher), viewer: names(codecs.viewer) };
      return bye;
    }
    case 'error':
      if (!isString(m.code)) return 'error: no code';
      return { type: 'error', code: m.code, message: isString(m.message) ? m.message : '' };
    default:
      void (type satisfies never); // a protocol message type with no case above does not compile
      return `unknown type ${JSON.stringify(m.type).slice(0, 40)}`;
  }
}

/** The DTLS certificate fingerprint(s) a description names: a new peer has new ones. */
function fingerprintOf(sdp: string): string {
  return (sdp.match(/^a=fingerprint:.*$/gm) ?? []).map((line) => line.trim().toLowerCase()).sort().join('\n');
}

/** "10 s", "2.5 s" */
export function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

interface StatsSample {
  timestamp: number;
  framesDecoded: number;
  bytesReceived: number;
  jitterBufferDelay: number;
  jitterBufferEmittedCount: number;
  totalDecodeTime: number;
}

export class Viewer extends EventTarget {
  readonly options: Readonly<Required<Pick<ViewerOptions, 'url' | 'session' | 'video' | 'connectTimeoutMs'>>> & ViewerOptions;
  private readonly initialMs: number;
  private readonly maxMs: number;

  private _state: ViewerState = 'stopped';
  private _stats: ViewerStats | null = null;
  private _failureReason: string | null = null;
  private _reason: string | null = null;

  private running = false;
  private ws: WebSocket | null = null;
  private joined = false;
  private joinedAt = 0;
  private iceServers: RTCIceServer[] = [];
  private publisherId: string | null = null;
  /** Our id and resume key from the last `joined`: a rejoin with a live stream reclaims the id. */
  private resume: { id: string; key: string } | null = null;

  private pc: RTCPeerConnection | null = null;
  /** Offer and candidate handling, in arrival order (setRemoteDescription is async). */
  private chain: Promise<void> = Promise.resolve();
  private pendingCandidates: (RTCIceCandidateInit | null)[] = [];
  private localCandidates = 0;
  private remoteCandidates = 0;
  private gotOffer = false;
  private lastIceState: RTCIceConnectionState | 'none' = 'none';

  private failures = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private joinTimer: ReturnType<typeof setTimeout> | null = null;
  private fallbackTimer: ReturnType<typeof setTimeout> | null = null;
  private statsTimer: ReturnType<typeof setInterval> | null = null;
  private prevSample: StatsSample | null = null;
  private framesSeen = false;

  /** The publisher's "input" channel of the current connection. */
  private input: RTCDataChannel | null = null;
  private probe: GlassToGlassProbe | null = null;
  private _control: ControlDetail | null = null;
  private _maxBitrate: number | undefined;
  /** Janus mode: the subscription that feeds the <video>. */
  private janus: JanusSubscriber | null = null;

  constructor(options: ViewerOptions) {
    super();
    this.options = { ...options, connectTimeoutMs: options.connectTimeoutMs ?? 10_000 };
    this.initialMs = Math.max(1, options.backoff?.initialMs ?? 500);
    this.maxMs = Math.max(this.initialMs, options.backoff?.maxMs ?? 10_000);
  }

  // ---- typed EventTarget ----
  override addEventListener<K extends keyof ViewerEventMap>(type: K, listener: ViewerListener<K> | null, options?: boolean | AddEventListenerOptions): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void {
    super.addEventListener(type, listener, options);
  }
  override removeEventListener<K extends keyof ViewerEventMap>(type: K, listener: ViewerListener<K> | null, options?: boolean | EventListenerOptions): void;
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void {
    super.removeEventListener(type, listener, options);
  }
  private emit<K extends keyof ViewerEventMap>(type: K, detail: ViewerEventMap[K]['detail']): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** The latest state. */
  get state(): ViewerState {
    return this._state;
  }
  /** The latest 'stats' detail (null before the first). */
  get stats(): ViewerStats | null {
    return this._stats;
  }
  /** Why the state is 'failed'. */
  get failureReason(): string | null {
    return this._failureReason;
  }
  /** Why the viewer is reconnecting / waiting (the last reason given), for display. */
  get reason(): string | null {
    return this._reason;
  }
  /** Who controls the VM, as the publisher last said (null before it said anything). */
  get control(): ControlDetail | null {
    return this._control;
  }
  /** The bitrate ceiling asked of the publisher with setMaxBitrate() (bits per second), if any. */
  get maxBitrate(): number | undefined {
    return this._maxBitrate;
  }

  /**
   * Presses and releases special keys on the VM: "ctrl+alt+Delete", "Super", "F11", "Print", "ctrl+c".
   * Keys go down in order and up in reverse. Returns false when the input channel is not open. Throws
   * RangeError for a name it does not know. Only the viewer in control is obeyed (or the first to send
   * when nobody controls).
   */
  sendKeys(combo: string): boolean {
    const keys = parseKeyCombo(combo);
    if (this.input?.readyState !== 'open') return false;
    for (const { key, code } of keys) this.sendInput({ t: 'key', key, code, down: true });
    for (const { key, code } of [...keys].reverse()) this.sendInput({ t: 'key', key, code, down: false });
    return true;
  }

  /**
   * Caps the bitrate the publisher sends this viewer, bits per second (undefined lifts the cap). The
   * publisher clamps it into its own range and answers with a `quality` event; the value is sent again
   * after every reconnect. Throws RangeError outside QUALITY_LIMITS. `null` is taken as undefined.
   */
  setMaxBitrate(bps: number | undefined | null): void {
    const { minBitrate, maxBitrate } = QUALITY_LIMITS;
    if (bps === null) bps = undefined;
    if (bps !== undefined && !(typeof bps === 'number' && Number.isFinite(bps) && bps >= minBitrate && bps <= maxBitrate)) {
      throw new RangeError(`setMaxBitrate(): give bits per second from ${minBitrate} to ${maxBitrate}, or undefined for no ceiling (got ${String(bps)})`);
    }
    this._maxBitrate = bps === undefined ? undefined : Math.round(bps);
    this.sendQuality();
  }

  /** Asks to control the VM's mouse and keyboard (a `control` event says when it is granted). */
  takeControl(): boolean {
    return this.sendInput({ t: 'take-control' });
  }

  /** Gives control up, so another viewer may take it without taking it away. */
  releaseControl(): boolean {
    return this.sendInput({ t: 'release-control' });
  }

  /** Sends one message on the publisher's input channel; false when it is not open. */
  sendInput(message: ViewerMessage): boolean {
    const channel = this.input;
    if (channel?.readyState !== 'open') return false;
    try {
      channel.send(JSON.stringify(message));
      return true;
    } catch {
      return false; // over the channel's message size limit
    }
  }

  private sendQuality(): void {
    this.sendInput(this._maxBitrate === undefined ? { t: 'quality' } : { t: 'quality', maxBitrate: this._maxBitrate });
  }

  // The agent's control and quality answers become events; the ceiling is asked again on each new channel.
  private attachInput(channel: RTCDataChannel): void {
    this.input = channel;
    this._control = null;
    const onOpen = () => {
      if (this.input === channel && this._maxBitrate !== undefined) this.sendQuality();
    };
    if (channel.readyState === 'open') onOpen();
    else channel.addEventListener('open', onOpen, { once: true });
    channel.addEventListener('message', (e: MessageEvent) => {
      if (this.input !== channel || typeof e.data !== 'string') return;
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(e.data);
      } catch {
        return;
      }
      if (!isObject(m)) return;
      if (m.t === 'control' && typeof m.controlling === 'boolean') {
        const detail: ControlDetail = { controlling: m.controlling };
        if (isNonEmptyString(m.holder)) detail.holder = { id: m.holder, self: m.controlling };
        this._control = detail;
        this.emit('control', detail);
      } else if (m.t === 'clock-reply' && typeof m.t0 === 'number' && typeof m.t1 === 'number' && typeof m.t2 === 'number') {
        this.probe?.onClockReply({ t0: m.t0, t1: m.t1, t2: m.t2 });
      } else if (m.t === 'quality-result' && typeof m.ok === 'boolean') {
        const detail: QualityDetail = { ok: m.ok };
        if (typeof m.maxBitrate === 'number') detail.maxBitrate = m.maxBitrate;
        if (m.code === 'unsupported' || m.code === 'out-of-range') detail.code = m.code;
        if (isString(m.message)) detail.message = m.message;
        this.emit('quality', detail);
      }
    });
  }

  /** The live RTCPeerConnection with the publisher, if any (for debugging; data only in Janus mode). */
  get peerConnection(): RTCPeerConnection | null {
    return this.pc;
  }

  /** Janus mode: the RTCPeerConnection of the subscription to Janus (the video's). */
  get janusConnection(): RTCPeerConnection | null {
    return this.janus?.peerConnection ?? null;
  }

  // Where the video arrives: Janus's subscription in Janus mode, else the publisher's peer.
  private mediaPc(): RTCPeerConnection | null {
    return this.options.janus ? (this.janus?.peerConnection ?? null) : this.pc;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.failures = 0;
    this._failureReason = null;
    this._reason = null;
    if (!SESSION_RE.test(this.options.session)) {
      this.fail('bad-session', `invalid session name ${JSON.stringify(this.options.session)} (1–64 of A–Z a–z 0–9 _ . -)`);
      return;
    }
    this.statsTimer = setInterval(() => void this.pollStats(), 1000);
    const janus = this.options.janus;
    if (janus) {
      // The video's own life: it keeps playing through the daemon's reconnects, and they through its.
      const subscriber = new JanusSubscriber({
        ...janus,
        video: this.options.video,
        onState: (state, reason) => {
          if (this.janus !== subscriber) return;
          if (state === 'failed') this.emit('error', { code: 'janus', message: reason ?? 'the Janus subscription failed', fatal: false });
          this.emit('janus', { state, reason });
        },
      });
      this.janus = subscriber;
      subscriber.start();
    }
    this.connect();
  }

  stop(): void {
    if (!this.running && this._state === 'stopped') return;
    const wasRunning = this.running;
    this.running = false;
    if (wasRunning) this.send({ type: 'bye' });
    this.shutdown();
    this.setState('stopped');
  }

  // ---- lifecycle ----

  private setState(state: ViewerState): void {
    if (state === this._state) return;
    this._state = state;
    this.emit('state', state);
  }

  private connect(): void {
    const retrying = this.failures > 0;
    if (!this.mediaUp()) this.setState(retrying ? 'reconnecting' : 'connecting');
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.options.url);
    } catch (e) {
      this.fail('bad-url', `cannot open the signaling socket ${this.options.url}: ${(e as Error).message}`);
      return;
    }
    this.ws = ws;
    this.joined = false;
    this.joinedAt = 0;
    this.joinTimer = setTimeout(() => {
      this.joinTimer = null;
      if (this.ws === ws && !this.joined) this.signalingLost(`the signaling server did not answer within ${formatSeconds(this.options.connectTimeoutMs)}`);
    }, this.options.connectTimeoutMs);
    ws.onopen = () => {
      if (this.ws !== ws) return;
      const join: ClientMessage = { type: 'join', v: 1, session: this.options.session, role: 'viewer' };
      if (this.options.token) join.token = this.options.token;
      if (this.options.janus) {
        // The video comes from Janus: only the input channel from the publisher.
        join.media = 'data';
      } else {
        // What this browser decodes: the publisher picks the first of its codecs found here.
        const codecs = decodableVideoCodecs();
        if (codecs) join.codecs = codecs;
      }
      // A stream that is still up keeps our id, so the publisher keeps its end of it; otherwise a fresh id.
      if (this.resume && this.mediaUp()) join.resume = this.resume;
      this.send(join);
    };
    ws.onmessage = (event: MessageEvent) => {
      if (this.ws !== ws) return;
      if (typeof event.data !== 'string') {
        console.warn('[viewer] ignoring a binary signaling frame');
        return;
      }
      const message = parseServerMessage(event.data);
      if (typeof message === 'string') {
        console.warn(`[viewer] ignoring a signaling message: ${message}`);
        return;
      }
      this.handle(message);
    };
    ws.onclose = (event: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      const why = event.reason ? `${event.code} ${event.reason}` : `${event.code}`;
      this.signalingLost(this.joined ? `the signaling connection closed (${why})` : `could not reach the signaling server at ${this.options.url} (${why})`);
    };
  }

  private send(message: ClientMessage): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** The RTCPeerConnection is connected: the media needs no signaling to keep flowing. */
  private mediaUp(): boolean {
    return this.pc !== null && this.pc.connectionState === 'connected';
  }

  /**
   * The signaling socket is gone (closed, or no `joined` in time). Media is peer to peer: a connected
   * stream stays up (state 'connected') while signaling rejoins with backoff; otherwise restart().
   */
  private signalingLost(reason: string): void {
    if (!this.running) return;
    if (!this.mediaUp()) {
      this.restart(reason);
      return;
    }
    this.closeSocket();
    if (this.reconnectTimer) return;
    if (this.joinedAt && Date.now() - this.joinedAt >= STABLE_JOIN_MS) this.failures = 0;
    const delayMs = this.nextDelay();
    this._reason = `signaling reconnecting: ${reason}`;
    this.emit('signaling', { connected: false, reason, delayMs });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.running) this.connect();
    }, delayMs);
  }

  private nextDelay(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    return Math.round(base / 2 + (Math.random() * base) / 2);
  }

  /** Tears everything down and schedules a new join (exponential backoff with jitter). */
  private restart(reason: string): void {
    if (!this.running) return;
    if (this.reconnectTimer) {
      // A signaling rejoin is already scheduled (the stream had stayed up): it now starts over.
      if (this.pc) {
        this.closePeer();
        this._reason = reason;
        this.setState('reconnecting');
      }
      return;
    }
    if (this.joinedAt && Date.now() - this.joinedAt >= STABLE_JOIN_MS) this.failures = 0;
    this.closePeer();
    this.closeSocket();
    const delayMs = this.nextDelay();
    this._reason = reason;
    this.setState('reconnecting');
    this.emit('reconnect', { attempt: this.failures, delayMs, reason });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.running) this.connect();
    }, delayMs);
  }

  /** Gives up: state 'failed' until start() is called again. */
  private fail(code: string, message: string): void {
    this._failureReason = message;
    this._reason = message;
    this.running = false;
    this.shutdown();
    this.emit('error', { code, message, fatal: true });
    this.setState('failed');
  }

  private shutdown(): void {
    for (const timer of [this.reconnectTimer, this.joinTimer, this.fallbackTimer]) if (timer) clearTimeout(timer);
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.reconnectTimer = this.joinTimer = this.fallbackTimer = this.statsTimer = null;
    this.closePeer();
    this.closeSocket();
    this.janus?.stop();
    this.janus = null;
    this.publisherId = null;
    this.resume = null;
  }

  private closeSocket(): void {
    if (this.joinTimer) clearTimeout(this.joinTimer);
    this.joinTimer = null;
    const ws = this.ws;
    this.ws = null;
    this.joined = false;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
      try {
        ws.close(1000);
      } catch {
        /* already closing */
      }
    }
  }

  private closePeer(): void {
    const pc = this.pc;
    this.pc = null;
    this.input = null;
    this.probe?.stop();
    this.probe = null;
    this.pendingCandidates = [];
    this.prevSample = null;
    this.chain = Promise.resolve();
    if (pc) {
      this.lastIceState = pc.iceConnectionState;
      pc.onicecandidate = pc.ontrack = pc.onconnectionstatechange = pc.oniceconnectionstatechange = pc.ondatachannel = null;
      pc.close();
    }
    // In Janus mode the video is the subscription's, which outlives the publisher's (data-only) peer.
    if (!this.options.janus && this.options.video.srcObject) this.options.video.srcObject = null;
  }

  // ---- signaling ----

  private handle(m: IncomingMessage): void {
    switch (m.type) {
      case 'joined': {
        if (this.joinTimer) clearTimeout(this.joinTimer);
        this.joinTimer = null;
        this.joined = true;
        this.joinedAt = Date.now();
        this.iceServers = m.iceServers;
        // A stream kept through a signaling outage stays only if we got our id back and the publisher
        // (if it is back already) is the same one: otherwise each side would wait for the other.
        const kept = this.pc !== null;
        if (kept && (m.resumed !== true || (m.publisher && this.publisherId && m.publisher !== this.publisherId))) this.closePeer();
        this.resume = m.resumeKey ? { id: m.peerId, key: m.resumeKey } : null;
        if (this.pc) this._reason = null;
        if (kept) this.emit('signaling', { connected: true });
        if (m.publisher) {
          this.publisherId = m.publisher;
          this.publisherPresent();
        } else if (this.mediaUp()) {
          this._reason = null; // the publisher has not rejoined yet; the media flows meanwhile
        } else {
          this.publisherId = null;
          this.waitForPublisher(null);
        }
        return;
      }
      case 'peer-joined':
        if (m.role !== 'publisher') return;
        if (this.publisherId && this.publisherId !== m.peerId) this.closePeer();
        this.publisherId = m.peerId;
        this.publisherPresent();
        return;
      case 'peer-left':
        if (m.role !== 'publisher' || (this.publisherId && m.peerId !== this.publisherId)) return;
        // The protocol keeps viewers joined; the next publisher's peer-joined starts a new attempt.
        this.publisherId = null;
        this.closePeer();
        this.waitForPublisher('the publisher left');
        return;
      case 'offer':
        this.onOffer(m.from, m.sdp);
        return;
      case 'answer':
        console.warn('[viewer] ignoring an answer: this viewer does not send offers');
        return;
      case 'candidate':
        this.onCandidate(m.from, m.candidate);
        return;
      case 'bye':
        // No codec in common: retrying cannot help (and the network is not to blame).
        if (m.from !== undefined && m.reason === 'no-common-codec') {
          this.fail('no-common-codec', noCommonCodecText(m.codecs, m.message));
          return;
        }
        // The link's token ran out: joining again with it is refused, so ask for a new link instead.
        if (m.from === undefined && m.reason === 'token-expired') {
          this.fail('token-expired', EXPIRED_LINK);
          return;
        }
        if (m.from === undefined) this.signalingLost(`the server said bye${m.reason ? `: ${m.reason}` : ''}`);
        else this.restart(`the publisher ended this connection${m.message ?? m.reason ? `: ${m.message ?? m.reason}` : ''}`);
        return;
      case 'error':
        this.onError(m.code, m.message);
        return;
    }
  }

  private onError(code: string, message: string): void {
    const text = message ? `${code}: ${message}` : code;
    // A refused token (or a join the daemon cannot accept) will not get better by retrying.
    const fatal = code === 'unauthorized' || (!this.joined && (code === 'bad-message' || code === 'bad-json' || code === 'publisher-exists'));
    if (code === 'unauthorized' && /expired/.test(message)) {
      this.fail('token-expired', EXPIRED_LINK);
      return;
    }
    if (fatal) {
      this.fail(code, code === 'unauthorized' ? `the signaling server refused the token (${message || 'unauthorized'})` : `the signaling server refused to join: ${text}`);
      return;
    }
    console.warn(`[viewer] signaling error ${text}`);
    this.emit('error', { code, message, fatal: false });
    // too-large / rate-limited / shutting-down: the daemon closes the socket and onclose reconnects.
  }

  private waitForPublisher(reason: string | null): void {
    this.clearFallback();
    this._reason = reason;
    this.setState('waiting-for-publisher');
  }

  /** A publisher is in the session: expect its offer, and start the no-frames clock unless one runs. */
  private publisherPresent(): void {
    if (!this.mediaUp()) this.setState('negotiating');
    this.ensurePeer();
    this.armFallback();
  }

  private ensurePeer(): RTCPeerConnection {
    if (this.pc) return this.pc;
    const config: RTCConfiguration = { iceServers: this.iceServers };
    if (this.options.iceTransportPolicy) config.iceTransportPolicy = this.options.iceTransportPolicy;
    const pc = new RTCPeerConnection(config);
    this.pc = pc;
    this.localCandidates = this.remoteCandidates = 0;
    this.gotOffer = false;
    this.lastIceState = 'new';
    this.framesSeen = false;
    pc.onicecandidate = (e: RTCPeerConnectionIceEvent) => {
      if (this.pc !== pc) return;
      let candidate: Extract<ClientMessage, { type: 'candidate' }>['candidate'] = null;
      if (e.candidate) {
        const j = e.candidate.toJSON();
        candidate = { candidate: j.candidate ?? '', sdpMid: j.sdpMid ?? null, sdpMLineIndex: j.sdpMLineIndex ?? null };
        if (j.usernameFragment) candidate.usernameFragment = j.usernameFragment;
        this.localCandidates++;
      }
      const message: ClientMessage = { type: 'candidate', candidate };
      if (this.publisherId) message.to = this.publisherId;
      this.send(message);
    };
    pc.ondatachannel = (e: RTCDataChannelEvent) => {
      if (this.pc !== pc) return;
      if (e.channel.label === INPUT_CHANNEL) this.attachInput(e.channel);
      this.dispatchEvent(new CustomEvent('datachannel', { detail: e.channel }));
    };
    pc.ontrack = (e: RTCTrackEvent) => {
      if (this.pc !== pc) return;
      const video = this.options.video;
      // Video and audio share one stream on the element, whatever stream ids the SDP gave them.
      let stream = video.srcObject instanceof MediaStream ? video.srcObject : null;
      if (!stream || stream.getTracks().some((track) => track.readyState === 'ended' || track.kind === e.track.kind)) stream = new MediaStream();
      stream.addTrack(e.track);
      if (video.srcObject !== stream) video.srcObject = stream;
      if (e.track.kind === 'audio') this.dispatchEvent(new CustomEvent('audio', { detail: e.track }));
      if (e.track.kind === 'video') {
        this.probe?.stop();
        this.probe = new GlassToGlassProbe(video, e.receiver, (t0) => this.sendInput({ t: 'clock', t0 }));
      }
      video.play().catch(() => {
        /* autoplay policy: a muted <video> may play; otherwise the page shows controls */
      });
      const target = this.options.jitterBufferTargetMs;
      if (target !== undefined && 'jitterBufferTarget' in e.receiver) {
        try {
          (e.receiver as RTCRtpReceiver & { jitterBufferTarget: number | null }).jitterBufferTarget = target;
        } catch {
          /* out of range: keep the default */
        }
      }
    };
    pc.oniceconnectionstatechange = () => {
      if (this.pc === pc) this.lastIceState = pc.iceConnectionState;
    };
    pc.onconnectionstatechange = () => {
      if (this.pc !== pc) return;
      switch (pc.connectionState) {
        case 'connected':
          this.failures = 0;
          this._reason = null;
          this.setState('connected');
          break;
        case 'failed':
          this.restart(`the WebRTC connection failed (ICE state: ${pc.iceConnectionState})`);
          break;
        default:
          break;
      }
    };
    return pc;
  }

  private enqueue(pc: RTCPeerConnection, work: () => Promise<void>): void {
    this.chain = this.chain.then(() => (this.pc === pc ? work() : undefined));
  }

  private onOffer(from: string, sdp: string): void {
    if (!this.joined) return;
    if (this.publisherId !== from) {
      // An offer from a publisher we had not heard of yet (or a new one): start over with it.
      if (this.publisherId) this.closePeer();
      this.publisherId = from;
    }
    // An offer with another DTLS fingerprint than the connection we hold comes from a new peer of the
    // publisher (it let our kept connection go, e.g. after a signaling outage): start over with it.
    const held = this.pc?.remoteDescription?.sdp;
    if (held && fingerprintOf(held) !== fingerprintOf(sdp)) this.closePeer();
    this.publisherPresent();
    const pc = this.ensurePeer();
    this.gotOffer = true;
    this.enqueue(pc, async () => {
      try {
        await pc.setRemoteDescription({ type: 'offer', sdp });
        acceptAbsCaptureTime(pc);
        const early = this.pendingCandidates.splice(0);
        for (const c of early) await this.addCandidate(pc, c);
        await pc.setLocalDescription(await pc.createAnswer());
        if (this.pc !== pc || !pc.localDescription) return;
        this.send({ type: 'answer', to: from, sdp: pc.localDescription.sdp });
      } catch (e) {
        if (this.pc !== pc) return;
        console.error('[viewer] could not answer the offer', e);
        this.restart(`could not answer the publisher's offer: ${(e as Error).message}`);
      }
    });
  }

  private onCandidate(from: string, candidate: RTCIceCandidateInit | null): void {
    if (!this.joined || (this.publisherId && from !== this.publisherId)) return;
    if (candidate) this.remoteCandidates++;
    const pc = this.pc;
    if (!pc) {
      this.pendingCandidates.push(candidate);
      return;
    }
    this.enqueue(pc, async () => {
      if (!pc.remoteDescription) this.pendingCandidates.push(candidate);
      else await this.addCandidate(pc, candidate);
    });
  }

  private async addCandidate(pc: RTCPeerConnection, candidate: RTCIceCandidateInit | null): Promise<void> {
    try {
      // null = end of candidates
      await pc.addIceCandidate(candidate ?? undefined);
    } catch (e) {
      if (this.pc === pc) console.warn('[viewer] addIceCandidate failed', candidate, e);
    }
  }

  // ---- fallback ----

  private armFallback(): void {
    if (this.fallbackTimer || this.framesSeen) return;
    const timeout = this.options.connectTimeoutMs;
    this.fallbackTimer = setTimeout(() => {
      void this.checkFallback(timeout);
    }, timeout);
  }

  private clearFallback(): void {
    if (this.fallbackTimer) clearTimeout(this.fallbackTimer);
    this.fallbackTimer = null;
  }

  private async checkFallback(timeout: number): Promise<void> {
    const pc = this.mediaPc();
    let frames = 0;
    if (pc) {
      try {
        const sample = this.readInbound(await pc.getStats());
        frames = sample?.framesDecoded ?? 0;
      } catch {
        /* closed meanwhile */
      }
    }
    this.fallbackTimer = null;
    if (!this.running || frames > 0 || this.framesSeen) return;
    const ice = this.pc ? this.pc.iceConnectionState : this.lastIceState;
    const within = formatSeconds(timeout);
    let reason: string;
    if (ice === 'connected' || ice === 'completed') {
      reason = `WebRTC connected but no video frame was decoded within ${within} (ICE state: ${ice})`;
    } else {
      const details: string[] = [`ICE state: ${ice}`];
      if (!this.gotOffer && this.pc) details.push('no offer from the publisher yet');
      else if (this.pc) details.push(`${this.localCandidates} local / ${this.remoteCandidates} remote candidates`);
      if (!this.pc && this._reason) details.push(this._reason);
      if (this.options.iceTransportPolicy === 'relay') details.push('relay only');
      reason = `WebRTC could not connect within ${within} (${details.join('; ')})`;
    }
    this.emit('fallback', { reason, iceConnectionState: ice });
    try {
      this.options.onFallback?.(reason);
    } catch (e) {
      console.error('[viewer] onFallback threw', e);
    }
  }

  // ---- stats ----

  private readInbound(report: RTCStatsReport): (StatsSample & { codecId?: string; width?: number; height?: number }) | null {
    let found: (StatsSample & { codecId?: string; width?: number; height?: number }) | null = null;
    report.forEach((s: Record<string, unknown>) => {
      if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
      const num = (k: string): number => (typeof s[k] === 'number' ? (s[k] as number) : 0);
      found = {
        timestamp: num('timestamp'),
        framesDecoded: num('framesDecoded'),
        bytesReceived: num('bytesReceived') + num('headerBytesReceived'),
        jitterBufferDelay: num('jitterBufferDelay'),
        jitterBufferEmittedCount: num('jitterBufferEmittedCount'),
        totalDecodeTime: num('totalDecodeTime'),
        codecId: typeof s.codecId === 'string' ? s.codecId : undefined,
        width: typeof s.frameWidth === 'number' ? s.frameWidth : undefined,
        height: typeof s.frameHeight === 'number' ? s.frameHeight : undefined,
      };
    });
    return found;
  }

  private async pollStats(): Promise<void> {
    const pc = this.mediaPc();
    if (!pc || !this.running) return;
    let report: RTCStatsReport;
    try {
      report = await pc.getStats();
    } catch {
      return;
    }
    if (this.mediaPc() !== pc) return;
    const now = this.readInbound(report);
    let codec: string | null = null;
    let rttMs: number | null = null;
    let selectedPair: string | undefined;
    const pairs = new Map<string, Record<string, unknown>>();
    report.forEach((s: Record<string, unknown>) => {
      if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') selectedPair = s.selectedCandidatePairId;
      if (s.type === 'candidate-pair') pairs.set(s.id as string, s);
      if (now?.codecId && s.id === now.codecId && typeof s.mimeType === 'string') codec = s.mimeType.replace(/^video\//i, '');
    });
    let pair = selectedPair ? pairs.get(selectedPair) : undefined;
    if (!pair) for (const p of pairs.values()) if (p.nominated && p.state === 'succeeded') pair = p;
    if (pair && typeof pair.currentRoundTripTime === 'number') rttMs = round1(pair.currentRoundTripTime * 1000);

    const prev = this.prevSample;
    this.prevSample = now;
    let fps: number | null = null;
    let bitrateKbps: number | null = null;
    let jitterBufferMs: number | null = null;
    let decodeMs: number | null = null;
    if (now) {
      const dt = prev ? (now.timestamp - prev.timestamp) / 1000 : 0;
      const dFrames = prev ? now.framesDecoded - prev.framesDecoded : now.framesDecoded;
      const dEmitted = prev ? now.jitterBufferEmittedCount - prev.jitterBufferEmittedCount : now.jitterBufferEmittedCount;
      const dDelay = prev ? now.jitterBufferDelay - prev.jitterBufferDelay : now.jitterBufferDelay;
      const dDecode = prev ? now.totalDecodeTime - prev.totalDecodeTime : now.totalDecodeTime;
      if (prev && dt > 0) {
        fps = round1(dFrames / dt);
        bitrateKbps = Math.round(((now.bytesReceived - prev.bytesReceived) * 8) / dt / 1000);
      }
      if (dEmitted > 0) jitterBufferMs = round1((dDelay / dEmitted) * 1000);
      if (dFrames > 0) decodeMs = round1((dDecode / dFrames) * 1000);
      if (now.framesDecoded > 0 && !this.framesSeen) {
        this.framesSeen = true;
        this.clearFallback();
      }
    }
    const parts = [jitterBufferMs, decodeMs, rttMs === null ? null : rttMs / 2];
    const latencyEstimateMs = parts.some((p) => p !== null) ? round1(parts.reduce<number>((sum, p) => sum + (p ?? 0), 0)) : null;
    const probe = this.probe?.read() ?? null;
    const stats: ViewerStats = {
      fps,
      bitrateKbps,
      rttMs,
      jitterBufferMs,
      decodeMs,
      framesDecoded: now?.framesDecoded ?? 0,
      latencyEstimateMs,
      glassToGlassMs: probe ? round1(probe.glassToGlassMs) : null,
      glassToGlassUncertaintyMs: probe ? round1(probe.uncertaintyMs) : null,
      codec,
      width: now?.width ?? null,
      height: now?.height ?? null,
    };
    this._stats = stats;
    this.emit('stats', stats);
  }
}

/**
 * Chromium's header extension list has abs-capture-time "stopped" by default: after our offer (which has
 * it) Chromium 156 already lists it as negotiated, but where the list still says stopped (another version,
 * a transceiver made before the offer) the video transceiver asks for it before the answer, so the
 * publisher writes capture times for the probe. Only that entry is touched: rewriting the others could
 * "stop a mandatory extension" (mid) and throw.
 */
function acceptAbsCaptureTime(pc: RTCPeerConnection): void {
  type Extension = { uri: string; direction: string };
  type WithExtensions = RTCRtpTransceiver & { getHeaderExtensionsToNegotiate?(): Extension[]; setHeaderExtensionsToNegotiate?(list: Extension[]): void };
  for (const t of pc.getTransceivers() as WithExtensions[]) {
    if (t.receiver.track.kind !== 'video' || !t.getHeaderExtensionsToNegotiate || !t.setHeaderExtensionsToNegotiate) continue;
    const list = t.getHeaderExtensionsToNegotiate();
    if (!list.some((e) => e.uri === ABS_CAPTURE_TIME_URI && e.direction === 'stopped')) continue;
    try {
      t.setHeaderExtensionsToNegotiate(list.map((e) => (e.uri === ABS_CAPTURE_TIME_URI ? { ...e, direction: 'recvonly' } : e)));
    } catch (e) {
      console.warn('[viewer] could not ask for abs-capture-time', e);
    }
  }
}
