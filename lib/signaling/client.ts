// lib/signaling/: protocol v1: its messages (protocol/), the daemon (daemon/), the client (this file).
// SignalingClient: one participant's WebSocket to the signaling daemon (docs/protocol.md). It joins,
// turns every daemon message into a typed event, validates both directions, paces what it sends under
// the daemon's rate limit, and reconnects with backoff until close(), so a daemon restart costs the
// caller nothing but a new 'joined'.
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { Compile } from 'typebox/compile';
import { InvalidArgumentError, InvalidStateError } from '../errors.js';
import { number } from '../util/checks.js';
import {
  AnswerOut,
  ByeOut,
  CandidateOut,
  ErrorOut,
  Joined,
  OfferOut,
  PeerJoined,
  PeerLeft,
  PROTOCOL_VERSION,
  checkClientMessage,
  checkServerMessage,
  describeError,
  type ClientMessage,
  type ErrorCode,
  type Role,
  type ServerMessage,
} from './protocol/messages.js';
import { SignalingError } from './signaling-error.js';

export { SignalingError };

/** pino-compatible: `logger.info({fields}, 'message')`. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => {};
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

export interface BackoffOptions {
  /** First retry delay (default 250 ms). */
  initialMs?: number;
  /** Longest delay (default 10 000 ms, or initialMs if that is longer). */
  maxMs?: number;
  /** Growth per failed attempt (default 2). */
  factor?: number;
}

export interface SignalingClientOptions {
  /** The daemon's WebSocket endpoint, e.g. `ws://127.0.0.1:8080/v1/ws`. */
  url: string;
  session: string;
  role: Role;
  /** Session token (`webrtcbin token …`); omit only with a daemon started with --insecure. */
  token?: string;
  /** A viewer that sends the offer itself (the publisher answers). */
  offers?: boolean;
  backoff?: BackoffOptions;
  /** Upper bound for the WebSocket handshake and for the daemon's `joined` answer (default 10 000 ms). */
  connectTimeoutMs?: number;
  /** Ping interval; a socket that missed one pong is considered dead (default 15 000 ms, 0 = off). */
  pingIntervalMs?: number;
  /**
   * Outgoing pace (default 40/s, bursts of 80). The daemon closes a socket over its per-socket rate
   * (default 50/s, burst 100), and a publisher's socket carries every viewer's offer and candidates:
   * after a daemon restart all viewers rejoin at once. Messages over the pace wait their turn.
   */
  rate?: { perSecond: number; burst: number };
  logger?: Logger;
}

/** `connecting` also covers the wait before a reconnect; `closed` is final. */
export type SignalingState = 'connecting' | 'open' | 'joined' | 'closed';

type Message<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;
type JoinMessage = Extract<ClientMessage, { type: 'join' }>;
export type JoinedMessage = Message<'joined'>;
export type PeerJoinedMessage = Message<'peer-joined'>;
export type PeerLeftMessage = Message<'peer-left'>;
export type OfferMessage = Message<'offer'>;
export type AnswerMessage = Message<'answer'>;
export type CandidateMessage = Message<'candidate'>;
export type ByeMessage = Message<'bye'>;

export interface ProtocolErrorInfo {
  code: ErrorCode;
  message: string;
  /** `daemon`: an `error` message the daemon sent; `client`: a daemon message this client dropped. */
  origin: 'daemon' | 'client';
}

export interface DisconnectInfo {
  /** WebSocket close code (1006: no close frame, e.g. connection refused or lost). */
  code: number;
  /** The close frame's reason; `token-expired` when the daemon ended the participant at its token's `exp`. */
  reason: string;
  /** When the next attempt starts; undefined when the client will not reconnect. */
  retryInMs: number | undefined;
  /** Why the client stopped for good (also on state 'closed'); undefined while it reconnects. */
  error?: SignalingError;
}

export interface SignalingClientEvents {
  state: [state: SignalingState, error?: SignalingError];
  joined: [JoinedMessage];
  'peer-joined': [PeerJoinedMessage];
  'peer-left': [PeerLeftMessage];
  offer: [OfferMessage];
  answer: [AnswerMessage];
  candidate: [CandidateMessage];
  /**
   * With `from`: that peer ended its connection. Without: the daemon ends this participant, `reason`
   * says why: `shutting-down` (the client reconnects) or `token-expired` (it stops: state 'closed' with a
   * SignalingError whose reason is 'token-expired').
   */
  bye: [ByeMessage];
  /** Deliberately not 'error': an unhandled 'error' event would throw. */
  'protocol-error': [ProtocolErrorInfo];
  disconnected: [DisconnectInfo];
}


// Per-type validators, only to name the offending field of a message the union refused.
const SERVER_BRANCHES: Record<ServerMessage['type'], { Errors(value: unknown): unknown[] }> = {
  joined: Compile(Joined),
  'peer-joined': Compile(PeerJoined),
  'peer-left': Compile(PeerLeft),
  offer: Compile(OfferOut),
  answer: Compile(AnswerOut),
  candidate: Compile(CandidateOut),
  bye: Compile(ByeOut),
  error: Compile(ErrorOut),
};

function describeServerError(value: unknown): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !(type in SERVER_BRANCHES)) return `unknown type ${JSON.stringify(type)?.slice(0, 40)}`;
  const [first] = SERVER_BRANCHES[type as ServerMessage['type']].Errors(value) as { instancePath?: string; message?: string }[];
  // TypeBox words a refused additional property as "schema is false".
  const what = first?.message === 'schema is false' ? 'unknown field' : (first?.message ?? 'invalid');
  return `${type}${first?.instancePath ? ` ${first.instancePath}` : ''}: ${what}`;
}

// Only scheme, host and path: a URL may carry credentials or a token in its query.
function redactUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

// A connection that stayed joined this long was healthy: the next failure starts the backoff over.
// Shorter ones (a daemon that accepts and then dies) keep growing it.
const STABLE_MS = 5_000;
// A publisher that queues this many paced messages is flooding; further ones are dropped.
const MAX_OUTBOX = 1000;
// How long close() waits for the daemon's half of the close handshake before cutting the socket.
const CLOSE_GRACE_MS = 2_000;

export class SignalingClient extends EventEmitter<SignalingClientEvents> {
  readonly #url: string;
  readonly #logUrl: string;
  readonly #join: JoinMessage;
  readonly #backoff: Required<BackoffOptions>;
  readonly #connectTimeoutMs: number;
  readonly #pingIntervalMs: number;
  readonly #rate: { perSecond: number; burst: number };
  readonly #log: Logger;

  #state: SignalingState | undefined;
  #ws: WebSocket | undefined;
  #started = false;
  #closed = false;
  #closing: Promise<void> | undefined;
  #attempt = 0;
  #joinedAt = 0;
  #fatal: SignalingError | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #joinTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #joined: JoinedMessage | undefined;
  // Outgoing token bucket (see options.rate), per connection.
  #outbox: string[] = [];
  #tokens = 0;
  #refilledAt = 0;
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(options: SignalingClientOptions) {
    super();
    if (!options || typeof options !== 'object') throw new InvalidArgumentError('SignalingClient options must be an object');
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new InvalidArgumentError('SignalingClient: url must be an absolute URL like ws://127.0.0.1:8080/v1/ws');
    }
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
      throw new InvalidArgumentError(`SignalingClient: url must start with ws:// or wss:// (got ${url.protocol}//)`);
    }
    this.#url = url.href;
    this.#logUrl = redactUrl(url);
    const join: JoinMessage = { type: 'join', v: PROTOCOL_VERSION, session: options.session, role: options.role };
    if (options.token !== undefined) join.token = options.token;
    if (options.offers !== undefined) join.offers = options.offers;
    if (!checkClientMessage.Check(join)) {
      throw new InvalidArgumentError(`SignalingClient: invalid join (${describeError(checkClientMessage, join)}); see docs/protocol.md`);
    }
    this.#join = join;
    const initialMs = options.backoff?.initialMs ?? 250;
    const backoff = { initialMs, maxMs: Math.max(10_000, initialMs), factor: 2, ...options.backoff };
    number(backoff.initialMs, 'SignalingClient: backoff.initialMs', { above: 0 });
    number(backoff.maxMs, 'SignalingClient: backoff.maxMs', { min: backoff.initialMs });
    number(backoff.factor, 'SignalingClient: backoff.factor', { min: 1 });
    this.#backoff = backoff;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#pingIntervalMs = options.pingIntervalMs ?? 15_000;
    this.#rate = options.rate ?? { perSecond: 40, burst: 80 };
    number(this.#rate.perSecond, 'SignalingClient: rate.perSecond', { above: 0 });
    number(this.#rate.burst, 'SignalingClient: rate.burst', { min: 1 });
    this.#log = options.logger ?? silentLogger;
  }

  get state(): SignalingState | undefined {
    return this.#state;
  }
  /** The last `joined` (peerId, iceServers, …) of the current connection; undefined when not joined. */
  get joined(): JoinedMessage | undefined {
    return this.#state === 'joined' ? this.#joined : undefined;
  }
  get peerId(): string | undefined {
    return this.joined?.peerId;
  }

  /** Starts connecting (and reconnecting, until close()). Calling it again is a no-op. */
  connect(): this {
    if (this.#closed) throw new InvalidStateError('SignalingClient.connect: the client is closed; create a new one');
    if (this.#started) return this;
    this.#started = true;
    this.#open();
    return this;
  }

  /**
   * Sends a message after validating it (throws InvalidArgumentError if it is no valid protocol
   * message). Returns true when sent (or paced to go out on this connection, see options.rate);
   * false when not joined: the message is dropped, since the peer it was for is gone after a
   * reconnect anyway.
   */
  send(message: ClientMessage): boolean {
    if (!checkClientMessage.Check(message)) {
      throw new InvalidArgumentError(`SignalingClient.send: invalid message (${describeError(checkClientMessage, message)}); see docs/protocol.md`);
    }
    if (message.type === 'join') throw new InvalidArgumentError('SignalingClient.send: join is sent by the client itself on every connection');
    const ws = this.#ws;
    if (this.#closed || this.#state !== 'joined' || !ws || ws.readyState !== WebSocket.OPEN) {
      this.#log.debug({ type: message.type }, 'signaling: not joined; message dropped');
      return false;
    }
    return this.#transmit(ws, JSON.stringify(message));
  }

  #transmit(ws: WebSocket, text: string): boolean {
    const now = Date.now();
    this.#tokens = Math.min(this.#rate.burst, this.#tokens + ((now - this.#refilledAt) / 1000) * this.#rate.perSecond);
    this.#refilledAt = now;
    if (this.#outbox.length === 0 && this.#tokens >= 1) {
      this.#tokens -= 1;
      ws.send(text);
      return true;
    }
    if (this.#outbox.length >= MAX_OUTBOX) {
      this.#log.warn({ queued: this.#outbox.length }, 'signaling: outgoing queue full; message dropped');
      return false;
    }
    this.#outbox.push(text);
    if (!this.#flushTimer) {
      const waitMs = Math.max(1, Math.ceil(((1 - this.#tokens) / this.#rate.perSecond) * 1000));
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = undefined;
        if (ws !== this.#ws || ws.readyState !== WebSocket.OPEN) return;
        const queued = this.#outbox.splice(0);
        for (const next of queued) this.#transmit(ws, next);
      }, waitMs);
    }
    return true;
  }

  /**
   * Leaves (bye) and closes the socket; stops reconnecting. Idempotent. Resolves when the socket is
   * closed; nothing of this client keeps the process alive afterwards.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    this.#clearTimers();
    clearTimeout(this.#retryTimer);
    const ws = this.#ws;
    const wasJoined = this.#state === 'joined';
    this.#setState('closed');
    if (!ws || ws.readyState === WebSocket.CLOSED) {
      this.#closing = Promise.resolve();
      return this.#closing;
    }
    this.#closing = new Promise<void>((resolve) => {
      const force = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
      ws.once('close', () => {
        clearTimeout(force);
        resolve();
      });
    });
    if (ws.readyState === WebSocket.OPEN) {
      if (wasJoined) ws.send(JSON.stringify({ type: 'bye' }));
      ws.close(1000, 'bye');
    } else {
      ws.terminate(); // still connecting (or closing): nothing to say goodbye on
    }
    return this.#closing;
  }

  #setState(state: SignalingState, error?: SignalingError): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('state', state, ...(error ? [error] : []));
  }

  // Per-connection timers and the paced outbox (relay messages are meaningless on the next connection).
  #clearTimers(): void {
    clearTimeout(this.#joinTimer);
    clearInterval(this.#pingTimer);
    clearTimeout(this.#flushTimer);
    this.#joinTimer = this.#pingTimer = this.#flushTimer = undefined;
    this.#outbox = [];
  }

  #open(): void {
    this.#retryTimer = undefined;
    this.#setState('connecting');
    this.#log.debug({ url: this.#logUrl, attempt: this.#attempt }, 'signaling: connecting');
    // Daemon messages are at most an SDP (64 KiB) plus a little; refuse anything far larger.
    const ws = new WebSocket(this.#url, { handshakeTimeout: this.#connectTimeoutMs, maxPayload: 256 * 1024 });
    this.#ws = ws;
    ws.on('error', (error) => {
      // Always followed by 'close', which decides what happens next.
      this.#log.debug({ url: this.#logUrl, err: error.message }, 'signaling: socket error');
    });
    ws.on('open', () => this.#onOpen(ws));
    ws.on('message', (data, isBinary) => this.#onMessage(ws, data, isBinary));
    ws.on('close', (code, reason) => this.#onClose(ws, code, reason.toString()));
  }

  #onOpen(ws: WebSocket): void {
    if (ws !== this.#ws || this.#closed) return;
    this.#setState('open');
    this.#tokens = this.#rate.burst;
    this.#refilledAt = Date.now();
    this.#transmit(ws, JSON.stringify(this.#join));
    this.#joinTimer = setTimeout(() => {
      this.#log.warn({ url: this.#logUrl, timeoutMs: this.#connectTimeoutMs }, 'signaling: no joined answer in time; reconnecting');
      ws.terminate();
    }, this.#connectTimeoutMs);
    if (this.#pingIntervalMs > 0) {
      // A daemon host that vanished leaves a half-open TCP connection; only a missed pong tells.
      let alive = true;
      ws.on('pong', () => (alive = true));
      ws.on('message', () => (alive = true));
      this.#pingTimer = setInterval(() => {
        if (!alive) {
          this.#log.warn({ url: this.#logUrl }, 'signaling: the daemon stopped answering pings; reconnecting');
          ws.terminate();
          return;
        }
        alive = false;
        ws.ping();
      }, this.#pingIntervalMs);
    }
  }

  #protocolError(code: ErrorCode, message: string, origin: ProtocolErrorInfo['origin']): void {
    this.emit('protocol-error', { code, message, origin });
  }

  #onMessage(ws: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
    if (ws !== this.#ws || this.#closed) return;
    if (isBinary) {
      this.#protocolError('binary-not-supported', 'the daemon sent a binary frame; dropped', 'client');
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(data.toString());
    } catch {
      this.#protocolError('bad-json', 'the daemon sent a frame that is not JSON; dropped', 'client');
      return;
    }
    if (!checkServerMessage.Check(value)) {
      const detail = describeServerError(value);
      this.#log.warn({ detail }, 'signaling: invalid message from the daemon dropped');
      this.#protocolError('bad-message', `the daemon sent an invalid message (${detail}); dropped. Are the client and the daemon the same protocol version?`, 'client');
      return;
    }
    this.#dispatch(ws, value);
  }

  #dispatch(ws: WebSocket, message: ServerMessage): void {
    switch (message.type) {
      case 'joined':
        clearTimeout(this.#joinTimer);
        this.#joined = message;
        this.#joinedAt = Date.now();
        this.#log.info({ peerId: message.peerId, session: message.session, role: message.role }, 'signaling: joined');
        this.#setState('joined');
        this.emit('joined', message);
        break;
      case 'error':
        this.#onDaemonError(ws, message.code, message.message);
        break;
      case 'bye':
        this.emit('bye', message);
        if (message.from === undefined && ws === this.#ws && !this.#closed) {
          if (message.reason === 'token-expired') {
            // Reconnecting would present the same expired token: stop, and say what helps.
            this.#fatal = new SignalingError(
              'token-expired',
              `the token for session ${JSON.stringify(this.#join.session)} as ${this.#join.role} expired and the daemon ended this participant; mint a new one with \`webrtcbin token\` (or get a new one from whoever issued it) and create a new client`,
            );
            this.#log.error({ reason: message.reason }, 'signaling: token expired; not reconnecting');
            ws.close(1000, 'token-expired');
            break;
          }
          // The daemon is shutting down: leave now rather than wait for it, and come back later.
          this.#log.info({ reason: message.reason }, 'signaling: the daemon is shutting down; will reconnect');
          ws.close(1000, 'daemon bye');
        }
        break;
      case 'peer-joined':
        this.emit('peer-joined', message);
        break;
      case 'peer-left':
        this.emit('peer-left', message);
        break;
      case 'offer':
        this.emit('offer', message);
        break;
      case 'answer':
        this.emit('answer', message);
        break;
      case 'candidate':
        this.emit('candidate', message);
        break;
    }
  }

  #onDaemonError(ws: WebSocket, code: ErrorCode, text: string): void {
    if (code === 'unauthorized') {
      this.#fatal = new SignalingError(code, `the daemon refused the token for session ${JSON.stringify(this.#join.session)} as ${this.#join.role} (${text}); mint a new one with \`webrtcbin token\` and create a new client`);
      this.#log.error({ code, message: text }, 'signaling: unauthorized; not reconnecting');
    } else if (code === 'publisher-exists') {
      // Often the previous publisher's socket has not been noticed dead yet: retry with backoff.
      this.#log.warn({ code, message: text }, 'signaling: the session already has a publisher; retrying');
    } else {
      this.#log.warn({ code, message: text }, 'signaling: error from the daemon');
    }
    this.#protocolError(code, text, 'daemon');
    if (this.#fatal && ws === this.#ws) ws.close(1000, 'unauthorized');
  }

  #nextDelay(): number {
    const { initialMs, maxMs, factor } = this.#backoff;
    const base = Math.min(maxMs, initialMs * factor ** this.#attempt);
    this.#attempt++;
    // "Equal jitter": spread reconnecting clients out while still growing from attempt to attempt.
    return Math.round(base / 2 + (Math.random() * base) / 2);
  }

  #onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.#ws) return;
    this.#ws = undefined;
    this.#clearTimers();
    if (this.#closed) return;
    const wasJoined = this.#state === 'joined';
    if (this.#fatal) {
      this.#closed = true;
      this.emit('disconnected', { code, reason: this.#fatal.reason === 'token-expired' ? 'token-expired' : reason, retryInMs: undefined, error: this.#fatal });
      this.#setState('closed', this.#fatal);
      return;
    }
    if (wasJoined && Date.now() - this.#joinedAt >= STABLE_MS) this.#attempt = 0;
    const retryInMs = this.#nextDelay();
    this.#retryTimer = setTimeout(() => this.#open(), retryInMs);
    const fields = { url: this.#logUrl, code, reason: reason || undefined, retryInMs };
    if (wasJoined || this.#attempt === 1) this.#log.warn(fields, 'signaling: disconnected; reconnecting');
    else this.#log.debug(fields, 'signaling: connection attempt failed; retrying');
    this.emit('disconnected', { code, reason, retryInMs });
    if (!this.#closed) this.#setState('connecting');
  }
}
