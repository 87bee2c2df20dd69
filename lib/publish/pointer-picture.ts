// With publish({pointer: 'auto'}): whether the shared capture draws the X pointer into the picture. It
// does while any watching viewer cannot draw the pointer itself (a WHEP player, another WebRTC stack, a
// Janus audience, an old page, a view({pointer: 'picture'})), and does not while every watching viewer
// draws it from `cursor` messages (our page and RemoteView say so with `cursor-draw`). A viewer watches
// from its connection; it counts neither way until it says it draws (its input channel opens a few ms
// after the connection) or UNDECIDED_MS pass, so a page joining does not flip the picture for the others
// and back. With nobody decided the picture stays as it was. The publisher applies each change to the
// capture (`show-pointer`) and tells the drawing viewers (RemotePointer).

/** How long a connected viewer has to say it draws the pointer before it counts as one that cannot. */
export const UNDECIDED_MS = 1000;

type Watcher = 'undecided' | 'draws' | 'needs';

export interface PointerPictureOptions {
  /** Someone we cannot ask watches for as long as the publisher runs (a Janus room's audience). */
  always: boolean;
  /** The picture should (true) or should not (false) show the pointer from now on. */
  apply(shown: boolean): void;
  undecidedMs?: number;
}

export class PointerPicture {
  readonly #options: PointerPictureOptions;
  #always: boolean;
  // The capture starts with the pointer in: the first viewer may be one that cannot draw it.
  #shown = true;
  readonly #watching = new Map<string, Watcher>();
  // Viewers that said they draw it (the message may come before the publisher sees them connected).
  readonly #drawers = new Set<string>();
  readonly #timers = new Map<string, NodeJS.Timeout>();

  constructor(options: PointerPictureOptions) {
    this.#options = options;
    this.#always = options.always;
  }

  /** Whether the picture shows the pointer now. */
  get shown(): boolean {
    return this.#shown;
  }

  /** The viewer's media flows (connected): it watches. */
  watch(id: string): void {
    if (this.#watching.has(id)) return;
    if (this.#drawers.has(id)) {
      this.#watching.set(id, 'draws');
    } else {
      this.#watching.set(id, 'undecided');
      const timer = setTimeout(() => {
        this.#timers.delete(id);
        if (this.#watching.get(id) !== 'undecided') return;
        this.#watching.set(id, 'needs');
        this.#update();
      }, this.#options.undecidedMs ?? UNDECIDED_MS);
      timer.unref();
      this.#timers.set(id, timer);
    }
    this.#update();
  }

  /** The viewer said whether it draws the pointer itself (`cursor-draw`). */
  draws(id: string, draws: boolean): void {
    if (draws) this.#drawers.add(id);
    else this.#drawers.delete(id);
    if (!this.#watching.has(id)) return;
    this.#clearTimer(id);
    this.#watching.set(id, draws ? 'draws' : 'needs');
    this.#update();
  }

  /** The viewer is gone. */
  forget(id: string): void {
    this.#clearTimer(id);
    this.#drawers.delete(id);
    if (this.#watching.delete(id)) this.#update();
  }

  /** The pointer can no longer reach anyone as data: it stays in the picture from now on. */
  keep(): void {
    this.#always = true;
    this.#update();
  }

  close(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#watching.clear();
    this.#drawers.clear();
  }

  #clearTimer(id: string): void {
    clearTimeout(this.#timers.get(id));
    this.#timers.delete(id);
  }

  #update(): void {
    const states = [...this.#watching.values()];
    let shown: boolean;
    if (this.#always || states.includes('needs')) shown = true;
    else if (states.includes('draws')) shown = false;
    else return; // nobody decided: no reason to flip
    if (shown === this.#shown) return;
    this.#shown = shown;
    this.#options.apply(shown);
  }
}
