// publish(): what a VM agent calls to stream to every viewer of a session. The Publisher joins the
// signaling daemon as the publisher and keeps one ViewerSession (a WebRtcPeer and its negotiation) per
// viewer: it offers to viewers that wait, answers viewers that offer (WHEP) and tears a viewer down
// when either side ends. Each viewer gets a codec both sides have (codecs.ts: ours cheapest first
// against the viewer's `join.codecs` or its offer) from the shared encoder of that codec, started with
// its first viewer and closed with its last; our first codec's encoder is warm (started at once, kept
// idle between viewers) so the first viewer's offer leaves at once. Beside it in lib/publish/:
// viewer-session.ts (one viewer), remote-control.ts
// (input, clipboard and resize from the controlling viewer), ice.ts (the daemon's ICE servers and the
// candidates' wire shape), bitrate.ts (adaptive bitrate). Errors are logged and emitted, never thrown
// from an event handler.
import { EventEmitter } from 'node:events';
import { InvalidArgumentError, XDisplayLostError } from '../errors.js';
import { loadBinding } from '../native/binding.js';
import { installedVideoCodecs } from '../native/elements.js';
import { h264LevelFor, planSendAudio } from '../media/send.js';
import { tidySdp } from '../media/sdp.js';
import { checkPlayoutDelay } from '../media/playout-delay.js';
import { WebRtcPeer } from '../peer/peer.js';
import { Streamer } from '../encoder/streamer.js';
import {
  SignalingClient,
  silentLogger,
  type BackoffOptions,
  type Logger,
  type SignalingError,
} from '../signaling/client.js';
import type { IceServer } from '../signaling/protocol/messages.js';
import type { AudioChunk, Frame, PlayoutDelay, ScreenRegion, ReceiveAudioOptions, ReceiveVideoOptions, RTCIceServer, SendAudioOptions, SendVideoOptions, SourceOptions, VideoCodec, WebRtcPeerOptions } from '../types.js';
import { wholeNumber } from '../util/checks.js';
import { checkSource } from './preflight.js';
import { emitError, errorMessage } from '../util/emit.js';
import { PublisherBitrate } from './bitrate.js';
import type { CongestionSnapshot } from '../encoder/twcc-bitrate.js';
import { chooseForOffer, chooseForViewer, codecName, noCommonCodecMessage, normalizeCodecNames, offerCodecNames } from './codecs.js';
import { urlsOf, usableIceServers } from './ice.js';
import { RemoteControl } from './remote-control.js';
import { RemotePointer, type PointerMode } from './remote-pointer.js';
import { PointerPicture } from './pointer-picture.js';
import { ViewerSession, type ViewerHost } from './viewer-session.js';
import { JanusRelay, janusOptions, type JanusOptions } from '../sfu/janus-relay.js';

export interface PublishOptions {
  /** The daemon's WebSocket endpoint, e.g. `ws://127.0.0.1:8080/v1/ws`; or a cluster's instances, tried in turn. */
  url: string | string[];
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
   * How viewers see the X pointer. 'auto' (the default for an x11 source with input and the shared
   * encoder): sent as data on the input channel to each viewer that draws it itself (our page,
   * RemoteView), and drawn into the picture only while a viewer that cannot draw it watches (a WHEP
   * player, another WebRTC stack, a Janus audience, an old page, a view({pointer: 'picture'})): the
   * capture's `show-pointer` follows joins and leaves, and drawing viewers are told (`cursor-picture`)
   * so a pointer never shows twice. 'video': always drawn into the picture by the capture (the default
   * otherwise). 'channel': always sent as data to every viewer and never in the picture
   * (`source.showPointer` is then false). As data (its shape once, then its position on change, at
   * most 120 Hz) pointer motion needs no video frame and the controller's own pointer shows the remote
   * shape at once. 'auto' and 'channel' need an x11 source with input; 'auto' the shared encoder.
   */
  pointer?: PointerMode;
  /**
   * Adapt the video bitrate to each viewer's link (RTCP loss and round-trip time; docs/reliability.md):
   * between `min` (default 150 kbit/s) and `video.bitrate`. With a shared encoder it follows the worst
   * viewer, but one viewer never pulls it below `floor` (default 300 kbit/s). Default on; false keeps
   * `video.bitrate` fixed.
   */
  adaptiveBitrate?: boolean | { min?: number; floor?: number; controller?: 'auto' | 'twcc' | 'receiver-reports'; startKbps?: number };
  /** One capture and encoder for all viewers (default true); false gives each viewer its own. */
  shareEncoder?: boolean;
  /**
   * With the shared encoder: the capture and the encoder of our first codec start at once and stay
   * between viewers, so the first viewer's offer leaves without waiting for the encoder's first frame
   * (docs/benchmarks.md, section 1a). While nobody watches nothing is captured or encoded (the
   * pipeline is paused once one frame at the start has told the encoded caps): about 0 % of a core
   * and 25–35 MiB more memory at 720p. The process's DTLS
   * certificate is made at once too (off the JS thread), not for the first viewer. Default true; false
   * starts the encoder with the first viewer and closes it with the last.
   */
  warm?: boolean;
  /** Receive instead of send: every participant's video is decoded and emitted as `frame` events. */
  receive?: Omit<ReceiveVideoOptions, 'receive'>;
  /** With `receive`: also receive Opus audio, emitted as `audio` events. */
  receiveAudio?: Omit<ReceiveAudioOptions, 'receive'>;
  /** Extra ICE servers, used after the daemon's (webrtcbin uses the first STUN server only). */
  iceServers?: RTCIceServer[];
  /** Further WebRtcPeer options for every viewer's peer. */
  peerOptions?: Omit<WebRtcPeerOptions, 'source' | 'video' | 'iceServers' | 'sharedEncoder'>;
  /**
   * A viewer's peer that is not `connected` within this many ms of its creation is closed and the
   * viewer told with `bye` (a viewer that never answers, or whose ICE never succeeds, holds a native
   * peer and its threads until then). Default 30 000; a whole number from 1 to 2 147 483 647.
   */
  negotiationTimeoutMs?: number;
  /**
   * Media outlives signaling: when the daemon connection drops (a daemon restart), viewers whose peer
   * is connected keep their media and data channels; the publisher rejoins with its previous id and
   * waits this long for each of them to rejoin too. One that has not come back by then is closed if its
   * peer is no longer connected (one still connected stays: the media is peer to peer). Default 30 000;
   * a whole number from 1 to 2 147 483 647.
   */
  resumeGraceMs?: number;
  backoff?: BackoffOptions;
  logger?: Logger;
  /**
   * Also push the stream once into a Janus VideoRoom (docs/sfu.md): `{janus: 'ws://host:8188', room: 1234}`,
   * with `pin`, `secret`, `apiSecret` (or WEBRTCBIN_JANUS_PIN, _SECRET, _API_SECRET; never logged). The
   * room is created if absent, for the relayed codec: `video.codec` when set, else H.264 when installed.
   * Viewers that subscribe to Janus cost the VM nothing more; direct viewers are served as before, and
   * input and clipboard still come from a viewer connected through the daemon.
   */
  sfu?: JanusOptions;
}

export const DEFAULT_NEGOTIATION_TIMEOUT_MS = 30_000;
export const DEFAULT_RESUME_GRACE_MS = 30_000;
// A viewer still receiving sends RTCP receiver reports about every second (Chrome, webrtcbin): silence
// this long after the grace means it is gone.
const LIVENESS_WINDOW_MS = 3_000;

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
  /** With `sfu`: the stream is published in the Janus room (again, after each reconnection). */
  'sfu-published': [{ room: number; feed: number | string }];
}

export class Publisher extends EventEmitter<PublisherEvents> {
  readonly client: SignalingClient;
  readonly #options: PublishOptions;
  readonly #log: Logger;
  readonly #viewers = new Map<string, ViewerSession>();
  readonly #host: ViewerHost;
  // Peers still tearing down; close() waits for them.
  readonly #peerCloses = new Set<Promise<void>>();
  #daemonIceServers: IceServer[] = [];
  /** The shared encoder of each codec in use: created with its first viewer, closed with its last. */
  readonly #streamers = new Map<VideoCodec, Streamer>();
  #sendCodecs: VideoCodec[] | undefined;
  /** Input from viewers; only when the publisher takes it. */
  readonly #remote: RemoteControl | undefined;
  /** The pointer over the input channel (pointer: 'channel' or 'auto'). */
  readonly #pointer: RemotePointer | undefined;
  /** With pointer 'auto': whether the capture draws the pointer, from who watches. */
  readonly #picture: PointerPicture | undefined;
  // Captures whose pointer cannot change while playing (warned about once).
  readonly #pointerFixed = new WeakSet<Streamer>();
  #controlAllowed = new Set<string>();
  #closing: Promise<void> | undefined;
  #bitrate: PublisherBitrate | undefined;
  // Our peer id at the last `joined`: a rejoin that got it back keeps the viewers' state valid.
  #peerId: string | undefined;
  // Viewers kept through a signaling outage that have not rejoined yet, and the grace that ends the wait.
  readonly #awaiting = new Set<string>();
  #graceTimer: NodeJS.Timeout | undefined;
  // The first codec's shared encoder starts with the publisher and stays between viewers (options.warm).
  readonly #warm: boolean;
  // With options.sfu: the peer that publishes into Janus, and the codec it sends (its encoder stays).
  readonly #relay: JanusRelay | undefined;
  readonly #relayCodec: VideoCodec | undefined;

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
    if (options.resumeGraceMs !== undefined) {
      wholeNumber(options.resumeGraceMs, 'publish(): resumeGraceMs', { min: 1, max: 2_147_483_647, unit: 'milliseconds' });
    }
    if (options.sfu) {
      if (options.receive) throw new InvalidArgumentError('publish(): sfu relays what the publisher sends; a receiving publisher has nothing to relay');
      janusOptions(options.sfu); // bad sfu options fail here, before anything starts
    }
    options = withPointerMode(options);
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
    if (options.pointer === 'auto') {
      // Before the warm encoder: every shared capture is made with the picture's state.
      this.#picture = new PointerPicture({ always: Boolean(options.sfu), apply: (shown) => this.#pointerInPicture(shown) });
    }
    this.#warm = !options.receive && options.shareEncoder !== false && options.warm !== false;
    if (this.#warm) {
      // The warm encoder is the preflight: a source or encoder that cannot start throws here, before connecting.
      this.#sharedStreamer(this.#codecs()[0]!);
    } else {
      checkSource(options); // fail fast: a source or encoder that cannot start throws here, before connecting
    }
    if (options.warm !== false) {
      // The DTLS certificate every peer of this process shares, made now rather than for the first viewer.
      loadBinding().prepareDtlsCertificate().catch((error: unknown) => this.#log.debug({ err: errorMessage(error) }, 'publisher: DTLS certificate not prepared'));
    }
    if (!options.receive && options.adaptiveBitrate !== false) {
      const abr = typeof options.adaptiveBitrate === 'object' ? options.adaptiveBitrate : {};
      this.#bitrate = new PublisherBitrate({ max: options.video?.bitrate ?? 2000, min: abr.min, floor: abr.floor, controller: abr.controller, startKbps: abr.startKbps, log: this.#log });
    }
    if (this.#takesInput()) {
      this.#remote = new RemoteControl({
        source: options.source,
        clipboard: options.clipboard !== false,
        resize: Boolean(options.resize),
        log: this.#log,
        viewer: (id) => this.#viewers.get(id),
        isCurrent: (viewer) => this.#isCurrent(viewer),
        // A data-only viewer receives no stream of ours to cap.
        capBitrate: (id, kbps) => (this.#bitrate && this.#viewers.get(id)?.media !== 'data' ? this.#bitrate.cap(id, kbps) : 'unsupported'),
        cursorDraw: (viewer, draws) => {
          // The picture first: the viewer's one cursor-picture then says what the picture is after its word.
          // A pointer that cannot be read as data (no XFIXES) must stay in the picture: nobody draws it.
          this.#picture?.draws(viewer.id, draws && (this.#pointer?.available() ?? false));
          this.#pointer?.draws(viewer, draws);
        },
      });
      if (options.pointer === 'channel' || options.pointer === 'auto') {
        const source = options.source as { display?: string; region?: ScreenRegion };
        this.#pointer = new RemotePointer({
          display: source.display ?? process.env.DISPLAY ?? ':0',
          region: source.region,
          log: this.#log,
          isCurrent: (viewer) => this.#isCurrent(viewer),
          drawersOnly: options.pointer === 'auto',
          onUnavailable: () => this.#picture?.keep(),
        });
      }
    }
    if (options.sfu) {
      const codec: VideoCodec = options.video?.codec ?? (installedVideoCodecs().includes('h264') ? 'h264' : this.#codecs()[0]!);
      this.#relayCodec = codec;
      this.#relay = new JanusRelay({
        ...options.sfu,
        codec,
        logger: this.#log,
        // The relay is one more subscriber of the codec's shared encoder (or, with shareEncoder: false, has its own).
        createPeer: () => {
          const sending = { ...this.#playoutDelay(), ...(options.audio ? { audio: options.audio } : {}) };
          const iceServers = options.iceServers ?? [];
          return options.shareEncoder !== false
            ? this.#sharedStreamer(codec).createPeer({ ...options.peerOptions, iceServers, ...sending })
            : new WebRtcPeer({ ...options.peerOptions, source: options.source!, video: this.#videoOptions(codec), iceServers, ...sending });
        },
      });
      this.#relay.on('published', (info) => this.#notify(() => this.emit('sfu-published', info)));
      this.#relay.on('error', (error) => this.#emitError(error));
    }
    this.client = new SignalingClient({
      url: options.url,
      session: options.session,
      role: 'publisher',
      token: options.token,
      backoff: options.backoff,
      logger: this.#log,
    });
    this.#host = {
      client: this.client,
      log: this.#log,
      isCurrent: (viewer) => this.#isCurrent(viewer),
      fail: (viewer, what, error) => this.#fail(viewer, what, error),
      drop: (viewer, reason, bye) => this.#drop(viewer, reason, bye),
      rejected: (viewer) => this.#rejected(viewer),
      tidy: (sdp, type) => tidySdp(sdp, type === 'offer' ? { h264Level: h264LevelFor(this.#options.video) } : {}),
    };
    const client = this.client;
    client.on('joined', this.#guard('joined', (m) => {
      this.#daemonIceServers = usableIceServers(m.iceServers, this.#log);
      this.#log.info({ peerId: m.peerId, session: m.session, iceServers: urlsOf(m.iceServers), resumed: m.resumed }, 'publisher: joined');
      const previous = this.#peerId;
      this.#peerId = m.peerId;
      if (previous !== undefined && previous !== m.peerId) {
        // A new id: to the viewers we are a new publisher, and they start over; so do we.
        for (const viewer of [...this.#viewers.values()]) this.#drop(viewer, 'rejoined with a new id', false);
        return;
      }
      this.#awaitViewers();
    }));
    client.on('peer-joined', this.#guard('peer-joined', (m) => {
      if (m.role !== 'viewer') return;
      if (m.iceServers?.length) this.#daemonIceServers = usableIceServers(m.iceServers, this.#log); // fresh TURN credentials
      if (m.control) this.#controlAllowed.add(m.peerId);
      else this.#controlAllowed.delete(m.peerId);
      const old = this.#viewers.get(m.peerId);
      this.#awaiting.delete(m.peerId);
      if (old && m.resumed && old.connected && old.peer.connectionState === 'connected') {
        // Back after a signaling outage with its media still flowing: nothing to negotiate.
        this.#log.info({ viewer: m.peerId }, 'publisher: viewer resumed; its connection stayed up');
        return;
      }
      if (old) this.#drop(old, 'rejoined', false);
      if (m.offers) {
        this.#log.debug({ viewer: m.peerId }, 'publisher: viewer will offer');
        return;
      }
      if (m.media === 'data') return this.#dataOnlyViewer(m.peerId);
      // The first of our codecs the viewer decodes; a viewer that does not say gets our first.
      let codec: VideoCodec | undefined;
      if (!this.#options.receive) {
        const ours = this.#codecs();
        codec = m.codecs ? chooseForViewer(ours, m.codecs) : ours[0];
        if (!codec) return this.#noCommonCodec(m.peerId, normalizeCodecNames(m.codecs ?? []));
      }
      const viewer = this.#createViewer(m.peerId, codec);
      if (viewer) {
        this.#remote?.openInputChannel(viewer); // part of the offer, so created before it
        this.#pointer?.add(viewer);
        viewer.offer();
      }
    }));
    client.on('offer', this.#guard('offer', (m) => {
      let viewer = this.#viewers.get(m.from);
      // A stable, negotiated peer can be renegotiated; one in the middle of our own offer cannot
      // (webrtcbin has no rollback): the viewer's offer wins and gets a fresh peer.
      if (viewer && !(viewer.peer.signalingState === 'stable' && viewer.peer.remoteDescription)) {
        this.#drop(viewer, 'replaced by its new offer', false);
        viewer = undefined;
      }
      if (!viewer) {
        // A browser's own offer: its first video codec we can encode.
        let codec: VideoCodec | undefined;
        if (!this.#options.receive) {
          codec = chooseForOffer(this.#codecs(), m.sdp);
          if (!codec) return this.#noCommonCodec(m.from, offerCodecNames(m.sdp));
        }
        viewer = this.#createViewer(m.from, codec);
      }
      if (viewer) viewer.answer(m.sdp);
    }));
    client.on('answer', this.#guard('answer', (m) => {
      const viewer = this.#viewers.get(m.from);
      if (!viewer) return this.#log.debug({ viewer: m.from }, 'publisher: answer from an unknown viewer ignored');
      viewer.applyAnswer(m.sdp);
    }));
    client.on('candidate', this.#guard('candidate', (m) => {
      this.#viewers.get(m.from)?.addRemoteCandidate(m.candidate);
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
    client.on('disconnected', this.#guard('disconnected', (d) => {
      if (d.failedAttempts > 0) return; // a failed reconnect attempt: handled when the joined connection ended
      // Media is peer to peer: connected viewers keep it through the outage (reconciled after the rejoin,
      // #awaitViewers). A negotiation in flight cannot finish without signaling: that viewer starts over.
      clearTimeout(this.#graceTimer);
      this.#graceTimer = undefined;
      for (const viewer of [...this.#viewers.values()]) {
        if (!viewer.connected) this.#drop(viewer, 'daemon disconnected during the negotiation', false);
      }
      if (this.#viewers.size) this.#log.info({ viewers: this.#viewers.size }, 'publisher: signaling lost; connected viewers keep their media');
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

  /** Each connected viewer's bitrate controller (TWCC or receiver reports), target and estimate. */
  congestion(): Map<string, CongestionSnapshot> {
    return this.#bitrate?.snapshot() ?? new Map();
  }

  /** Viewers with a peer (negotiating or connected). */
  get viewers(): number {
    return this.#viewers.size;
  }

  /**
   * The video encoder's current target bitrate, kbit/s: the shared encoder's, or with an encoder per
   * viewer the lowest of theirs (undefined before the first viewer).
   */
  get videoBitrate(): number | undefined {
    const rates = this.#streamers.size
      ? [...this.#streamers.values()].map((s) => s.bitrate)
      : [...this.#viewers.values()].map((v) => v.peer.bitrate).filter((r): r is number => r !== undefined);
    return rates.length ? Math.min(...rates) : undefined;
  }

  /** The shared encoders' counters, summed over the codecs in use (undefined while none runs; warm: from the start). */
  get encoderStats(): { framesEncoded: number; subscribers: number; framesUnchanged: number } | undefined {
    if (this.#streamers.size === 0) return undefined;
    const sum = { framesEncoded: 0, subscribers: 0, framesUnchanged: 0 };
    for (const s of this.#streamers.values()) {
      const stats = s.stats;
      sum.framesEncoded += stats.framesEncoded;
      sum.subscribers += stats.subscribers;
      sum.framesUnchanged += stats.framesUnchanged;
    }
    return sum;
  }

  /**
   * The shared encoder of each codec in use, and how many viewers it feeds (its peers, connected or not);
   * the warm one is there with no viewer too.
   */
  get encoders(): Map<VideoCodec, { viewers: number; stats: Streamer['stats'] }> {
    const out = new Map<VideoCodec, { viewers: number; stats: Streamer['stats'] }>();
    for (const [codec, streamer] of this.#streamers) {
      const viewers = [...this.#viewers.values()].filter((v) => v.codec === codec).length;
      out.set(codec, { viewers, stats: streamer.stats });
    }
    return out;
  }

  /** The video codec each viewer receives (by viewer id). */
  get viewerCodecs(): Map<string, VideoCodec> {
    const out = new Map<string, VideoCodec>();
    for (const v of this.#viewers.values()) if (v.codec) out.set(v.id, v.codec);
    return out;
  }

  /** With `sfu`: the relay into Janus (its `feed` is what Janus's subscribers join). */
  get sfu(): JanusRelay | undefined {
    return this.#relay;
  }

  /** Closes every viewer's peer and leaves the session (and the Janus room). Idempotent; afterwards nothing keeps the process alive. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    clearTimeout(this.#graceTimer);
    this.#awaiting.clear();
    for (const viewer of [...this.#viewers.values()]) this.#drop(viewer, 'publisher closed', false);
    this.#bitrate?.close();
    this.#picture?.close();
    this.#closing = Promise.allSettled([this.client.close(), ...this.#peerCloses, this.#relay?.close()])
      .then(() => {
        // The warm encoder too: it outlives its viewers, not the publisher.
        const streamers = [...this.#streamers.values()];
        this.#streamers.clear();
        return Promise.allSettled(streamers.map((s) => s.close()));
      })
      .then(() => this.#remote?.close())
      .then(() => this.#pointer?.close());
    return this.#closing;
  }

  // Event handlers must never throw into the client's socket callbacks.
  #guard<A extends unknown[]>(event: string, handler: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      if (this.#closing) return;
      try {
        handler(...args);
      } catch (error) {
        this.#log.error({ event, err: errorMessage(error) }, 'publisher: handler failed');
        this.#emitError(error instanceof Error ? error : new Error(String(error)));
      }
    };
  }

  #emitError(error: Error): void {
    emitError(this, error, {
      source: 'publisher',
      onListenerThrow: (thrown) => this.#log.error({ err: errorMessage(thrown) }, 'publisher: an error listener threw'),
    });
  }

  // A throwing user listener must not break the state update that emitted it.
  #notify(emit: () => void): void {
    try {
      emit();
    } catch (error) {
      this.#log.error({ err: errorMessage(error) }, 'publisher: a listener threw');
    }
  }

  // After a rejoin with our id: each viewer kept through the outage has the grace to rejoin (peer-joined
  // with `resumed`); one that has not by then is closed unless its peer is still connected.
  #awaitViewers(): void {
    this.#awaiting.clear();
    for (const id of this.#viewers.keys()) this.#awaiting.add(id);
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    if (this.#awaiting.size === 0) return;
    const graceMs = this.#options.resumeGraceMs ?? DEFAULT_RESUME_GRACE_MS;
    this.#graceTimer = setTimeout(() => {
      this.#graceTimer = undefined;
      const late = [...this.#awaiting];
      this.#awaiting.clear();
      for (const id of late) {
        const viewer = this.#viewers.get(id);
        if (!viewer) continue;
        const state = viewer.peer.connectionState;
        if (state !== 'connected') {
          this.#drop(viewer, `did not rejoin within ${graceMs} ms (connection ${state})`, false);
          continue;
        }
        // webrtcbin may still say 'connected' to a browser that closed the tab: the viewer's RTCP says.
        void viewer.remoteAlive(LIVENESS_WINDOW_MS).then((alive) => {
          if (!this.#isCurrent(viewer)) return;
          if (alive) this.#log.info({ viewer: id }, 'publisher: viewer did not rejoin signaling, but its media is alive; kept');
          else this.#drop(viewer, `did not rejoin within ${graceMs} ms and sent no RTCP for ${LIVENESS_WINDOW_MS} ms`, false);
        });
      }
    }, graceMs);
    this.#graceTimer.unref();
  }

  #isCurrent(viewer: ViewerSession): boolean {
    return !this.#closing && this.#viewers.get(viewer.id) === viewer;
  }

  // The codecs we send, cheapest first: the installed encoders', or only the one video.codec names
  // (not installed: its Streamer's MissingPluginError says which package).
  #codecs(): VideoCodec[] {
    if (!this.#sendCodecs) {
      const chosen = this.#options.video?.codec;
      const installed = chosen ? [chosen] : installedVideoCodecs();
      this.#sendCodecs = installed.length ? installed : ['vp8'];
    }
    return this.#sendCodecs;
  }

  // No codec in common: the viewer hears why (and stops retrying); a warning here, not an error (the
  // viewer's browser is what lacks a decoder, nothing is wrong with the publisher).
  #noCommonCodec(id: string, viewerCodecs: string[], message?: string): void {
    const publisherCodecs = this.#codecs().map(codecName);
    const text = (message ?? noCommonCodecMessage(publisherCodecs, viewerCodecs)).slice(0, 1024);
    this.#log.warn({ viewer: id, publisherCodecs, viewerCodecs }, `publisher: ${text}`);
    this.client.send({ type: 'bye', to: id, reason: 'no-common-codec', codecs: { publisher: publisherCodecs, viewer: viewerCodecs.slice(0, 32) }, message: text });
  }

  // The viewer's answer refused our video m-line: it cannot decode the codec we offered (a viewer that
  // did not list its codecs in join, which got our first one).
  #rejected(viewer: ViewerSession): void {
    const offered = viewer.codec ? codecName(viewer.codec) : 'our video';
    this.#drop(viewer, `the viewer rejected ${offered}`, false);
    const publisherCodecs = this.#codecs().map(codecName);
    this.#noCommonCodec(
      viewer.id,
      [],
      `the viewer cannot decode ${offered} (its answer rejected the video) and did not list the codecs it decodes; ` +
        `the publisher encodes ${publisherCodecs.join(', ')}: a viewer that sends join.codecs gets one of those it decodes`,
    );
  }

  // A viewer that watches elsewhere (Janus) and controls through us: a peer with the input channel
  // only, no send pipeline and no encoder subscription. Without input there is nothing to carry.
  #dataOnlyViewer(id: string): void {
    if (!this.#remote) {
      const why = this.#options.receive ? 'a receiving publisher has no input channel' : 'this publisher takes no input (publish({input: false}) or a source other than x11)';
      this.#log.warn({ viewer: id }, `publisher: data-only viewer refused: ${why}`);
      this.client.send({ type: 'bye', to: id, message: `a data-only join carries input, but ${why}: join without media 'data' to watch` });
      return;
    }
    const viewer = this.#createViewer(id, undefined, true);
    if (!viewer) return;
    this.#remote.openInputChannel(viewer);
    this.#pointer?.add(viewer);
    viewer.offer();
  }

  #createViewer(id: string, codec: VideoCodec | undefined, dataOnly = false): ViewerSession | undefined {
    let peer: WebRtcPeer;
    try {
      peer = dataOnly ? this.#createDataPeer() : this.#createPeer(codec);
    } catch (error) {
      this.#log.error({ viewer: id, err: errorMessage(error) }, 'publisher: could not create a peer for the viewer');
      this.#emitError(error instanceof Error ? error : new Error(String(error)));
      this.client.send({ type: 'bye', to: id, message: `the publisher could not stream: ${errorMessage(error)}`.slice(0, 1024) });
      return undefined;
    }
    const timeout = this.#options.negotiationTimeoutMs ?? DEFAULT_NEGOTIATION_TIMEOUT_MS;
    const viewer = new ViewerSession(id, peer, this.#controlAllowed.has(id), this.#host, timeout, codec, dataOnly ? 'data' : 'all');
    this.#viewers.set(id, viewer);
    this.#log.debug({ viewer: id, codec, ...(dataOnly ? { media: 'data' } : {}) }, 'publisher: peer created');
    peer.on('connectionstatechange', (state) => {
      if (!this.#isCurrent(viewer)) return;
      this.#log.debug({ viewer: id, state }, 'publisher: connection state');
      if (state === 'connected' && viewer.markConnected()) {
        this.#log.info({ viewer: id }, 'publisher: viewer connected');
        // A data-only peer sends no RTP: nothing for the bitrate controller to adapt.
        if (!dataOnly) this.#bitrate?.add(id, peer, this.#options.shareEncoder !== false && codec ? this.#streamers.get(codec) : undefined);
        // Its media flows: whether it draws the pointer now decides the picture too (a data-only viewer watches elsewhere).
        if (!dataOnly) this.#picture?.watch(id);
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

  // A viewer's peer: fed by the shared encoder, or with an encoder (or a receiver) of its own.
  #createPeer(codec: VideoCodec | undefined): WebRtcPeer {
    const iceServers = [...this.#daemonIceServers, ...(this.#options.iceServers ?? [])];
    const sending = { ...this.#playoutDelay(), ...(this.#options.audio ? { audio: this.#options.audio } : {}) };
    const send = codec ?? this.#codecs()[0]!;
    if (!this.#options.receive && this.#options.shareEncoder !== false) {
      // One video encoder per codec for everyone; audio (cheap: ~1% of a core) is encoded per viewer.
      return this.#sharedStreamer(send).createPeer({ ...this.#options.peerOptions, iceServers, ...sending });
    }
    return new WebRtcPeer({
      ...this.#options.peerOptions,
      ...(this.#options.receive
        ? {
            video: { ...this.#options.receive, receive: true as const },
            ...(this.#options.receiveAudio ? { audio: { ...this.#options.receiveAudio, receive: true as const } } : {}),
          }
        : { source: this.#options.source!, video: this.#videoOptions(send), ...sending }),
      iceServers,
    });
  }

  // A data-only viewer's peer: no source, no encoder, no audio; its offer is one m=application line.
  #createDataPeer(): WebRtcPeer {
    const { audio: _audio, playoutDelay: _delay, ...transport } = this.#options.peerOptions ?? {};
    return new WebRtcPeer({ ...transport, iceServers: [...this.#daemonIceServers, ...(this.#options.iceServers ?? [])] });
  }

  // Created with the codec's first viewer, closed with its last (#drop); its errors are the publisher's.
  #sharedStreamer(codec: VideoCodec): Streamer {
    let streamer = this.#streamers.get(codec);
    if (!streamer) {
      const created = new Streamer({ source: this.#options.source!, video: this.#videoOptions(codec) });
      streamer = created;
      this.#streamers.set(codec, created);
      this.#log.info({ codec }, 'publisher: shared encoder started');
      created.on('error', (error) => {
        if (this.#streamers.get(codec) === created && !this.#closing) {
          // A bus ERROR stops the encoder's pipeline for good: its viewers are told why (bye.message)
          // and let go, and a viewer joining later gets a fresh encoder (which fails with a clear
          // error while the cause, e.g. a lost display, is still there).
          this.#streamers.delete(codec);
          this.#bitrate?.forget(created);
          const reason = error instanceof XDisplayLostError ? 'the captured X display was lost' : `the shared ${codec} encoder failed: ${errorMessage(error)}`;
          for (const viewer of [...this.#viewers.values()]) if (viewer.codec === codec) this.#drop(viewer, reason, true);
          if (codec === this.#relayCodec) this.#relay?.republish(reason); // from a fresh encoder
          this.#track(created.close().catch(() => {}));
        }
        this.#emitError(error);
      });
      created.on('warning', (warning) => this.#log.warn({ codec, err: warning.message }, 'publisher: encoder warning'));
      if (this.#picture && !this.#picture.shown) this.#captureShowsPointer(created, false);
    }
    return streamer;
  }

  // pointer 'auto': the picture gains or loses the pointer. The capture changes first (its next frame),
  // then the drawing viewers hear it; a capture that cannot change keeps the pointer, and says so.
  #pointerInPicture(shown: boolean): void {
    let inPicture = shown;
    for (const streamer of this.#streamers.values()) if (!this.#captureShowsPointer(streamer, shown)) inPicture = true;
    this.#log.info({ inPicture }, shown ? 'publisher: pointer drawn into the picture (a viewer that cannot draw it watches)' : inPicture ? 'publisher: every viewer draws the pointer, but the capture keeps it' : 'publisher: pointer out of the picture (every viewer draws it)');
    this.#pointer?.picture(inPicture);
  }

  // Whether the capture now draws the pointer as asked (false: asked to take it out, it cannot).
  #captureShowsPointer(streamer: Streamer, on: boolean): boolean {
    const native = streamer.native;
    // An addon built before setShowPointer has none (the check keeps a stale build streaming).
    if (typeof native.setShowPointer === 'function' && native.setShowPointer(on)) return true;
    if (!on && !this.#pointerFixed.has(streamer)) {
      this.#pointerFixed.add(streamer);
      this.#log.warn({ codec: streamer.codec }, "publisher: this capture cannot take the pointer out while playing (its show-pointer is fixed at start, or the addon predates setShowPointer): the pointer stays in the picture and drawing viewers are told so");
    }
    return on; // it kept the pointer it started with: in the picture
  }

  #playoutDelay(): { playoutDelay?: PlayoutDelay } {
    const chosen = this.#options.playoutDelay ?? this.#options.peerOptions?.playoutDelay;
    if (chosen === false) return {};
    if (chosen) return { playoutDelay: chosen };
    return this.#options.audio ? {} : { playoutDelay: { minMs: 0, maxMs: 0 } };
  }

  #videoOptions(codec: VideoCodec): SendVideoOptions {
    const video = { ...this.#options.video, codec };
    if (!this.#options.resize || !this.#takesInput()) return video;
    return { scale: 'fit', width: 3840, height: 2160, ...video };
  }

  // Input (and with it resize) from viewers: on for x11 sources unless options.input says otherwise.
  #takesInput(): boolean {
    return !this.#options.receive && (this.#options.input ?? this.#options.source?.kind === 'x11');
  }

  #fail(viewer: ViewerSession, what: string, error: unknown): void {
    const reason = `${what} failed: ${errorMessage(error)}`;
    this.#log.error({ viewer: viewer.id, err: errorMessage(error) }, `publisher: ${what} failed; dropping the viewer`);
    this.#drop(viewer, reason, true);
    this.#emitError(new Error(`viewer ${viewer.id}: ${reason}`, { cause: error }));
  }

  // Closes and forgets a viewer's peer. `bye` tells the viewer (through the daemon) to give up on
  // this connection; not needed when the viewer itself left or the daemon is gone.
  #drop(viewer: ViewerSession, reason: string, bye: boolean): void {
    if (this.#viewers.get(viewer.id) !== viewer) return;
    this.#viewers.delete(viewer.id);
    this.#bitrate?.remove(viewer.id);
    this.#remote?.forget(viewer.id);
    this.#pointer?.forget(viewer.id);
    this.#picture?.forget(viewer.id);
    const closing = viewer.close();
    this.#track(closing);
    // The codec's last viewer: its shared encoder stops once that peer has closed; the warm one idles
    // (its gate shuts with its last subscriber) at the configured bitrate, ready for the next viewer.
    const streamer = viewer.codec ? this.#streamers.get(viewer.codec) : undefined;
    if (streamer && ![...this.#viewers.values()].some((v) => v.codec === viewer.codec)) {
      this.#bitrate?.forget(streamer);
      if (this.#relay && viewer.codec === this.#relayCodec) {
        // Janus still takes this encoder's stream: it stays at the configured bitrate.
        if (this.#bitrate) this.#track(closing.then(() => void streamer.setBitrate(this.#options.video?.bitrate ?? 2000)).catch(() => {}));
      } else if (this.#warm && viewer.codec === this.#codecs()[0]) {
        if (this.#bitrate) this.#track(closing.then(() => void streamer.setBitrate(this.#options.video?.bitrate ?? 2000)).catch(() => {}));
        this.#log.info({ codec: viewer.codec }, 'publisher: shared encoder idle (warm) after its last viewer');
      } else {
        this.#streamers.delete(viewer.codec!);
        this.#log.info({ codec: viewer.codec }, 'publisher: shared encoder closed with its last viewer');
        this.#track(closing.then(() => streamer.close()).catch(() => {}));
      }
    }
    if (bye) this.client.send({ type: 'bye', to: viewer.id, message: reason.slice(0, 1024) });
    this.#log.info({ viewer: viewer.id, reason }, 'publisher: viewer removed');
    this.#notify(() => this.emit('viewer-left', viewer.id, reason));
  }

  // A peer or encoder closing: close() waits for it.
  #track(closing: Promise<void>): void {
    this.#peerCloses.add(closing);
    void closing.finally(() => this.#peerCloses.delete(closing));
  }
}

/**
 * Checks `pointer` and resolves its default ('auto' where it can work, else 'video'); for 'channel' takes
 * the pointer out of the capture (the page draws it): the options the publisher runs with.
 */
function withPointerMode(options: PublishOptions): PublishOptions {
  const mode = options.pointer;
  const source = !options.receive && options.source?.kind === 'x11' ? options.source : undefined;
  if (mode === undefined) {
    // The default: 'auto' where it can work; a source that says showPointer: false keeps its word.
    const auto = source !== undefined && options.input !== false && options.shareEncoder !== false && source.showPointer !== false;
    return { ...options, pointer: auto ? 'auto' : 'video' };
  }
  if (mode === 'video') return options;
  if (mode !== 'channel' && mode !== 'auto') throw new InvalidArgumentError(`publish(): pointer must be 'auto', 'video' or 'channel' (got ${JSON.stringify(mode)})`);
  if (!source) throw new InvalidArgumentError(`publish(): pointer: '${mode}' needs an x11 source (the pointer of an X display)`);
  if (options.input === false) throw new InvalidArgumentError(`publish(): pointer: '${mode}' travels on the input channel: leave input on, or use pointer: 'video'`);
  if (mode === 'channel') return { ...options, source: { ...source, showPointer: false } };
  if (options.shareEncoder === false) throw new InvalidArgumentError("publish(): pointer: 'auto' switches the shared capture's pointer: with shareEncoder: false use 'video' or 'channel'");
  if (source.showPointer === false) throw new InvalidArgumentError("publish(): pointer: 'auto' puts the pointer into the picture when a viewer needs it, but source.showPointer is false: drop showPointer, or use pointer: 'channel'");
  return options;
}

/**
 * Streams `source` to every viewer of `session`, through the signaling daemon at `url`. Returns at
 * once; connecting, reconnecting and every viewer's negotiation happen in the background.
 */
export function publish(options: PublishOptions): Publisher {
  return new Publisher(options);
}

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
