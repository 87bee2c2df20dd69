// view(): an agent's eyes on a VM session. A RemoteView joins the session as a viewer through the
// signaling daemon and answers the publisher's offer in the order that works (docs/api.md,
// "RemoteView"): join → joined → the publisher's offer → a WebRtcPeer built then, from the daemon's ICE
// servers → remote description → answer → the remote candidates that came early. It decodes the VM's
// screen at its own resolution (width/height), hands frames out as events or a latest-frame iterator
// (in the `video` format and size asked for), takes screenshots no older than the call (and, right after
// joining, once the publisher has sharpened its first keyframe), and waits for
// the screen to change or to settle. It reconnects like the page: a new offer (the publisher
// restarted) replaces the peer; a failed peer or a publisher's bye rejoins for a fresh offer;
// signaling itself reconnects with backoff. Input (move, click, type, key…) goes through a RemoteInput
// on the publisher's input channel of the current connection, made again when a reconnection brings a new one.
import { EventEmitter } from 'node:events';
import { InvalidArgumentError, InvalidStateError, TimeoutError } from '../errors.js';
import { WebRtcPeer } from '../peer/peer.js';
import type { DataChannel } from '../peer/data-channel.js';
import { INPUT_CHANNEL, MAX_VIEWER_MESSAGE_CHARS, checkAgentMessage, type AgentMessage, type CursorShapeMessage } from '../input/protocol.js';
import { SignalingClient, silentLogger, type BackoffOptions, type Logger, type SignalingError } from '../signaling/client.js';
import type { CandidateInit, IceServer } from '../signaling/protocol/messages.js';
import { toWire, urlsOf, usableIceServers } from '../publish/ice.js';
import type { Frame, RTCIceServer } from '../types.js';
import { number, wholeNumber } from '../util/checks.js';
import { emitError, errorMessage } from '../util/emit.js';
import { changedBlocks, signatureOf, type Region, type Signature } from './frame-diff.js';
import { FrameConverter, checkScreenshotOptions, type ScreenshotOptions } from './image.js';
import { LatestFrame } from './latest-frame.js';
import { RemoteInput, type MouseButton, type Point } from './remote-input.js';

export type { Region } from './frame-diff.js';
export type { ScreenshotOptions } from './image.js';

/** The frames an agent wants, as for receiving (`WebRtcPeer` `video: {receive: true, …}`). */
export interface ViewVideoOptions {
  /** Raw format of `frame` events and frames() (default RGBA). Screenshots are unaffected. */
  format?: 'RGBA' | 'BGR' | 'I420';
  /** Decode and hand out at most this many frames a second. */
  maxFps?: number;
  /** Scale `frame` events and frames() to this size (either alone keeps the aspect ratio). Screenshots stay at the VM's size. */
  width?: number;
  height?: number;
}

export interface ViewOptions {
  /** The daemon's WebSocket endpoint, e.g. `ws://127.0.0.1:8080/v1/ws`; or a cluster's instances, tried in turn. */
  url: string | string[];
  session: string;
  /** A viewer token for the session (`webrtcbin token --role viewer [--control] …`). */
  token?: string;
  video?: ViewVideoOptions;
  /** Extra ICE servers, after the daemon's. */
  iceServers?: RTCIceServer[];
  /** pino-compatible logger (default: silent). */
  log?: Logger;
  /** Aborting it closes the view. */
  signal?: AbortSignal;
  /** How long `ready` waits for a connection and a first frame (default 20 000 ms). */
  timeoutMs?: number;
  /** Signaling reconnect backoff. */
  backoff?: BackoffOptions;
  /**
   * How this view takes the remote pointer from a publisher with pointer 'auto' (the default):
   * 'picture' (default) in the frames (the view never says it draws it, so the publisher keeps the
   * pointer in the picture while it watches, and the frames an agent compares never change because
   * the pointer left or entered them); 'data' as `cursor` (the view says it draws it, so frames and
   * screenshots have no pointer while every viewer draws it; `cursor.inPicture` says when they do).
   */
  pointer?: 'data' | 'picture';
}

export interface RemoteViewEvents {
  /** A decoded frame, in the `video` format and size asked for. */
  frame: [Frame];
  /** The VM's screen size is known (first frame) or changed. */
  resize: [size: { width: number; height: number }];
  /** This view gained (true) or lost (false) control of the VM's input. */
  control: [controlling: boolean];
  /** A refused token (SignalingError), a failed negotiation, a media error. */
  error: [Error];
  /** The view is closed (close(), an abort, or a refusal retrying cannot cure); emitted once. */
  close: [];
}

/** `connecting`: no peer yet; `negotiating`: answering an offer; `connected`: media flows. */
export type ViewState = 'connecting' | 'negotiating' | 'connected' | 'closed';

/**
 * The remote pointer, when the publisher sends it as data (publish({pointer: 'channel'}), or 'auto' to a
 * view with pointer 'data'): where it is in screen pixels, whether it shows, its shape (`png`: base64;
 * `xhot`, `yhot`: its hotspot), and whether the frames show it too now (`inPicture`: 'auto' while another
 * viewer that cannot draw it watches).
 */
export interface RemoteCursor {
  x: number;
  y: number;
  visible: boolean;
  shape: Omit<CursorShapeMessage, 't'> | undefined;
  inPicture: boolean;
}

export interface WaitForChangeOptions {
  /** Only changes inside this rectangle (screen pixels) count. */
  region?: Region;
  /** Reject with TimeoutError after this long (default 10 000 ms). */
  timeoutMs?: number;
}

export interface WaitForStillOptions {
  /** The screen counts as still once no frame changed it for this long (default 500 ms). */
  ms?: number;
  /** Reject with TimeoutError when it never settles within this long (default 10 000 ms). */
  timeoutMs?: number;
}

const DEFAULT_READY_MS = 20_000;
const DEFAULT_WAIT_MS = 10_000;
// A still screen: the publisher skips unchanged frames and sends one refresh a second, so a
// screenshot's next frame may be a second away; this bounds the wait with room to spare.
const SCREENSHOT_FRAME_MS = 5_000;
// A connection's first picture is a keyframe under a one-frame rate budget, coarse on a detailed
// screen; the publisher then refines it with P-frames for ~0.5 s (its shared encoder's refinement,
// docs/benchmarks.md "Keyframe refinement"). A screenshot taken in that window waits for the
// refinement to land: until no frame came for SETTLE_QUIET_MS, at most SETTLE_MS after the first frame.
const SETTLE_MS = 500;
const SETTLE_QUIET_MS = 100;
// Remote candidates held before the offer they belong to (a publisher gathers a handful).
const MAX_EARLY_CANDIDATES = 100;
// How long an input call waits for the publisher's input channel after `ready` (it opens with the connection).
const INPUT_CHANNEL_WAIT_MS = 5000;
// Rejoins after a failed connection: from this delay, doubling, up to the cap.
const REJOIN_MS = { first: 250, max: 10_000 };

type FrameWaiter = (frame: Frame) => void;

export class RemoteView extends EventEmitter<RemoteViewEvents> {
  readonly #options: ViewOptions;
  readonly #log: Logger;
  #client!: SignalingClient;
  #peer: WebRtcPeer | undefined;
  /** The publisher whose offer the current peer answered (or that is in the session). */
  #publisher: string | undefined;
  #daemonIce: IceServer[] = [];
  #early: { from: string; candidate: CandidateInit }[] = [];
  #remoteSet = false;
  #state: ViewState = 'connecting';
  #closing: Promise<void> | undefined;
  #rejoins = 0;
  #rejoinTimer: NodeJS.Timeout | undefined;

  #inputChannel: DataChannel | undefined;
  /** Input over #inputChannel; made on the first input call, again for a new channel. */
  #input: { channel: DataChannel; input: RemoteInput } | undefined;
  #channelWaiters = new Set<() => void>();
  #controlling = false;
  #cursor: RemoteCursor | undefined;
  // What the publisher last said (cursor-picture) for this connection's channel.
  #cursorInPicture = false;
  readonly #cursorShapes = new Map<number, Omit<CursorShapeMessage, 't'>>();
  #controlAllowed = false;

  #width = 0;
  #height = 0;
  /** The newest decoded frame at the VM's size (RGBA), for screenshots and comparisons. */
  #latest: Frame | undefined;
  #latestSignature: Signature | undefined;
  /** When the current connection decoded its first frame (performance.now()); undefined before it. */
  #firstFrameAt: number | undefined;
  #waiters = new Set<FrameWaiter>();
  readonly #iterators = new Set<LatestFrame>();
  readonly #converter: FrameConverter;

  readonly #ready: Promise<void>;
  #settleReady!: (error?: Error) => void;
  #readySettled = false;
  #readyTimer: NodeJS.Timeout | undefined;

  constructor(options: ViewOptions) {
    super();
    if (!options || typeof options !== 'object') throw new InvalidArgumentError('view() needs {url, session, token}');
    if ((typeof options.url !== 'string' && !(Array.isArray(options.url) && options.url.length > 0)) || typeof options.session !== 'string') {
      throw new InvalidArgumentError('view(): url and session are required, e.g. view({url: "ws://127.0.0.1:8080/v1/ws", session: "vm-1", token})');
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_READY_MS;
    wholeNumber(timeoutMs, 'view(): timeoutMs', { min: 1, max: 2_147_483_647, unit: 'milliseconds' });
    if (options.video?.maxFps !== undefined) number(options.video.maxFps, 'view(): video.maxFps', { above: 0 });
    if (options.pointer !== undefined && options.pointer !== 'data' && options.pointer !== 'picture') {
      throw new InvalidArgumentError(`view(): pointer must be 'data' (the pointer as RemoteView.cursor) or 'picture' (in the frames) (got ${JSON.stringify(options.pointer)})`);
    }
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    this.#converter = new FrameConverter(options.video ?? {}); // checks format, width and height
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#settleReady = (error) => {
        if (this.#readySettled) return;
        this.#readySettled = true;
        clearTimeout(this.#readyTimer);
        if (error) reject(error);
        else resolve();
      };
    });
    // An agent that never awaits ready gets no unhandled rejection; a refusal is also an 'error' event,
    // and after a timeout the view keeps trying (close it to give up).
    this.#ready.catch(() => {});
    this.#readyTimer = setTimeout(() => this.#settleReady(this.#notReadyError(timeoutMs)), timeoutMs);
    this.#readyTimer.unref(); // the signaling socket keeps the process alive, not this clock
    if (options.signal) {
      const signal = options.signal;
      const abort = () => void this.close();
      if (signal.aborted) queueMicrotask(abort);
      else {
        signal.addEventListener('abort', abort, { once: true });
        this.once('close', () => signal.removeEventListener('abort', abort));
      }
    }
    this.#client = this.#createClient();
  }

  /** Resolves once connected with a first frame; rejects with a TimeoutError, a SignalingError (refused token) or InvalidStateError (closed first). */
  get ready(): Promise<void> {
    return this.#ready;
  }

  get state(): ViewState {
    return this.#state;
  }

  /** The VM's screen width in pixels (the decoded frame's, before any `video.width` scaling); 0 before the first frame. */
  get width(): number {
    return this.#width;
  }

  get height(): number {
    return this.#height;
  }

  /** Whether this view controls the VM's input now (the publisher said so on the input channel). */
  get controlling(): boolean {
    return this.#controlling;
  }

  /**
   * The remote pointer (publish({pointer: 'channel'}), or 'auto' with this view's pointer 'data';
   * undefined otherwise or before its first move). Screenshots and frames have no pointer in them
   * unless `inPicture`: draw it from this if you need it.
   */
  get cursor(): RemoteCursor | undefined {
    return this.#cursor;
  }

  /** Whether the token lets this view take control (the daemon's `joined.control`). */
  get controlAllowed(): boolean {
    return this.#controlAllowed;
  }

  /** @internal The publisher's "input" data channel of the current connection (for RemoteInput). */
  get inputChannel(): DataChannel | undefined {
    return this.#inputChannel;
  }

  /** The screen size, for input in screen pixels. */
  screen(): { width: number; height: number } {
    return { width: this.#width, height: this.#height };
  }

  /**
   * Frames as an async iterator with latest-frame semantics: each step gets the newest frame not yet
   * seen; frames that came and went meanwhile are counted in `dropped`, never queued. Ends at close().
   */
  frames(): AsyncIterableIterator<Frame> {
    const latest = new LatestFrame();
    if (this.#closing) latest.end();
    else this.#iterators.add(latest);
    const iterators = this.#iterators;
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      next: () => latest.next(),
      return: () => {
        latest.end();
        iterators.delete(latest);
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /**
   * The screen as an image no older than the call (a frame decoded after it), at the VM's resolution:
   * PNG, JPEG (`quality` 1–100, default 85) or raw RGBA rows (width × 4 bytes each). Within half a
   * second of the connection's first frame (a still screen's keyframe, coarse until the publisher has
   * refined it) it waits for the frames to stop, at most until that half second is over: a screenshot
   * right after joining is sharp, not the join's smear.
   */
  async screenshot(options: ScreenshotOptions = { format: 'png' }): Promise<Buffer> {
    this.#assertOpen('screenshot');
    checkScreenshotOptions(options);
    const frame = await this.#settled(await this.#nextFrame(SCREENSHOT_FRAME_MS, 'a frame for the screenshot'));
    return this.#converter.screenshot(frame, options);
  }

  /**
   * Resolves with the first frame (at the VM's size) that differs from the screen at the call, in
   * `region` when given (lib/agent/frame-diff.ts says what counts as a difference).
   */
  async waitForChange(options: WaitForChangeOptions = {}): Promise<Frame> {
    this.#assertOpen('waitForChange');
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    wholeNumber(timeoutMs, 'waitForChange: timeoutMs', { min: 1, max: 2_147_483_647, unit: 'milliseconds' });
    if (options.region) checkRegion(options.region);
    const base = this.#currentSignature() ?? signatureOf(await this.#nextFrame(timeoutMs, 'a first frame to compare with'));
    return this.#await<Frame>(timeoutMs, `no change of the screen${options.region ? ' in the region' : ''} within ${timeoutMs} ms`, (done) => (frame) => {
      if (changedBlocks(base, this.#signature(frame), options.region) > 0) done(frame);
    });
  }

  /** Resolves once no frame has changed the screen for `ms` (the screen has settled, e.g. after a click). */
  async waitForStill(options: WaitForStillOptions = {}): Promise<void> {
    this.#assertOpen('waitForStill');
    const ms = options.ms ?? 500;
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    wholeNumber(ms, 'waitForStill: ms', { min: 1, max: 2_147_483_647, unit: 'milliseconds' });
    wholeNumber(timeoutMs, 'waitForStill: timeoutMs', { min: 1, max: 2_147_483_647, unit: 'milliseconds' });
    let base = this.#currentSignature();
    let quiet: NodeJS.Timeout | undefined;
    return this.#await<void>(
      timeoutMs,
      `the screen did not stay still for ${ms} ms within ${timeoutMs} ms`,
      (done) => {
        quiet = setTimeout(() => done(), ms);
        return (frame) => {
          const signature = this.#signature(frame);
          if (base && changedBlocks(base, signature) === 0) return;
          base = signature;
          clearTimeout(quiet);
          quiet = setTimeout(() => done(), ms);
        };
      },
      () => clearTimeout(quiet),
    );
  }

  // ---- input, in the VM screen's pixels; each resolves once the publisher has injected it ----

  /** The VM's X CLIPBOARD as text: read() what is on it, write() text onto it. */
  readonly clipboard = {
    read: (): Promise<string> => this.#withInput('clipboard.read()', (input) => input.clipboard.read()),
    write: (text: string): Promise<void> => this.#withInput('clipboard.write()', (input) => input.clipboard.write(text)),
  };

  /** Takes control of the VM's input from whoever has it (input calls take it by themselves the first time). */
  takeControl(): Promise<void> {
    return this.#withInput('takeControl()', (input) => input.takeControl());
  }

  /** Moves the pointer to (x, y). */
  move(x: number, y: number): Promise<void> {
    return this.#withInput('move()', (input) => input.move(x, y));
  }

  /** Clicks at (x, y): `button` left (default), middle or right; `count` 2 for a double click. */
  click(x: number, y: number, options?: { button?: MouseButton; count?: number }): Promise<void> {
    return this.#withInput('click()', (input) => input.click(x, y, options));
  }

  /** Presses at `from`, moves to `to` in `steps`, releases. */
  drag(from: Point, to: Point, options?: { button?: MouseButton; steps?: number }): Promise<void> {
    return this.#withInput('drag()', (input) => input.drag(from, to, options));
  }

  /** Scrolls by wheel notches (dy > 0 down, dx > 0 right), at (x, y) when given. */
  scroll(dx: number, dy: number, options?: { x?: number; y?: number }): Promise<void> {
    return this.#withInput('scroll()', (input) => input.scroll(dx, dy, options));
  }

  /** Types text as written (any Unicode the X keymap can take, borrowing keycodes for the rest). */
  type(text: string): Promise<void> {
    return this.#withInput('type()', (input) => input.type(text));
  }

  /** Presses a key or a combination: 'Enter', 'ctrl+shift+t', 'super', 'F5'. */
  key(combo: string): Promise<void> {
    return this.#withInput('key()', (input) => input.key(combo));
  }

  /** Asks the VM's X screen to take this size (RandR); resolves with the size it took. */
  resize(width: number, height: number): Promise<{ width: number; height: number }> {
    return this.#withInput('resize()', (input) => input.resize(width, height));
  }

  // The input side of the current connection: after `ready`, and once the publisher's input channel is open.
  async #withInput<T>(what: string, run: (input: RemoteInput) => Promise<T>): Promise<T> {
    this.#assertOpen(what);
    await this.ready;
    if (!this.#controlAllowed) {
      throw new InvalidStateError(`${what}: this view's token does not allow control; use a viewer token minted with control: true (docs/agents.md)`);
    }
    const channel = this.#inputChannel ?? (await this.#nextInputChannel(what));
    if (this.#input?.channel !== channel) {
      this.#input?.input.close();
      this.#input = { channel, input: new RemoteInput(channel, { screen: () => this.screen() }) };
    }
    return run(this.#input.input);
  }

  #nextInputChannel(what: string): Promise<DataChannel> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#channelWaiters.delete(arrived);
        reject(new InvalidStateError(`${what}: the publisher opened no input channel within ${INPUT_CHANNEL_WAIT_MS} ms: it streams without remote control, or the connection is down`));
      }, INPUT_CHANNEL_WAIT_MS);
      const arrived = () => {
        clearTimeout(timer);
        this.#channelWaiters.delete(arrived);
        if (this.#inputChannel) resolve(this.#inputChannel);
        else reject(new InvalidStateError(`${what}: the view was closed`));
      };
      this.#channelWaiters.add(arrived);
    });
  }

  /** Leaves the session and closes the peer. Idempotent; afterwards nothing of the view keeps the process alive. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#setState('closed');
    clearTimeout(this.#rejoinTimer);
    this.#settleReady(new InvalidStateError('the view was closed before it was ready'));
    for (const iterator of this.#iterators) iterator.end();
    this.#iterators.clear();
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) (waiter as FrameWaiter & { fail?: (e: Error) => void }).fail?.(new InvalidStateError('the view was closed'));
    const peer = this.#peer;
    this.#peer = undefined;
    this.#inputChannel = undefined;
    this.#input?.input.close();
    this.#input = undefined;
    for (const waiter of [...this.#channelWaiters]) waiter();
    this.#latest = undefined;
    this.#closing = Promise.allSettled([this.#client.close(), peer?.close()])
      .then(() => this.#converter.close())
      .then(() => {
        try {
          this.emit('close');
        } catch (error) {
          this.#log.error({ err: errorMessage(error) }, 'view: a close listener threw');
        }
      });
    return this.#closing;
  }

  // ---- signaling ----

  #createClient(): SignalingClient {
    const o = this.#options;
    const client = new SignalingClient({ url: o.url, session: o.session, role: 'viewer', token: o.token, backoff: o.backoff, logger: this.#log });
    const guard = <A extends unknown[]>(event: string, handler: (...args: A) => void) => (...args: A) => {
      if (this.#closing || client !== this.#client) return;
      try {
        handler(...args);
      } catch (error) {
        this.#log.error({ event, err: errorMessage(error) }, 'view: handler failed');
        this.#emitError(error instanceof Error ? error : new Error(String(error)));
      }
    };
    client.on('joined', guard('joined', (m) => {
      this.#daemonIce = usableIceServers(m.iceServers, this.#log);
      this.#controlAllowed = m.control === true;
      if (m.publisher) this.#publisher = m.publisher;
      this.#log.info({ peerId: m.peerId, publisher: m.publisher ?? null, iceServers: urlsOf(m.iceServers) }, 'view: joined');
    }));
    client.on('peer-joined', guard('peer-joined', (m) => {
      if (m.role !== 'publisher') return;
      // A new publisher (the VM's agent restarted): its offer follows; the old peer is of no use.
      if (this.#publisher !== m.peerId) this.#dropPeer('a new publisher joined');
      this.#publisher = m.peerId;
    }));
    client.on('peer-left', guard('peer-left', (m) => {
      if (m.role !== 'publisher' || m.peerId !== this.#publisher) return;
      this.#log.info({ publisher: m.peerId }, 'view: the publisher left; waiting for it to come back');
      this.#publisher = undefined;
      this.#early = [];
      this.#dropPeer('the publisher left');
    }));
    client.on('offer', guard('offer', (m) => void this.#answer(client, m.from, m.sdp)));
    client.on('candidate', guard('candidate', (m) => this.#remoteCandidate(m.from, m.candidate)));
    client.on('bye', guard('bye', (m) => {
      if (m.from === undefined) return; // the daemon's own bye: the client reconnects or reports why not
      if (m.reason === 'no-common-codec') {
        this.#fatal(new InvalidStateError(`the publisher sends no codec this view decodes: ${m.message ?? 'no common codec'}; install the GStreamer decoder of the publisher's codec (gstreamer1.0-libav for H.264) or publish VP8`));
        return;
      }
      this.#log.warn({ publisher: m.from, message: m.message }, 'view: the publisher ended the connection; rejoining');
      this.#rejoin(`the publisher ended the connection${m.message ? `: ${m.message}` : ''}`);
    }));
    client.on('protocol-error', guard('protocol-error', (e) => this.#log.warn({ code: e.code, origin: e.origin, detail: e.message }, 'view: signaling error')));
    client.on('state', guard('state', (state, error?: SignalingError) => {
      if (state === 'closed' && error) this.#fatal(error);
    }));
    client.connect();
    return client;
  }

  // A fresh participant: the publisher offers to each viewer that joins, so rejoining gets a new offer.
  #rejoin(reason: string): void {
    this.#early = [];
    this.#dropPeer(reason);
    if (this.#rejoinTimer || this.#closing) return;
    const delay = Math.min(REJOIN_MS.max, REJOIN_MS.first * 2 ** this.#rejoins++);
    const old = this.#client;
    void old.close();
    this.#rejoinTimer = setTimeout(() => {
      this.#rejoinTimer = undefined;
      if (!this.#closing) this.#client = this.#createClient();
    }, delay);
  }

  #fatal(error: Error): void {
    this.#settleReady(error);
    this.#emitError(error);
    void this.close();
  }

  // ---- negotiation: the order that works ----

  async #answer(client: SignalingClient, from: string, sdp: string): Promise<void> {
    // Any offer starts over: a publisher that restarted (or renegotiates) gets a fresh peer.
    this.#dropPeer('a new offer');
    this.#publisher = from;
    const iceServers = [...this.#daemonIce, ...(this.#options.iceServers ?? [])] as RTCIceServer[];
    const maxFps = this.#options.video?.maxFps;
    let peer: WebRtcPeer;
    try {
      peer = new WebRtcPeer({ video: { receive: true, format: 'RGBA', ...(maxFps ? { maxFps } : {}) }, iceServers });
    } catch (error) {
      return this.#fatal(error instanceof Error ? error : new Error(String(error)));
    }
    this.#peer = peer;
    this.#remoteSet = false;
    this.#setState('negotiating');
    const current = () => this.#peer === peer && client === this.#client && !this.#closing;
    const local: CandidateInit[] = [];
    let answered = false;
    peer.on('icecandidate', (candidate) => {
      if (!current()) return;
      if (answered) this.#sendCandidate(client, from, toWire(candidate));
      else local.push(toWire(candidate));
    });
    peer.on('connectionstatechange', (state) => {
      if (!current()) return;
      this.#log.debug({ state }, 'view: connection state');
      if (state === 'connected') {
        this.#rejoins = 0;
        this.#setState('connected');
      } else if (state === 'failed') {
        this.#rejoin('the WebRTC connection failed');
      }
    });
    peer.on('frame', (frame) => current() && this.#onFrame(frame));
    peer.on('datachannel', (channel) => current() && this.#onChannel(channel));
    peer.on('warning', (warning) => this.#log.warn({ err: warning.message }, 'view: peer warning'));
    peer.on('error', (error) => {
      if (!current()) return;
      this.#emitError(error);
      this.#rejoin(`media error: ${error.message}`);
    });
    try {
      await peer.setRemoteDescription({ type: 'offer', sdp });
      if (!current()) return;
      this.#remoteSet = true;
      // Candidates that came before the offer, now that there is a description to add them to.
      for (const early of this.#early.splice(0)) if (early.from === from) this.#addCandidate(peer, early.candidate);
      const answer = await peer.createAnswer();
      if (!current()) return;
      await peer.setLocalDescription(answer);
      if (!current()) return;
      client.send({ type: 'answer', to: from, sdp: answer.sdp });
      answered = true;
      for (const candidate of local.splice(0)) this.#sendCandidate(client, from, candidate);
      this.#log.debug({ publisher: from }, 'view: answer sent');
    } catch (error) {
      if (!current()) return; // replaced or closed meanwhile: expected
      this.#log.error({ err: errorMessage(error) }, 'view: answering the offer failed');
      this.#emitError(new InvalidStateError(`could not answer the publisher's offer: ${errorMessage(error)}; rejoining for a new one`));
      this.#rejoin('answering failed');
    }
  }

  #remoteCandidate(from: string, candidate: CandidateInit): void {
    const peer = this.#peer;
    if (!peer || !this.#remoteSet || from !== this.#publisher) {
      // Before the offer (or before its description is set): held, then added in order.
      if (this.#early.length < MAX_EARLY_CANDIDATES) this.#early.push({ from, candidate });
      return;
    }
    this.#addCandidate(peer, candidate);
  }

  #addCandidate(peer: WebRtcPeer, candidate: CandidateInit): void {
    // As received: WebRtcPeer takes the wire form with or without `candidate:` and never doubles it.
    peer.addIceCandidate(candidate).catch((error: unknown) => {
      if (this.#peer === peer) this.#log.warn({ err: errorMessage(error) }, 'view: remote candidate refused');
    });
  }

  #sendCandidate(client: SignalingClient, to: string, candidate: CandidateInit): void {
    try {
      client.send({ type: 'candidate', to, candidate });
    } catch (error) {
      this.#log.warn({ err: errorMessage(error) }, 'view: local candidate not sent');
    }
  }

  // Early candidates stay: they may belong to the offer that replaces this peer (they are matched by sender).
  #dropPeer(reason: string): void {
    const peer = this.#peer;
    if (!peer) return;
    this.#log.debug({ reason }, 'view: peer closed');
    this.#peer = undefined;
    this.#remoteSet = false;
    this.#inputChannel = undefined;
    this.#firstFrameAt = undefined; // the next connection starts at a keyframe again
    if (this.#controlling) {
      this.#controlling = false;
      this.#notify(() => this.emit('control', false));
    }
    if (!this.#closing) this.#setState('connecting');
    peer.close().catch((error: unknown) => this.#log.warn({ err: errorMessage(error) }, 'view: closing a peer failed'));
  }

  // ---- the input channel (input itself is RemoteInput's) ----

  #onChannel(channel: DataChannel): void {
    if (channel.label !== INPUT_CHANNEL) return;
    this.#inputChannel = channel;
    this.#cursorInPicture = false;
    if (this.#options.pointer === 'data') {
      // This view takes the pointer as data: a publisher with pointer 'auto' may take it out of the frames.
      const announce = () => {
        if (this.#inputChannel !== channel) return;
        try {
          channel.send(JSON.stringify({ t: 'cursor-draw', draws: true }));
        } catch (error) {
          this.#log.debug({ err: errorMessage(error) }, 'view: cursor-draw not sent');
        }
      };
      if (channel.readyState === 'open') announce();
      else channel.once('open', announce);
    }
    for (const waiter of [...this.#channelWaiters]) waiter();
    channel.on('message', (data) => {
      if (this.#inputChannel !== channel || typeof data !== 'string' || data.length > MAX_VIEWER_MESSAGE_CHARS) return;
      let message: unknown;
      try {
        message = JSON.parse(data);
      } catch {
        return;
      }
      if (!checkAgentMessage.Check(message)) return;
      this.#onAgentMessage(message);
    });
  }

  #onAgentMessage(message: AgentMessage): void {
    if (message.t === 'cursor-shape') {
      const { t: _t, ...shape } = message;
      this.#cursorShapes.delete(shape.id);
      this.#cursorShapes.set(shape.id, shape);
      if (this.#cursorShapes.size > 64) this.#cursorShapes.delete(this.#cursorShapes.keys().next().value!);
      return;
    }
    if (message.t === 'cursor') {
      this.#cursor = { x: message.x, y: message.y, visible: message.visible, shape: this.#cursorShapes.get(message.id), inPicture: this.#cursorInPicture };
      return;
    }
    if (message.t === 'cursor-picture') {
      this.#cursorInPicture = message.shown;
      if (this.#cursor) this.#cursor = { ...this.#cursor, inPicture: message.shown };
      return;
    }
    if (message.t !== 'control' || message.controlling === this.#controlling) return;
    this.#controlling = message.controlling;
    this.#notify(() => this.emit('control', message.controlling));
  }

  // ---- frames ----

  #onFrame(frame: Frame): void {
    this.#firstFrameAt ??= performance.now();
    this.#latest = frame;
    this.#latestSignature = undefined;
    if (frame.width !== this.#width || frame.height !== this.#height) {
      this.#width = frame.width;
      this.#height = frame.height;
      this.#log.info({ width: frame.width, height: frame.height }, 'view: screen size');
      this.#notify(() => this.emit('resize', { width: frame.width, height: frame.height }));
    }
    this.#settleReady(); // a decoded frame means connected
    for (const waiter of [...this.#waiters]) waiter(frame);
    if (this.listenerCount('frame') > 0 || this.#iterators.size > 0) {
      this.#converter.forUser(frame, (out) => {
        if (this.#closing) return;
        for (const iterator of this.#iterators) iterator.push(out);
        this.#notify(() => this.emit('frame', out));
      });
    }
  }

  #currentSignature(): Signature | undefined {
    if (!this.#latest) return undefined;
    this.#latestSignature ??= signatureOf(this.#latest);
    return this.#latestSignature;
  }

  #signature(frame: Frame): Signature {
    if (frame === this.#latest) return this.#currentSignature()!;
    return signatureOf(frame);
  }

  // `frame`, or while the connection's first picture may still be refined (SETTLE_MS), the last frame
  // before SETTLE_QUIET_MS without one.
  #settled(frame: Frame): Promise<Frame> {
    const end = (this.#firstFrameAt ?? -Infinity) + SETTLE_MS;
    if (performance.now() >= end) return Promise.resolve(frame);
    let last = frame;
    let quiet: NodeJS.Timeout | undefined;
    let bound: NodeJS.Timeout | undefined;
    return new Promise<Frame>((resolve) => {
      const waiter: FrameWaiter & { fail?: (e: Error) => void } = (next) => {
        last = next;
        clearTimeout(quiet);
        quiet = setTimeout(done, SETTLE_QUIET_MS);
      };
      // Closed meanwhile: the frame in hand is still a frame no older than the call.
      waiter.fail = () => done();
      function done() {
        clearTimeout(quiet);
        clearTimeout(bound);
        waiters.delete(waiter);
        resolve(last);
      }
      const waiters = this.#waiters;
      waiters.add(waiter);
      quiet = setTimeout(done, SETTLE_QUIET_MS);
      bound = setTimeout(done, end - performance.now());
    });
  }

  // The next frame decoded after this call.
  #nextFrame(timeoutMs: number, what: string): Promise<Frame> {
    return this.#await<Frame>(timeoutMs, `no ${what} within ${timeoutMs} ms (${this.#stateWords()})`, (done) => (frame) => done(frame));
  }

  // A frame waiter settled by `done`, rejected on timeout or close; `cleanup` runs either way.
  #await<T>(timeoutMs: number, timeoutText: string, start: (done: (value: T) => void) => FrameWaiter, cleanup?: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let waiter: FrameWaiter & { fail?: (e: Error) => void };
      const finish = () => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        cleanup?.();
      };
      const timer = setTimeout(() => {
        finish();
        reject(new TimeoutError(`${timeoutText}; is the VM's screen streamed (webrtcbin stream) and this view connected?`, timeoutMs));
      }, timeoutMs);
      waiter = start((value) => {
        finish();
        resolve(value);
      });
      waiter.fail = (error) => {
        finish();
        reject(error);
      };
      this.#waiters.add(waiter);
    });
  }

  // ---- state and errors ----

  #setState(state: ViewState): void {
    if (this.#state === state || this.#state === 'closed') return;
    this.#state = state;
  }

  #stateWords(): string {
    if (this.#client.state !== 'joined') return `signaling is ${this.#client.state ?? 'not started'}`;
    if (!this.#publisher) return 'no publisher in the session';
    if (!this.#peer) return 'no offer from the publisher yet';
    return `the connection is ${this.#peer.connectionState}`;
  }

  #notReadyError(timeoutMs: number): Error {
    const session = JSON.stringify(this.#options.session);
    const state = this.#client?.state;
    let what: string;
    if (state !== 'joined') what = `could not join session ${session} at ${[this.#options.url].flat().join(', ')} (signaling is ${state ?? 'not started'}); is the daemon running and the URL right?`;
    else if (!this.#publisher) what = `no publisher is in session ${session}; is the VM's agent (webrtcbin stream) running and publishing to this session name?`;
    else if (!this.#peer) what = `the publisher of session ${session} sent no offer; is it a node-webrtcbin publisher?`;
    else if (this.#peer.connectionState !== 'connected') what = `the WebRTC connection did not connect (state ${this.#peer.connectionState}); check the ICE servers (TURN) between this host and the VM`;
    else what = 'connected, but no video frame was decoded; is the publisher capturing its screen?';
    return new TimeoutError(`view(): not ready within ${timeoutMs} ms: ${what}`, timeoutMs);
  }

  #assertOpen(operation: string): void {
    if (this.#closing) throw new InvalidStateError(`RemoteView.${operation}: the view is closed; create a new one with view()`);
  }

  #emitError(error: Error): void {
    emitError(this, error, { source: 'view', onListenerThrow: (thrown) => this.#log.error({ err: errorMessage(thrown) }, 'view: an error listener threw') });
  }

  #notify(emit: () => void): void {
    try {
      emit();
    } catch (error) {
      this.#log.error({ err: errorMessage(error) }, 'view: a listener threw');
    }
  }
}

function checkRegion(region: Region): void {
  for (const key of ['x', 'y'] as const) wholeNumber(region[key], `region.${key}`, { min: 0 });
  for (const key of ['width', 'height'] as const) wholeNumber(region[key], `region.${key}`, { min: 1 });
}

/** Joins `session` as a viewer and starts receiving its screen; await `ready` before acting. */
export function view(options: ViewOptions): RemoteView {
  return new RemoteView(options);
}
