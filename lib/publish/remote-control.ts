// Desktop control from viewers, on each viewer's "input" data channel: mouse and keyboard injected
// into the X display (XTest), the X CLIPBOARD shared both ways, and screen resizes (RandR). One viewer
// controls at a time (the last to take control); every viewer allowed control is told who holds it.
// Messages from a viewer whose token does not allow control, or that does not control, are dropped,
// except `quality` (any viewer's ceiling on its own stream). Exists only on a publisher that takes input.
import { InputInjector } from '../input/injector.js';
import { XClipboard } from '../input/clipboard.js';
import { ScreenResizer } from '../input/screen.js';
import { INPUT_CHANNEL, MAX_CLIPBOARD_CHARS, MAX_VIEWER_MESSAGE_CHARS, QUALITY_LIMITS, checkViewerMessage, type AgentMessage, type QualityResult, type ResizeResult } from '../input/protocol.js';
import type { Logger } from '../signaling/client.js';
import type { ScreenRegion, SourceOptions } from '../types.js';
import { errorMessage } from '../util/emit.js';
import type { ViewerSession } from './viewer-session.js';

export interface RemoteControlOptions {
  /** What the publisher captures: its X display and region are what input goes to. */
  source: SourceOptions | undefined;
  /** Share the X CLIPBOARD with the controlling viewer. */
  clipboard: boolean;
  /** The controlling viewer may resize the X screen. */
  resize: boolean;
  log: Logger;
  /** The publisher's session for this viewer, if it still has one. */
  viewer(id: string): ViewerSession | undefined;
  /** The publisher still has this session and is not closing. */
  isCurrent(viewer: ViewerSession): boolean;
  /**
   * Caps a viewer's bitrate (kbit/s; undefined lifts the cap) and returns the cap now in force (clamped
   * to the adaptive-bitrate range), or 'unsupported' (no adaptive bitrate on this publisher).
   */
  capBitrate?(id: string, kbps: number | undefined): number | undefined | 'unsupported';
}

export class RemoteControl {
  readonly #options: RemoteControlOptions;
  readonly #log: Logger;
  #injector: InputInjector | undefined;
  #controller: string | undefined;
  #clipboard: XClipboard | undefined;
  #clipboardFailed = false;
  #resizer: ScreenResizer | undefined;
  // Viewers with an input channel, to tell those allowed control who holds it.
  readonly #viewers = new Set<ViewerSession>();
  // Per viewer: when its last `quality` was applied, and the newest one waiting for its turn.
  readonly #quality = new Map<string, { at: number; timer?: NodeJS.Timeout; pending?: number | undefined }>();

  constructor(options: RemoteControlOptions) {
    this.#options = options;
    this.#log = options.log;
  }

  // The input channel is part of the offer, so it is created before it; messages from a viewer without
  // control, or that is not the current controller, are dropped.
  openInputChannel(viewer: ViewerSession): void {
    const channel = viewer.peer.createDataChannel(INPUT_CHANNEL);
    viewer.input = channel;
    this.#viewers.add(viewer);
    // A viewer allowed control that arrives while another holds it learns who (its page offers to take over).
    channel.on('open', () => {
      if (viewer.control && this.#controller !== undefined && this.#controller !== viewer.id) this.#sendTo(viewer, { t: 'control', controlling: false, holder: this.#controller });
    });
    channel.on('message', (data) => {
      if (!this.#options.isCurrent(viewer) || typeof data !== 'string' || data.length > MAX_VIEWER_MESSAGE_CHARS) return;
      let message: unknown;
      try {
        message = JSON.parse(data);
      } catch {
        return;
      }
      if (!checkViewerMessage.Check(message)) return;
      // Its own stream's ceiling: any viewer may set it, control or not.
      if (message.t === 'quality') return this.#requestQuality(viewer, message.maxBitrate);
      if (!viewer.control) return;
      if (message.t === 'release-control') {
        if (this.#controller !== viewer.id) return;
        this.#log.info({ viewer: viewer.id }, 'publisher: viewer releases control');
        return this.#setController(undefined);
      }
      if (message.t === 'take-control' || this.#controller === undefined) {
        if (this.#controller !== viewer.id) {
          this.#log.info({ viewer: viewer.id, from: this.#controller }, 'publisher: viewer takes control');
          this.#setController(viewer.id);
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
        this.#log.warn({ err: errorMessage(error) }, 'publisher: input injection failed');
      }
    });
  }

  // The hand-over: the one who lost control is told first (its page goes view-only), then the new
  // holder, then every other viewer allowed control (who holds it now, or that nobody does).
  #setController(id: string | undefined): void {
    const previous = this.#controller;
    this.#controller = id;
    const holder = id === undefined ? {} : { holder: id };
    const order = [...this.#viewers].filter((v) => v.control && this.#options.isCurrent(v));
    order.sort((a, b) => rank(a.id) - rank(b.id));
    function rank(v: string): number {
      return v === previous ? 0 : v === id ? 1 : 2;
    }
    for (const viewer of order) this.#sendTo(viewer, { t: 'control', controlling: viewer.id === id, ...holder });
  }

  // At most one `quality` per viewer per QUALITY_LIMITS.intervalMs reaches the encoder: a slider dragged
  // across its range sends dozens; the newest waits for its turn and the ones it replaces are dropped.
  #requestQuality(viewer: ViewerSession, bps: number | undefined): void {
    const { minBitrate, maxBitrate, intervalMs } = QUALITY_LIMITS;
    if (bps !== undefined && !(Number.isInteger(bps) && bps >= minBitrate && bps <= maxBitrate)) {
      const message = `maxBitrate must be a whole number of bits per second from ${minBitrate} to ${maxBitrate}, or absent to lift the ceiling (got ${bps})`;
      return this.#sendTo(viewer, { t: 'quality-result', ok: false, code: 'out-of-range', message });
    }
    const state = this.#quality.get(viewer.id) ?? { at: -Infinity };
    this.#quality.set(viewer.id, state);
    const wait = state.at + intervalMs - performance.now();
    if (wait <= 0 && !state.timer) return this.#applyQuality(viewer, state, bps);
    state.pending = bps;
    state.timer ??= setTimeout(() => {
      state.timer = undefined;
      if (this.#quality.get(viewer.id) === state && this.#options.isCurrent(viewer)) this.#applyQuality(viewer, state, state.pending);
    }, Math.max(0, wait));
  }

  #applyQuality(viewer: ViewerSession, state: { at: number }, bps: number | undefined): void {
    state.at = performance.now();
    const kbps = bps === undefined ? undefined : bps / 1000;
    const now = this.#options.capBitrate ? this.#options.capBitrate(viewer.id, kbps) : 'unsupported';
    let result: QualityResult;
    if (now === 'unsupported') {
      result = { t: 'quality-result', ok: false, code: 'unsupported', message: 'this publisher does not adapt its bitrate (publish({adaptiveBitrate: false}))' };
    } else {
      result = { t: 'quality-result', ok: true, ...(now === undefined ? {} : { maxBitrate: Math.round(now * 1000) }) };
    }
    this.#log.info({ viewer: viewer.id, requested: bps, maxBitrate: result.maxBitrate, ok: result.ok }, 'publisher: viewer quality ceiling');
    this.#sendTo(viewer, result);
  }

  /** The viewer is gone: if it controlled, nobody does now. */
  forget(id: string): void {
    for (const viewer of this.#viewers) if (viewer.id === id && !this.#options.isCurrent(viewer)) this.#viewers.delete(viewer);
    const quality = this.#quality.get(id);
    if (quality?.timer) clearTimeout(quality.timer);
    this.#quality.delete(id);
    if (this.#controller === id) this.#setController(undefined);
  }

  /** Closes the injector, the resizer and the clipboard, one after another. */
  close(): Promise<void> {
    for (const state of this.#quality.values()) if (state.timer) clearTimeout(state.timer);
    this.#quality.clear();
    this.#viewers.clear();
    return Promise.resolve()
      .then(() => this.#injector?.close())
      .then(() => this.#resizer?.close())
      .then(() => this.#clipboard?.close());
  }

  #display(): string {
    return (this.#options.source as { display?: string }).display ?? process.env.DISPLAY ?? ':0';
  }

  // Only to the current controller; a failed send (closed channel, too large) is logged, not fatal.
  #sendToController(out: AgentMessage): void {
    const viewer = this.#controller === undefined ? undefined : this.#options.viewer(this.#controller);
    if (viewer) this.#sendTo(viewer, out);
  }

  #sendTo(viewer: ViewerSession, out: AgentMessage): void {
    if (!viewer.input || viewer.input.readyState !== 'open') return;
    try {
      viewer.input.send(JSON.stringify(out));
    } catch (error) {
      this.#log.warn({ viewer: viewer.id, t: out.t, err: errorMessage(error) }, 'publisher: input channel send failed');
    }
  }

  // Created with the first controller, so X clipboard changes from then on reach whoever controls.
  #xClipboard(): XClipboard | undefined {
    if (this.#clipboard || this.#clipboardFailed || !this.#options.clipboard) return this.#clipboard;
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
      this.#log.warn({ err: errorMessage(error) }, 'publisher: no clipboard sharing');
    }
    return this.#clipboard;
  }

  #resize(viewer: ViewerSession, width: number, height: number): void {
    let result: ResizeResult;
    if (!this.#options.resize) {
      result = { t: 'resize-result', ok: false, width: 0, height: 0, code: 'unsupported', message: 'this publisher does not allow remote resize (publish({resize: true}))' };
    } else {
      try {
        this.#resizer ??= new ScreenResizer(this.#display());
        result = this.#resizer.request(width, height);
      } catch (error) {
        result = { t: 'resize-result', ok: false, width: 0, height: 0, code: 'failed', message: errorMessage(error) };
      }
      if (result.ok) this.#injector?.setScreenSize(result);
    }
    this.#log.info({ viewer: viewer.id, width, height, ok: result.ok, code: result.code }, 'publisher: resize requested');
    this.#sendToController(result);
  }
}
