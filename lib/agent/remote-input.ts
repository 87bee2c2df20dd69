// An agent's hands on a VM session: mouse, keyboard, typing, clipboard and resize over the publisher's
// "input" data channel, in the VM screen's pixels. Every message carries a `seq` and each method
// resolves only when the publisher acknowledges it after injecting (so "clicked" means clicked), or
// rejects with a typed error saying why: no control (InvalidStateError), a bad argument
// (InvalidArgumentError), refused, rate limited or never acknowledged (InputError).
import { EventEmitter } from 'node:events';
import { InvalidArgumentError, InvalidStateError, WebRtcBinError } from '../errors.js';
import type { DataChannel } from '../peer/data-channel.js';
import { untypable } from '../input/keysyms.js';
import { MAX_CLIPBOARD_CHARS, MAX_TYPE_CHARS, REMAP_GAP_MS, RESIZE_LIMITS } from '../input/limits.js';
import type { InputRefusal, ViewerMessage } from '../input/protocol.js';
import { parseCombo } from './keys.js';

export type MouseButton = 'left' | 'middle' | 'right';
export interface Point {
  x: number;
  y: number;
}

export interface RemoteInputOptions {
  /** The VM screen's size now (pixels): coordinates are checked against it and sent as fractions of it. */
  screen: () => { width: number; height: number };
  /** How long the publisher may take to acknowledge one message, in ms (default 5000; typing adds time per character). */
  timeoutMs?: number;
}

export interface RemoteInputEvents {
  /** This viewer gained (true) or lost (false: another viewer took it) control of the desktop. */
  control: [controlling: boolean];
  /** The VM's clipboard changed (sent while this viewer controls). */
  clipboard: [text: string];
}

/** Why an input was not injected: the publisher's refusal code, or 'timeout' when it never answered. */
export type InputErrorReason = Exclude<InputRefusal, 'view-only' | 'not-in-control' | 'invalid'> | 'timeout';

const CODES: Record<InputErrorReason, string> = {
  timeout: 'ERR_INPUT_TIMEOUT',
  'rate-limited': 'ERR_INPUT_RATE_LIMITED',
  unsupported: 'ERR_INPUT_UNSUPPORTED',
  failed: 'ERR_INPUT_FAILED',
};

/** The publisher did not inject an input: it never acknowledged it, had too many waiting, does not offer it, or X failed. */
export class InputError extends WebRtcBinError {
  readonly reason: InputErrorReason;
  constructor(message: string, reason: InputErrorReason) {
    super(message, CODES[reason]);
    this.reason = reason;
  }
}

const BUTTONS: Record<MouseButton, number> = { left: 0, middle: 1, right: 2 };

interface Pending {
  what: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

type Outgoing = ViewerMessage extends infer M ? (M extends { t: string } ? Omit<M, 'seq'> : never) : never;

export class RemoteInput extends EventEmitter<RemoteInputEvents> {
  /** The VM's X CLIPBOARD, as text. */
  readonly clipboard: { read(): Promise<string>; write(text: string): Promise<void> };
  readonly #channel: DataChannel;
  readonly #screen: () => { width: number; height: number };
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  #seq = 0;
  #controlling = false;
  /** Take control before an input; off once another viewer took it, until takeControl(). */
  #autoTake = true;
  /** The call before: the next one starts when it settles. */
  #turn: Promise<unknown> = Promise.resolve();
  #closed: string | undefined;
  readonly #onMessage = (data: string | Buffer) => this.#message(data);
  readonly #onClose = () => this.#shut('the input channel closed (the publisher left or the connection ended)');

  constructor(channel: DataChannel, options: RemoteInputOptions) {
    super();
    if (!channel || typeof channel.send !== 'function' || typeof channel.on !== 'function') {
      throw new InvalidArgumentError('new RemoteInput(channel, options): channel must be the publisher\'s "input" DataChannel');
    }
    if (!options || typeof options.screen !== 'function') {
      throw new InvalidArgumentError('new RemoteInput(channel, {screen}): screen must be a function returning the VM screen size {width, height}');
    }
    if (options.timeoutMs !== undefined && (!Number.isSafeInteger(options.timeoutMs) || options.timeoutMs < 1)) {
      throw new InvalidArgumentError(`new RemoteInput(): timeoutMs must be a whole number of milliseconds, 1 or more; got ${String(options.timeoutMs)}`);
    }
    this.#channel = channel;
    this.#screen = options.screen;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    channel.on('message', this.#onMessage);
    channel.on('close', this.#onClose);
    if (channel.readyState === 'closed' || channel.readyState === 'closing') this.#closed = 'the input channel is closed';
    this.clipboard = {
      read: async () => this.#run('clipboard.read()', () => this.#send<string>({ t: 'clipboard-read' }, 'clipboard.read()')),
      write: (text) => this.#clipboardWrite(text),
    };
  }

  /** This viewer controls the desktop (the publisher said so). */
  get controlling(): boolean {
    return this.#controlling;
  }

  /** Asks to control the desktop (taking it from whoever has it). InvalidStateError when the token does not allow control. */
  async takeControl(): Promise<void> {
    this.#open('takeControl()');
    await this.#send({ t: 'take-control' }, 'takeControl()');
    this.#controlling = true;
    this.#autoTake = true;
  }

  /** Moves the pointer to (x, y), in screen pixels. */
  async move(x: number, y: number): Promise<void> {
    const what = `move(${x}, ${y})`;
    const at = this.#fraction({ x, y }, what);
    return this.#run(what, () => this.#send({ t: 'move', ...at }, what));
  }

  /** Moves to (x, y) and clicks `count` times (2: a double click) with `button`. */
  async click(x: number, y: number, options: { button?: MouseButton; count?: number } = {}): Promise<void> {
    const what = `click(${x}, ${y})`;
    const button = buttonOf(options.button, what);
    const count = options.count ?? 1;
    if (!Number.isSafeInteger(count) || count < 1 || count > 10) throw new InvalidArgumentError(`${what}: count must be a whole number from 1 to 10; got ${String(count)}`);
    const at = this.#fraction({ x, y }, what);
    // Sent at once, acknowledged one by one: a double click's presses stay within X's double-click time.
    return this.#run(what, () => this.#all(what, [{ t: 'move', ...at }, ...Array.from({ length: count }, () => [{ t: 'button' as const, button, down: true, ...at }, { t: 'button' as const, button, down: false, ...at }]).flat()]));
  }

  /** Presses `button` at `from`, moves to `to` in `steps` moves, releases there. */
  async drag(from: Point, to: Point, options: { button?: MouseButton; steps?: number } = {}): Promise<void> {
    const what = `drag(${pointText(from)} → ${pointText(to)})`;
    const button = buttonOf(options.button, what);
    const steps = options.steps ?? 10;
    if (!Number.isSafeInteger(steps) || steps < 1 || steps > 200) throw new InvalidArgumentError(`${what}: steps must be a whole number from 1 to 200; got ${String(steps)}`);
    const a = this.#fraction(from, what);
    const b = this.#fraction(to, what);
    const moves = Array.from({ length: steps }, (_, i) => {
      const f = (i + 1) / steps;
      return { t: 'move' as const, x: a.x + (b.x - a.x) * f, y: a.y + (b.y - a.y) * f };
    });
    return this.#run(what, () => this.#all(what, [{ t: 'move', ...a }, { t: 'button', button, down: true, ...a }, ...moves, { t: 'button', button, down: false, ...b }]));
  }

  /** Scrolls by wheel notches: dy > 0 down, dx > 0 right; at (x, y) when given. */
  async scroll(dx: number, dy: number, options: { x?: number; y?: number } = {}): Promise<void> {
    const what = `scroll(${dx}, ${dy})`;
    for (const [name, n] of [['dx', dx], ['dy', dy]] as const) {
      if (!Number.isSafeInteger(n) || Math.abs(n) > 100) throw new InvalidArgumentError(`${what}: ${name} must be a whole number of wheel notches from -100 to 100; got ${String(n)}`);
    }
    if (dx === 0 && dy === 0) throw new InvalidArgumentError(`${what}: dx and dy are both 0, nothing to scroll`);
    if ((options.x === undefined) !== (options.y === undefined)) throw new InvalidArgumentError(`${what}: give both x and y, or neither`);
    const messages: Outgoing[] = [];
    if (options.x !== undefined && options.y !== undefined) messages.push({ t: 'move', ...this.#fraction({ x: options.x, y: options.y }, what) });
    for (let i = 0; i < Math.abs(dy); i++) messages.push({ t: 'wheel', dx: 0, dy: Math.sign(dy) });
    for (let i = 0; i < Math.abs(dx); i++) messages.push({ t: 'wheel', dx: Math.sign(dx), dy: 0 });
    return this.#run(what, () => this.#all(what, messages));
  }

  /**
   * Types text as written: any Unicode (accents, CJK, emoji), "\n" as Enter, "\t" as Tab. Other control
   * characters are an InvalidArgumentError. Long text goes in pieces, each acknowledged before the next.
   */
  async type(text: string): Promise<void> {
    if (typeof text !== 'string') throw new InvalidArgumentError(`type(text): text must be a string; got ${typeof text}`);
    const bad = untypable(text);
    if (bad) throw new InvalidArgumentError(`type(): the text holds ${bad}; use key() for special keys`);
    const what = `type(${JSON.stringify(text.length > 24 ? `${text.slice(0, 24)}…` : text)})`;
    return this.#run(what, async () => {
      for (const piece of pieces(text, MAX_TYPE_CHARS)) {
        // The publisher waits up to REMAP_GAP_MS before rebinding a spare keycode, only once its pool is used up: a bound, not an estimate.
        await this.#send({ t: 'type', text: piece }, what, this.#timeoutMs + [...piece].length * (REMAP_GAP_MS + 5));
      }
    });
  }

  /** Presses a key or combo: 'Enter', 'ctrl+a', 'ctrl+shift+t', 'alt+F4', 'super'. InvalidArgumentError names the valid keys. */
  async key(combo: string): Promise<void> {
    const presses = parseCombo(combo);
    const what = `key(${JSON.stringify(combo)})`;
    return this.#run(what, () => this.#all(what, presses.map((p) => ({ t: 'key' as const, key: p.key, down: p.down }))));
  }

  /** Makes the VM screen `width`×`height` (even, within RESIZE_LIMITS); resolves with the size it took. */
  async resize(width: number, height: number): Promise<{ width: number; height: number }> {
    const what = `resize(${width}, ${height})`;
    const L = RESIZE_LIMITS;
    for (const [name, n, min, max] of [['width', width, L.minWidth, L.maxWidth], ['height', height, L.minHeight, L.maxHeight]] as const) {
      if (!Number.isSafeInteger(n) || n % 2 !== 0 || n < min || n > max) throw new InvalidArgumentError(`${what}: ${name} must be an even whole number from ${min} to ${max}; got ${String(n)}`);
    }
    return this.#run(what, () => this.#send<{ width: number; height: number }>({ t: 'resize', width, height }, what));
  }

  /** Stops listening to the channel (it stays the view's) and rejects what waits. Idempotent. */
  close(): void {
    this.#shut('the RemoteInput was closed');
  }

  #shut(reason: string): void {
    if (this.#closed) return;
    this.#closed = reason;
    this.#channel.off('message', this.#onMessage);
    this.#channel.off('close', this.#onClose);
    for (const [seq, pending] of this.#pending) {
      clearTimeout(pending.timer);
      this.#pending.delete(seq);
      pending.reject(new InvalidStateError(`${pending.what} was not acknowledged: ${reason}`));
    }
  }

  #open(what: string): void {
    if (this.#closed) throw new InvalidStateError(`${what}: ${this.#closed}; input needs a connected view`);
  }

  #checkClipboardText(text: string): void {
    if (typeof text !== 'string') throw new InvalidArgumentError(`clipboard.write(text): text must be a string; got ${typeof text}`);
    if (text.length > MAX_CLIPBOARD_CHARS) throw new InvalidArgumentError(`clipboard.write(): ${text.length} characters is over the limit of ${MAX_CLIPBOARD_CHARS}`);
    const bytes = Buffer.byteLength(JSON.stringify({ t: 'clipboard', text, seq: Number.MAX_SAFE_INTEGER }));
    const max = this.#channel.maxMessageSize ?? 65_536;
    if (bytes > max) throw new InvalidArgumentError(`clipboard.write(): the text is ${bytes} bytes as a message, over the data channel's ${max}; write less`);
  }

  async #clipboardWrite(text: string): Promise<void> {
    this.#checkClipboardText(text);
    return this.#run('clipboard.write()', () => this.#send({ t: 'clipboard', text }, 'clipboard.write()'));
  }

  // Calls run one after another, each sent once the one before was answered: the order is the
  // caller's, and a timeout counts from the call's own turn (not from behind a long type()). Input
  // needs control: taken first unless another viewer took it since (the publisher's refusal says so).
  #run<T>(what: string, job: () => Promise<T>): Promise<T> {
    this.#open(what);
    const turn = this.#turn.then(async () => {
      this.#open(what);
      if (!this.#controlling && this.#autoTake) await this.takeControl();
      return job();
    });
    this.#turn = turn.catch(() => {});
    return turn;
  }

  #fraction(p: Point, what: string): Point {
    const { width, height } = this.#screen();
    if (!(width > 0 && height > 0)) throw new InvalidStateError(`${what}: the screen size is not known yet; wait for the view to be ready`);
    if (!p || typeof p !== 'object') throw new InvalidArgumentError(`${what}: a point is {x, y} in screen pixels`);
    for (const [name, n, size] of [['x', p.x, width], ['y', p.y, height]] as const) {
      if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > size - 1) {
        throw new InvalidArgumentError(`${what}: ${name} = ${String(n)} is outside the screen (0–${size - 1}; it is ${width}×${height} pixels)`);
      }
    }
    // The publisher maps a fraction f to round(f × (size − 1)): the exact pixel comes back.
    return { x: width > 1 ? p.x / (width - 1) : 0, y: height > 1 ? p.y / (height - 1) : 0 };
  }

  /** Sends messages back to back, then waits for every acknowledgement (the first refusal rejects). */
  async #all(what: string, messages: Outgoing[]): Promise<void> {
    const acks = messages.map((m) => this.#send(m, what));
    // Every one is awaited (none left unhandled), the first failure reported.
    const results = await Promise.allSettled(acks);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async #send<T = void>(message: Outgoing, what: string, timeoutMs = this.#timeoutMs): Promise<T> {
    this.#open(what);
    if (this.#channel.readyState === 'connecting') await this.#opened(what, timeoutMs);
    const seq = this.#seq++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(seq);
        reject(new InputError(`${what} was not acknowledged by the publisher within ${timeoutMs} ms: it dropped the input, or it predates acknowledgements (update node-webrtcbin on the VM)`, 'timeout'));
      }, timeoutMs);
      this.#pending.set(seq, { what, resolve: resolve as (value: unknown) => void, reject, timer });
      try {
        this.#channel.send(JSON.stringify({ ...message, seq }));
      } catch (error) {
        clearTimeout(timer);
        this.#pending.delete(seq);
        reject(error instanceof WebRtcBinError || error instanceof TypeError ? error : new InvalidStateError(`${what}: ${(error as Error).message}`));
      }
    });
  }

  #opened(what: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        this.#channel.off('open', onOpen);
        this.#channel.off('close', onClose);
        if (error) reject(error);
        else resolve();
      };
      const onOpen = () => done();
      const onClose = () => done(new InvalidStateError(`${what}: the input channel closed before it opened`));
      const timer = setTimeout(() => done(new InputError(`${what}: the input channel did not open within ${timeoutMs} ms`, 'timeout')), timeoutMs);
      this.#channel.on('open', onOpen);
      this.#channel.on('close', onClose);
    });
  }

  // What the publisher says on the channel: acknowledgements and answers by seq, control changes and
  // clipboard news. Read field by field (a newer publisher may add fields or messages).
  #message(data: string | Buffer): void {
    if (typeof data !== 'string') return;
    let m: { t?: unknown; seq?: unknown; ok?: unknown; code?: unknown; message?: unknown; text?: unknown; controlling?: unknown; width?: unknown; height?: unknown };
    try {
      m = JSON.parse(data) as typeof m;
    } catch {
      return;
    }
    if (!m || typeof m !== 'object') return;
    if (m.t === 'control' && typeof m.controlling === 'boolean') {
      if (m.controlling === this.#controlling) return;
      this.#controlling = m.controlling;
      if (!m.controlling) this.#autoTake = false; // someone took it: take it back only when asked to
      this.emit('control', m.controlling);
      return;
    }
    if (m.t === 'clipboard' && typeof m.text === 'string' && m.seq === undefined) {
      this.emit('clipboard', m.text);
      return;
    }
    const pending = typeof m.seq === 'number' ? this.#pending.get(m.seq) : undefined;
    if (!pending) return;
    const settle = (error?: Error, value?: unknown) => {
      clearTimeout(pending.timer);
      this.#pending.delete(m.seq as number);
      if (error) pending.reject(error);
      else pending.resolve(value);
    };
    const said = typeof m.message === 'string' ? m.message : '';
    if (m.t === 'ack') return m.ok === true ? settle() : settle(refusal(pending.what, String(m.code), said));
    if (m.t === 'clipboard' && typeof m.text === 'string') return settle(undefined, m.text);
    if (m.t === 'resize-result') {
      if (m.ok === true) return settle(undefined, { width: m.width, height: m.height });
      const code = String(m.code);
      if (code === 'out-of-range') return settle(new InvalidArgumentError(`${pending.what} refused by the publisher: ${said}`));
      return settle(new InputError(`${pending.what} refused by the publisher (${code}): ${said}`, code === 'rate-limited' || code === 'unsupported' ? code : 'failed'));
    }
  }
}

/** The publisher's refusal → the typed error a caller acts on. */
function refusal(what: string, code: string, said: string): Error {
  switch (code) {
    case 'view-only':
      return new InvalidStateError(`${what} refused: this viewer's token does not allow control; connect with a viewer token minted with control: true`);
    case 'not-in-control':
      return new InvalidStateError(`${what} refused: another viewer controls the desktop; call takeControl() to take it back`);
    case 'invalid':
      return new InvalidArgumentError(`${what} refused by the publisher: ${said}`);
    case 'rate-limited':
      return new InputError(`${what} refused: the publisher has too many inputs waiting (${said}); wait for earlier ones to resolve`, 'rate-limited');
    case 'unsupported':
      return new InputError(`${what} refused: ${said}`, 'unsupported');
    default:
      return new InputError(`${what} failed on the publisher: ${said || code}`, 'failed');
  }
}

function buttonOf(button: MouseButton | undefined, what: string): number {
  const b = BUTTONS[button ?? 'left'];
  if (b === undefined) throw new InvalidArgumentError(`${what}: button must be 'left', 'middle' or 'right'; got ${JSON.stringify(button)}`);
  return b;
}

function pointText(p: Point | undefined): string {
  return p && typeof p === 'object' ? `${p.x}, ${p.y}` : String(p);
}

/** Text in pieces of at most `max` UTF-16 units, never splitting a surrogate pair or "\r\n". */
function pieces(text: string, max: number): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < text.length) {
    let end = Math.min(at + max, text.length);
    const before = text.charCodeAt(end - 1);
    if (end < text.length && ((before >= 0xd800 && before <= 0xdbff) || (before === 0x0d && text.charCodeAt(end) === 0x0a))) end--;
    out.push(text.slice(at, end));
    at = end;
  }
  return out;
}
