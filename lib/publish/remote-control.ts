// Desktop control from viewers, on each viewer's "input" data channel: mouse and keyboard injected
// into the X display (XTest), the X CLIPBOARD shared both ways, and screen resizes (RandR). One viewer
// controls at a time (the last to take control); messages from a viewer whose token does not allow
// control, or that does not control, are dropped. Exists only on a publisher that takes input.
import { InputInjector } from '../input/injector.js';
import { XClipboard } from '../input/clipboard.js';
import { ClipboardAssembler, clipboardMessages } from '../input/clipboard-parts.js';
import { ScreenResizer } from '../input/screen.js';
import { INPUT_CHANNEL, MAX_CLIPBOARD_CHARS, MAX_VIEWER_MESSAGE_CHARS, checkViewerMessage, type AgentMessage, type ResizeResult } from '../input/protocol.js';
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
}

export class RemoteControl {
  readonly #options: RemoteControlOptions;
  readonly #log: Logger;
  #injector: InputInjector | undefined;
  #controller: string | undefined;
  #clipboard: XClipboard | undefined;
  #clipboardFailed = false;
  #resizer: ScreenResizer | undefined;
  /** Each viewer's clipboard text under way in parts (`clipboard-part`), and our own texts' numbers. */
  readonly #clipboardParts = new Map<string, ClipboardAssembler>();
  #clipboardId = 0;

  constructor(options: RemoteControlOptions) {
    this.#options = options;
    this.#log = options.log;
  }

  // The input channel is part of the offer, so it is created before it; messages from a viewer without
  // control, or that is not the current controller, are dropped.
  openInputChannel(viewer: ViewerSession): void {
    const channel = viewer.peer.createDataChannel(INPUT_CHANNEL);
    viewer.input = channel;
    channel.on('message', (data) => {
      if (!this.#options.isCurrent(viewer) || !viewer.control || typeof data !== 'string' || data.length > MAX_VIEWER_MESSAGE_CHARS) return;
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
          const previous = this.#controller === undefined ? undefined : this.#options.viewer(this.#controller);
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
      if (message.t === 'clipboard-part') {
        let parts = this.#clipboardParts.get(viewer.id);
        if (!parts) this.#clipboardParts.set(viewer.id, (parts = new ClipboardAssembler()));
        const text = parts.add(message);
        if (text !== undefined) this.#xClipboard()?.setText(text);
        return;
      }
      if (message.t === 'resize') return this.#resize(viewer, message.width, message.height);
      try {
        this.#injector ??= new InputInjector(this.#display(), (this.#options.source as { region?: ScreenRegion }).region);
        this.#injector.apply(message);
      } catch (error) {
        this.#log.warn({ err: errorMessage(error) }, 'publisher: input injection failed');
      }
    });
  }

  /** The viewer is gone: if it controlled, nobody does now. */
  forget(id: string): void {
    if (this.#controller === id) this.#controller = undefined;
    this.#clipboardParts.delete(id);
  }

  /** Closes the injector, the resizer and the clipboard, one after another. */
  close(): Promise<void> {
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
