// <webrtcbin-viewer url session token>: the viewer as a custom element, for plain HTML, React, Vue or
// Svelte without copying files, and the daemon's own page (page.ts). It owns one Viewer (viewer.ts) at a
// time, re-dispatches its events from the element, shows the state, stats and failures, and carries the
// toolbar (toolbar.ts). Attribute changes reconnect; leaving the document stops (bye), coming back starts.
// A child <video slot="video"> is used in place of the element's own video (the page does this, so
// scripts that look for the page's <video> still find it).
import { EXPIRED_LINK, Viewer, type ControlDetail, type JanusViewOptions, type ViewerEventMap, type ViewerState, type ViewerStats } from './viewer.js';
import { captureInput, type InputCapture } from './input-capture.js';
import { attachTouch, type TouchInput } from './touch.js';
import { attachRemoteExtras, type RemoteExtras } from './remote-extras.js';
import { attachCursor, type RemoteCursor } from './cursor.js';
import { Toolbar, type ScaleMode, type SpecialKey, type ToolbarState } from './toolbar.js';
import { VIEWER_CSS } from './styles.js';
import { describeLatency } from './latency-probe.js';
import type { ViewerMessage } from '../input/protocol.js';
import { INPUT_CHANNEL } from '../input/limits.js';

export type { ScaleMode, SpecialKey } from './toolbar.js';
export { SPECIAL_KEYS, QUALITY_STEPS } from './toolbar.js';

export type { ControlDetail } from './viewer.js';

/** Viewer methods a newer viewer module has (viewer-touch's issue-20 part); used when present. */
type ViewerExtensions = {
  setMaxBitrate?(bps: number | null): unknown;
  sendKeys?(combo: string): unknown;
  releaseControl?(): unknown;
};

/** The events the element re-dispatches: exactly the Viewer's. */
// `quality` (the publisher's answer to a bitrate ceiling) comes with the Viewer's setMaxBitrate().
export const VIEWER_EVENTS = ['state', 'stats', 'audio', 'fallback', 'reconnect', 'error', 'datachannel', 'clipboard', 'control', 'resize', 'quality', 'janus'] as const;

export type WebrtcbinViewerEventMap = ViewerEventMap & HTMLElementEventMap;

// How the Viewer words a publisher's bye (lib/viewer/viewer.ts), followed by the publisher's reason.
const PUBLISHER_ENDED = 'the publisher ended this connection';
const SCALES: readonly ScaleMode[] = ['fit', 'actual', 'remote'];
/** Held this long, Escape leaves full screen (a short press goes to the VM while the keyboard is locked). */
const ESC_HOLD_MS = 1000;
/** No `control` answer this long after asking: the token is view-only (or another viewer holds on). */
const CONTROL_ANSWER_MS = 2500;
/** The VM takes one resize a second. */
const RESIZE_DEBOUNCE_MS = 1000;

export const STATE_LABELS: Record<ViewerState, string> = {
  connecting: 'connecting…',
  'waiting-for-publisher': 'waiting for the desktop…',
  negotiating: 'negotiating…',
  connected: 'connected',
  reconnecting: 'reconnecting…',
  failed: 'failed',
  stopped: 'stopped',
};

/** The stats line: codec, size, fps, bitrate, RTT, jitter buffer, decode, receiver-side latency. */
export function formatStats(s: ViewerStats): string {
  const parts: string[] = [];
  const ms = (n: number | null) => (n === null ? '–' : `${Math.round(n)} ms`);
  if (s.codec) parts.push(s.codec);
  if (s.width && s.height) parts.push(`${s.width}×${s.height}`);
  parts.push(`${s.fps === null ? '–' : Math.round(s.fps)} fps`);
  parts.push(s.bitrateKbps === null ? '– kb/s' : s.bitrateKbps >= 10_000 ? `${(s.bitrateKbps / 1000).toFixed(1)} Mb/s` : `${s.bitrateKbps} kb/s`);
  parts.push(`rtt ${ms(s.rttMs)}`);
  parts.push(`jb ${ms(s.jitterBufferMs)}`);
  parts.push(`dec ${ms(s.decodeMs)}`);
  parts.push(describeLatency(s)?.text ?? '≈–');
  return parts.join(' · ');
}

/** The signaling URL next to the page (`v1/ws`), so a daemon mounted under a prefix is found too. */
export function defaultSignalingUrl(base: string = document.baseURI): string {
  const ws = new URL('v1/ws', base);
  ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
  ws.search = ws.hash = '';
  return ws.href;
}

// Node (SSR) has no HTMLElement: the class must still evaluate there, it is just never defined.
const Base = (typeof HTMLElement === 'undefined' ? class {} : HTMLElement) as typeof HTMLElement;

let sheet: CSSStyleSheet | undefined;
function styles(shadow: ShadowRoot): void {
  if ('adoptedStyleSheets' in shadow && typeof CSSStyleSheet === 'function' && 'replaceSync' in CSSStyleSheet.prototype) {
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(VIEWER_CSS);
    }
    shadow.adoptedStyleSheets = [sheet];
  } else {
    const style = document.createElement('style');
    style.textContent = VIEWER_CSS;
    shadow.append(style);
  }
}

export class WebrtcbinViewerElement extends Base {
  static readonly observedAttributes = ['url', 'session', 'token', 'relay', 'scale', 'toolbar', 'janus', 'room', 'janus-pin'];

  readonly #shadow: ShadowRoot;
  readonly #ownVideo: HTMLVideoElement;
  readonly #slot: HTMLSlotElement;
  readonly #stage: HTMLElement;
  readonly #overlay: HTMLElement;
  readonly #stateLine: HTMLElement;
  readonly #detailLine: HTMLElement;
  readonly #statsLine: HTMLElement;
  readonly #message: HTMLElement;
  readonly #messageTitle: HTMLElement;
  readonly #messageBody: HTMLElement;
  readonly #sound: HTMLButtonElement;
  readonly #card: HTMLElement;
  readonly #cardTitle: HTMLElement;
  readonly #cardBody: HTMLElement;
  readonly #hint: HTMLElement;
  readonly #live: HTMLElement;
  readonly #toolbar: Toolbar;

  #viewer: Viewer | null = null;
  #video: HTMLVideoElement;
  #input: InputCapture | undefined;
  #touch: TouchInput | undefined;
  #extras: RemoteExtras | undefined;
  #cursor: RemoteCursor | undefined;
  #channel: RTCDataChannel | undefined;
  #restartQueued = false;
  #statsShown = true;
  #fallbackShown = false;
  #publisherSaid: string | undefined;
  #controlling = false;
  /** Who else controls, in words ("another viewer"), when the publisher says. */
  #holder: string | undefined;
  #audio = false;
  #remoteClipboard: string | undefined;
  #resizeSupported = true;
  #maxBitrate: number | null = null;
  #keyboardLocked = false;
  #controlTimer: ReturnType<typeof setTimeout> | undefined;
  #resizeTimer: ReturnType<typeof setTimeout> | undefined;
  #escTimer: ReturnType<typeof setTimeout> | undefined;
  #hintTimer: ReturnType<typeof setTimeout> | undefined;
  #introduced = false;
  #lastAnnounced = '';
  #resizeObserver: ResizeObserver | undefined;
  #lastSize = '';

  constructor() {
    super();
    this.#shadow = this.attachShadow({ mode: 'open', delegatesFocus: false });
    styles(this.#shadow);
    const make = <K extends keyof HTMLElementTagNameMap>(tag: K, id: string, attrs: Record<string, string> = {}): HTMLElementTagNameMap[K] => {
      const node = document.createElement(tag);
      node.id = id;
      for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
      return node;
    };
    const stage = make('div', 'stage');
    this.#stage = stage;
    this.#slot = make('slot', 'video-slot', { name: 'video' });
    this.#ownVideo = make('video', 'video', { playsinline: '', disablepictureinpicture: '' });
    this.#slot.append(this.#ownVideo);
    stage.append(this.#slot);
    this.#overlay = make('div', 'overlay', { title: 'State of the connection; s: statistics, f: full screen' });
    this.#stateLine = make('div', 'state');
    this.#detailLine = make('div', 'detail');
    this.#statsLine = make('div', 'stats');
    this.#overlay.append(this.#stateLine, this.#detailLine, this.#statsLine);
    this.#message = make('div', 'message', { role: 'alert' });
    this.#message.hidden = true;
    this.#messageTitle = make('div', 'message-title');
    this.#messageBody = make('div', 'message-body');
    this.#message.append(this.#messageTitle, this.#messageBody);
    // While there is no picture: what is happening, large and centred (the live region says it aloud).
    this.#card = make('div', 'card', { 'aria-hidden': 'true' });
    this.#card.hidden = true;
    this.#cardTitle = make('div', 'card-title');
    this.#cardBody = make('div', 'card-body');
    this.#card.append(this.#cardTitle, this.#cardBody);
    this.#sound = make('button', 'sound', { type: 'button', class: 'prompt', title: 'The desktop sends sound; browsers start it muted' });
    this.#sound.textContent = 'Turn sound on';
    this.#sound.hidden = true;
    this.#hint = make('div', 'hint', { 'aria-hidden': 'true' });
    this.#hint.hidden = true;
    // Polite: states and errors are read out without cutting the user off (the message box is the alert).
    this.#live = make('div', 'live', { class: 'sr-only', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
    this.#shadow.append(stage, this.#overlay, this.#card, this.#message, this.#sound, this.#hint, this.#live);

    this.#video = this.#ownVideo;
    this.#toolbar = new Toolbar(this, this.#shadow, {
      takeControl: () => this.takeControl(),
      releaseControl: () => this.releaseControl(),
      sendKeys: (key) => this.sendKeys(key),
      sendClipboard: (text) => this.sendClipboard(text),
      setScale: (mode) => (this.scale = mode),
      setMaxBitrate: (bps) => this.setMaxBitrate(bps),
      toggleSound: () => (this.muted = !this.muted),
      toggleStats: () => this.toggleStats(),
      toggleFullscreen: () => void this.toggleFullscreen(),
      focusVideo: () => this.#video.focus(),
      showKeyboard: () => this.showKeyboard(),
    });
    this.#toolbar.announce = (text) => this.#announce(text);

    this.#slot.addEventListener('slotchange', () => this.#pickVideo());
    this.#sound.addEventListener('click', () => (this.muted = false));
    this.#ownVideo.addEventListener('resize', () => this.#applyScale());
    this.#setState('stopped', '');
    this.#overlay.hidden = true;
  }

  // ---- attributes and properties ----

  /** The daemon's WebSocket (ws(s)://host/v1/ws); default: `v1/ws` next to the page. */
  get url(): string {
    return this.getAttribute('url') ?? '';
  }
  set url(v: string) {
    this.setAttribute('url', v);
  }
  get session(): string {
    return this.getAttribute('session') ?? '';
  }
  set session(v: string) {
    this.setAttribute('session', v);
  }
  get token(): string {
    return this.getAttribute('token') ?? '';
  }
  set token(v: string) {
    if (v) this.setAttribute('token', v);
    else this.removeAttribute('token');
  }
  /**
   * Video from Janus (docs/sfu.md): Janus's WebSocket (`ws://janus.internal:8188`); with `room`, the
   * <video> subscribes to that VideoRoom's publisher feed and the daemon gives the input channel only.
   */
  get janus(): string {
    return this.getAttribute('janus') ?? '';
  }
  set janus(v: string) {
    if (v) this.setAttribute('janus', v);
    else this.removeAttribute('janus');
  }
  /** With `janus`: the VideoRoom (a number, or a string id). */
  get room(): string {
    return this.getAttribute('room') ?? '';
  }
  set room(v: string) {
    if (v) this.setAttribute('room', v);
    else this.removeAttribute('room');
  }
  /** With `janus`: the room's pin, when it has one. */
  get janusPin(): string {
    return this.getAttribute('janus-pin') ?? '';
  }
  set janusPin(v: string) {
    if (v) this.setAttribute('janus-pin', v);
    else this.removeAttribute('janus-pin');
  }
  /** Relay only (TURN), for networks that block UDP. */
  get relay(): boolean {
    return this.hasAttribute('relay');
  }
  set relay(v: boolean) {
    this.toggleAttribute('relay', v);
  }
  /** `fit` (default), `actual` (1:1, scroll) or `remote` (the VM's screen follows this element's size). */
  get scale(): ScaleMode {
    const v = this.getAttribute('scale') as ScaleMode | null;
    return v && SCALES.includes(v) ? v : 'fit';
  }
  set scale(v: ScaleMode) {
    this.setAttribute('scale', SCALES.includes(v) ? v : 'fit');
  }
  /** The sound: browsers start it muted until a gesture. */
  get muted(): boolean {
    return this.#video.muted;
  }
  set muted(v: boolean) {
    this.#video.muted = v;
    if (!v) void this.#video.play().catch(() => {});
    this.#sound.hidden = v ? !this.#audio : true;
    this.#render();
  }
  /** The Viewer of the current connection (a new one after each attribute change). */
  get viewer(): Viewer | null {
    return this.#viewer;
  }
  get state(): ViewerState {
    return this.#viewer?.state ?? 'stopped';
  }
  get stats(): ViewerStats | null {
    return this.#viewer?.stats ?? null;
  }
  /** The <video> showing the desktop (a slotted one if given). */
  get video(): HTMLVideoElement {
    return this.#video;
  }
  /** This viewer controls the VM's mouse and keyboard. */
  get controlling(): boolean {
    return this.#controlling;
  }
  /** Mouse and keyboard here go to the VM (after a click or Take control). */
  get capturing(): boolean {
    return this.#input?.active ?? false;
  }
  /** Clipboard and resize over the input channel, once the publisher opened it. */
  get remote(): RemoteExtras | undefined {
    return this.#extras;
  }
  /** The Keyboard Lock API holds the keyboard (full screen in Chromium): browser shortcuts reach the VM. */
  get keyboardLocked(): boolean {
    return this.#keyboardLocked;
  }
  /** The bitrate ceiling asked of the publisher (null: none). */
  get maxBitrate(): number | null {
    return this.#maxBitrate;
  }

  attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    if (old === value) return;
    if (name === 'scale') {
      this.#applyScale();
      this.#cursor?.update();
      if (this.scale === 'remote') this.#askRemoteSize();
      this.#render();
      return;
    }
    if (name === 'toolbar') return;
    // url, session, token, relay, janus, room, janus-pin: a new connection, once per batch of changes.
    if (!this.#viewer || this.#restartQueued) return;
    this.#restartQueued = true;
    queueMicrotask(() => {
      this.#restartQueued = false;
      if (!this.isConnected) return;
      this.stop();
      this.start();
    });
  }

  connectedCallback(): void {
    this.#pickVideo();
    addEventListener('keydown', this.#onKey, true);
    addEventListener('keyup', this.#onKeyUp, true);
    document.addEventListener('fullscreenchange', this.#onFullscreen);
    if (typeof ResizeObserver === 'function') {
      this.#resizeObserver = new ResizeObserver(() => this.#onResize());
      this.#resizeObserver.observe(this);
    }
    this.start();
  }

  disconnectedCallback(): void {
    removeEventListener('keydown', this.#onKey, true);
    removeEventListener('keyup', this.#onKeyUp, true);
    document.removeEventListener('fullscreenchange', this.#onFullscreen);
    this.#resizeObserver?.disconnect();
    this.#resizeObserver = undefined;
    this.stop();
  }

  // ---- connection ----

  /** Connects (again): a no-op without a session or while connected. */
  start(): void {
    if (this.#viewer || !this.isConnected) return;
    const session = this.session;
    if (!session) return;
    const viewer = new Viewer({
      url: this.url || defaultSignalingUrl(),
      session,
      token: this.token || undefined,
      video: this.#video,
      iceTransportPolicy: this.relay ? 'relay' : undefined,
      janus: this.#janusOptions(),
    });
    this.#viewer = viewer;
    this.#fallbackShown = false;
    this.#publisherSaid = undefined;
    this.#hideMessage();
    for (const type of VIEWER_EVENTS) {
      viewer.addEventListener(type, (e: Event) => {
        if (this.#viewer !== viewer) return;
        this.#onViewerEvent(viewer, type, (e as CustomEvent).detail);
        this.dispatchEvent(new CustomEvent(type, { detail: (e as CustomEvent).detail }));
      });
    }
    viewer.start();
  }

  // Janus mode needs both the URL and the room; a numeric room is sent as a number (Janus's default ids).
  #janusOptions(): JanusViewOptions | undefined {
    const url = this.janus;
    const room = this.room;
    if (!url || !room) return undefined;
    return { url, room: /^\d{1,15}$/.test(room) ? Number(room) : room, ...(this.janusPin ? { pin: this.janusPin } : {}) };
  }

  /** Leaves the session (bye) and stops; start() connects again. */
  stop(): void {
    const viewer = this.#viewer;
    if (!viewer) return;
    viewer.stop();
    this.#viewer = null;
    this.#detachInput();
    this.#controlling = false;
    this.#holder = undefined;
    this.#audio = false;
    this.#sound.hidden = true;
    this.#render();
  }

  #onViewerEvent(viewer: Viewer, type: (typeof VIEWER_EVENTS)[number], detail: unknown): void {
    switch (type) {
      case 'state':
        this.#onState(viewer, detail as ViewerState);
        return;
      case 'stats': {
        const stats = detail as ViewerStats;
        this.#statsLine.textContent = formatStats(stats);
        this.#statsLine.title = describeLatency(stats)?.tooltip ?? '';
        if (this.#fallbackShown && stats.framesDecoded > 0) {
          this.#fallbackShown = false;
          this.#hideMessage();
        }
        this.#render();
        return;
      }
      case 'reconnect': {
        const { attempt, delayMs, reason } = detail as ViewerEventMap['reconnect']['detail'];
        if (reason.startsWith(PUBLISHER_ENDED)) this.#publisherSaid = reason;
        this.#detailLine.textContent = `retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s: ${reason}`;
        this.#layoutCard();
        return;
      }
      case 'fallback': {
        this.#fallbackShown = true;
        const reason = (detail as ViewerEventMap['fallback']['detail']).reason;
        if (this.#publisherSaid) this.showMessage('The desktop cannot be streamed', `${this.#publisherSaid}. Still trying…`);
        else this.showMessage('The video is not getting through', `${reason}. Still trying…${this.relay ? '' : ' (If a firewall blocks UDP, try the relay: add &relay=1 to the address, or the relay attribute.)'}`);
        this.#announce(`The video is not getting through. Still trying.`);
        return;
      }
      case 'datachannel': {
        const channel = detail as RTCDataChannel;
        if (channel.label === INPUT_CHANNEL) this.#attachInput(viewer, channel);
        return;
      }
      case 'audio':
        this.#audio = true;
        if (this.#video.muted) this.#sound.hidden = false;
        this.#render();
        return;
      case 'control': {
        // {controlling, holder?: {id, self}}: no holder means nobody controls.
        const c = detail as ControlDetail;
        const was = this.#controlling;
        this.#controlling = c.controlling;
        this.#holder = c.holder && !c.holder.self ? c.holder.id : undefined;
        clearTimeout(this.#controlTimer);
        if (!c.controlling) {
          this.#input?.release();
          this.#touch?.release();
        }
        // Peer ids mean nothing to a person: "another viewer" (the id stays for the tooltip).
        this.#detailLine.textContent = c.controlling
          ? 'you control the desktop'
          : c.holder
            ? 'view only: another viewer took control (click to take it back)'
            : 'view only: nobody controls (click to take control)';
        if (was !== c.controlling) this.#announce(c.controlling ? 'You control the desktop' : c.holder ? 'View only: another viewer took control' : 'View only: nobody controls the desktop');
        this.#cursor?.update();
        this.#render();
        return;
      }
      case 'clipboard':
        this.#remoteClipboard = detail as string;
        this.#toolbar.setRemoteClipboard(this.#remoteClipboard);
        return;
      case 'resize': {
        const r = detail as ViewerEventMap['resize']['detail'];
        if (!r.ok) {
          this.#detailLine.textContent = `resize refused: ${r.message ?? r.code}`;
          this.#announce(`The desktop refused to resize: ${r.message ?? r.code}`);
          if (r.code === 'unsupported') {
            this.#resizeSupported = false;
            if (this.scale === 'remote') this.scale = 'fit';
          }
        }
        this.#render();
        return;
      }
      case 'quality': {
        // The publisher's answer: the ceiling in force (clamped to its range), absent for none.
        const q = detail as { maxBitrate?: number } | null;
        this.#maxBitrate = typeof q?.maxBitrate === 'number' ? q.maxBitrate : null;
        this.#render();
        return;
      }
      case 'janus': {
        // Janus mode: a subscription that cannot work (a refused pin, a URL this page may not reach) says so.
        const j = detail as ViewerEventMap['janus']['detail'];
        if (j.state === 'failed') this.showMessage('The video from Janus is not available', `${j.reason ?? 'the subscription failed'}. Input still goes to the desktop.`);
        else if (j.state === 'subscribed') this.#hideMessage();
        return;
      }
      case 'error':
        return;
    }
  }

  #onState(viewer: Viewer, state: ViewerState): void {
    let detail = '';
    if (state === 'connected') this.#publisherSaid = undefined;
    if (state === 'waiting-for-publisher' || state === 'reconnecting') detail = viewer.reason ?? '';
    const said = this.#publisherSaid;
    if (state !== 'connected' && said && !detail.includes(said)) detail = detail ? `${detail} · ${said}` : said;
    if (this.relay && (state === 'negotiating' || state === 'connected')) detail = 'relay only (TURN)';
    this.#setState(state, detail);
    if (state === 'failed' && viewer.failureReason === EXPIRED_LINK) {
      this.showMessage('This link has expired', 'Ask for a new link to keep watching (reloading this one will not help).', true);
    } else if (state === 'failed') {
      this.showMessage('Cannot show the desktop', viewer.failureReason ?? 'The viewer gave up.', true);
    } else if (state === 'stopped') {
      this.showMessage('Stopped', 'The viewer was stopped. Reload the page to connect again.');
    } else if (!this.#fallbackShown) {
      this.#hideMessage();
    }
    if (state !== 'connected') {
      this.#controlling = false;
      this.#holder = undefined;
    }
    const reason = state === 'failed' ? `: ${viewer.failureReason ?? ''}` : state === 'reconnecting' && viewer.reason ? `: ${viewer.reason}` : '';
    this.#announce(`${STATE_LABELS[state].replace('…', '')}${reason}`);
    // The first picture: show the toolbar for a moment, so a new user sees there is one.
    if (state === 'connected' && !this.#introduced && this.getAttribute('toolbar') !== 'none') {
      this.#introduced = true;
      this.#toolbar.open('intro');
    }
    this.#render();
  }

  #setState(state: ViewerState, detail: string): void {
    this.#overlay.dataset.state = state;
    this.#overlay.className = `state-${state}`;
    this.#stateLine.textContent = STATE_LABELS[state];
    this.#detailLine.textContent = detail;
    if (state !== 'connected' && state !== 'negotiating') this.#statsLine.textContent = '';
    this.#layoutOverlay();
    this.#layoutCard();
  }

  #layoutCard(): void {
    const state = this.#overlay.dataset.state as ViewerState;
    const waiting = state === 'connecting' || state === 'waiting-for-publisher' || state === 'negotiating' || state === 'reconnecting';
    this.#card.hidden = !waiting || !this.#message.hidden || (state === 'negotiating' && (this.#viewer?.stats?.framesDecoded ?? 0) > 0);
    this.#card.className = `state-${state}`;
    this.#cardTitle.textContent = STATE_LABELS[state].replace(/^./, (c) => c.toUpperCase());
    this.#cardBody.textContent = this.#detailLine.textContent ?? '';
  }

  // 's' hides the stats line only. While connected with the stats hidden nothing needs saying, so the
  // overlay goes; any other state brings it back.
  #layoutOverlay(): void {
    this.#statsLine.hidden = !this.#statsShown;
    this.#overlay.hidden = this.#overlay.dataset.state === 'connected' && !this.#statsShown;
  }

  /** Shows or hides the statistics line (the page's 's'). */
  toggleStats(force?: boolean): void {
    this.#statsShown = force ?? !this.#statsShown;
    this.#layoutOverlay();
    this.#render();
  }

  /** A centred message (failures, expired links); `failed` marks it as an error. */
  showMessage(title: string, body: string, failed = false): void {
    this.#messageTitle.textContent = title;
    this.#messageBody.textContent = body;
    this.#message.classList.toggle('failed', failed);
    this.#message.hidden = false;
    this.#card.hidden = true;
  }

  #hideMessage(): void {
    this.#message.hidden = true;
    if (this.#overlay.dataset.state) this.#layoutCard();
  }

  #announce(text: string): void {
    // The same words twice are not read again unless the text changes: add a marker.
    this.#live.textContent = text === this.#lastAnnounced ? `${text}\u00a0` : text;
    this.#lastAnnounced = this.#live.textContent;
  }

  // ---- input, clipboard, keys, resize ----

  #pickVideo(): void {
    const slotted = this.#slot.assignedElements().find((e): e is HTMLVideoElement => e instanceof HTMLVideoElement);
    const video = slotted ?? this.#ownVideo;
    // Autoplay: muted and inline, as attributes and properties.
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    if (video === this.#video) return;
    video.addEventListener('resize', () => this.#applyScale());
    this.#video = video;
    // A running viewer keeps the element it started with: reconnect onto the new one.
    if (this.#viewer) {
      this.stop();
      this.start();
    }
  }

  #attachInput(viewer: Viewer, channel: RTCDataChannel): void {
    this.#detachInput();
    this.#channel = channel;
    this.#input = captureInput(this.#video, channel);
    // Touch screens: taps, long presses, two-finger scrolls and pinch-zoom of the view (touch.ts).
    this.#touch = attachTouch(this.#video, { send: (m) => void this.#send(m) });
    this.#extras = attachRemoteExtras(viewer, this.#video, channel, { resizeRemote: false });
    // The pointer as data (publish({pointer: 'channel'})): drawn here, not in the picture.
    this.#cursor = attachCursor(this.#video, channel, { layer: this.#stage, controlling: () => (this.#input?.active ?? false) && this.#controlling });
    const onOpen = () => {
      if (this.scale === 'remote') this.#askRemoteSize(true);
      this.#render();
    };
    if (channel.readyState === 'open') onOpen();
    else channel.addEventListener('open', onOpen, { once: true });
    channel.addEventListener('close', () => {
      if (this.#channel !== channel) return;
      this.#detachInput();
      this.#render();
    });
    this.#render();
  }

  #detachInput(): void {
    this.#input?.detach();
    this.#touch?.detach();
    this.#extras?.detach();
    this.#cursor?.detach();
    this.#input = this.#touch = this.#extras = this.#cursor = this.#channel = undefined;
    clearTimeout(this.#controlTimer);
  }

  #send(message: ViewerMessage): boolean {
    const channel = this.#channel;
    if (!channel || channel.readyState !== 'open') return false;
    channel.send(JSON.stringify(message));
    return true;
  }

  /** Asks for the VM's mouse and keyboard (the token must allow control). */
  takeControl(): boolean {
    if (!this.#channel || this.#channel.readyState !== 'open') return false;
    this.#input?.take();
    this.#video.focus();
    clearTimeout(this.#controlTimer);
    this.#controlTimer = setTimeout(() => {
      if (!this.#controlling) this.#announce('The desktop did not give control: this link may be view-only');
    }, CONTROL_ANSWER_MS);
    return true;
  }

  /** Stops sending input; the VM keeps its state until another viewer takes control. */
  releaseControl(): void {
    const v = this.#viewer as (Viewer & ViewerExtensions) | null;
    if (typeof v?.releaseControl === 'function') v.releaseControl();
    this.#input?.release();
    this.#controlling = false;
    this.#cursor?.update();
    this.#announce('You released control: view only');
    this.#render();
  }

  /** Sends a combination the browser keeps (Ctrl+Alt+Del, Super, F-keys…); takes control first if needed. */
  sendKeys(key: SpecialKey): boolean {
    const v = this.#viewer as (Viewer & ViewerExtensions) | null;
    if (!this.#channel || this.#channel.readyState !== 'open') return false;
    if (!this.#controlling) this.takeControl();
    if (typeof v?.sendKeys === 'function') {
      try {
        v.sendKeys(key.keys.map(([k]) => k).join('+'));
        return true;
      } catch {
        /* a name that Viewer does not know: sent key by key below */
      }
    }
    for (const [k, code] of key.keys) this.#send({ t: 'key', key: k, code, down: true });
    for (const [k, code] of [...key.keys].reverse()) this.#send({ t: 'key', key: k, code, down: false });
    return true;
  }

  /** Brings up the device's keyboard (call from a user gesture): its typing goes to the VM. */
  showKeyboard(): boolean {
    if (!this.#touch) return false;
    if (!this.#controlling) this.takeControl();
    this.#touch.showKeyboard();
    return true;
  }

  /** The touch input (gestures, zoom of the view, device keyboard) while connected to the VM's input. */
  get touch(): TouchInput | undefined {
    return this.#touch;
  }

  /** Puts text on the VM's clipboard; takes control first if needed. */
  sendClipboard(text: string): boolean {
    if (!this.#extras || !this.#channel || this.#channel.readyState !== 'open') return false;
    if (!this.#controlling) this.takeControl();
    return this.#extras.sendClipboard(text);
  }

  /** The most the publisher may send this viewer, bits/s (null: no ceiling); false if this viewer cannot ask. */
  setMaxBitrate(bps: number | null): boolean {
    const v = this.#viewer as (Viewer & ViewerExtensions) | null;
    if (typeof v?.setMaxBitrate !== 'function') return false;
    try {
      v.setMaxBitrate(bps);
    } catch {
      return false; // outside the range the Viewer accepts
    }
    this.#maxBitrate = bps;
    this.#announce(bps === null ? 'Quality: automatic' : `Quality: at most ${bps >= 1_000_000 ? `${bps / 1_000_000} Mb/s` : `${bps / 1000} kb/s`}`);
    this.#render();
    return true;
  }

  #applyScale(): void {
    const v = this.#video;
    if (this.scale === 'actual' && v.videoWidth) {
      const dpr = window.devicePixelRatio || 1;
      this.style.setProperty('--webrtcbin-video-width', `${v.videoWidth / dpr}px`);
      this.style.setProperty('--webrtcbin-video-height', `${v.videoHeight / dpr}px`);
    }
    // A slotted video is styled by ::slotted() only as far as its own styles allow: set it directly.
    if (v !== this.#ownVideo) {
      const actual = this.scale === 'actual' && v.videoWidth > 0;
      const dpr = window.devicePixelRatio || 1;
      v.style.width = actual ? `${v.videoWidth / dpr}px` : '';
      v.style.height = actual ? `${v.videoHeight / dpr}px` : '';
    }
  }

  #onResize(): void {
    const size = `${this.clientWidth}x${this.clientHeight}`;
    if (size === this.#lastSize) return;
    this.#lastSize = size;
    this.#cursor?.update();
    if (this.scale === 'remote') this.#askRemoteSize();
  }

  /** Asks the VM's screen for this element's size in device pixels (at once, or debounced). */
  #askRemoteSize(now = false): void {
    clearTimeout(this.#resizeTimer);
    const ask = () => {
      if (this.scale !== 'remote' || !this.#extras) return;
      const dpr = window.devicePixelRatio || 1;
      this.#extras.requestResize(Math.round(this.clientWidth * dpr), Math.round(this.clientHeight * dpr));
    };
    if (now) ask();
    else this.#resizeTimer = setTimeout(ask, RESIZE_DEBOUNCE_MS);
  }

  // ---- full screen and keyboard ----

  /** Full screen on this element, with the keyboard locked where the browser allows (Chromium). */
  async toggleFullscreen(): Promise<void> {
    if (document.fullscreenElement) {
      await document.exitFullscreen().catch(() => {});
      return;
    }
    try {
      await this.requestFullscreen({ navigationUI: 'hide' });
    } catch {
      this.#announce('The browser refused full screen');
    }
  }

  #onFullscreen = (): void => {
    const mine = document.fullscreenElement === this;
    if (mine) void this.#lockKeyboard();
    else {
      this.#keyboardLocked = false;
      (navigator as Navigator & { keyboard?: { unlock?(): void } }).keyboard?.unlock?.();
      this.#hint.hidden = true;
    }
    this.#render();
  };

  async #lockKeyboard(): Promise<void> {
    const keyboard = (navigator as Navigator & { keyboard?: { lock?(keys?: string[]): Promise<void> } }).keyboard;
    let locked = false;
    if (typeof keyboard?.lock === 'function') {
      try {
        await keyboard.lock();
        locked = document.fullscreenElement === this;
      } catch {
        locked = false;
      }
    }
    this.#keyboardLocked = locked;
    this.#hint.replaceChildren(
      ...(locked
        ? ['Hold ', kbd('Esc'), ' to leave full screen. Browser shortcuts now go to the desktop.']
        : ['Press ', kbd('Esc'), ' to leave full screen. This browser keeps its own shortcuts (use Special keys).']),
    );
    this.#hint.hidden = false;
    this.#announce(locked ? 'Full screen. Hold Escape to leave.' : 'Full screen. Press Escape to leave.');
    clearTimeout(this.#hintTimer);
    this.#hintTimer = setTimeout(() => (this.#hint.hidden = true), 4000);
    this.#render();
  }

  #onKey = (e: KeyboardEvent): void => {
    // Ctrl+Alt+Shift opens the toolbar (as Guacamole's menu), wherever focus is in this element.
    if (e.ctrlKey && e.altKey && e.shiftKey && ['Control', 'Alt', 'Shift'].includes(e.key) && this.#owns(e)) {
      e.preventDefault();
      e.stopImmediatePropagation();
      // The two modifiers already pressed went to the VM: let go of them there.
      if (this.#input?.active) for (const [key, code] of [['Control', 'ControlLeft'], ['Alt', 'AltLeft'], ['Shift', 'ShiftLeft']] as const) this.#send({ t: 'key', key, code, down: false });
      this.#toolbar.toggle(true);
      return;
    }
    // Locked keyboard: a held Escape leaves full screen; a short one still reaches the VM.
    if (e.key === 'Escape' && this.#keyboardLocked && !e.repeat) {
      clearTimeout(this.#escTimer);
      this.#escTimer = setTimeout(() => void document.exitFullscreen().catch(() => {}), ESC_HOLD_MS);
    }
  };

  #onKeyUp = (e: KeyboardEvent): void => {
    if (e.key === 'Escape') clearTimeout(this.#escTimer);
  };

  #owns(e: Event): boolean {
    return e.composedPath().includes(this) || document.activeElement === document.body || document.activeElement === null;
  }

  /** Opens or closes the toolbar (`focus`: its first button gets keyboard focus). */
  toggleToolbar(focus = true): void {
    this.#toolbar.toggle(focus);
  }

  #render(): void {
    const state = this.#viewer?.state ?? 'stopped';
    const s: ToolbarState = {
      state,
      stateLabel: STATE_LABELS[state].replace('…', ''),
      latencyMs: this.#viewer?.stats?.latencyEstimateMs ?? null,
      glassToGlassMs: this.#viewer?.stats?.glassToGlassMs ?? null,
      glassToGlassUncertaintyMs: this.#viewer?.stats?.glassToGlassUncertaintyMs ?? null,
      inputReady: this.#channel?.readyState === 'open',
      controlling: this.#controlling,
      holder: this.#holder,
      audio: this.#audio,
      muted: this.#video.muted,
      statsShown: this.#statsShown,
      fullscreen: typeof document !== 'undefined' && document.fullscreenElement === this,
      scale: this.scale,
      resizeSupported: this.#resizeSupported,
      qualitySupported: typeof (this.#viewer as (Viewer & ViewerExtensions) | null)?.setMaxBitrate === 'function',
      maxBitrate: this.#maxBitrate,
      remoteClipboard: this.#remoteClipboard,
    };
    this.#toolbar.render(s);
  }

  // ---- typed events (the Viewer's names) ----
  override addEventListener<K extends keyof WebrtcbinViewerEventMap>(type: K, listener: (this: WebrtcbinViewerElement, ev: WebrtcbinViewerEventMap[K]) => unknown, options?: boolean | AddEventListenerOptions): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void {
    super.addEventListener(type, listener, options);
  }
  override removeEventListener<K extends keyof WebrtcbinViewerEventMap>(type: K, listener: (this: WebrtcbinViewerElement, ev: WebrtcbinViewerEventMap[K]) => unknown, options?: boolean | EventListenerOptions): void;
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void {
    super.removeEventListener(type, listener, options);
  }
}

function kbd(text: string): HTMLElement {
  const k = document.createElement('kbd');
  k.textContent = text;
  return k;
}

/** Registers the element as `name` (default `webrtcbin-viewer`); a no-op outside a browser or when taken. */
export function defineViewerElement(name = 'webrtcbin-viewer'): void {
  if (typeof customElements === 'undefined' || customElements.get(name)) return;
  // A second name needs its own class: one constructor cannot be defined twice.
  const ctor = customElements.getName?.(WebrtcbinViewerElement) ? class extends WebrtcbinViewerElement {} : WebrtcbinViewerElement;
  customElements.define(name, ctor);
}

declare global {
  interface HTMLElementTagNameMap {
    'webrtcbin-viewer': WebrtcbinViewerElement;
  }
}
