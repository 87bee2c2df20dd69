// Fuzzing the daemon's message handling over real WebSockets: thousands of random and mutated frames
// from a seeded PRNG (FUZZ_SEED=… reproduces a run; the seed is printed), each checked against what
// docs/protocol.md promises: a bad frame gets its error code, in order, or the socket is closed per
// the documented limit; a valid one is relayed exactly. Meanwhile a well-behaved publisher and viewer
// in the same session keep exchanging messages, and nothing crashes or rejects unhandled.
import t from 'tap';
import { prng, type Rng } from '../helpers/prng.js';
import { TextDecoder } from 'node:util';
import { mintToken, verifyToken } from '../../lib/signaling/daemon/token.js';
import { ERROR_CODES, checkClientMessage } from '../../lib/signaling/protocol/messages.js';
import { RawClient, SECRET, startDaemon } from '../helpers/daemon.js';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (e) => unhandled.push(e));
process.on('uncaughtException', (e) => unhandled.push(e));

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CASES = Number(process.env.FUZZ_CASES ?? 3000);
t.comment(`FUZZ_SEED=${SEED} FUZZ_CASES=${CASES}`);
console.error(`# fuzz seed: FUZZ_SEED=${SEED}`);


const MAX = 8192;
const MAX_PAYLOAD = MAX * 2 + 1024; // what server.ts gives ws
const daemon = await startDaemon({ maxMessageBytes: MAX, rate: { perSecond: 1e6, burst: 1e6 }, joinTimeoutMs: 0, maxSocketsPerIp: 0, maxJoinsPerToken: 0 });
t.teardown(() => daemon.app.close());
const viewerToken = mintToken({ secret: SECRET, session: 'fz', role: 'viewer', ttlSeconds: 600 });
const protoKeysBefore = Object.getOwnPropertyNames(Object.prototype).join(',');

// ---- JSON text with full control: duplicate keys, __proto__ as an own key, raw number tokens ----
type J = null | boolean | string | { raw: string } | J[] | { entries: [string, J][] };
const ser = (v: J): string => {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(ser).join(',')}]`;
  if ('raw' in v) return v.raw;
  return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${ser(x)}`).join(',')}}`;
};
const obj = (o: Record<string, J>): J => ({ entries: Object.entries(o) });
const num = (n: number | string): J => ({ raw: String(n) });

const SDP = 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtpmap:96 VP8/90000\r\n';
const CANDIDATE = 'candidate:1 1 udp 2122260223 192.168.1.2 54321 typ host generation 0';
const NASTY_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '', ' ', 'type', 'TYPE', '\u0000', '🙂', 'to', 'from'];
const NASTY_STRINGS = ['', ' ', 'x', '__proto__', 'constructor', '\u0000', '\ud800', '\udfff', '\u202e', '🙂'.repeat(20), 'a'.repeat(65), 'a'.repeat(1025), 'p-' + 'z'.repeat(62), '../../etc/passwd', '<script>', 'null', 'true', '1', 'publisher', 'viewer', 'join', 'offer', 'v=0', '%00', 'é'];
// Codec names as browsers send them (getCapabilities' MIME types) and as users type them.
const CODECS = ['video/VP8', 'video/VP9', 'video/H264', 'video/AV1', 'VP8', 'h264', 'video/rtx', 'video/red', 'video/ulpfec'];
const NASTY_NUMBERS = ['0', '-0', '1', '-1', '1.5', '1024', '1025', '65536', '9007199254740993', '1e308', '1e400', '-1e400', '1e-400', '123456789012345678901234567890', '0.1e1', '2'];

function randomValue(r: Rng, depth = 0): J {
  switch (r.int(depth > 3 ? 4 : 6)) {
    case 0: return null;
    case 1: return r.chance(0.5);
    case 2: return r.pick(NASTY_STRINGS);
    case 3: return num(r.pick(NASTY_NUMBERS));
    case 4: return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
    default: return { entries: Array.from({ length: r.int(4) }, () => [r.pick(NASTY_KEYS), randomValue(r, depth + 1)] as [string, J]) };
  }
}

function deep(r: Rng, depth: number): string {
  const leaf = r.chance(0.5) ? '"x"' : '{}';
  return r.chance(0.5) ? '['.repeat(depth) + leaf + ']'.repeat(depth) : '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
}

/** A valid message as entries (for mutation); `publisher` is the publisher's id. */
function template(r: Rng, publisher: string): [string, J][] {
  const to = (): [string, J][] => (r.chance(0.5) ? [['to', publisher]] : []);
  switch (r.int(8)) {
    case 0: return [['type', 'join'], ['v', num(1)], ['session', 'fz'], ['role', 'viewer'], ['token', viewerToken], ['offers', false]];
    case 6: return [['type', 'join'], ['v', num(1)], ['session', 'fz'], ['role', 'viewer'], ['token', viewerToken], ['codecs', codecList(r)]];
    case 1: return [['type', 'offer'], ...to(), ['sdp', SDP]];
    case 2: return [['type', 'answer'], ...to(), ['sdp', SDP]];
    case 3: return [['type', 'candidate'], ...to(), ['candidate', obj({ candidate: CANDIDATE, sdpMid: '0', sdpMLineIndex: num(0) })]];
    case 4: return [['type', 'candidate'], ...to(), ['candidate', null]];
    case 7: // a bye with everything a publisher's may carry (from a viewer it still just leaves)
      return [['type', 'bye'], ...to(), ['reason', 'no-common-codec'], ['codecs', obj({ publisher: codecList(r), viewer: codecList(r) })], ['message', 'the viewer decodes none of VP8']];
    default: return [['type', 'bye']];
  }
}

/** A valid codec list (0..32 names of 1..64 characters). */
function codecList(r: Rng): J {
  return Array.from({ length: r.int(4) }, () => r.pick(CODECS));
}

/** A wrong codec list or list item: too many, empty or too-long names, other types. */
function badCodecs(r: Rng, list: J[]): void {
  switch (r.int(5)) {
    case 0: list.push(...Array.from({ length: 33 }, () => 'video/VP8' as J)); break; // over maxItems
    case 1: list.push(r.pick(['', 'v'.repeat(65), 'video/' + 'x'.repeat(59)])); break; // name length bounds (64 is fine)
    case 2: list.push(randomValue(r)); break;
    case 3: if (list.length) list[r.int(list.length)] = num(r.pick(NASTY_NUMBERS)); else list.push(null); break;
    default: list.push(r.pick(NASTY_STRINGS)); break;
  }
}

function mutate(r: Rng, entries: [string, J][]): [string, J][] {
  const out = entries.map(([k, v]) => [k, v] as [string, J]);
  for (let n = 1 + r.int(3); n > 0; n--) {
    const i = r.int(Math.max(1, out.length));
    switch (r.int(9)) {
      case 7: { // join.codecs and bye.codecs ({publisher, viewer}): the lists, their items, the object's keys
        const c = out.find(([k]) => k === 'codecs')?.[1];
        if (Array.isArray(c)) badCodecs(r, c);
        else if (c && typeof c === 'object' && 'entries' in c) {
          const e = c.entries;
          const side = e[r.int(Math.max(1, e.length))];
          if (r.chance(0.3)) e.push([r.pick(['publisher', 'viewer', 'both', '__proto__', 'constructor']), randomValue(r)]);
          else if (r.chance(0.2) && e.length) e.splice(r.int(e.length), 1); // a side missing
          else if (side && Array.isArray(side[1])) badCodecs(r, side[1]);
          else if (side) side[1] = randomValue(r);
        } else out.push(['codecs', r.chance(0.5) ? codecList(r) : randomValue(r)]);
        break;
      }
      case 8: { // bye's reason and message
        const which = r.pick(['reason', 'message']);
        const at = out.findIndex(([k]) => k === which);
        const value: J = which === 'reason'
          ? r.pick<J>(['no-common-codec', 'shutting-down', 'token-expired', '', 'NO-COMMON-CODEC', num(1), null])
          : r.pick<J>(['', 'why', 'm'.repeat(1024), 'm'.repeat(1025), '\u0000', '🙂'.repeat(300), num(0), null]);
        if (at >= 0) out[at]![1] = value;
        else out.push([which, value]);
        break;
      }
      case 0: out.splice(i, 1); break; // a field missing
      case 1: out.push([r.pick(NASTY_KEYS), randomValue(r)]); break; // an extra or duplicate field
      case 2: if (out[i]) out[i]![1] = randomValue(r); break; // a wrong type or value
      case 3: if (out[i]) out[i]![1] = num(r.pick(NASTY_NUMBERS)); break; // numbers out of range
      case 4: if (out[i]) out[i]![1] = r.pick(NASTY_STRINGS); break;
      case 5: { // inside the candidate object
        const c = out.find(([k]) => k === 'candidate')?.[1];
        if (c && typeof c === 'object' && !Array.isArray(c) && 'entries' in c) {
          const e = c.entries;
          if (r.chance(0.5)) e.push([r.pick(['candidate', 'sdpMid', 'sdpMLineIndex', 'usernameFragment', '__proto__', 'constructor']), randomValue(r)]);
          else if (e.length) e[r.int(e.length)]![1] = r.chance(0.5) ? num(r.pick(NASTY_NUMBERS)) : r.pick(NASTY_STRINGS);
        }
        break;
      }
      default: if (out[i]) out[i]![1] = r.chance(0.5) ? 'x'.repeat(r.int(70_000)) : deep(r, 1 + r.int(3000)) as never; // long strings, deep values
    }
  }
  return out;
}

function bytesMutate(r: Rng, text: string): Buffer {
  const b = Buffer.from(text);
  switch (r.int(4)) {
    case 0: return b.subarray(0, r.int(b.length)); // truncated
    case 1: { const c = Buffer.from(b); for (let n = 1 + r.int(4); n > 0; n--) c[r.int(c.length)] = r.int(256); return c; } // byte flips (maybe invalid UTF-8)
    case 2: { const i = r.int(b.length); return Buffer.concat([b.subarray(0, i), Buffer.from(Array.from({ length: 1 + r.int(8) }, () => r.int(256))), b.subarray(i)]); }
    default: return Buffer.from(r.pick([text + text, text.replace(/"/g, "'"), text.replace(/:/g, ''), `${text},`, ` \t\n${text}\n`]));
  }
}

interface Frame { data: Buffer; binary: boolean; what: string }

function generate(r: Rng, publisher: string): Frame {
  const kind = r.int(100);
  if (kind < 50) {
    const entries = mutate(r, template(r, publisher));
    let text = ser({ entries });
    if (text.length > MAX && r.chance(0.8)) text = ser({ entries: template(r, publisher) }); // keep most cases on the open socket
    return { data: Buffer.from(text), binary: false, what: 'mutated' };
  }
  if (kind < 58) return { data: Buffer.from(ser({ entries: template(r, publisher) })), binary: false, what: 'valid' };
  if (kind < 70) return { data: Buffer.from(ser(randomValue(r))), binary: false, what: 'random' };
  if (kind < 85) return { data: bytesMutate(r, ser({ entries: template(r, publisher) })), binary: false, what: 'bytes' };
  if (kind < 89) return { data: Buffer.from(deep(r, 1 + r.int(r.chance(0.9) ? 4000 : 40_000))), binary: false, what: 'deep' };
  if (kind < 94) return { data: r.chance(0.5) ? Buffer.from(ser({ entries: template(r, publisher) })) : Buffer.from(Array.from({ length: r.int(64) }, () => r.int(256))), binary: true, what: 'binary' };
  if (kind < 97) return { data: Buffer.from(`{"type":"offer","sdp":"${'v'.repeat(MAX + r.int(MAX * 2))}"}`), binary: false, what: 'huge' };
  return { data: Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0x22, 0x7d].slice(0, 2 + r.int(9))), binary: false, what: 'not-utf8' };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
type Expect =
  | { kind: 'reply'; code: string }
  | { kind: 'relay'; message: Record<string, unknown> }
  | { kind: 'close'; closeCode: number; code?: string }
  | { kind: 'join' };

/** What docs/protocol.md says must happen to this frame on a socket that is (or is not) a joined viewer. */
function oracle(f: Frame, joined: boolean, publisher: string): Expect {
  if (f.binary) return f.data.length > MAX_PAYLOAD ? { kind: 'close', closeCode: 1009 } : { kind: 'reply', code: 'binary-not-supported' };
  if (f.data.length > MAX_PAYLOAD) return { kind: 'close', closeCode: 1009 };
  let text: string;
  try {
    text = utf8.decode(f.data);
  } catch {
    return { kind: 'close', closeCode: 1007 }; // a WebSocket protocol error (RFC 6455 §8.1)
  }
  if (f.data.length > MAX) return { kind: 'close', closeCode: 1009, code: 'too-large' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'reply', code: 'bad-json' };
  }
  if (!checkClientMessage.Check(value)) return { kind: 'reply', code: 'bad-message' };
  const m = value as Record<string, unknown>;
  if (!joined) {
    if (m.type !== 'join') return { kind: 'reply', code: 'not-joined' };
    try {
      verifyToken(m.token as string | undefined, { secret: SECRET, session: m.session as string, role: m.role as 'viewer' });
      return { kind: 'join' };
    } catch {
      return { kind: 'close', closeCode: 1008, code: 'unauthorized' };
    }
  }
  if (m.type === 'join') return { kind: 'reply', code: 'already-joined' };
  if (m.type === 'bye') return { kind: 'close', closeCode: 1000 };
  if (m.to !== undefined && m.to !== publisher) return { kind: 'reply', code: 'unknown-peer' };
  const { to: _to, ...rest } = m;
  return { kind: 'relay', message: rest };
}

async function join(session: string, role: 'viewer' | 'publisher'): Promise<{ c: RawClient; id: string }> {
  const c = await RawClient.open(daemon.url);
  c.send({ type: 'join', session, role, token: mintToken({ secret: SECRET, session, role, ttlSeconds: 600 }) });
  return { c, id: (await c.next('joined')).peerId as string };
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

// The well-behaved pair: one round trip publisher → viewer → publisher.
async function roundTrip(pub: { c: RawClient; id: string }, good: { c: RawClient; id: string }, n: number): Promise<void> {
  pub.c.send({ type: 'offer', to: good.id, sdp: `v=0 round ${n}` });
  const offer = await good.c.next('offer', 5000);
  if (offer.sdp !== `v=0 round ${n}`) throw new Error(`round ${n}: the good viewer got ${JSON.stringify(offer)}`);
  good.c.send({ type: 'answer', sdp: `v=0 answer ${n}` });
  await until(`round ${n} answer`, () => pub.c.messages.some((m) => m.type === 'answer' && m.from === good.id && m.sdp === `v=0 answer ${n}`), 5000);
}

t.test(`${CASES} frames from a joined viewer (seed ${SEED})`, async (t) => {
  const r = prng(SEED);
  const pub = await join('fz', 'publisher');
  const good = await join('fz', 'viewer');
  let fuzz = await join('fz', 'viewer');
  const stats: Record<string, number> = {};
  const count = (key: string) => (stats[key] = (stats[key] ?? 0) + 1);
  let failures = 0;
  const BATCH = 100;
  for (let start = 0; start < CASES && failures < 5; start += BATCH) {
    const expected: { f: Frame; e: Expect; i: number }[] = [];
    const closing: { f: Frame; e: Expect; i: number }[] = [];
    for (let i = start; i < Math.min(CASES, start + BATCH); i++) {
      const f = generate(r, pub.id);
      const e = oracle(f, true, pub.id);
      count(`${f.what}:${e.kind === 'reply' ? e.code : e.kind === 'close' ? `close-${e.closeCode}` : e.kind}`);
      (e.kind === 'close' ? closing : expected).push({ f, e, i });
    }
    pub.c.messages.length = 0;
    fuzz.c.messages.length = 0;
    for (const { f } of expected) f.binary ? fuzz.c.sendBinary(f.data) : fuzz.c.sendText(f.data);
    const sentinel = `zz-sentinel-${start}`;
    fuzz.c.send({ type: 'offer', to: sentinel, sdp: 'x' });
    await until(`the sentinel after case ${start}`, () => fuzz.c.messages.some((m) => String(m.message).includes(sentinel)) || fuzz.c.closeCode !== undefined);
    if (fuzz.c.closeCode !== undefined) {
      t.fail(`the fuzz socket was closed (${fuzz.c.closeCode}) in batch ${start}`);
      failures++;
      fuzz = await join('fz', 'viewer');
      continue;
    }
    const replies = fuzz.c.messages.slice(0, fuzz.c.messages.findIndex((m) => String(m.message).includes(sentinel)));
    const wanted = expected.filter((x) => x.e.kind === 'reply').map((x) => (x.e as { code: string }).code);
    const got = replies.map((m) => m.code);
    if (JSON.stringify(got) !== JSON.stringify(wanted)) {
      const at = got.findIndex((c, k) => c !== wanted[k]);
      const culprit = expected.filter((x) => x.e.kind === 'reply')[at];
      t.fail(`batch ${start}: reply #${at} was ${got[at]}, expected ${wanted[at]} for case ${culprit?.i} (${culprit?.f.what}: ${culprit?.f.data.toString('utf8', 0, 200)})`);
      failures++;
    }
    t.ok(replies.every((m) => m.type === 'error' && (ERROR_CODES as readonly string[]).includes(m.code as string)), `batch ${start}: every reply is a documented error`, { skip: false });
    const relays = expected.filter((x) => x.e.kind === 'relay').map((x) => ({ ...(x.e as { message: Record<string, unknown> }).message, from: fuzz.id }));
    await until(`${relays.length} relays to reach the publisher`, () => pub.c.messages.filter((m) => m.from === fuzz.id).length >= relays.length);
    t.same(pub.c.messages.filter((m) => m.from === fuzz.id), relays, `batch ${start}: ${relays.length} valid messages relayed exactly, in order`);
    // The closing ones, each on a fresh joined socket in a session of its own.
    for (const { f, e, i } of closing) {
      const lone = await join('fzc', 'viewer');
      f.binary ? lone.c.sendBinary(f.data) : lone.c.sendText(f.data);
      const code = await lone.c.closed().catch(() => undefined);
      const ce = e as { closeCode: number; code?: string };
      if (code !== ce.closeCode || (ce.code && !lone.c.messages.some((m) => m.code === ce.code))) {
        t.fail(`case ${i} (${f.what}, ${f.data.length} bytes): closed ${code} with ${JSON.stringify(lone.c.messages)}, expected ${ce.closeCode} ${ce.code ?? ''}`);
        failures++;
      }
    }
    await roundTrip(pub, good, start);
  }
  t.equal(failures, 0, 'every frame handled as documented');
  t.equal(good.c.closeCode, undefined, 'the well-behaved viewer is still connected');
  t.equal(pub.c.closeCode, undefined, 'the publisher is still connected');
  t.comment(JSON.stringify(stats));
  for (const c of [pub.c, good.c, fuzz.c]) c.close();
});

t.test(`${Math.round(CASES / 3)} frames before join (seed ${SEED + 1})`, async (t) => {
  const r = prng(SEED + 1);
  let c = await RawClient.open(daemon.url);
  let failures = 0;
  let joins = 0;
  for (let i = 0; i < CASES / 3 && failures < 5; i++) {
    const f = generate(r, 'p-nobody');
    const e = oracle(f, false, 'p-nobody');
    if (e.kind === 'close' || e.kind === 'join') {
      const lone = await RawClient.open(daemon.url);
      f.binary ? lone.sendBinary(f.data) : lone.sendText(f.data);
      if (e.kind === 'join') {
        joins++;
        await lone.next('joined').catch((error: Error) => (failures++, t.fail(`case ${i}: ${error.message}`)));
        lone.close();
        continue;
      }
      const code = await lone.closed().catch(() => undefined);
      if (code !== e.closeCode || (e.code && !lone.messages.some((m) => m.code === e.code))) {
        t.fail(`case ${i} (${f.what}): closed ${code} with ${JSON.stringify(lone.messages)}, expected ${e.closeCode} ${e.code ?? ''}`);
        failures++;
      }
      continue;
    }
    f.binary ? c.sendBinary(f.data) : c.sendText(f.data);
    if (e.kind === 'reply') {
      const m = await c.next('error').catch(() => undefined);
      if (m?.code !== e.code) {
        t.fail(`case ${i} (${f.what}: ${f.data.toString('utf8', 0, 200)}): got ${JSON.stringify(m)}, expected ${e.code}`);
        failures++;
        c = await RawClient.open(daemon.url);
      }
    }
  }
  t.equal(failures, 0, `every frame before join handled as documented (${joins} valid joins among them)`);
  c.close();
});

t.test(`${Math.round(CASES / 10)} byes from a publisher to its viewer (seed ${SEED + 2})`, async (t) => {
  // A publisher's bye to one viewer carries reason, codecs and message to it as they came; a wrong one
  // gets bad-message and reaches nobody.
  const r = prng(SEED + 2);
  const pub = await join('fzb', 'publisher');
  const viewer = await join('fzb', 'viewer');
  const bye = (): [string, J][] => [['type', 'bye'], ['to', viewer.id], ['reason', 'no-common-codec'], ['codecs', obj({ publisher: codecList(r), viewer: codecList(r) })], ['message', 'no codec in common']];
  let failures = 0;
  let relayed = 0;
  for (let i = 0; i < CASES / 10 && failures < 5; i++) {
    let entries = r.chance(0.8) ? mutate(r, bye()) : bye();
    entries = entries.filter(([k]) => k !== 'type' && k !== 'to');
    entries.unshift(['type', 'bye'], ['to', viewer.id]); // always a bye to the viewer: the fields are what vary
    const text = ser({ entries });
    if (Buffer.byteLength(text) > MAX) continue;
    const value = JSON.parse(text) as Record<string, unknown>;
    pub.c.messages.length = 0;
    viewer.c.messages.length = 0;
    pub.c.sendText(Buffer.from(text));
    if (!checkClientMessage.Check(value)) {
      const m = await pub.c.next('error', 5000).catch(() => undefined);
      if (m?.code !== 'bad-message') {
        t.fail(`case ${i} (${text.slice(0, 200)}): got ${JSON.stringify(m)}, expected bad-message`);
        failures++;
      }
      continue;
    }
    relayed++;
    const got = await viewer.c.next('bye', 5000).catch(() => undefined);
    const { reason, codecs, message } = value;
    const want = { type: 'bye', from: pub.id, ...(reason ? { reason } : {}), ...(codecs ? { codecs } : {}), ...(message ? { message } : {}) };
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      t.fail(`case ${i} (${text.slice(0, 200)}): the viewer got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
      failures++;
    }
  }
  t.equal(failures, 0, `every bye handled as documented (${relayed} relayed)`);
  t.equal(viewer.c.closeCode, undefined, 'the viewer is still connected');
  t.equal(pub.c.closeCode, undefined, 'the publisher is still connected');
  pub.c.close();
  viewer.c.close();
});

t.test('afterwards: the daemon is healthy, nothing leaked, nothing was polluted', async (t) => {
  const health = () => fetch(`${daemon.http}/healthz`).then((r) => r.json()) as Promise<{ ok: boolean; sessions: number; peers: number }>;
  const deadline = Date.now() + 5000;
  while ((await health()).peers > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.match(await health(), { ok: true, sessions: 0, peers: 0 }, 'healthy, and no participant or session left behind');
  t.equal(Object.getOwnPropertyNames(Object.prototype).join(','), protoKeysBefore, 'Object.prototype untouched');
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  t.same(unhandled, [], 'no unhandled rejection or exception');
});
