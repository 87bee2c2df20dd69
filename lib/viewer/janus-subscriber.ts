// The viewer's "video from Janus" mode (docs/sfu.md): the <video> subscribes to the publisher's feed
// in a Janus VideoRoom over Janus's WebSocket API, as plain JSON (create, attach, listparticipants,
// join as subscriber, answer + start, trickle, keepalive); no client library in the bundle. The feed is
// the room's publisher (the relay's rooms take one). A lost session, a hangup or an unpublished feed
// starts over with backoff; a refused pin is final (retrying cannot help).

export type JanusSubscriberState = 'connecting' | 'waiting-for-feed' | 'subscribed' | 'failed' | 'stopped';

export interface JanusSubscriberOptions {
  /** Janus's WebSocket transport, e.g. `ws://janus.internal:8188`. */
  url: string;
  room: number | string;
  /** The room's pin, when it has one. */
  pin?: string;
  video: HTMLVideoElement;
  /** Every state change, with why (null when nothing is wrong). */
  onState?(state: JanusSubscriberState, reason: string | null): void;
}

interface JanusReply {
  janus: string;
  transaction?: string;
  session_id?: number;
  sender?: number;
  data?: { id?: number };
  error?: { code: number; reason: string };
  plugindata?: { data?: Record<string, unknown> };
  jsep?: RTCSessionDescriptionInit;
}

// Janus's session timeout is 60 s by default: a keepalive well inside it.
const KEEPALIVE_MS = 20_000;
const REQUEST_TIMEOUT_MS = 10_000;
// VideoRoom error codes after which retrying cannot help: a wrong pin (433). No such room (426) is
// retried: the relay creates its room when it starts, perhaps after this page.
const FINAL_ERRORS = new Set([433]);
const NO_SUCH_ROOM = 426;

class JanusRequestError extends Error {
  constructor(
    readonly code: number,
    reason: string,
  ) {
    super(`${code} ${reason}`);
  }
}

export class JanusSubscriber {
  readonly #options: JanusSubscriberOptions;
  #state: JanusSubscriberState = 'stopped';
  #ws: WebSocket | null = null;
  #pc: RTCPeerConnection | null = null;
  #session: number | undefined;
  #handle: number | undefined;
  #feed: number | string | undefined;
  #transactions = 0;
  readonly #pending = new Map<string, { resolve(m: JanusReply): void; reject(e: Error): void; plugin: boolean; timer: ReturnType<typeof setTimeout> }>();
  #keepalive: ReturnType<typeof setInterval> | null = null;
  #retry: ReturnType<typeof setTimeout> | null = null;
  #failures = 0;
  // Bumped on every (re)start: work from an older attempt sees it changed and stops.
  #attempt = 0;

  constructor(options: JanusSubscriberOptions) {
    this.#options = options;
  }

  get state(): JanusSubscriberState {
    return this.#state;
  }

  /** The subscription's RTCPeerConnection (its remote description is Janus's offer). */
  get peerConnection(): RTCPeerConnection | null {
    return this.#pc;
  }

  start(): void {
    if (this.#state !== 'stopped' && this.#state !== 'failed') return;
    this.#failures = 0;
    this.#connect();
  }

  stop(): void {
    this.#teardown();
    this.#setState('stopped', null);
  }

  #setState(state: JanusSubscriberState, reason: string | null): void {
    if (state === this.#state && state !== 'failed') return;
    this.#state = state;
    this.#options.onState?.(state, reason);
  }

  #connect(): void {
    const attempt = ++this.#attempt;
    this.#setState('connecting', null);
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.#options.url, 'janus-protocol');
    } catch (e) {
      // A malformed URL, or one the page's CSP does not allow (the daemon's viewerJanus option).
      this.#teardown();
      this.#setState('failed', `cannot open Janus's WebSocket ${this.#options.url}: ${(e as Error).message} (a daemon-served page may reach only the Janus URLs its --viewer-janus names)`);
      return;
    }
    this.#ws = ws;
    this.#watchPolicy(ws);
    ws.onmessage = (event: MessageEvent) => {
      if (this.#ws === ws && typeof event.data === 'string') this.#onMessage(event.data);
    };
    ws.onclose = (event: CloseEvent) => {
      if (this.#ws === ws) this.#again(`Janus's WebSocket closed (${event.code}${event.reason ? ` ${event.reason}` : ''})`);
    };
    ws.onopen = () => {
      if (this.#ws === ws) void this.#subscribe(attempt);
    };
  }

  // A page's CSP that does not allow this Janus (the daemon's page: --viewer-janus) closes the socket
  // like a network failure would; the violation report says which it was, and retrying cannot help.
  #watchPolicy(ws: WebSocket): void {
    if (typeof document === 'undefined') return;
    let host: string;
    try {
      host = new URL(this.#options.url).host;
    } catch {
      return;
    }
    const onViolation = (e: SecurityPolicyViolationEvent) => {
      if (!e.effectiveDirective.startsWith('connect-src')) return;
      let blocked: string;
      try {
        blocked = new URL(e.blockedURI).host;
      } catch {
        return;
      }
      document.removeEventListener('securitypolicyviolation', onViolation);
      if (this.#ws !== ws || blocked !== host) return;
      this.#teardown();
      this.#setState('failed', `this page may not connect to Janus at ${this.#options.url} (its Content-Security-Policy; on the daemon's page, add the URL with --viewer-janus or the viewerJanus option)`);
    };
    document.addEventListener('securitypolicyviolation', onViolation);
    ws.addEventListener('open', () => document.removeEventListener('securitypolicyviolation', onViolation), { once: true });
  }

  async #subscribe(attempt: number): Promise<void> {
    const { room, pin } = this.#options;
    try {
      this.#session = (await this.#send({ janus: 'create' })).data?.id;
      this.#keepalive = setInterval(() => void this.#send({ janus: 'keepalive' }).catch(() => {}), KEEPALIVE_MS);
      this.#handle = (await this.#send({ janus: 'attach', plugin: 'janus.plugin.videoroom' })).data?.id;
      if (attempt !== this.#attempt) return;
      const list = await this.#send({ janus: 'message', body: { request: 'listparticipants', room } });
      const participants = (list.plugindata?.data?.participants ?? []) as { id: number | string; publisher?: boolean }[];
      const feed = participants.find((p) => p.publisher)?.id;
      if (attempt !== this.#attempt) return;
      if (feed === undefined) {
        this.#again(`room ${room} has no publisher yet`, 'waiting-for-feed');
        return;
      }
      this.#feed = feed;
      const joined = await this.#send({ janus: 'message', body: { request: 'join', ptype: 'subscriber', room, feed, ...(pin ? { pin } : {}) } });
      if (attempt !== this.#attempt) return;
      if (!joined.jsep) throw new Error('Janus sent no offer for the subscription');
      const pc = new RTCPeerConnection();
      this.#pc = pc;
      pc.ontrack = (e: RTCTrackEvent) => {
        if (this.#pc !== pc) return;
        const video = this.#options.video;
        video.srcObject = e.streams[0] ?? new MediaStream([e.track]);
        video.play().catch(() => {
          /* autoplay policy: a muted <video> may play */
        });
      };
      pc.onicecandidate = (e: RTCPeerConnectionIceEvent) => {
        if (this.#pc === pc) void this.#send({ janus: 'trickle', candidate: e.candidate ? e.candidate.toJSON() : { completed: true } }).catch(() => {});
      };
      pc.onconnectionstatechange = () => {
        if (this.#pc === pc && pc.connectionState === 'failed') this.#again("the connection with Janus failed (ICE)");
      };
      await pc.setRemoteDescription(joined.jsep);
      await pc.setLocalDescription(await pc.createAnswer());
      if (attempt !== this.#attempt) return;
      await this.#send({ janus: 'message', body: { request: 'start' }, jsep: { type: 'answer', sdp: pc.localDescription!.sdp } });
      if (attempt !== this.#attempt) return;
      this.#failures = 0;
      this.#setState('subscribed', null);
    } catch (error) {
      if (attempt !== this.#attempt) return;
      if (error instanceof JanusRequestError && FINAL_ERRORS.has(error.code)) {
        this.#teardown();
        this.#setState('failed', `Janus refused the subscription to room ${room}: ${error.message}`);
        return;
      }
      if (error instanceof JanusRequestError && error.code === NO_SUCH_ROOM) this.#again(`room ${room} does not exist yet`, 'waiting-for-feed');
      else this.#again(`subscribing through Janus failed: ${(error as Error).message}`);
    }
  }

  #onMessage(text: string): void {
    let m: JanusReply;
    try {
      m = JSON.parse(text) as JanusReply;
    } catch {
      return;
    }
    const waiter = m.transaction === undefined ? undefined : this.#pending.get(m.transaction);
    // An asynchronous plugin request is acknowledged first and answered by an event.
    if (m.janus === 'ack' && waiter?.plugin) return;
    if (waiter) {
      this.#pending.delete(m.transaction!);
      clearTimeout(waiter.timer);
      const error = m.error ?? (m.plugindata?.data?.error_code !== undefined ? { code: Number(m.plugindata.data.error_code), reason: String(m.plugindata.data.error) } : undefined);
      if (error) waiter.reject(new JanusRequestError(error.code, error.reason));
      else waiter.resolve(m);
      return;
    }
    // Unsolicited: the subscription ended (hangup, our feed unpublished or gone), or the session expired.
    const data = m.plugindata?.data ?? {};
    const feedGone = this.#feed !== undefined && (data.unpublished === this.#feed || data.leaving === this.#feed);
    if (m.janus === 'hangup' || m.janus === 'timeout' || m.janus === 'detached' || feedGone || data.videoroom === 'destroyed') {
      this.#again(`Janus ended the subscription (${m.janus === 'event' ? 'the feed left' : m.janus})`, 'waiting-for-feed');
    }
  }

  #send(body: Record<string, unknown>): Promise<JanusReply> {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error("Janus's WebSocket is not open"));
    const transaction = `t${++this.#transactions}`;
    const message = { ...body, transaction, ...(this.#session !== undefined ? { session_id: this.#session } : {}), ...(this.#handle !== undefined && body.janus !== 'keepalive' ? { handle_id: this.#handle } : {}) };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(transaction);
        reject(new Error(`Janus did not answer ${String(body.janus)} within ${REQUEST_TIMEOUT_MS / 1000} s`));
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(transaction, { resolve, reject, plugin: body.janus === 'message' && (body.body as { request?: string }).request !== 'listparticipants', timer });
      ws.send(JSON.stringify(message));
    });
  }

  // Starts over after a backoff (500 ms doubling to 10 s, jittered).
  #again(reason: string, state: JanusSubscriberState = 'connecting'): void {
    if (this.#state === 'stopped' || this.#state === 'failed') return;
    this.#teardown();
    this.#setState(state, reason);
    const base = Math.min(10_000, 500 * 2 ** Math.min(this.#failures++, 10));
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#connect();
    }, base / 2 + (Math.random() * base) / 2);
  }

  #teardown(): void {
    this.#attempt++;
    if (this.#retry) clearTimeout(this.#retry);
    if (this.#keepalive) clearInterval(this.#keepalive);
    this.#retry = this.#keepalive = null;
    for (const waiter of this.#pending.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('closed'));
    }
    this.#pending.clear();
    const ws = this.#ws;
    this.#ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      // Leaving politely: Janus frees the handle and session at once rather than at its timeout.
      if (ws.readyState === WebSocket.OPEN && this.#session !== undefined) {
        try {
          ws.send(JSON.stringify({ janus: 'destroy', session_id: this.#session, transaction: `t${++this.#transactions}` }));
        } catch {
          /* closing anyway */
        }
      }
      try {
        ws.close(1000);
      } catch {
        /* already closing */
      }
    }
    const pc = this.#pc;
    this.#pc = null;
    if (pc) {
      pc.ontrack = pc.onicecandidate = pc.onconnectionstatechange = null;
      pc.close();
    }
    this.#session = this.#handle = this.#feed = undefined;
    const video = this.#options.video;
    if (video.srcObject) video.srcObject = null;
  }
}
