// publish(): what a VM agent calls to stream to every viewer of a session. It joins the signaling
// daemon as the publisher and keeps one WebRtcPeer per viewer: it offers to viewers that wait, answers
// viewers that offer (WHEP), trickles candidates both ways and tears a viewer down when either side
// ends. Errors are logged and emitted, never thrown from an event handler.
import { EventEmitter } from 'node:events';
import { InvalidArgumentError, XDisplayLostError } from '../errors.js';
import { defaultDesktopCodec } from '../native/elements.js';
import { planSendAudio } from '../media/send.js';
import { checkPlayoutDelay } from '../media/playout-delay.js';
import { toWebrtcbinIce } from '../media/ice-servers.js';
import { WebRtcPeer } from '../peer/peer.js';
import { PublisherBitrate } from './bitrate.js';
import { Streamer } from '../encoder/streamer.js';
import { InputInjector } from '../input/injector.js';
import { XClipboard } from '../input/clipboard.js';
import { ScreenResizer } from '../input/screen.js';
import { emitError } from '../util/emit.js';
import { wholeNumber } from '../util/checks.js';
import { INPUT_CHANNEL, MAX_CLIPBOARD_CHARS, MAX_VIEWER_MESSAGE_CHARS, checkViewerMessage, type AgentMessage, type ResizeResult } from '../input/protocol.js';
import type { DataChannel } from '../peer/data-channel.js';
import {
  SignalingClient,
  silentLogger,
  type BackoffOptions,
  type Logger,
  type SignalingError,
} from '../signaling/client.js';
import type { CandidateInit, IceServer } from '../signaling/protocol/messages.js';
import type { AudioChunk, Frame, PlayoutDelay, ReceiveAudioOptions, ReceiveVideoOptions, RTCIceCandidateInit, RTCIceServer, ScreenRegion, SendAudioOptions, SendVideoOptions, SourceOptions, WebRtcPeerOptions } from '../types.js';

export interface PublishOptions {
  /** The daemon's WebSocket endpoint, e.g. `ws://127.0.0.1:8080/v1/ws`. */
  url: string;
  session: string;
  /** Publisher token for the session (`webrtcbin token --role publisher …`). */
  token?: string;
  /** What to stream, as for WebRtcPeer (omit with `receive`). */
  source?: SourceOptions;
  video?: SendVideoOptions;
  /** Audio to send beside the video (Opus), e.g. `{source: 'pulse'}` for what the desktop plays. */
  audio?: SendAudioOptions;
  /**
   * The playout-delay hint viewers get (render each frame as soon as it is decoded: Chrome's jitter
   * buffer wait drops from ~7 to ~0.4 ms a frame, a display tick saved; docs/benchmarks.md). Default
   * {minMs: 0, maxMs: 0} without audio; with audio, or `false`, none (lip sync needs the buffer).
   */
  playoutDelay?: PlayoutDelay | false;
  /**
   * Mouse and keyboard from viewers whose token allows control (`webrtcbin token --control`), on a data
   * channel named "input", injected into the X display with XTest. Default: on for x11 sources.
   */
  input?: boolean;
  /**
   * With input: the X CLIPBOARD is shared with the controlling viewer, text both ways (`clipboard`
   * messages on the input channel). Default: on whenever input is.
   */
  clipboard?: boolean;
  /**
   * With input: the controlling viewer may ask the X screen to take its window's size (RandR, `resize`
   * on the input channel). The stream then follows the screen: `video.scale` defaults to 'fit' and
   * `video.width`/`height` (default 3840×2160) bound what is sent. Default false.
   */
  resize?: boolean;
  /**
   * Adapt the video bitrate to each viewer's link (RTCP loss and round-trip time; docs/reliability.md):
   * between `min` (default 150 kbit/s) and `video.bitrate`. With a shared encoder it follows the worst
   * viewer, but one viewer never pulls it below `floor` (default 300 kbit/s). Default on; false keeps
   * `video.bitrate` fixed.
   */
  adaptiveBitrate?: boolean | { min?: number; floor?: number };
  /** One capture and encoder for all viewers (default true); false gives each viewer its own. */
  shareEncoder?: boolean;
  /** Receive instead of send: every participant's video is decoded and emitted as `frame` events. */
  receive?: Omit<ReceiveVideoOptions, 'receive'>;
  /** With `receive`: also receive Opus audio, emitted as `audio` events. */
  receiveAudio?: Omit<ReceiveAudioOptions, 'receive'>;
  /** Extra ICE servers, used after the daemon's (webrtcbin uses the first STUN server only). */
  iceServers?: RTCIceServer[];
  /** Further WebRtcPeer options for every viewer's peer. */
  peerOptions?: Omit<WebRtcPeerOptions, 'source' | 'video' | 'iceServers'>;
  /**
   * A viewer's peer that is not `connected` within this many ms of its creation is closed and the
   * viewer told with `bye` (a viewer that never answers, or whose ICE never succeeds, holds a native
   * peer and its threads until then). Default 30 000; a whole number from 1 to 2 147 483 647.
   */
  negotiationTimeoutMs?: number;
  backoff?: BackoffOptions;
  logger?: Logger;
}

export const DEFAULT_NEGOTIATION_TIMEOUT_MS = 30_000;

export interface PublisherEvents {
  /** A viewer's connection reached 'connected' (once per peer). */
  'viewer-connected': [id: string];
  /** A viewer's peer was closed and removed, whatever the reason (connected or not). */
  'viewer-left': [id: string, reason: string];
  /**
   * A viewer's negotiation or media failed (that viewer is dropped), or the daemon refused the token or
   * ended the publisher at its expiry (a SignalingError, reason `unauthorized` or `token-expired`: publishing stopped).
   */
  error: [Error];
  /** With `receive`: a decoded frame from participant `id` (latest-frame semantics per participant). */
  frame: [frame: Frame, id: string];
  /** With `receive` and `receiveAudio`: decoded audio from participant `id`. */
  audio: [chunk: AudioChunk, id: string];
}

interface Viewer {
  id: string;
  peer: WebRtcPeer;
  // Negotiation steps of one viewer run one after another, in arrival order.
  queue: Promise<void>;
  // Our candidates wait until the description they belong to has been sent: a browser refuses a
  // candidate that arrives before the offer.
  described: boolean;
  pending: CandidateInit[];
  connected: boolean;
  /** Closes the peer unless it is connected in time. */
  deadline: NodeJS.Timeout;
  /** The viewer's token lets it send input. */
  control: boolean;
  /** Its input channel, for the agent's answers (clipboard text, resize results). */
  input?: DataChannel;
}

// W3C candidate from WebRtcPeer → the protocol's wire shape (strict: no undefined fields).
function toWire(candidate: RTCIceCandidateInit | null): CandidateInit {
  if (candidate === null) return null;
  return { candidate: candidate.candidate ?? '', sdpMid: candidate.sdpMid ?? null, sdpMLineIndex: candidate.sdpMLineIndex ?? null };
}

// Only the URLs: TURN credentials never reach a log.
const urlsOf = (servers: readonly IceServer[]) => servers.flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]));

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

// ICE servers from the daemon that a peer would refuse are dropped here, once: otherwise one bad entry
// would make every later viewer's peer fail to construct. Found by test/signaling/http-abuse.test.ts.
function usableIceServers(servers: readonly IceServer[], log: Logger): IceServer[] {
  return servers.filter((server) => {
    try {
      toWebrtcbinIce([server as RTCIceServer]);
      return true;
    } catch (error) {
      log.warn({ urls: urlsOf([server]), err: message(error) }, 'publisher: unusable ICE server from the daemon ignored');
      return false;
    }
  });
}

export class Publisher extends EventEmitter<PublisherEvents> {
  readonly client: SignalingClient;
  readonly #options: PublishOptions;
  readonly #log: Logger;
  readonly #viewers = new Map<string, Viewer>();
  // Peers still tearing down; close() waits for them.
  readonly #peerCloses = new Set<Promise<void>>();
  #daemonIceServers: IceServer[] = [];
  #streamer: Streamer | undefined;
  #injector: InputInjector | undefined;
  #controller: string | undefined;
  #clipboard: XClipboard | undefined;
  #clipboardFailed = false;
  #resizer: ScreenResizer | undefined;
  #controlAllowed = new Set<string>();
  #closing: Promise<void> | undefined;
  #bitrate: PublisherBitrate | undefined;

  constructor(options: PublishOptions) {
    super();
    if (!options || typeof options !== 'object' || (!options.source && !options.receive)) {
      throw new InvalidArgumentError('publish() needs {url, session, source} (or receive: {} to receive) and a token unless the daemon runs --insecure');
    }
    if (options.audio) {
      if (options.receive) throw new InvalidArgumentError('publish(): audio is for sending; a receiving publisher takes receiveAudio');
      planSendAudio(options.audio); // bad audio options fail here, not once per viewer
    }
    if (options.playoutDelay) checkPlayoutDelay(options.playoutDelay);
    if (options.negotiationTimeoutMs !== undefined) {
      wholeNumber(options.negotiationTimeoutMs, 'publish(): negotiationTimeoutMs', { min: 1, max: 2_147_483_647, unit: 'milliseconds' });
    }
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
    if (!options.receive && options.adaptiveBitrate !== false) {
      const abr = typeof options.adaptiveBitrate === 'object' ? options.adaptiveBitrate : {};
      this.#bitrate = new PublisherBitrate({ max: options.video?.bitrate ?? 2000, min: abr.min, floor: abr.floor, log: this.#log });
    }
    this.client = new SignalingClient({
      url: options.url,
      session: options.session,
      role: 'publisher',
      token: options.token,
      backoff: options.backoff,
      logger: this.#log,
    });
    const client = this.client;
    client.on('joined', this.#guard('joined', (m) => {
      this.#daemonIceServers = usableIceServers(m.iceServers, this.#log);
      this.#log.info({ peerId: m.peerId, session: m.session, iceServers: urlsOf(m.iceServers) }, 'publisher: joined');
      // Nothing survives a reconnect; the daemon announces every viewer again.
      for (const viewer of [...this.#viewers.values()]) this.#drop(viewer, 'rejoined', false);
    }));
    client.on('peer-joined', this.#guard('peer-joined', (m) => {
      if (m.role !== 'viewer') return;
      if (m.iceServers?.length) this.#daemonIceServers = usableIceServers(m.iceServers, this.#log); // fresh TURN credentials
      if (m.control) this.#controlAllowed.add(m.peerId);
      else this.#controlAllowed.delete(m.peerId);
      const old = this.#viewers.get(m.peerId);
      if (old) this.#drop(old, 'rejoined', false);
      if (m.offers) {
        this.#log.debug({ viewer: m.peerId }, 'publisher: viewer will offer');
        return;
      }
      const viewer = this.#createViewer(m.peerId);
      if (viewer) this.#offer(viewer);
    }));
    client.on('offer', this.#guard('offer', (m) => {
      let viewer = this.#viewers.get(m.from);
      // A stable, negotiated peer can be renegotiated; one in the middle of our own offer cannot
      // (webrtcbin has no rollback): the viewer's offer wins and gets a fresh peer.
      if (viewer && !(viewer.peer.signalingState === 'stable' && viewer.peer.remoteDescription)) {
        this.#drop(viewer, 'replaced by its new offer', false);
        viewer = undefined;
      }
      viewer ??= this.#createViewer(m.from);
      if (viewer) this.#answer(viewer, m.sdp);
    }));
    client.on('answer', this.#guard('answer', (m) => {
      const viewer = this.#viewers.get(m.from);
      if (!viewer) return this.#log.debug({ viewer: m.from }, 'publisher: answer from an unknown viewer ignored');
      this.#enqueue(viewer, 'applying the answer', () => viewer.peer.setRemoteDescription({ type: 'answer', sdp: m.sdp }));
    }));
    client.on('candidate', this.#guard('candidate', (m) => {
      const viewer = this.#viewers.get(m.from);
      if (!viewer) return;
      // One bad candidate does not doom the connection: the other candidates may still work.
      viewer.peer.addIceCandidate(m.candidate).catch((error: unknown) => {
        if (this.#isCurrent(viewer)) this.#log.warn({ viewer: viewer.id, err: message(error) }, 'publisher: remote candidate refused');
      });
    }));
    client.on('peer-left', this.#guard('peer-left', (m) => {
      const viewer = this.#viewers.get(m.peerId);
      if (viewer) this.#drop(viewer, 'left', false);
    }));
    client.on('bye', this.#guard('bye', (m) => {
      // Without `from` the daemon ends us (shutting down, or the token expired); 'disconnected' follows.
      const viewer = m.from === undefined ? undefined : this.#viewers.get(m.from);
      if (viewer) this.#drop(viewer, 'said bye', false);
    }));
    client.on('disconnected', this.#guard('disconnected', () => {
      // The viewers rejoin and renegotiate once the daemon is back; their old peers are useless.
      for (const viewer of [...this.#viewers.values()]) this.#drop(viewer, 'daemon disconnected', false);
    }));
    client.on('protocol-error', this.#guard('protocol-error', (e) => {
      // unknown-peer: a viewer left while our message to it was on its way; nothing to do.
      const level = e.code === 'unknown-peer' ? 'debug' : 'warn';
      this.#log[level]({ code: e.code, origin: e.origin, detail: e.message }, 'publisher: signaling error');
    }));
    client.on('state', this.#guard('state', (state, error?: SignalingError) => {
      if (state === 'closed' && error) this.#emitError(error);
    }));
    client.connect();
  }

  /** Viewers with a peer (negotiating or connected). */
  get viewers(): number {
    return this.#viewers.size;
  }

  /** Closes every viewer's peer and leaves the session. Idempotent; afterwards nothing keeps the process alive. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    for (const viewer of [...this.#viewers.values()]) this.#drop(viewer, 'publisher closed', false);
    this.#bitrate?.close();
    this.#closing = Promise.allSettled([this.client.close(), ...this.#peerCloses])
      .then(() => this.#streamer?.close())
      .then(() => this.#injector?.close())
      .then(() => this.#resizer?.close())
      .then(() => this.#clipboard?.close());
    return this.#closing;
  }

  // Event handlers must never throw into the client's socket callbacks.
  #guard<A extends unknown[]>(event: string, handler: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      if (this.#closing) return;
      try {
        handler(...args);
      } catch (error) {
        this.#log.error({ event, err: message(error) }, 'publisher: handler failed');
        this.#emitError(error instanceof Error ? error : new Error(String(error)));
      }
    };
  }

  #emitError(error: Error): void {
    emitError(this, error, {
      source: 'publisher',
      onListenerThrow: (thrown) => this.#log.error({ err: message(thrown) }, 'publisher: an error listener threw'),
    });
  }

  #isCurrent(viewer: Viewer): boolean {
    return !this.#closing && this.#viewers.get(viewer.id) === viewer;
  }

  #createViewer(id: string): Viewer | undefined {
    let peer: WebRtcPeer;
    try {
      const iceServers = [...this.#daemonIceServers, ...(this.#options.iceServers ?? [])];
      const sending = { ...this.#playoutDelay(), ...(this.#options.audio ? { audio: this.#options.audio } : {}) };
      if (!this.#options.receive && this.#options.shareEncoder !== false) {
        // One video encoder for everyone; audio (cheap: ~1% of a core) is encoded per viewer.
        peer = this.#sharedStreamer().createPeer({ ...this.#options.peerOptions, iceServers, ...sending });
      } else {
        peer = new WebRtcPeer({
          ...this.#options.peerOptions,
          ...(this.#options.receive
            ? {
                video: { ...this.#options.receive, receive: true as const },
                ...(this.#options.receiveAudio ? { audio: { ...this.#options.receiveAudio, receive: true as const } } : {}),
              }
            : { source: this.#options.source, video: this.#videoOptions(), ...sending }),
          iceServers,
        });
      }
    } catch (error) {
      this.#log.error({ viewer: id, err: message(error) }, 'publisher: could not create a peer for the viewer');
      this.#emitError(error instanceof Error ? error : new Error(String(error)));
      this.client.send({ type: 'bye', to: id });
      return undefined;
    }
    const timeout = this.#options.negotiationTimeoutMs ?? DEFAULT_NEGOTIATION_TIMEOUT_MS;
    const deadline = setTimeout(() => {
      if (!this.#isCurrent(viewer) || viewer.connected) return;
      this.#log.warn({ viewer: id, timeoutMs: timeout, state: peer.connectionState }, 'publisher: viewer not connected in time; dropping it');
      this.#drop(viewer, `not connected within ${timeout} ms`, true);
    }, timeout);
    deadline.unref(); // the signaling socket keeps the process alive, not a pending deadline
    const viewer: Viewer = { id, peer, queue: Promise.resolve(), described: false, pending: [], connected: false, deadline, control: this.#controlAllowed.has(id) };
    this.#viewers.set(id, viewer);
    this.#log.debug({ viewer: id }, 'publisher: peer created');
    peer.on('icecandidate', (candidate) => {
      if (!this.#isCurrent(viewer)) return;
      if (viewer.described) this.#sendCandidate(viewer, toWire(candidate));
      else viewer.pending.push(toWire(candidate));
    });
    peer.on('connectionstatechange', (state) => {
      if (!this.#isCurrent(viewer)) return;
      this.#log.debug({ viewer: id, state }, 'publisher: connection state');
      if (state === 'connected' && !viewer.connected) {
        viewer.connected = true;
        clearTimeout(viewer.deadline);
        this.#log.info({ viewer: id }, 'publisher: viewer connected');
        this.#bitrate?.add(id, peer, this.#options.shareEncoder !== false ? this.#streamer : undefined);
        this.#notify(() => this.emit('viewer-connected', id));
      } else if (state === 'failed' || state === 'closed') {
        this.#log.warn({ viewer: id, state }, 'publisher: viewer connection ended');
        this.#drop(viewer, `connection ${state}`, true);
      }
    });
    // Bus warnings, and remote candidates the peer dropped (unknown mid, too many before the answer).
    peer.on('warning', (warning) => this.#log.warn({ viewer: id, err: warning.message }, 'publisher: peer warning'));
    if (this.#options.receive) {
      peer.on('frame', (frame) => this.#notify(() => this.emit('frame', frame, id)));
      peer.on('audio', (chunk) => this.#notify(() => this.emit('audio', chunk, id)));
    }
    peer.on('error', (error) => {
      if (!this.#isCurrent(viewer)) return;
      this.#fail(viewer, 'media pipeline error', error);
    });
    return viewer;
  }

  // Created with the first viewer; its errors are the publisher's.
  #sharedStreamer(): Streamer {
    if (!this.#streamer) {
      const streamer = new Streamer({ source: this.#options.source!, video: this.#videoOptions() });
      this.#streamer = streamer;
      streamer.on('error', (error) => {
        if (error instanceof XDisplayLostError && this.#streamer === streamer && !this.#closing) {
          // The capture is dead for good: its viewers are let go, and a viewer joining later gets a
          // fresh capture (which fails with a clear error while the display is still gone).
          this.#streamer = undefined;
          for (const viewer of [...this.#viewers.values()]) this.#drop(viewer, 'the captured X display was lost', true);
          const closing = streamer.close().catch(() => {});
          this.#peerCloses.add(closing);
          void closing.finally(() => this.#peerCloses.delete(closing));
        }
        this.#emitError(error);
      });
      streamer.on('warning', (warning) => this.#log.warn({ err: warning.message }, 'publisher: encoder warning'));
    }
    return this.#streamer;
  }

  /**
   * The video encoder's current target bitrate, kbit/s: the shared encoder's, or with an encoder per
   * viewer the lowest of theirs (undefined before the first viewer).
   */
  get videoBitrate(): number | undefined {
    if (this.#streamer) return this.#streamer.bitrate;
    const rates = [...this.#viewers.values()].map((v) => v.peer.bitrate).filter((r): r is number => r !== undefined);
    return rates.length ? Math.min(...rates) : undefined;
  }

  /** The shared encoder's counters (undefined until the first viewer). */
  get encoderStats(): { framesEncoded: number; subscribers: number; framesUnchanged: number } | undefined {
    return this.#streamer?.stats;
  }

  // A throwing user listener must not break the state update that emitted it.
  #notify(emit: () => void): void {
    try {
      emit();
    } catch (error) {
      this.#log.error({ err: message(error) }, 'publisher: a listener threw');
    }
  }

  // Runs one negotiation step after the viewer's previous ones; a failure drops the viewer. The chain
  // itself never rejects.
  #enqueue(viewer: Viewer, what: string, step: () => Promise<void>): void {
    viewer.queue = viewer.queue.then(async () => {
      if (!this.#isCurrent(viewer)) return;
      try {
        await step();
      } catch (error) {
        // A peer closed meanwhile rejects its pending operations; that is expected, not a failure.
        if (this.#isCurrent(viewer)) this.#fail(viewer, what, error);
      }
    });
  }

  // The input channel is part of the offer, so it is created before it; messages from a viewer without
  // control, or that is not the current controller, are dropped.
  #openInputChannel(viewer: Viewer): void {
    if (!this.#inputEnabled()) return;
    const channel = viewer.peer.createDataChannel(INPUT_CHANNEL);
    viewer.input = channel;
    channel.on('message', (data) => {
      if (!this.#isCurrent(viewer) || !viewer.control || typeof data !== 'string' || data.length > MAX_VIEWER_MESSAGE_CHARS) return;
      let message: unknown;
      try {
        message = JSON.parse(data);
      } catch {
        return;
      }
      if (!checkViewerMessage.Check(message)) return;
      if (message.t === 'take-control' || this.#controller === undefined) {
        if (this.#controller !== viewer.id) {
          this.#log.info({ viewer: viewer.id, from: this.#controller }, 'publisher: viewer takes control');
          const previous = this.#controller === undefined ? undefined : this.#viewers.get(this.#controller);
          this.#controller = viewer.id;
          // The hand-over: the one who lost control is told (its page goes view-only), then the new one.
          if (previous) this.#sendTo(previous, { t: 'control', controlling: false });
          this.#sendTo(viewer, { t: 'control', controlling: true });
          this.#xClipboard()?.fetch(); // the new controller gets what is on the clipboard now
        }
        if (message.t === 'take-control') return;
      }
      if (this.#controller !== viewer.id) return;
      if (message.t === 'clipboard') return this.#xClipboard()?.setText(message.text);
      if (message.t === 'resize') return this.#resize(viewer, message.width, message.height);
      try {
        this.#injector ??= new InputInjector(this.#display(), (this.#options.source as { region?: ScreenRegion }).region);
        this.#injector.apply(message);
      } catch (error) {
        this.#log.warn({ err: error instanceof Error ? error.message : String(error) }, 'publisher: input injection failed');
      }
    });
  }

  #playoutDelay(): { playoutDelay?: PlayoutDelay } {
    const chosen = this.#options.playoutDelay ?? this.#options.peerOptions?.playoutDelay;
    if (chosen === false) return {};
    if (chosen) return { playoutDelay: chosen };
    return this.#options.audio ? {} : { playoutDelay: { minMs: 0, maxMs: 0 } };
  }

  #display(): string {
    return (this.#options.source as { display?: string }).display ?? process.env.DISPLAY ?? ':0';
  }

  #videoOptions(): SendVideoOptions {
    const video = { codec: defaultDesktopCodec(), ...this.#options.video };
    if (!this.#options.resize || !this.#inputEnabled()) return video;
    return { scale: 'fit', width: 3840, height: 2160, ...video };
  }

  // Only to the current controller; a failed send (closed channel, too large) is logged, not fatal.
  #sendToController(out: AgentMessage): void {
    const viewer = this.#controller === undefined ? undefined : this.#viewers.get(this.#controller);
    if (viewer) this.#sendTo(viewer, out);
  }

  #sendTo(viewer: Viewer, out: AgentMessage): void {
    if (!viewer.input || viewer.input.readyState !== 'open') return;
    try {
      viewer.input.send(JSON.stringify(out));
    } catch (error) {
      this.#log.warn({ viewer: viewer.id, t: out.t, err: message(error) }, 'publisher: input channel send failed');
    }
  }

  // Created with the first controller, so X clipboard changes from then on reach whoever controls.
  #xClipboard(): XClipboard | undefined {
    if (this.#clipboard || this.#clipboardFailed || !this.#inputEnabled() || this.#options.clipboard === false) return this.#clipboard;
    try {
      const clipboard = new XClipboard(this.#display());
      clipboard.on('text', (text) => {
        if (text.length > MAX_CLIPBOARD_CHARS) {
          return this.#log.warn({ chars: text.length, max: MAX_CLIPBOARD_CHARS }, 'publisher: X clipboard text too long for the viewer; not sent');
        }
        this.#sendToController({ t: 'clipboard', text });
      });
      clipboard.on('warning', (warning) => this.#log.warn({ code: warning.code, err: warning.message }, 'publisher: clipboard'));
      clipboard.on('error', (error) => {
        this.#log.warn({ code: error.code, err: error.message }, 'publisher: clipboard closed');
        if (this.#clipboard === clipboard) this.#clipboard = undefined;
        this.#clipboardFailed = true;
      });
      this.#clipboard = clipboard;
    } catch (error) {
      this.#clipboardFailed = true; // e.g. no XFIXES: input still works without it
      this.#log.warn({ err: message(error) }, 'publisher: no clipboard sharing');
    }
    return this.#clipboard;
  }

  #resize(viewer: Viewer, width: number, height: number): void {
    let result: ResizeResult;
    if (!this.#options.resize) {
      result = { t: 'resize-result', ok: false, width: 0, height: 0, code: 'unsupported', message: 'this publisher does not allow remote resize (publish({resize: true}))' };
    } else {
      try {
        this.#resizer ??= new ScreenResizer(this.#display());
        result = this.#resizer.request(width, height);
      } catch (error) {
        result = { t: 'resize-result', ok: false, width: 0, height: 0, code: 'failed', message: message(error) };
      }
      if (result.ok) this.#injector?.setScreenSize(result);
    }
    this.#log.info({ viewer: viewer.id, width, height, ok: result.ok, code: result.code }, 'publisher: resize requested');
    this.#sendToController(result);
  }

  #inputEnabled(): boolean {
    if (this.#options.receive) return false;
    return this.#options.input ?? this.#options.source?.kind === 'x11';
  }

  #offer(viewer: Viewer): void {
    this.#openInputChannel(viewer);
    this.#enqueue(viewer, 'creating the offer', async () => {
      const offer = await viewer.peer.createOffer();
      if (!this.#isCurrent(viewer)) return;
      await viewer.peer.setLocalDescription(offer);
      if (!this.#isCurrent(viewer)) return;
      this.#sendDescription(viewer, 'offer', offer.sdp);
    });
  }

  #answer(viewer: Viewer, sdp: string): void {
    this.#enqueue(viewer, 'answering the offer', async () => {
      await viewer.peer.setRemoteDescription({ type: 'offer', sdp });
      if (!this.#isCurrent(viewer)) return;
      const answer = await viewer.peer.createAnswer();
      if (!this.#isCurrent(viewer)) return;
      await viewer.peer.setLocalDescription(answer);
      if (!this.#isCurrent(viewer)) return;
      this.#sendDescription(viewer, 'answer', answer.sdp);
    });
  }

  #sendDescription(viewer: Viewer, type: 'offer' | 'answer', sdp: string): void {
    // send() returns false only while disconnected; 'disconnected' drops this viewer anyway.
    const sent = this.client.send({ type, to: viewer.id, sdp });
    this.#log.debug({ viewer: viewer.id, type, sdpBytes: sdp.length, sent }, 'publisher: description sent');
    viewer.described = true;
    for (const candidate of viewer.pending.splice(0)) this.#sendCandidate(viewer, candidate);
  }

  #sendCandidate(viewer: Viewer, candidate: CandidateInit): void {
    try {
      this.client.send({ type: 'candidate', to: viewer.id, candidate });
    } catch (error) {
      // e.g. a candidate line over the protocol's length limit: skip that one.
      this.#log.warn({ viewer: viewer.id, err: message(error) }, 'publisher: local candidate not sent');
    }
  }

  #fail(viewer: Viewer, what: string, error: unknown): void {
    const reason = `${what} failed: ${message(error)}`;
    this.#log.error({ viewer: viewer.id, err: message(error) }, `publisher: ${what} failed; dropping the viewer`);
    this.#drop(viewer, reason, true);
    this.#emitError(new Error(`viewer ${viewer.id}: ${reason}`, { cause: error }));
  }

  // Closes and forgets a viewer's peer. `bye` tells the viewer (through the daemon) to give up on
  // this connection; not needed when the viewer itself left or the daemon is gone.
  #drop(viewer: Viewer, reason: string, bye: boolean): void {
    if (this.#viewers.get(viewer.id) !== viewer) return;
    this.#viewers.delete(viewer.id);
    clearTimeout(viewer.deadline);
    this.#bitrate?.remove(viewer.id);
    if (this.#controller === viewer.id) this.#controller = undefined;
    const closing = viewer.peer.close().catch((error: unknown) => {
      this.#log.warn({ viewer: viewer.id, err: message(error) }, 'publisher: closing a peer failed');
    });
    this.#peerCloses.add(closing);
    void closing.finally(() => this.#peerCloses.delete(closing));
    if (bye) this.client.send({ type: 'bye', to: viewer.id });
    this.#log.info({ viewer: viewer.id, reason }, 'publisher: viewer removed');
    this.#notify(() => this.emit('viewer-left', viewer.id, reason));
  }
}

/**
 * Streams `source` to every viewer of `session`, through the signaling daemon at `url`. Returns at
 * once; connecting, reconnecting and every viewer's negotiation happen in the background.
 */
/**
 * The receiving agent's three lines: every participant that joins the session (a browser publishing
 * its camera, a WHIP client) is answered by a receiving peer, and its decoded frames arrive as `frame`.
 */
export function receive(
  options: Omit<PublishOptions, 'source' | 'video' | 'receive' | 'receiveAudio'> & {
    video?: Omit<ReceiveVideoOptions, 'receive'>;
    audio?: Omit<ReceiveAudioOptions, 'receive'>;
  },
): Publisher {
  const { video, audio, ...rest } = options;
  return new Publisher({ ...rest, receive: video ?? {}, ...(audio ? { receiveAudio: audio } : {}) });
}

export function publish(options: PublishOptions): Publisher {
  return new Publisher(options);
}
