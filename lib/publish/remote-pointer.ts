// The pointer over the input channel (publish({pointer: 'channel'})): the X cursor's shape and position
// sent to every viewer, controller or not, so the page draws it and pointer motion needs no video frame
// (the capture then runs with showPointer: false). Each viewer is sent a shape once (`cursor-shape`),
// then `cursor` messages naming it by id. The position is read from X only while some viewer's channel
// is open; the shape is event-driven (XFixes) and costs nothing while it does not change.
import { XCursorWatcher, type CursorPosition, type CursorShape } from '../input/cursor.js';
import type { AgentMessage, CursorMessage } from '../input/protocol.js';
import type { Logger } from '../signaling/client.js';
import type { ScreenRegion } from '../types.js';
import { errorMessage } from '../util/emit.js';
import type { ViewerSession } from './viewer-session.js';

/** How the pointer reaches viewers: drawn into the video by the capture, or sent on the data channel. */
export type PointerMode = 'video' | 'channel';

/** A `cursor` message's fields. */
type Placed = Omit<CursorMessage, 't'>;

export interface RemotePointerOptions {
  display: string;
  /** The captured part of the screen: positions are sent relative to it. */
  region: ScreenRegion | undefined;
  log: Logger;
  isCurrent(viewer: ViewerSession): boolean;
}

export class RemotePointer {
  readonly #options: RemotePointerOptions;
  #watcher: XCursorWatcher | undefined;
  #failed = false;
  /** Viewers whose channel is open, and the shape ids each has been sent. */
  readonly #viewers = new Map<ViewerSession, Set<number>>();
  #last: Placed | undefined;

  constructor(options: RemotePointerOptions) {
    this.#options = options;
  }

  /** After RemoteControl.openInputChannel(viewer): once its channel opens the viewer gets the pointer. */
  add(viewer: ViewerSession): void {
    const channel = viewer.input;
    if (!channel) return;
    const start = () => {
      if (!this.#options.isCurrent(viewer) || viewer.input !== channel) return;
      this.#viewers.set(viewer, new Set());
      const watcher = this.#watch();
      if (!watcher) return;
      watcher.watch();
      if (watcher.shape && this.#last) this.#send(viewer, watcher.shape, this.#last);
    };
    if (channel.readyState === 'open') start();
    else channel.on('open', start);
    channel.on('close', () => {
      // This session's channel only: a rejoined viewer with the same id has its own entry.
      this.#viewers.delete(viewer);
      if (this.#viewers.size === 0) this.#watcher?.unwatch();
    });
  }

  /** The viewer is gone; with no viewer left the position is no longer read. */
  forget(id: string): void {
    for (const viewer of this.#viewers.keys()) if (viewer.id === id) this.#viewers.delete(viewer);
    if (this.#viewers.size === 0) this.#watcher?.unwatch();
  }

  close(): Promise<void> {
    this.#viewers.clear();
    return this.#watcher?.close() ?? Promise.resolve();
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
    for (const viewer of this.#viewers.keys()) this.#send(viewer, shape, next);
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
    const sent = this.#viewers.get(viewer);
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
