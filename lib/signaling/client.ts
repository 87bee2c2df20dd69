// lib/signaling/: protocol v1: its messages (protocol/), the daemon (daemon/), the client (this file).
// SignalingClient: one participant's WebSocket to the signaling daemon (docs/protocol.md). It joins,
// turns every daemon message into a typed event, validates both directions, paces what it sends under
// the daemon's rate limit, and reconnects with backoff until close(), so a daemon restart costs the
// caller nothing but a new 'joined', with the same peerId (every rejoin asks for its id back:
// `joined.resumed`). Every `disconnected` says why in words (a refused upgrade's HTTP status, the
// socket's error code, a hint when the URL looks wrong); refusals that retrying cannot cure (a bad
// token, HTTP 401/403, a session that already has another publisher) stop it for good.
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
  type Media,
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
  /**
   * The daemon's WebSocket endpoint, e.g. `ws://127.0.0.1:8080/v1/ws`; or several (instances of one
   * cluster, `--redis`): each reconnect tries the next one, so a dead instance costs one attempt.
   */
  url: string | string[];
  session: string;
  role: Role;
  /** Session token (`webrtcbin token …`); omit only with a daemon started with --insecure. */
  token?: string;
  /** A viewer that sends the offer itself (the publisher answers). */
  offers?: boolean;
  /** A viewer: `data` asks the publisher for the input data channel only, no media (join.media; docs/sfu.md). */
  media?: Media;
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
  /**
   * Why, never empty: the close frame's reason (`token-expired` when the daemon ended the participant at
   * its token's `exp`), else what ended the connection, e.g. `connection refused (ECONNREFUSED) by
   * 127.0.0.1:8080` or `the WebSocket upgrade was refused: HTTP 404 Not Found`.
   */
  reason: string;
  /** The HTTP status of a refused WebSocket upgrade (401, 403, 404, 429, 502…). */
  status?: number;
  /** The socket's error code: ECONNREFUSED, ENOTFOUND, ETIMEDOUT, ECONNRESET, a TLS code… */
  socketError?: string;
  /** What to check, when the failure suggests it (a wrong path, a daemon that is not running…). */
  hint?: string;
  /** Connection attempts in a row that ended before `joined` (0 when a joined connection ended). */
  failedAttempts: number;
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
// Failed attempts in a row after which the client warns (once) that the daemon stays out of reach.
export const REPEATED_FAILURES = 5;
// How much of a refused upgrade's body is read for the message (the daemon's is `{"error": "…"}`).
const REFUSAL_BODY_BYTES = 512;

/** What one connection attempt learnt before it closed. */
interface Failure {
  status?: number;
  statusText?: string;
  location?: string;
  body?: string;
  socketError?: string;
  socketMessage?: string;
}

const SOCKET_ERRORS: Record<string, (where: string) => { what: string; hint?: string }> = {
  ECONNREFUSED: (where) => ({ what: `connection refused (ECONNREFUSED) by ${where}`, hint: 'is the daemon running (webrtcbin signal) and listening on that address and port?' }),
  ENOTFOUND: (where) => ({ what: `host not found (ENOTFOUND): ${where}`, hint: "check the URL's host name (DNS cannot resolve it)" }),
  EAI_AGAIN: (where) => ({ what: `DNS lookup failed for now (EAI_AGAIN): ${where}`, hint: 'the resolver is unreachable; check the network' }),
  ETIMEDOUT: (where) => ({ what: `connection timed out (ETIMEDOUT) to ${where}`, hint: 'a firewall may drop the packets, or the host is down' }),
  EHOSTUNREACH: (where) => ({ what: `host unreachable (EHOSTUNREACH): ${where}`, hint: 'check the network route to the daemon' }),
  ENETUNREACH: (where) => ({ what: `network unreachable (ENETUNREACH): ${where}`, hint: 'check the network route to the daemon' }),
  ECONNRESET: (where) => ({ what: `connection reset (ECONNRESET) by ${where}`, hint: 'a proxy in front of the daemon may not pass WebSockets through' }),
};

/** Words for an upgrade refused with `status`: what it means and what to check. */
function describeRefusal(url: URL, failure: Failure): { what: string; hint?: string } {
  const status = failure.status!;
  const said = failure.body && failure.body.toLowerCase() !== failure.statusText?.toLowerCase() ? failure.body : undefined;
  const body = said ? `: ${said}` : '';
  const what = `the WebSocket upgrade was refused: HTTP ${status}${failure.statusText ? ` ${failure.statusText}` : ''}${body}`;
  const root = `${url.protocol}//${url.host}`;
  if (status === 404) return { what, hint: `is the daemon mounted at ${root}${url.pathname}? The daemon's endpoint is …/v1/ws (under the prefix it was registered with)` };
  if (status === 401 || status === 403) return { what, hint: 'the daemon or a proxy in front of it refuses this client: check the origin, the credentials and the URL' };
  if (status === 429) return { what, hint: 'too many connections from this address; retrying later' };
  if (status === 502 || status === 503 || status === 504) return { what, hint: 'a proxy answered for the daemon: is the daemon behind it running?' };
  if (status >= 300 && status < 400) return { what, hint: `the server redirects${failure.location ? ` to ${failure.location.replace(/\?.*$/, '')}` : ''}; WebSockets do not follow redirects: use the final URL (wss:// behind TLS)` };
  if (status === 400 || status === 426) return { what, hint: 'the server at that URL is not the signaling daemon, or a proxy does not pass WebSockets through' };
  return { what };
}

/** What ended a connection, in words; `closeReason` is the close frame's. */
function describeFailure(url: URL, failure: Failure, closeReason: string, wasJoined: boolean): { what: string; hint?: string } {
  if (failure.status !== undefined) return describeRefusal(url, failure);
  if (closeReason) return { what: closeReason };
  const where = `${url.hostname}:${url.port || (url.protocol === 'wss:' ? 443 : 80)}`;
  if (failure.socketError) {
    const known = SOCKET_ERRORS[failure.socketError];
    if (known) return known(where);
    return { what: `${failure.socketMessage ?? 'socket error'} (${failure.socketError})` };
  }
  if (failure.socketMessage) return { what: failure.socketMessage };
  return { what: wasJoined ? 'the connection to the daemon was lost (no close frame)' : 'the connection closed before the daemon answered' };
}

export class SignalingClient extends EventEmitter<SignalingClientEvents> {
  readonly #urls: URL[];
  // The endpoint of the current attempt: advances at every disconnect.
  #urlIndex = 0;
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
  #everJoined = false;
  // Attempts in a row that ended before `joined`, and what the current one learnt.
  #failedAttempts = 0;
  #failure: Failure = {};
  #fatal: SignalingError | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #joinTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #joined: JoinedMessage | undefined;
  // The id and key of the last `joined`: every reconnect asks for that id back (join.resume), so the
  // other side's state (a publisher's peer for this viewer, a viewer's for this publisher) stays valid.
  #resume: { id: string; key: string } | undefined;
  // Outgoing token bucket (see options.rate), per connection.
  #outbox: string[] = [];
  #tokens = 0;
  #refilledAt = 0;
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(options: SignalingClientOptions) {
    super();
    if (!options || typeof options !== 'object') throw new InvalidArgumentError('SignalingClient options must be an object');
    const given = Array.isArray(options.url) ? options.url : [options.url];
    if (given.length === 0) throw new InvalidArgumentError('SignalingClient: url must be a URL or a non-empty list of URLs');
    this.#urls = given.map((text) => {
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        throw new InvalidArgumentError('SignalingClient: url must be an absolute URL like ws://127.0.0.1:8080/v1/ws');
      }
      if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
        throw new InvalidArgumentError(`SignalingClient: url must start with ws:// or wss:// (got ${url.protocol}//)`);
      }
      return url;
    });
    const join: JoinMessage = { type: 'join', v: PROTOCOL_VERSION, session: options.session, role: options.role };
    if (options.token !== undefined) join.token = options.token;
    if (options.offers !== undefined) join.offers = options.offers;
    if (options.media !== undefined) join.media = options.media;
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

  get #parsedUrl(): URL {
    return this.#urls[this.#urlIndex]!;
  }
  get #url(): string {
    return this.#parsedUrl.href;
  }
  get #logUrl(): string {
    return redactUrl(this.#parsedUrl);
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
    const failure: Failure = {};
    this.#failure = failure;
    ws.on('error', (error: Error & { code?: string }) => {
      // Always followed by 'close', which decides what happens next. Our own terminate() after a
      // refused upgrade adds an error of its own: the status already says it all.
      this.#log.debug({ url: this.#logUrl, err: error.message }, 'signaling: socket error');
      if (failure.status !== undefined || failure.socketMessage) return;
      failure.socketMessage = error.message;
      if (typeof error.code === 'string' && !error.code.startsWith('WS_ERR_')) failure.socketError = error.code;
    });
    ws.on('unexpected-response', (request, response) => this.#onRefused(ws, failure, request, response));
    ws.on('open', () => this.#onOpen(ws));
    ws.on('message', (data, isBinary) => this.#onMessage(ws, data, isBinary));
    ws.on('close', (code, reason) => this.#onClose(ws, code, reason.toString()));
  }

  // The server answered the upgrade with something other than 101: keep its status and the start of its
  // body (the daemon's and most proxies' say why), then end the attempt.
  #onRefused(ws: WebSocket, failure: Failure, request: import('node:http').ClientRequest, response: import('node:http').IncomingMessage): void {
    failure.status = response.statusCode;
    failure.statusText = response.statusMessage;
    failure.location = response.headers.location;
    const status = response.statusCode ?? 0;
    if ((status === 401 || status === 403) && ws === this.#ws && !this.#closed) {
      // Retrying cannot change the answer: a token, an origin or a proxy's credentials must.
      const { what, hint } = describeRefusal(this.#parsedUrl, failure);
      this.#fatal = new SignalingError('unauthorized', `${what} (${this.#logUrl}); ${hint}`);
    }
    let body = '';
    const done = () => {
      clearTimeout(timer);
      failure.body = summariseBody(body);
      if (this.#fatal && failure.body) {
        const { what, hint } = describeRefusal(this.#parsedUrl, failure);
        this.#fatal = new SignalingError('unauthorized', `${what} (${this.#logUrl}); ${hint}`);
      }
      request.destroy();
      ws.terminate();
    };
    const timer = setTimeout(done, 500);
    timer.unref();
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      body += chunk;
      if (body.length >= REFUSAL_BODY_BYTES) done();
    });
    response.once('end', done);
    response.once('error', done);
  }

  #onOpen(ws: WebSocket): void {
    if (ws !== this.#ws || this.#closed) return;
    this.#setState('open');
    this.#tokens = this.#rate.burst;
    this.#refilledAt = Date.now();
    this.#transmit(ws, JSON.stringify(this.#resume ? { ...this.#join, resume: this.#resume } : this.#join));
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
        this.#resume = message.resumeKey ? { id: message.peerId, key: message.resumeKey } : undefined;
        this.#joinedAt = Date.now();
        this.#everJoined = true;
        this.#failedAttempts = 0;
        this.#log.info({ peerId: message.peerId, session: message.session, role: message.role, ...(message.resumed !== undefined ? { resumed: message.resumed } : {}) }, 'signaling: joined');
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
    } else if (code === 'publisher-exists' && !this.#everJoined) {
      // Another agent streams this session: retrying would fight it (or wait forever) for nothing.
      this.#fatal = new SignalingError(code, `the daemon refused a second publisher (${text}): another agent streams session ${JSON.stringify(this.#join.session)}; stop that one or publish to another session (retrying cannot help while it runs)`);
      this.#log.error({ code, message: text }, 'signaling: the session already has a publisher; not reconnecting');
    } else if (code === 'publisher-exists') {
      // After a reconnect it is usually our own previous socket, not yet noticed dead: retry with backoff.
      this.#log.warn({ code, message: text }, 'signaling: the session already has a publisher; retrying');
    } else {
      this.#log.warn({ code, message: text }, 'signaling: error from the daemon');
    }
    this.#protocolError(code, text, 'daemon');
    if (this.#fatal && ws === this.#ws) ws.close(1000, this.#fatal.reason);
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
    if (!wasJoined) this.#failedAttempts++;
    const failure = this.#failure;
    const { what, hint } = describeFailure(this.#parsedUrl, failure, reason, wasJoined);
    const details = {
      ...(failure.status !== undefined ? { status: failure.status } : {}),
      ...(failure.socketError ? { socketError: failure.socketError } : {}),
      ...(hint ? { hint } : {}),
      failedAttempts: wasJoined ? 0 : this.#failedAttempts,
    };
    if (this.#fatal) {
      this.#closed = true;
      const fatalReason = this.#fatal.reason === 'token-expired' || this.#fatal.reason === 'publisher-exists' ? this.#fatal.reason : what;
      this.emit('disconnected', { code, reason: fatalReason, ...details, retryInMs: undefined, error: this.#fatal });
      this.#setState('closed', this.#fatal);
      return;
    }
    if (wasJoined && Date.now() - this.#joinedAt >= STABLE_MS) this.#attempt = 0;
    const failedUrl = this.#logUrl;
    // With several endpoints the next attempt goes to the next one (this one may be the dead instance).
    this.#urlIndex = (this.#urlIndex + 1) % this.#urls.length;
    const retryInMs = this.#nextDelay();
    this.#retryTimer = setTimeout(() => this.#open(), retryInMs);
    const fields = { url: failedUrl, code, reason: what, ...details, retryInMs };
    // One warning when the connection goes, one more if the daemon stays out of reach; not one per retry.
    if (wasJoined || this.#failedAttempts === 1) this.#log.warn(fields, 'signaling: disconnected; reconnecting');
    else if (this.#failedAttempts === REPEATED_FAILURES) this.#log.warn(fields, `signaling: still cannot reach the daemon after ${REPEATED_FAILURES} attempts; retrying`);
    else this.#log.debug(fields, 'signaling: connection attempt failed; retrying');
    this.emit('disconnected', { code, reason: what, ...details, retryInMs });
    if (!this.#closed) this.#setState('connecting');
  }
}

// A refused upgrade's body as one short line: the `error` field of a JSON body, else the text itself.
function summariseBody(body: string): string | undefined {
  const text = body.slice(0, REFUSAL_BODY_BYTES).trim();
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as { error?: unknown; message?: unknown };
    const said = parsed.error ?? parsed.message;
    if (typeof said === 'string' && said) return said.slice(0, 200);
  } catch {
    // not JSON: the text itself
  }
  // An HTML error page says nothing a status does not.
  if (/^<(!doctype|html)/i.test(text)) return undefined;
  return text.replace(/\s+/g, ' ').slice(0, 200);
}
