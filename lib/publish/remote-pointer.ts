// The pointer over the input channel: the X cursor's shape and position sent to viewers, controller or
// not, so the page draws it and pointer motion needs no video frame. With publish({pointer: 'channel'})
// every viewer gets it (the capture runs with showPointer: false); with 'auto' (the default) only
// viewers that said they draw it (`cursor-draw`), each told whether the picture has the pointer now
// (`cursor-picture`, at once and on every flip: pointer-picture.ts decides). Each viewer is sent a shape
// once (`cursor-shape`), then `cursor` messages naming it by id. The position is read from X only while
// some viewer takes it; the shape is event-driven (XFixes) and costs nothing while it does not change.
import { XCursorWatcher, type CursorPosition, type CursorShape } from '../input/cursor.js';
import type { AgentMessage, CursorMessage } from '../input/protocol.js';
import type { Logger } from '../signaling/client.js';
import type { ScreenRegion } from '../types.js';
import { errorMessage } from '../util/emit.js';
import type { ViewerSession } from './viewer-session.js';

/**
 * How the pointer reaches viewers: drawn into the video by the capture ('video'), sent on the data
 * channel ('channel'), or as data to viewers that draw it and in the picture only while a viewer that
 * cannot draw it watches ('auto').
 */
export type PointerMode = 'auto' | 'video' | 'channel';

/** A `cursor` message's fields. */
type Placed = Omit<CursorMessage, 't'>;

export interface RemotePointerOptions {
  display: string;
  /** The captured part of the screen: positions are sent relative to it. */
  region: ScreenRegion | undefined;
  log: Logger;
  isCurrent(viewer: ViewerSession): boolean;
  /** 'auto': only viewers that said they draw the pointer get it (and `cursor-picture`). */
  drawersOnly: boolean;
  /** The pointer can no longer be read (the watcher failed): viewers get no more of it. */
  onUnavailable?(): void;
}

/** What a viewer whose channel is open has: the shape ids it was sent, and whether it draws the pointer. */
interface Taker {
  shapes: Set<number>;
  draws: boolean;
}

export class RemotePointer {
  readonly #options: RemotePointerOptions;
  #watcher: XCursorWatcher | undefined;
  #failed = false;
  /** Viewers whose channel is open. */
  readonly #viewers = new Map<ViewerSession, Taker>();
  #last: Placed | undefined;
  /** Whether the picture has the pointer now (what drawing viewers are told). */
  #inPicture: boolean;

  constructor(options: RemotePointerOptions) {
    this.#options = options;
    this.#inPicture = options.drawersOnly;
  }

  /** After RemoteControl.openInputChannel(viewer): once its channel opens the viewer gets the pointer. */
  add(viewer: ViewerSession): void {
    const channel = viewer.input;
    if (!channel) return;
    const start = () => {
      if (!this.#options.isCurrent(viewer) || viewer.input !== channel || this.#viewers.has(viewer)) return;
      this.#viewers.set(viewer, { shapes: new Set(), draws: false });
      if (!this.#options.drawersOnly) this.#start(viewer);
    };
    if (channel.readyState === 'open') start();
    else channel.on('open', start);
    channel.on('close', () => {
      // This session's channel only: a rejoined viewer with the same id has its own entry.
      this.#viewers.delete(viewer);
      this.#idle();
    });
  }

  /**
   * The viewer said whether it draws the pointer itself (`cursor-draw`): it is told whether the picture
   * has it, and with 'auto' it gets the pointer from now on (or no longer).
   */
  draws(viewer: ViewerSession, draws: boolean): void {
    const taker = this.#viewers.get(viewer);
    if (!taker || !this.#options.isCurrent(viewer) || taker.draws === draws) return;
    taker.draws = draws;
    if (draws) this.#sendTo(viewer, { t: 'cursor-picture', shown: this.#inPicture });
    if (!this.#options.drawersOnly) return;
    if (draws) this.#start(viewer);
    else this.#idle();
  }

  /** Whether the pointer can be sent as data (X's cursor is readable: the watcher is made on the first call). */
  available(): boolean {
    return this.#watch() !== undefined;
  }

  /** The picture gained (true) or lost (false) the pointer: every drawing viewer hears it. */
  picture(shown: boolean): void {
    if (shown === this.#inPicture) return;
    this.#inPicture = shown;
    for (const [viewer, taker] of this.#viewers) if (taker.draws) this.#sendTo(viewer, { t: 'cursor-picture', shown });
  }

  /** The viewer is gone; with no viewer left the position is no longer read. */
  forget(id: string): void {
    for (const viewer of this.#viewers.keys()) if (viewer.id === id) this.#viewers.delete(viewer);
    this.#idle();
  }

  close(): Promise<void> {
    this.#viewers.clear();
    return this.#watcher?.close() ?? Promise.resolve();
  }

  // A viewer starts taking the pointer: the position is read, and it gets where the pointer is now.
  #start(viewer: ViewerSession): void {
    const watcher = this.#watch();
    if (!watcher) return;
    watcher.watch();
    // The last reading (a pointer moved while nobody watched is read again now, and sent on change).
    if (watcher.shape && watcher.position) this.#send(viewer, watcher.shape, (this.#last ??= this.#place(watcher.shape, watcher.position)));
  }

  // Nobody takes the pointer any more: X is no longer polled for its position.
  #idle(): void {
    for (const taker of this.#viewers.values()) if (this.#takes(taker)) return;
    this.#watcher?.unwatch();
  }

  #takes(taker: Taker): boolean {
    return taker.draws || !this.#options.drawersOnly;
  }

  #watch(): XCursorWatcher | undefined {
    if (this.#watcher || this.#failed) return this.#watcher;
    try {
      const watcher = new XCursorWatcher(this.#options.display);
      watcher.unref(); // the publisher's own connection keeps the process alive, not this
      watcher.on('shape', () => this.#update());
      watcher.on('position', () => this.#update());
      watcher.on('warning', (warning) => this.#options.log.warn({ code: warning.code, err: warning.message }, 'publisher: cursor'));
      watcher.on('error', (error) => {
        this.#options.log.warn({ code: error.code, err: error.message }, 'publisher: cursor watcher closed; viewers see no pointer');
        this.#watcher = undefined;
        this.#failed = true;
        this.#options.onUnavailable?.();
      });
      this.#watcher = watcher;
    } catch (error) {
      this.#failed = true; // e.g. no XFIXES: the video has no pointer then, so say it loudly
      this.#options.log.warn({ err: errorMessage(error) }, 'publisher: pointer over the data channel unavailable');
    }
    return this.#watcher;
  }

  // A shape or a position changed: one `cursor` message to every viewer (a shape first where it is new).
  #update(): void {
    const watcher = this.#watcher;
    const shape = watcher?.shape;
    const position = watcher?.position;
    if (!shape || !position) return;
    const next = this.#place(shape, position);
    const last = this.#last;
    if (last && last.x === next.x && last.y === next.y && last.id === next.id && last.visible === next.visible && last.width === next.width && last.height === next.height) return;
    this.#last = next;
    for (const [viewer, taker] of this.#viewers) if (this.#takes(taker)) this.#send(viewer, shape, next);
  }

  // Relative to the captured area (the region, or the whole screen), whose size frames the coordinates.
  #place(shape: CursorShape, position: CursorPosition): Placed {
    const region = this.#options.region;
    const x = position.x - (region?.x ?? 0);
    const y = position.y - (region?.y ?? 0);
    const width = Math.max(1, region?.width ?? position.screenWidth);
    const height = Math.max(1, region?.height ?? position.screenHeight);
    const inside = x >= 0 && y >= 0 && x < width && y < height;
    return { x, y, width, height, id: shape.id, visible: shape.visible && position.onScreen && inside };
  }

  #send(viewer: ViewerSession, shape: CursorShape, at: Placed): void {
    if (!this.#options.isCurrent(viewer)) return void this.#viewers.delete(viewer);
    const sent = this.#viewers.get(viewer)?.shapes;
    if (!sent) return;
    if (!sent.has(shape.id) && shape.png) {
      const { id, width, height, xhot, yhot, png } = shape;
      if (this.#sendTo(viewer, { t: 'cursor-shape', id, width, height, xhot, yhot, png })) sent.add(id);
    }
    this.#sendTo(viewer, { t: 'cursor', ...at });
  }

  #sendTo(viewer: ViewerSession, out: AgentMessage): boolean {
    const channel = viewer.input;
    if (!channel || channel.readyState !== 'open') return false;
    try {
      channel.send(JSON.stringify(out));
      return true;
    } catch (error) {
      this.#options.log.warn({ viewer: viewer.id, t: out.t, err: errorMessage(error) }, 'publisher: input channel send failed');
      return false;
    }
  }
}
