// Desktop control from viewers, on each viewer's "input" data channel: mouse and keyboard injected
// into the X display (XTest), the X CLIPBOARD shared both ways, and screen resizes (RandR). One viewer
// controls at a time (the last to take control); every viewer allowed control is told who holds it.
// Messages from a viewer whose token does not allow control, or that does not control, are dropped,
// except `quality` (any viewer's ceiling on its own stream), `clock` (any viewer's clock exchange) and
// `cursor-draw` (whether a viewer draws the pointer itself) — or, when they carry a `seq` (the agent's
// RemoteInput), refused with an `ack` saying why. Injection runs in arrival order through one queue
// (typing is paced), and a message with a seq is acknowledged after its injection. Exists only on a
// publisher that takes input.
import { Compile } from 'typebox/compile';
import { InputInjector } from '../input/injector.js';
import { XClipboard } from '../input/clipboard.js';
import { ClipboardAssembler, clipboardMessages } from '../input/clipboard-parts.js';
import { ScreenResizer } from '../input/screen.js';
import { typingPlan, untypable } from '../input/keysyms.js';
import { MAX_PENDING_INPUT } from '../input/limits.js';
import {
  INPUT_CHANNEL,
  MAX_CLIPBOARD_CHARS,
  MAX_VIEWER_MESSAGE_CHARS,
  QUALITY_LIMITS,
  checkViewerMessage,
  ViewerMessage,
  type AgentMessage,
  type InputRefusal,
  type QualityResult,
  type ResizeResult,
} from '../input/protocol.js';
import type { Logger } from '../signaling/client.js';
import type { ScreenRegion, SourceOptions } from '../types.js';
import { errorMessage } from '../util/emit.js';
import { latencyTrace } from '../util/latency-trace.js';
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
  /** A viewer said whether it draws the remote pointer itself (`cursor-draw`); ignored without it. */
  cursorDraw?(viewer: ViewerSession, draws: boolean): void;
}

export class RemoteControl {
  readonly #options: RemoteControlOptions;
  readonly #log: Logger;
  #injector: InputInjector | undefined;
  #controller: string | undefined;
  #clipboard: XClipboard | undefined;
  #clipboardFailed = false;
  #resizer: ScreenResizer | undefined;
  /** Injection in arrival order: a message waits for the typing before it. */
  #queue: Promise<void> = Promise.resolve();
  #pending = 0;
  /** The text a viewer put on the X CLIPBOARD, while this process still owns it (a read answers it). */
  #ownText: string | undefined;
  #closed = false;
  /** Each viewer's clipboard text under way in parts (`clipboard-part`), and our own texts' numbers. */
  readonly #clipboardParts = new Map<string, ClipboardAssembler>();
  #clipboardId = 0;
  // Viewers with an input channel, to tell those allowed control who holds it.
  readonly #viewers = new Set<ViewerSession>();
  // Per viewer: when its last `quality` was applied, and the newest one waiting for its turn.
  readonly #quality = new Map<string, { at: number; timer?: NodeJS.Timeout; pending?: number | undefined }>();

  constructor(options: RemoteControlOptions) {
    this.#options = options;
    this.#log = options.log;
  }

  // The input channel is part of the offer, so it is created before it.
  openInputChannel(viewer: ViewerSession): void {
    const channel = viewer.peer.createDataChannel(INPUT_CHANNEL);
    viewer.input = channel;
    this.#viewers.add(viewer);
    // A viewer allowed control that arrives while another holds it learns who (its page offers to take over).
    channel.on('open', () => {
      if (viewer.control && this.#controller !== undefined && this.#controller !== viewer.id) this.#sendTo(viewer, { t: 'control', controlling: false, holder: this.#controller });
    });
    channel.on('message', (data) => this.#onMessage(viewer, data));
  }

  #onMessage(viewer: ViewerSession, data: string | Buffer): void {
    const received = Date.now();
    latencyTrace('input-js');
    if (!this.#options.isCurrent(viewer) || typeof data !== 'string' || data.length > MAX_VIEWER_MESSAGE_CHARS) return;
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    const seq = seqOf(message);
    const refuse = (code: InputRefusal, why: string) => this.#ack(viewer, seq, code, why);
    if (!checkViewerMessage.Check(message)) return refuse('invalid', invalidWhy(message));
    // Its own stream's ceiling: any viewer may set it, control or not.
    if (message.t === 'quality') return this.#requestQuality(viewer, message.maxBitrate);
    // Any viewer's clock exchange: answered at once, on the clock the capture times are stamped with.
    if (message.t === 'clock') return this.#sendTo(viewer, { t: 'clock-reply', t0: message.t0, t1: received, t2: Date.now() });
    // Any viewer: how it shows the pointer is about its own picture.
    if (message.t === 'cursor-draw') {
      this.#options.cursorDraw?.(viewer, message.draws);
      return this.#ack(viewer, seq);
    }
    if (!viewer.control) return refuse('view-only', "this viewer's token does not allow control: use a token minted with control: true");
    if (message.t === 'release-control') {
      if (this.#controller !== viewer.id) return refuse('not-in-control', NOT_IN_CONTROL);
      this.#log.info({ viewer: viewer.id }, 'publisher: viewer releases control');
      this.#setController(undefined);
      return this.#ack(viewer, seq);
    }
    if (message.t === 'take-control' || this.#controller === undefined) {
      if (this.#controller !== viewer.id) {
        this.#log.info({ viewer: viewer.id, from: this.#controller }, 'publisher: viewer takes control');
        this.#setController(viewer.id);
        this.#xClipboard()?.fetch(); // the new controller gets what is on the clipboard now
      }
      if (message.t === 'take-control') return this.#ack(viewer, seq);
    }
    if (this.#controller !== viewer.id) return refuse('not-in-control', NOT_IN_CONTROL);
    if (this.#pending >= MAX_PENDING_INPUT) {
      return refuse('rate-limited', `${MAX_PENDING_INPUT} input messages already wait to be injected: wait for their acknowledgements before sending more`);
    }
    this.#pending++;
    latencyTrace('input-checked');
    const run = () => this.#inject(viewer, message as Injected, seq);
    this.#queue = this.#queue
      .then(run)
      .catch((error: unknown) => this.#log.warn({ err: errorMessage(error) }, 'publisher: input message failed'))
      .finally(() => this.#pending--);
  }

  /** Still the controller, and nothing is closing: its queued input may go on. */
  #controls(viewer: ViewerSession): boolean {
    return !this.#closed && this.#options.isCurrent(viewer) && this.#controller === viewer.id;
  }

  // One queued message; control is checked again (another viewer may have taken it while typing ran).
  async #inject(viewer: ViewerSession, message: Injected, seq: number | undefined): Promise<void> {
    const refuse = (code: InputRefusal, why: string) => this.#ack(viewer, seq, code, why);
    if (!this.#controls(viewer)) return refuse('not-in-control', NOT_IN_CONTROL);
    switch (message.t) {
      case 'clipboard': {
        const clipboard = this.#xClipboard();
        if (!clipboard) return refuse('unsupported', NO_CLIPBOARD);
        clipboard.setText(message.text);
        this.#ownText = message.text;
        return this.#ack(viewer, seq);
      }
      case 'clipboard-part': {
        const clipboard = this.#xClipboard();
        if (!clipboard) return refuse('unsupported', NO_CLIPBOARD);
        let parts = this.#clipboardParts.get(viewer.id);
        if (!parts) this.#clipboardParts.set(viewer.id, (parts = new ClipboardAssembler()));
        const text = parts.add(message);
        if (text !== undefined) {
          clipboard.setText(text);
          this.#ownText = text;
        }
        return this.#ack(viewer, seq);
      }
      case 'clipboard-read': {
        const answer = await this.#readClipboard();
        if ('text' in answer) return this.#sendTo(viewer, { t: 'clipboard', text: answer.text, seq: message.seq });
        return refuse(answer.code, answer.message);
      }
      case 'resize':
        return this.#resize(viewer, message.width, message.height, seq);
    }
    let injector: InputInjector;
    try {
      injector = this.#injector ??= new InputInjector(this.#display(), (this.#options.source as { region?: ScreenRegion }).region);
    } catch (error) {
      this.#log.warn({ err: errorMessage(error) }, 'publisher: input injection failed');
      return refuse('failed', `the X display cannot take input: ${errorMessage(error)}`);
    }
    latencyTrace('input-inject');
    try {
      if (message.t === 'type') {
        const bad = untypable(message.text);
        if (bad) return refuse('invalid', `the text holds ${bad}: send it as keys or leave it out`);
        const keys = typingPlan(message.text);
        const typed = await injector.type(keys, () => this.#controls(viewer));
        if (typed < keys.length) return refuse('not-in-control', `typing stopped after ${typed} of ${keys.length} characters: ${NOT_IN_CONTROL}`);
        return this.#ack(viewer, seq);
      }
      // A round trip to X only when an acknowledgement will say the input happened.
      if (!injector.apply(message, seq !== undefined)) {
        const what = message.t === 'key' ? `X has no keysym for the key '${message.key}'` : 'a wheel message with dx and dy both 0 scrolls nothing';
        return refuse('invalid', what);
      }
    } catch (error) {
      this.#log.warn({ err: errorMessage(error) }, 'publisher: input injection failed');
      return refuse('failed', `X refused the input: ${errorMessage(error)}`);
    }
    this.#ack(viewer, seq);
  }

  // The X CLIPBOARD's text now, fetched from its owner. fetch() is silent when we own it or nobody
  // does: then the wait ends with the viewer's text (a short wait: another owner's text comes within
  // ms of its taking the selection) or '' (the native fetch gives up on a silent owner after 2 s).
  #readClipboard(): Promise<{ text: string } | { code: InputRefusal; message: string }> {
    const clipboard = this.#xClipboard();
    if (!clipboard) return Promise.resolve({ code: 'unsupported', message: NO_CLIPBOARD });
    const own = this.#ownText;
    return new Promise((resolve) => {
      const done = (answer: { text: string } | { code: InputRefusal; message: string }) => {
        clearTimeout(timer);
        clipboard.off('text', onText);
        clipboard.off('warning', onWarning);
        resolve(answer);
      };
      const onText = (text: string) =>
        done(text.length > MAX_CLIPBOARD_CHARS ? { code: 'failed', message: `the X clipboard text is longer than ${MAX_CLIPBOARD_CHARS} characters` } : { text });
      const onWarning = (warning: Error) => done({ code: 'failed', message: warning.message });
      const timer = setTimeout(() => done({ text: this.#ownText ?? '' }), own === undefined ? CLIPBOARD_READ_MS : OWN_CLIPBOARD_SETTLE_MS);
      clipboard.on('text', onText);
      clipboard.on('warning', onWarning);
      clipboard.fetch();
    });
  }

  /** Answers a message that carried a seq: ok, or refused with a code and why. */
  #ack(viewer: ViewerSession, seq: number | undefined, code?: InputRefusal, why?: string): void {
    if (seq === undefined) return;
    this.#sendTo(viewer, code ? { t: 'ack', seq, ok: false, code, message: why } : { t: 'ack', seq, ok: true });
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
    this.#clipboardParts.delete(id);
    for (const viewer of this.#viewers) if (viewer.id === id && !this.#options.isCurrent(viewer)) this.#viewers.delete(viewer);
    const quality = this.#quality.get(id);
    if (quality?.timer) clearTimeout(quality.timer);
    this.#quality.delete(id);
    if (this.#controller === id) this.#setController(undefined);
  }

  /** Closes the injector, the resizer and the clipboard, one after another. */
  close(): Promise<void> {
    this.#closed = true; // typing in progress stops at its next key
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
        // Over CLIPBOARD_PART_CHARS in parts: one message could exceed the channel's message size.
        this.#clipboardId = (this.#clipboardId + 1) % 2 ** 31;
        for (const message of clipboardMessages(text, this.#clipboardId)) this.#sendToController(message);
      });
      // Another X client took the clipboard (or tried): it no longer holds the viewer's text.
      clipboard.on('text', () => (this.#ownText = undefined));
      clipboard.on('warning', () => (this.#ownText = undefined));
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

  #resize(viewer: ViewerSession, width: number, height: number, seq?: number): void {
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
    this.#sendToController(seq === undefined ? result : { ...result, seq });
  }
}

/** The messages that go through the injection queue (control and quality are handled as they arrive). */
type Injected = Exclude<ViewerMessage, { t: 'take-control' | 'release-control' | 'quality' | 'clock' | 'cursor-draw' }>;

const NOT_IN_CONTROL = 'another viewer controls the desktop: send take-control to take it back';
const NO_CLIPBOARD = 'this publisher does not share its clipboard (publish({clipboard: false}), or X has no XFIXES)';
const CLIPBOARD_READ_MS = 2500;
const OWN_CLIPBOARD_SETTLE_MS = 250;

/** The seq a message asked to be acknowledged with, if any (read before the schema check, so a malformed message can be refused by it). */
function seqOf(message: unknown): number | undefined {
  const seq = (message as { seq?: unknown } | null)?.seq;
  return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? seq : undefined;
}

// Each member compiled on its own: the union's errors stop at its first members, not the one `t` names.
let memberChecks: ReturnType<typeof Compile>[] | undefined;

/** What is wrong with a message, in words a caller can act on: the first error of the member its `t` names. */
function invalidWhy(message: unknown): string {
  const t = (message as { t?: unknown } | null)?.t;
  const member = ViewerMessage.anyOf.findIndex((schema) => (schema.properties.t as { const?: unknown }).const === t);
  if (member < 0) return `unknown input message type ${JSON.stringify(typeof t === 'string' ? t.slice(0, 32) : t ?? null)} (docs/protocol.md, input channel)`;
  memberChecks ??= ViewerMessage.anyOf.map((schema) => Compile(schema));
  const first = memberChecks[member]!.Errors(message)[0] as { instancePath?: string; message?: string } | undefined;
  const where = first?.instancePath ? ` at ${first.instancePath}` : '';
  return `the '${t as string}' message does not match the input protocol${where}: ${first?.message ?? 'malformed'} (docs/protocol.md, input channel)`;
}
