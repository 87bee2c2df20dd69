// JanusRelay: one WebRtcPeer that publishes our stream into a Janus VideoRoom, so Janus, not the VM,
// serves the audience. The order: connect (janode), create a session, attach the VideoRoom plugin,
// create the room if it is absent (with the codec we send), join as publisher, our peer offers (its
// media from the caller's peer factory: publish()'s shared encoder, or relay()'s own), `publish` with
// the offer, apply Janus's answer, trickle our candidates and their end. Janus forwards its
// subscribers' PLI to us (and the room's fir_freq asks periodically when set); the shared encoder
// answers a PLI on this peer with a keyframe as it does for any viewer.
// When the WebSocket closes (Janus restarted, the network lost), the session goes or the media fails,
// the relay emits a JanusRelayError and starts over with backoff: a restarted Janus has forgotten the
// room, which is created again. close() is idempotent: it leaves the room, closes the peer and the
// connection, and nothing it started keeps the process alive afterwards.
import { EventEmitter } from 'node:events';
import { InvalidArgumentError } from '../errors.js';
import type { WebRtcPeer } from '../peer/peer.js';
import { silentLogger, type BackoffOptions, type Logger } from '../signaling/client.js';
import type { VideoCodec } from '../types.js';
import { emitError, errorMessage } from '../util/emit.js';
import { wholeNumber } from '../util/checks.js';
import { loadJanode, type JanusApiError, type JanusConnection, type JanusSession, type Janode, type VideoRoomHandle } from './janode.js';
import { JanusRelayError, type JanusRelayFailure } from './relay-error.js';

export interface JanusOptions {
  /** Janus's WebSocket API, e.g. `ws://janus.internal:8188` (the subprotocol janus-protocol is janode's). */
  janus: string;
  /** The VideoRoom room: created when absent. */
  room: number;
  /** The room's pin: subscribers need it too. Default: WEBRTCBIN_JANUS_PIN. Never logged. */
  pin?: string;
  /** The room's secret (to create or destroy it). Default: WEBRTCBIN_JANUS_SECRET. Never logged. */
  secret?: string;
  /** Janus's API secret (janus.jcfg `api_secret`). Default: WEBRTCBIN_JANUS_API_SECRET. Never logged. */
  apiSecret?: string;
  /** Our display name in the room (default "webrtcbin"). */
  display?: string;
  /**
   * How often Janus itself asks us for a keyframe, in seconds, for a room we create (0: only when a
   * subscriber asks, which Janus forwards; default 0). Used only when the room is created.
   */
  firFreq?: number;
  /** The room's bitrate cap for publishers (bit/s), when we create it; default none (0). */
  roomBitrate?: number;
  backoff?: BackoffOptions;
}

export interface JanusRelayEvents {
  /** Published: Janus answered and the media path is up (`webrtcup`); once per (re)publication. */
  published: [{ room: number; feed: number | string }];
  /** The relay lost Janus (or was refused) and retries unless `retryInMs` is undefined. */
  error: [JanusRelayError];
}

export interface JanusRelayInit extends JanusOptions {
  /** The codec our peers send: the room is created for it (Janus then refuses publishers of another). */
  codec: VideoCodec;
  /** A fresh sending peer for each publication. */
  createPeer: () => WebRtcPeer;
  logger?: Logger;
}

const ROOM_EXISTS = 427;
const UNAUTHORIZED = 433;
const ALREADY_PUBLISHED = 434;
const MISSING_ELEMENT = 429;
// From webrtcup until Janus reports our video arriving.
const MEDIA_TIMEOUT_MS = 6_000;

/** Options checked, secrets taken from the environment when not given. */
export function janusOptions(options: JanusOptions, env: NodeJS.ProcessEnv = process.env): JanusOptions {
  if (!options || typeof options !== 'object') throw new InvalidArgumentError('sfu: needs {janus: "ws://host:8188", room: 1234}');
  if (typeof options.janus !== 'string' || !/^wss?:\/\//.test(options.janus)) {
    throw new InvalidArgumentError(`sfu.janus must be Janus's WebSocket URL, ws://host:8188 or wss://… (got ${JSON.stringify(options.janus)})`);
  }
  wholeNumber(options.room, 'sfu.room', { min: 1, max: Number.MAX_SAFE_INTEGER });
  if (options.firFreq !== undefined) wholeNumber(options.firFreq, 'sfu.firFreq', { min: 0, max: 3600, unit: 'seconds' });
  if (options.roomBitrate !== undefined) wholeNumber(options.roomBitrate, 'sfu.roomBitrate', { min: 0, max: 1_000_000_000, unit: 'bit/s' });
  return {
    ...options,
    pin: options.pin ?? (env.WEBRTCBIN_JANUS_PIN || undefined),
    secret: options.secret ?? (env.WEBRTCBIN_JANUS_SECRET || undefined),
    apiSecret: options.apiSecret ?? (env.WEBRTCBIN_JANUS_API_SECRET || undefined),
  };
}

/** One publication's live objects: what a loss or close() tears down. */
interface Attempt {
  connection?: JanusConnection;
  session?: JanusSession;
  handle?: VideoRoomHandle;
  peer?: WebRtcPeer;
  mediaTimer?: NodeJS.Timeout;
  over: boolean;
}

export class JanusRelay extends EventEmitter<JanusRelayEvents> {
  readonly room: number;
  readonly #options: JanusRelayInit;
  readonly #log: Logger;
  #attempt: Attempt | undefined;
  #failures = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #feed: number | string | undefined;
  #published = false;

  constructor(init: JanusRelayInit) {
    super();
    const checked = janusOptions(init);
    this.#options = { ...init, ...checked };
    this.room = checked.room;
    this.#log = init.logger ?? silentLogger;
    void this.#run();
  }

  /** Our feed id in the room while published (subscribers join it), else undefined. */
  get feed(): number | string | undefined {
    return this.#published ? this.#feed : undefined;
  }

  get published(): boolean {
    return this.#published;
  }

  /** The peer of the current publication (for stats), if any. */
  get peer(): WebRtcPeer | undefined {
    return this.#attempt?.peer;
  }

  /** @internal Starts the publication over (its media source failed and was replaced). */
  republish(reason: string): void {
    const attempt = this.#attempt;
    if (attempt) this.#lost(attempt, 'media-failed', reason);
  }

  /** Leaves the room and closes the peer and the connection. Idempotent. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    clearTimeout(this.#retryTimer);
    const attempt = this.#attempt;
    this.#attempt = undefined;
    this.#published = false;
    this.#closing = attempt ? this.#end(attempt, true) : Promise.resolve();
    return this.#closing;
  }

  async #run(): Promise<void> {
    const attempt: Attempt = { over: false };
    this.#attempt = attempt;
    let janode: Janode;
    try {
      janode = await loadJanode();
    } catch (error) {
      this.#stop(attempt, error as JanusRelayError);
      return;
    }
    const { janus, room, pin, apiSecret } = this.#options;
    // A step that finds the attempt over (a loss or close() meanwhile) stops here.
    const live = () => {
      if (attempt.over) throw new Error('superseded');
    };
    try {
      attempt.connection = await janode.connect({ address: { url: janus, ...(apiSecret ? { apisecret: apiSecret } : {}) }, retry_time_secs: 1, max_retries: 1 });
      if (attempt.over) {
        void attempt.connection.close().catch(() => {});
        return;
      }
      const lost = (why: string) => () => this.#lost(attempt, 'connection-lost', `the WebSocket to Janus at ${janus} ${why}`);
      attempt.connection.once(janode.EVENT.CONNECTION_CLOSED, lost('closed'));
      attempt.connection.once(janode.EVENT.CONNECTION_ERROR, lost('failed'));
      attempt.session = await attempt.connection.create(15);
      live();
      attempt.session.once(janode.EVENT.SESSION_DESTROYED, () => this.#lost(attempt, 'connection-lost', 'Janus ended our session (timeout or restart)'));
      const handle = await attempt.session.attach(janode.VideoRoom);
      attempt.handle = handle;
      live();
      handle.once(janode.EVENT.HANDLE_HANGUP, (e: { reason?: string }) => this.#lost(attempt, 'media-failed', `Janus hung up our publication (${e?.reason ?? 'no reason'})`));
      handle.once(janode.EVENT.HANDLE_DETACHED, () => this.#lost(attempt, 'connection-lost', 'Janus detached our handle'));
      handle.once(janode.EVENT.HANDLE_ICE_FAILED, () => this.#lost(attempt, 'media-failed', 'ICE to Janus failed'));

      const { exists } = await handle.exists({ room });
      live();
      if (!exists) await this.#createRoom(handle);
      live();
      const joined = await handle.joinPublisher({ room, display: this.#options.display ?? 'webrtcbin', ...(pin ? { pin } : {}) });
      live();
      this.#feed = joined.feed;

      const peer = this.#options.createPeer();
      attempt.peer = peer;
      peer.on('connectionstatechange', (state) => {
        if (state === 'failed') this.#lost(attempt, 'media-failed', 'the media connection to Janus failed (ICE or DTLS)');
      });
      peer.on('error', (error) => this.#lost(attempt, 'media-failed', `our sending pipeline failed: ${error.message}`, error));
      // Janus's answer carries its candidates (half-trickle); ours go up as they come, then their end.
      let described = false;
      const early: ({ candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null } | null)[] = [];
      const trickle = (c: (typeof early)[number]) =>
        handle.trickle(c).catch((error: unknown) => {
          if (!attempt.over) this.#log.debug({ err: errorMessage(error) }, 'janus relay: trickle refused');
        });
      peer.on('icecandidate', (candidate) => {
        if (attempt.over) return;
        const init = candidate ? { candidate: candidate.candidate, sdpMid: candidate.sdpMid ?? null, sdpMLineIndex: candidate.sdpMLineIndex ?? null } : null;
        if (described) void trickle(init);
        else early.push(init);
      });
      handle.on(janode.EVENT.HANDLE_TRICKLE, (e: { candidate?: { candidate: string; sdpMid?: string; sdpMLineIndex?: number }; completed?: boolean }) => {
        if (attempt.over || !e?.candidate?.candidate) return;
        peer.addIceCandidate(e.candidate).catch((error: unknown) => this.#log.debug({ err: errorMessage(error) }, 'janus relay: a candidate from Janus was refused'));
      });
      // Published once Janus says it receives our video, not at webrtcup alone: a publication whose RTP
      // Janus drops would otherwise sit in the room, black. (It happened to offers made before webrtcbin
      // held the send caps, without a=ssrc: Janus dropped every packet as "Unknown SSRC". createOffer()
      // now waits for them; this stays as the guard for any other cause.)
      handle.once(janode.EVENT.HANDLE_WEBRTCUP, () => {
        if (attempt.over) return;
        attempt.mediaTimer = setTimeout(() => this.#lost(attempt, 'media-failed', `Janus received no video from us within ${MEDIA_TIMEOUT_MS} ms of the connection`), MEDIA_TIMEOUT_MS);
      });
      handle.on(janode.EVENT.HANDLE_MEDIA, (e: { type?: string; receiving?: boolean }) => {
        if (attempt.over || e?.type !== 'video' || !e.receiving || this.#published) return;
        clearTimeout(attempt.mediaTimer);
        this.#failures = 0;
        this.#published = true;
        this.#log.info({ room, feed: this.#feed }, 'janus relay: published');
        this.emit('published', { room, feed: this.#feed! });
      });

      const offer = await peer.createOffer();
      live();
      await peer.setLocalDescription(offer);
      live();
      const configured = await handle.publish({ audio: false, video: true, data: false, jsep: { type: 'offer', sdp: offer.sdp } });
      live();
      if (!configured.jsep || configured.jsep.type !== 'answer') throw new Error('Janus accepted the publication without an answer');
      await peer.setRemoteDescription(configured.jsep);
      live();
      described = true;
      for (const c of early.splice(0)) void trickle(c);
    } catch (error) {
      if (attempt.over) return;
      const code = (error as JanusApiError)._code;
      // 433: a wrong pin; 429 on join: the room wants a pin we do not have.
      if (code === UNAUTHORIZED || (code === MISSING_ELEMENT && /pin/.test(errorMessage(error)))) {
        this.#stop(attempt, new JanusRelayError('unauthorized', `Janus refused room ${room}: ${errorMessage(error)}; check the room's pin (sfu.pin, WEBRTCBIN_JANUS_PIN) and secret`, { janusCode: code, cause: error }));
        return;
      }
      const reason: JanusRelayFailure = code === undefined ? 'connection-lost' : 'refused';
      this.#lost(attempt, reason, `publishing into room ${room} of ${janus} failed: ${errorMessage(error)}`, error, code);
    }
  }

  async #createRoom(handle: VideoRoomHandle): Promise<void> {
    const { room, pin, secret, firFreq, roomBitrate, codec } = this.#options;
    try {
      await handle.create({
        room,
        description: 'webrtcbin relay',
        max_publishers: 1,
        videocodec: codec,
        fir_freq: firFreq ?? 0,
        bitrate: roomBitrate ?? 0,
        ...(pin ? { pin } : {}),
        ...(secret ? { secret } : {}),
      });
      this.#log.info({ room, codec }, 'janus relay: room created');
    } catch (error) {
      // Created meanwhile by someone else (another relay's first attempt): join it.
      if ((error as JanusApiError)._code !== ROOM_EXISTS) throw error;
    }
  }

  // The current attempt is over: tear it down, report, retry after the backoff.
  #lost(attempt: Attempt, reason: JanusRelayFailure, message: string, cause?: unknown, janusCode?: number): void {
    if (attempt.over || this.#closing || this.#attempt !== attempt) return;
    if (janusCode === ALREADY_PUBLISHED) message += ' (Janus still holds our previous publication)';
    const delay = this.#backoff();
    this.#published = false;
    void this.#end(attempt, false);
    this.#log.warn({ room: this.room, reason, retryInMs: delay, err: message }, 'janus relay: lost; retrying');
    this.#emitError(new JanusRelayError(reason, `${message}; retrying in ${delay} ms`, { retryInMs: delay, janusCode, cause }));
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (!this.#closing) void this.#run();
    }, delay);
  }

  // A failure no retry can fix: reported, and the relay stops (close() still tidies up).
  #stop(attempt: Attempt, error: JanusRelayError): void {
    if (attempt.over || this.#closing) return;
    this.#published = false;
    void this.#end(attempt, false);
    this.#log.error({ room: this.room, reason: error.reason, err: error.message }, 'janus relay: stopped');
    this.#emitError(error);
  }

  #backoff(): number {
    const { initialMs = 500, maxMs = 10_000, factor = 2 } = this.#options.backoff ?? {};
    const base = Math.min(Math.max(maxMs, initialMs), initialMs * factor ** this.#failures++);
    return Math.round(base * (0.8 + Math.random() * 0.4)); // jitter: relays of many VMs do not return in step
  }

  // Leaves the room (when asked to and still connected), then closes the peer and the connection.
  async #end(attempt: Attempt, leave: boolean): Promise<void> {
    attempt.over = true;
    clearTimeout(attempt.mediaTimer);
    const { connection, session, handle, peer } = attempt;
    if (leave && handle) {
      await Promise.race([handle.leave().catch(() => {}), new Promise((r) => setTimeout(r, 2000).unref())]);
    }
    await Promise.allSettled([
      peer?.close(),
      (async () => {
        if (leave && session) await Promise.race([session.destroy().catch(() => {}), new Promise((r) => setTimeout(r, 2000).unref())]);
        await connection?.close().catch(() => {});
      })(),
    ]);
  }

  #emitError(error: JanusRelayError): void {
    emitError(this, error, { source: 'janus relay' });
  }
}
