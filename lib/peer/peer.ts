// WebRtcPeer: an RTCPeerConnection-shaped peer over one webrtcbin. Validation, defaults and wording
// live here; the native layer only runs GStreamer.
import { EventEmitter } from 'node:events';
import { loadBinding, type NativeEncoder, type NativeEvent, type NativePeer } from '../native/binding.js';
import { FrameHandOff } from './frames.js';
import { buildNativeOptions } from './options.js';
import { statsReport, type StatsReport } from './stats.js';
import { DataChannel, channelOptions, sctpTransport, type DataChannelInit, type SctpTransport } from './data-channel.js';
import {
  GStreamerError,
  InvalidArgumentError,
  InvalidStateError,
  OperationError,
  busError,
  fromNative,
} from '../errors.js';
import { OPUS_PAYLOAD_TYPE, PAYLOAD_TYPES, captureDisplay, opusPreferences, sendPreferencesFor } from '../media/send.js';
import { receiveCapsForOffer } from '../media/receive.js';
import { matchOfferedCodec, offeredCodecs, offeredVideoCodecs } from '../media/offer-match.js';
import { ABS_CAPTURE_TIME_ID, absCaptureTimeId, withAbsCaptureTime } from '../media/abs-capture-time.js';
import { acceptedPlayoutDelayId, checkPlayoutDelay, PLAYOUT_DELAY_ID, playoutDelayCapsField, playoutDelayFor } from '../media/playout-delay.js';
import { TWCC_ID, twccCapsField, twccExtmapId } from '../media/twcc.js';
import { midsOf, normalizeCandidate, sendingVideoNamesSsrc, validateDescription } from '../media/sdp.js';
import { emitError } from '../util/emit.js';
import { wholeNumber } from '../util/checks.js';
import type {
  PlayoutDelay,
  AudioChunk,
  VideoCodec,
  Frame,
  IceCandidate,
  RTCIceCandidateInit,
  RTCIceConnectionState,
  RTCIceGatheringState,
  RTCPeerConnectionState,
  RTCSessionDescription,
  RTCSessionDescriptionInit,
  RTCSignalingState,
  TrackInfo,
  WebRtcPeerOptions,
} from '../types.js';

export interface WebRtcPeerEvents {
  /** A local candidate (the signaling protocol's shape), then null when gathering is complete. */
  icecandidate: [IceCandidate | null];
  negotiationneeded: [];
  connectionstatechange: [RTCPeerConnectionState];
  iceconnectionstatechange: [RTCIceConnectionState];
  icegatheringstatechange: [RTCIceGatheringState];
  signalingstatechange: [RTCSignalingState];
  track: [TrackInfo];
  /** TWCC feedback on the video we send: per packet [seq, sent ms, arrived ms (NaN: lost), payload bytes]. */
  twcc: [Float64Array];
  frame: [Frame];
  audio: [AudioChunk];
  datachannel: [DataChannel];
  /** A bus warning, or a remote candidate that was dropped (InvalidArgumentError); the peer carries on. */
  warning: [GStreamerError | InvalidArgumentError];
  eos: [];
  /** A bus error (an XDisplayLostError when the captured X server went away): the pipeline has stopped. */
  error: [GStreamerError];
}

/**
 * Remote candidates held while the remote description is missing. A browser gathers a handful per
 * network interface; beyond this a peer is flooding us, and later ones are dropped (with one warning).
 */
export const MAX_EARLY_CANDIDATES = 100;

const STATE_EVENTS = {
  'connection-state': 'connectionstatechange',
  'ice-connection-state': 'iceconnectionstatechange',
  'ice-gathering-state': 'icegatheringstatechange',
  'signaling-state': 'signalingstatechange',
} as const;

type StateName = keyof typeof STATE_EVENTS;

export class WebRtcPeer extends EventEmitter<WebRtcPeerEvents> {
  #native: NativePeer;
  #closed = false;
  #closing: Promise<void> | undefined;
  #states: Record<StateName, string> = {
    'connection-state': 'new',
    'ice-connection-state': 'new',
    'ice-gathering-state': 'new',
    'signaling-state': 'stable',
  };
  #pendingCandidates: RTCIceCandidateInit[] = [];
  #earlyDropped = 0;
  #remoteApplied = false;
  #rejectors = new Set<(error: Error) => void>();
  #channels = new Map<number, DataChannel>();
  #frames: FrameHandOff;
  #sendCaps: string | undefined;
  readonly #playoutDelay: PlayoutDelay | undefined;
  #sendCapsWaiters: (() => void)[] = [];
  #sends: boolean;
  #sendCodec: VideoCodec | undefined;
  #payloadType = 0;
  #sendsAudio: boolean;
  #audioPayloadType = OPUS_PAYLOAD_TYPE;

  constructor(options: WebRtcPeerOptions = {}) {
    super();
    const native = buildNativeOptions(options);
    const shared = options.sharedEncoder;
    this.#playoutDelay = options.playoutDelay === undefined ? undefined : checkPlayoutDelay(options.playoutDelay);
    this.#sends = native.sendDescription !== undefined;
    this.#sendsAudio = native.sendAudioDescription !== undefined;
    if (this.#sends) {
      this.#sendCodec = shared ? shared.codec : options.video?.receive ? undefined : (options.video?.codec ?? 'vp8');
      this.#payloadType = PAYLOAD_TYPES[this.#sendCodec!];
    }
    const binding = loadBinding();
    try {
      this.#native = new binding.NativePeer(native);
    } catch (error) {
      throw fromNative(error, 'WebRtcPeer', { display: captureDisplay(options.source) });
    }
    this.#native.onevent = (event) => this.#onNativeEvent(event);
    this.#frames = new FrameHandOff(
      (listening, waiting) => {
        if (!this.#closed) this.#native.wantFrames(listening, waiting);
      },
      () => this.listenerCount('frame') > 0,
    );
    // Frames cross from the native side only while someone wants them ('frame' listeners included).
    const plain = this as EventEmitter;
    plain.on('newListener', (name: string | symbol) => name === 'frame' && this.#frames.update(true));
    plain.on('removeListener', (name: string | symbol) => name === 'frame' && this.#frames.update());
    this.#encoder = shared?.native;
  }
  /** The shared encoder's native object when a Streamer feeds this peer (it holds the bitrate). */
  #encoder: NativeEncoder | undefined;

  /**
   * Changes the video encoder's target bitrate while streaming (kbit/s, whole, 50–100000) and returns
   * what the encoder now targets. A peer created by a Streamer shares its encoder: this then changes
   * the bitrate every viewer of that streamer gets (Streamer.setBitrate does the same). Throws on a
   * peer that encodes no video.
   */
  setBitrate(kbps: number): number {
    this.#assertOpen('setBitrate');
    wholeNumber(kbps, 'setBitrate: kbps', { min: 50, max: 100_000 });
    const now = (this.#encoder ?? this.#native).setBitrate(kbps);
    if (now < 0) throw new InvalidStateError('setBitrate: this peer encodes no video');
    return now;
  }

  /** The video encoder's current target bitrate in kbit/s (undefined when this peer encodes no video). */
  get bitrate(): number | undefined {
    if (this.#closed) return undefined;
    const now = (this.#encoder ?? this.#native).getBitrate();
    return now < 0 ? undefined : now;
  }

  // ---- W3C-shaped state ----
  get connectionState(): RTCPeerConnectionState {
    return (this.#closed ? 'closed' : this.#states['connection-state']) as RTCPeerConnectionState;
  }
  get iceConnectionState(): RTCIceConnectionState {
    return (this.#closed ? 'closed' : this.#states['ice-connection-state']) as RTCIceConnectionState;
  }
  get iceGatheringState(): RTCIceGatheringState {
    return this.#states['ice-gathering-state'] as RTCIceGatheringState;
  }
  get signalingState(): RTCSignalingState {
    return (this.#closed ? 'closed' : this.#states['signaling-state']) as RTCSignalingState;
  }
  get localDescription(): RTCSessionDescription | null {
    return this.#description('local-description');
  }
  get remoteDescription(): RTCSessionDescription | null {
    return this.#description('remote-description');
  }
  get currentLocalDescription(): RTCSessionDescription | null {
    return this.#description('current-local-description');
  }
  get currentRemoteDescription(): RTCSessionDescription | null {
    return this.#description('current-remote-description');
  }
  /**
   * Decoded frames as an async iterator with latest-frame semantics: a slow consumer gets the newest
   * frame, older ones are dropped (`frame.dropped` counts them). Ends when the peer closes. Frames
   * that reach 'frame' listeners while the iterator is busy elsewhere count as dropped for it.
   */
  frames(): AsyncIterableIterator<Frame> {
    return this.#frames.iterate();
  }

  /** Decoded frames received so far (receiving peers). */
  get framesDecoded(): number {
    return this.#native.framesDecoded();
  }
  get closed(): boolean {
    return this.#closed;
  }

  #description(property: string): RTCSessionDescription | null {
    if (this.#closed) return null;
    const sdp = this.#native.getDescription(property);
    if (!sdp) return null;
    // webrtcbin keeps the type inside the description; deduce it from which side and state.
    const local = property.includes('local');
    const signaling = this.#states['signaling-state'];
    let type: RTCSessionDescriptionInit['type'];
    if (property.startsWith('current') || signaling === 'stable') {
      type = this.#offerer === local ? 'offer' : 'answer';
    } else {
      type = (local ? signaling === 'have-local-offer' : signaling === 'have-remote-offer') ? 'offer' : 'answer';
    }
    return { type, sdp };
  }
  #offerer: boolean | undefined;

  // ---- negotiation ----
  async createOffer(): Promise<RTCSessionDescriptionInit & { sdp: string }> {
    await this.#mediaCaps('createOffer');
    const sdp = await this.#withSendCaps('createOffer', () => this.#native.createOffer());
    if (!sdp || !/^m=/m.test(sdp)) {
      throw new OperationError('createOffer', 'webrtcbin produced an offer with no media; give the peer a source, a receive transceiver or a data channel first');
    }
    return { type: 'offer', sdp };
  }

  async createAnswer(): Promise<RTCSessionDescriptionInit & { sdp: string }> {
    if (this.signalingState !== 'have-remote-offer' && !this.#closed) {
      throw new InvalidStateError(`createAnswer needs a remote offer first (signalingState is ${this.signalingState})`);
    }
    await this.#mediaCaps('createAnswer');
    const sdp = await this.#withSendCaps('createAnswer', () => this.#native.createAnswer());
    return { type: 'answer', sdp };
  }

  // `send-caps` is reported once webrtcbin's sink pad holds the caps (src-native/peer/peer_core.cc), so a
  // description made after it names the SSRC (and H.264's profile-level-id). It once came a moment
  // before, and about 1 offer in 16 on a loaded machine had no a=ssrc: Janus then dropped all of a
  // relay's RTP as "Unknown SSRC". That must not come back silently, so a description without it fails.
  async #withSendCaps(operation: string, make: () => Promise<string>): Promise<string> {
    const sdp = await this.#run(operation, make);
    if (this.#sends && !sendingVideoNamesSsrc(sdp)) {
      throw new OperationError(operation, 'webrtcbin made a description whose sending video has no a=ssrc although it held the send caps (a bug: please report it with GST_DEBUG=webrtcbin:6)');
    }
    return sdp;
  }

  // The first encoded caps fix details the SDP must carry (H.264 profile-level-id); a live source
  // delivers them within a frame or two of construction.
  #mediaCaps(operation: string, timeoutMs = 10_000): Promise<void> {
    this.#assertOpen(operation);
    // Opus caps are fixed by our own preferences: audio alone need not wait for the first buffer.
    if (!this.#sends && this.#sendsAudio) this.#native.releaseMedia();
    if (!this.#sends || this.#sendCaps !== undefined) return Promise.resolve();
    // Every codec waits: before its caps reach webrtcbin the offer has no a=ssrc lines (no RTX
    // ssrc-group for the browser) and H.264 no profile-level-id. (Not waiting also raced the audio's
    // caps: "OPUS/48000" without channels, which Chromium refused.)
    this.#native.releaseMedia();
    return this.#run(operation, () =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new OperationError(operation, `the source produced no media within ${timeoutMs / 1000} s; check the source (peer.on('error') tells why)`));
        }, timeoutMs);
        timer.unref(); // the open peer keeps the process alive; a closed one must not, via this timer
        this.#sendCapsWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
    );
  }

  // A remote offer picks the payload type. The encoded stream is held before the payloader until
  // then, so the payloader starts with the offered type and webrtcbin (1.22 pairs a transceiver with
  // an m-line only on an exact caps match) sees caps that match the offer.
  async #followOfferedPayload(sdp: string, codec: VideoCodec): Promise<string> {
    const match = matchOfferedCodec(sdp, codec, PAYLOAD_TYPES[codec]);
    if (!match) {
      const offered = [...new Set(offeredVideoCodecs(sdp).map((c) => c.name))].join(', ') || 'no video';
      throw new OperationError('setRemoteDescription', `the remote offer has no ${codec.toUpperCase()} video this peer can send (it offers: ${offered}); choose one of those with video.codec`);
    }
    const ptChanges = this.#payloadType !== match.payloadType;
    // webrtcbin 1.22 answers with the extmaps of our preferences, whatever the offer has: transport-cc,
    // abs-capture-time and playout-delay go in only when offered, under the offer's ids (an answer may not
    // add an extension, nor reuse an id the offer gave another: Chromium refuses the answer).
    const twccId = twccExtmapId(sdp);
    if (ptChanges || twccId !== TWCC_ID || absCaptureTimeId(sdp) !== ABS_CAPTURE_TIME_ID) {
      let preferences = this.#offeredExtensions(sdp, sendPreferencesFor(codec, match.payloadType)) + (twccId === undefined ? '' : twccCapsField(twccId));
      if (this.#playoutDelay && acceptedPlayoutDelayId(sdp) === PLAYOUT_DELAY_ID) preferences += playoutDelayCapsField();
      if (!this.#native.setSendPayloadType(match.payloadType, preferences) && ptChanges) {
        throw new OperationError('setRemoteDescription', `the stream already flows with payload type ${this.#payloadType}; the offer wants ${match.payloadType} (renegotiation cannot change it)`);
      }
      this.#payloadType = match.payloadType;
    }
    await this.#mediaCaps('setRemoteDescription');
    return match.sdp;
  }

  // The same for Opus: the offer's number for it is used (an offer without audio leaves ours unsent).
  #followOfferedAudio(sdp: string): void {
    const opus = offeredCodecs(sdp, 'audio').find((c) => c.name === 'OPUS');
    if (!opus || opus.payloadType === this.#audioPayloadType) return;
    if (!this.#native.setSendPayloadType(opus.payloadType, opusPreferences(opus.payloadType), 'audio')) {
      throw new OperationError('setRemoteDescription', `the audio already flows with payload type ${this.#audioPayloadType}; the offer wants ${opus.payloadType} (renegotiation cannot change it)`);
    }
    this.#audioPayloadType = opus.payloadType;
  }

  /** With no argument: creates the offer or answer the signaling state calls for and applies it. */
  async setLocalDescription(description?: RTCSessionDescriptionInit): Promise<void> {
    this.#assertOpen('setLocalDescription');
    let desc = description;
    if (!desc || desc.sdp === undefined) {
      const wanted = desc?.type ?? (this.signalingState === 'have-remote-offer' ? 'answer' : 'offer');
      desc = wanted === 'answer' ? await this.createAnswer() : await this.createOffer();
    }
    const { type, sdp } = validateDescription(desc, 'setLocalDescription');
    if (type === 'offer') this.#offerer = true;
    await this.#run('setLocalDescription', () => this.#native.setLocalDescription(type, sdp));
    if (type === 'answer') this.#applyPlayoutDelay(sdp, this.remoteDescription?.sdp ?? '');
    if (type === 'answer') this.#applyAbsCaptureTime(sdp);
  }

  // Only once an answer kept the extension (a browser drops extmaps it does not support), with the
  // values the viewer's browser renders (known from its SDP: the answer, or the offer we answered).
  #applyPlayoutDelay(answerSdp: string, remoteSdp: string): void {
    if (!this.#playoutDelay || !this.#sends) return;
    const id = acceptedPlayoutDelayId(answerSdp);
    const delay = playoutDelayFor(this.#playoutDelay, remoteSdp);
    if (id !== undefined) this.#native.enablePlayoutDelay(id, delay.minMs, delay.maxMs);
  }

  // Preferences that keep the extensions we want from an offer, under the offer's ids (our answer
  // then lists them).
  #offeredExtensions(offerSdp: string, caps: string): string {
    const id = absCaptureTimeId(offerSdp);
    return id === undefined ? caps : withAbsCaptureTime(caps, id);
  }

  // abs-capture-time, only once an answer (ours or theirs) kept it.
  #applyAbsCaptureTime(answerSdp: string): void {
    const id = absCaptureTimeId(answerSdp);
    if (id !== undefined) this.#native.enableAbsCaptureTime(id);
  }

  async setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
    this.#assertOpen('setRemoteDescription');
    const { type, sdp } = validateDescription(description, 'setRemoteDescription');
    if ((type === 'answer' || type === 'pranswer') && this.signalingState === 'have-remote-pranswer') {
      // JSEP allows it, webrtcbin 1.22 does not ("Not in the correct state"): say so in our words.
      throw new InvalidStateError(`setRemoteDescription(${type}) after a remote pranswer is not supported by webrtcbin 1.22; send the final answer only`);
    }
    if ((type === 'answer' || type === 'pranswer') && this.signalingState !== 'have-local-offer') {
      throw new InvalidStateError(`setRemoteDescription(${type}) needs a local offer first (signalingState is ${this.signalingState})`);
    }
    let remoteSdp = sdp;
    if (type === 'offer') {
      this.#offerer = false;
      if (this.#sendsAudio) this.#followOfferedAudio(sdp);
      if (this.#sendCodec) remoteSdp = await this.#followOfferedPayload(sdp, this.#sendCodec);
      else if (!this.#sends) {
        // A receiving peer takes whatever payload types the offer uses for the codecs it decodes.
        const caps = receiveCapsForOffer(offeredVideoCodecs(sdp));
        if (caps) this.#native.setReceivePreferences(this.#offeredExtensions(sdp, caps));
      }
    }
    await this.#run('setRemoteDescription', () => this.#native.setRemoteDescription(type, remoteSdp));
    this.#remoteApplied = true;
    if (type === 'answer') this.#applyPlayoutDelay(remoteSdp, remoteSdp);
    if (type === 'answer') this.#applyAbsCaptureTime(remoteSdp);
    // Candidates that arrived before the description are applied now, in arrival order. One refused
    // (a mid or m-line the description does not have, a candidate the native guard refuses) is dropped
    // with a warning: the others may still connect.
    const early = this.#pendingCandidates.splice(0);
    this.#earlyDropped = 0;
    for (const candidate of early) {
      const refused = this.#applyCandidate(candidate);
      if (refused) this.emit('warning', refused);
    }
  }

  /** @internal Remote candidates buffered until the remote description (at most MAX_EARLY_CANDIDATES). */
  get earlyCandidateCount(): number {
    return this.#pendingCandidates.length;
  }

  /**
   * Adds a remote ICE candidate. `null`, `undefined` or an empty candidate means end-of-candidates.
   * Candidates given before the remote description are buffered (at most MAX_EARLY_CANDIDATES; later
   * ones are dropped with a `warning`) and applied right after it. A candidate for a mid or m-line the
   * remote description does not have, or one libnice cannot take safely (component outside 1–256, tcp
   * without tcptype, an address that is neither an IP nor an mDNS .local name), rejects with
   * InvalidArgumentError; the peer is unharmed.
   */
  async addIceCandidate(candidate?: RTCIceCandidateInit | null): Promise<void> {
    this.#assertOpen('addIceCandidate');
    const init: RTCIceCandidateInit = candidate ?? { candidate: '' };
    if (typeof init !== 'object') throw new InvalidArgumentError('addIceCandidate expects {candidate, sdpMid, sdpMLineIndex} or null');
    const text = init.candidate ?? '';
    if (typeof text !== 'string') throw new InvalidArgumentError('addIceCandidate: candidate must be a string');
    const normalized: RTCIceCandidateInit = { ...init, candidate: text.trim() === '' ? '' : normalizeCandidate(text) };
    if (normalized.sdpMLineIndex != null) wholeNumber(normalized.sdpMLineIndex, 'addIceCandidate: sdpMLineIndex', { min: 0 });
    if (!this.#remoteApplied) {
      if (this.#pendingCandidates.length < MAX_EARLY_CANDIDATES) {
        this.#pendingCandidates.push(normalized);
      } else if (this.#earlyDropped++ === 0) {
        this.emit(
          'warning',
          new InvalidArgumentError(
            `addIceCandidate: ${MAX_EARLY_CANDIDATES} candidates already wait for the remote description; later ones are dropped until it is set`,
          ),
        );
      }
      return;
    }
    const refused = this.#applyCandidate(normalized);
    if (refused) throw refused;
  }

  // The error when the candidate is refused: a mid the remote description lacks, or what the native
  // guard refuses (an m-line index it lacks, a candidate libnice would choke on); nothing is applied then.
  #applyCandidate(init: RTCIceCandidateInit): InvalidArgumentError | undefined {
    let mline = init.sdpMLineIndex ?? undefined;
    if (mline === undefined && init.sdpMid != null) {
      const index = midsOf(this.#native.getDescription('remote-description')).indexOf(init.sdpMid);
      if (index < 0) return new InvalidArgumentError(`addIceCandidate: no m-line has mid ${JSON.stringify(init.sdpMid)}; candidate ignored`);
      mline = index;
    }
    try {
      this.#native.addIceCandidate(mline ?? 0, init.candidate ?? '');
    } catch (error) {
      const typed = fromNative(error, 'addIceCandidate');
      if (typed instanceof InvalidArgumentError) return typed;
      throw typed;
    }
    return undefined;
  }

  async getStats(): Promise<StatsReport> {
    const json = await this.#run('getStats', () => this.#native.getStats());
    return statsReport(json);
  }

  /** The SCTP transport data channels run over (as RTCPeerConnection.sctp); null until negotiated. */
  get sctp(): SctpTransport | null {
    return this.#closed ? null : sctpTransport(this.#native);
  }

  createDataChannel(label: string, init: DataChannelInit = {}): DataChannel {
    this.#assertOpen('createDataChannel');
    const key = this.#native.createDataChannel(label, channelOptions(label, init));
    if (!key) throw new OperationError('createDataChannel', 'webrtcbin refused to create the channel (is usrsctp/sctpenc installed? is a negotiated id already in use?)');
    const channel = new DataChannel(this.#native, key);
    this.#channels.set(key, channel);
    return channel;
  }

  // ---- lifetime ----
  /** Lets the process exit while this peer is open (like net.Socket#unref). */
  unref(): this {
    if (!this.#closed) this.#native.unref();
    return this;
  }
  ref(): this {
    if (!this.#closed) this.#native.ref();
    return this;
  }

  /**
   * Closes the peer. Idempotent. State becomes 'closed' at once and pending operations reject with
   * InvalidStateError; the returned promise resolves when the pipeline has been released (that
   * work runs off the JS thread).
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    const error = new InvalidStateError('the peer was closed');
    for (const reject of this.#rejectors) reject(error);
    this.#rejectors.clear();
    for (const channel of this.#channels.values()) channel._detach();
    this.#channels.clear();
    this.#pendingCandidates = [];
    this.#frames.end();
    this.#native.ref(); // an unref()ed peer being closed still finishes its teardown before exit
    this.#closing = this.#native.close();
    return this.#closing;
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw new InvalidStateError(`${operation}: the peer is closed`);
  }

  // Runs a native operation; rejects at once if the peer is closed meanwhile.
  #run<T>(operation: string, start: () => Promise<T>): Promise<T> {
    this.#assertOpen(operation);
    return new Promise<T>((resolve, reject) => {
      const rejector = (error: Error) => reject(error);
      this.#rejectors.add(rejector);
      let pending: Promise<T>;
      try {
        pending = start();
      } catch (error) {
        this.#rejectors.delete(rejector);
        reject(fromNative(error, operation));
        return;
      }
      pending.then(
        (value) => {
          this.#rejectors.delete(rejector);
          resolve(value);
        },
        (error: unknown) => {
          this.#rejectors.delete(rejector);
          reject(fromNative(error, operation));
        },
      );
    });
  }

  #emitError(error: Error): void {
    emitError(this, error, { source: 'peer' });
  }

  #onNativeEvent(event: NativeEvent): void {
    if (this.#closed) return;
    switch (event.type) {
      case 'negotiation-needed':
        this.emit('negotiationneeded');
        break;
      case 'ice-candidate': {
        if (event.candidate === '') break; // webrtcbin's end-of-candidates; null is emitted on 'complete'
        const mids = midsOf(this.#native.getDescription('local-description'));
        this.emit('icecandidate', {
          candidate: event.candidate,
          sdpMid: mids[event.mline] ?? String(event.mline),
          sdpMLineIndex: event.mline,
        });
        break;
      }
      case 'state': {
        const name = event.name as StateName;
        if (!(name in STATE_EVENTS) || this.#states[name] === event.value) break;
        this.#states[name] = event.value;
        this.emit(STATE_EVENTS[name], event.value as never);
        // webrtcbin signals no null candidate: the W3C end-of-gathering marker is emitted here.
        if (name === 'ice-gathering-state' && event.value === 'complete') this.emit('icecandidate', null);
        break;
      }
      case 'bus-error':
        this.#emitError(busError(event));
        break;
      case 'bus-warning':
        this.emit('warning', new GStreamerError(event));
        break;
      case 'eos':
        this.emit('eos');
        break;
      case 'latency':
        this.#native.recalculateLatency();
        break;
      case 'audio':
        this.emit('audio', {
          data: event.data,
          format: event.format as AudioChunk['format'],
          sampleRate: event.sampleRate,
          channels: event.channels,
          timestamp: event.pts < 0 ? -1 : event.pts / 1e6,
        });
        break;
      case 'send-caps':
        this.#sendCaps = event.caps;
        for (const wake of this.#sendCapsWaiters.splice(0)) wake();
        break;
      case 'twcc':
        this.emit('twcc', event.packets);
        break;
      case 'track':
        this.emit('track', { kind: event.kind, encoding: event.encoding });
        break;
      case 'frame': {
        const frame: Frame = {
          data: event.data,
          width: event.width,
          height: event.height,
          format: event.format as Frame['format'],
          stride: event.stride,
          timestamp: event.pts < 0 ? -1 : event.pts / 1e6,
          dropped: event.dropped,
          ...(event.keyframe !== undefined ? { keyframe: event.keyframe } : {}),
          ...(event.captureTime !== undefined ? { captureTime: event.captureTime } : {}),
        };
        this.#frames.deliver(frame);
        this.emit('frame', frame);
        this.#frames.update();
        break;
      }
      case 'data-channel': {
        const channel = new DataChannel(this.#native, event.channel, event.readyState as DataChannel['readyState']);
        this.#channels.set(event.channel, channel);
        this.emit('datachannel', channel);
        break;
      }
      case 'channel-open':
      case 'channel-closing':
      case 'channel-close':
      case 'channel-error':
      case 'channel-message':
      case 'channel-buffered-amount-low':
        this.#channels.get(event.channel)?._handle(event);
        break;
    }
  }
}
