// Property-based fuzzing of the input channel's parser (lib/input/protocol.ts, applied in
// lib/publish/publisher.ts as JSON.parse + checkViewerMessage). It is TypeScript, so the libFuzzer targets in
// fuzz/ do not apply; instead seeded random messages, mostly mutations of valid ones at the edges of
// each field, are checked against a reference predicate written here from the protocol's rules (a
// differential oracle): the schema must accept exactly what the rules allow, never throw, and never
// let a value through that the injector would scale off screen. FUZZ_SEED=… replays a run.
import t from 'tap';
import { MAX_CLIPBOARD_CHARS, MAX_TYPE_CHARS, RESIZE_LIMITS, checkViewerMessage } from '../../lib/input/protocol.js';
import { prng, type Rng } from '../helpers/prng.js';

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CASES = Number(process.env.FUZZ_INPUT_CASES ?? 20_000);
t.comment(`FUZZ_SEED=${SEED}`);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const VALID: Record<string, Json>[] = [
  { t: 'move', x: 0.5, y: 0.25 },
  { t: 'button', button: 0, down: true },
  { t: 'button', button: 2, down: false, x: 1, y: 0 },
  { t: 'wheel', dx: 0, dy: -1 },
  { t: 'key', key: 'a', down: true },
  { t: 'key', key: 'Enter', code: 'Enter', down: false },
  { t: 'take-control' },
  { t: 'clipboard', text: 'héllo' },
  { t: 'resize', width: 1920, height: 1080 },
  // An agent's (RemoteInput): any message may ask for an acknowledgement with a seq.
  { t: 'move', x: 0.1, y: 0.9, seq: 7 },
  { t: 'take-control', seq: 0 },
  { t: 'type', text: 'héllo 日本 🙂\n', seq: 12 },
  { t: 'clipboard-read', seq: 3 },
];
const TYPES = ['move', 'button', 'wheel', 'key', 'take-control', 'clipboard', 'resize', 'type', 'clipboard-read'];

// Values at and past the edges of every field's range, and of other types.
function edgeValue(r: Rng): Json {
  return r.pick<() => Json>([
    () => r.pick([0, 1, -1, 0.5, 2, 4, 5, 1e-300, -1e-300, 1 + 2 ** -52, 1e308, -0, 2 ** 53, 3.5]),
    () => r.pick([318, 319, 320, 321, 322, 3838, 3840, 3842, 238, 240, 2160, 2162, 1921, 1080.5]),
    () => r.pick(['', 'a', 'x'.repeat(32), 'x'.repeat(33), 'é🙂', '\u0000', 'move', '__proto__']),
    () => 'c'.repeat(MAX_CLIPBOARD_CHARS + r.int(3) - 1),
    () => 't'.repeat(MAX_TYPE_CHARS + r.int(3) - 1),
    () => r.pick([Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, -1, 0.5, 1e9]),
    () => r.pick([true, false, null]),
    () => r.pick<Json>([[], [0.5], {}, { x: 1 }]),
  ])();
}

function mutate(r: Rng, message: Record<string, Json>): Record<string, Json> {
  const out: Record<string, Json> = { ...message };
  const keys = Object.keys(out);
  for (let n = 1 + r.int(3); n > 0; n--) {
    switch (r.int(6)) {
      case 0: out[r.pick(keys)] = edgeValue(r); break;
      case 1: delete out[r.pick(keys)]; break;
      case 2: out[r.pick(['x', 'y', 'dx', 'dy', 'button', 'down', 'key', 'code', 'text', 'width', 'height', 'seq', 'extra', 'constructor'])] = edgeValue(r); break;
      case 3: out.t = r.pick([...TYPES, 'Move', '', 'click']); break;
      // An own "__proto__" key, as JSON.parse makes one from a viewer's text.
      case 4: Object.defineProperty(out, '__proto__', { value: { polluted: true }, enumerable: true, writable: true, configurable: true }); break;
      default: break;
    }
  }
  return out;
}

const fraction = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 1;
const onlyKeys = (m: Record<string, unknown>, allowed: string[]) => Object.keys(m).every((k) => allowed.includes(k));
const shortString = (v: unknown, min: number) => typeof v === 'string' && v.length >= min && v.length <= 32;
const evenIn = (v: unknown, min: number, max: number) => Number.isInteger(v) && (v as number) % 2 === 0 && (v as number) >= min && (v as number) <= max;

const seqOk = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= Number.MAX_SAFE_INTEGER;

// The protocol's rules (docs/protocol.md, input channel), independent of the schema.
function allowed(m: unknown): boolean {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return false;
  const o = m as Record<string, unknown>;
  if (o.t === 'clipboard-read') return onlyKeys(o, ['t', 'seq']) && seqOk(o.seq);
  // Every other message may carry a seq (an agent's, asking for an ack).
  if ('seq' in o && !seqOk(o.seq)) return false;
  const { seq: _seq, ...rest } = o;
  return allowedWithoutSeq(rest);
}

function allowedWithoutSeq(o: Record<string, unknown>): boolean {
  switch (o.t) {
    case 'move': return onlyKeys(o, ['t', 'x', 'y']) && fraction(o.x) && fraction(o.y);
    case 'button':
      return onlyKeys(o, ['t', 'button', 'down', 'x', 'y']) && Number.isInteger(o.button) && (o.button as number) >= 0 &&
        (o.button as number) <= 4 && typeof o.down === 'boolean' && (!('x' in o) || fraction(o.x)) && (!('y' in o) || fraction(o.y));
    case 'wheel':
      return onlyKeys(o, ['t', 'dx', 'dy']) && [o.dx, o.dy].every((v) => typeof v === 'number' && v >= -1 && v <= 1);
    case 'key':
      return onlyKeys(o, ['t', 'key', 'code', 'down']) && shortString(o.key, 1) && (!('code' in o) || shortString(o.code, 0)) && typeof o.down === 'boolean';
    case 'take-control': return onlyKeys(o, ['t']);
    case 'clipboard': return onlyKeys(o, ['t', 'text']) && typeof o.text === 'string' && o.text.length <= MAX_CLIPBOARD_CHARS;
    case 'resize':
      return onlyKeys(o, ['t', 'width', 'height']) && evenIn(o.width, RESIZE_LIMITS.minWidth, RESIZE_LIMITS.maxWidth) &&
        evenIn(o.height, RESIZE_LIMITS.minHeight, RESIZE_LIMITS.maxHeight);
    case 'type': return onlyKeys(o, ['t', 'text']) && typeof o.text === 'string' && o.text.length >= 1 && o.text.length <= MAX_TYPE_CHARS;
    default: return false;
  }
}

t.test('the input channel parser accepts exactly what the protocol allows', async (t) => {
  const r = prng(SEED);
  let accepted = 0;
  let disagreements = 0;
  for (let i = 0; i < CASES; i++) {
    // Through the wire as the agent sees it: JSON text, sometimes cut or corrupted.
    let text = JSON.stringify(mutate(r, r.pick(VALID)));
    if (r.chance(0.05)) text = text.slice(0, r.int(text.length));
    if (r.chance(0.03)) text = text.replace(/[,:{}"]/, r.pick(['', '"', ',,', '}}']));
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      continue; // publish.ts drops text that is not JSON
    }
    let verdict: boolean;
    try {
      verdict = checkViewerMessage.Check(message);
    } catch (error) {
      t.fail(`Check threw on ${text.slice(0, 200)}: ${String(error)}`);
      return;
    }
    if (verdict !== allowed(message)) {
      if (disagreements++ < 5) t.fail(`schema says ${verdict}, rules say ${!verdict}: ${text.slice(0, 200)}`);
    }
    if (verdict) accepted++;
  }
  t.equal(disagreements, 0, `schema and rules agree on ${CASES} cases`);
  t.ok(accepted > CASES / 20, `valid messages were among the cases too (${accepted})`);
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
});
