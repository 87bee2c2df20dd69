// Fuzzing the peer's native entry points: setRemoteDescription with mutations of a real offer (from a
// real createOffer()) and addIceCandidate with mutations of real candidates, from a seeded PRNG
// (FUZZ_SEED=… reproduces; the seed is printed). Each case either works or fails with a typed
// InvalidArgumentError/OperationError, within a bounded time; errors emitted as events are typed too;
// the peer stays usable (a real offer still works) or closes cleanly; the process never crashes.
import t from 'tap';
import { InvalidArgumentError, OperationError, WebRtcBinError, WebRtcPeer, livePeerCount } from '../../lib/index.js';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (e) => unhandled.push(e));

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const SDP_CASES = Number(process.env.FUZZ_SDP_CASES ?? 500);
const CANDIDATE_CASES = Number(process.env.FUZZ_CANDIDATE_CASES ?? 500);
t.comment(`FUZZ_SEED=${SEED}`);
console.error(`# sdp fuzz seed: FUZZ_SEED=${SEED}`);

function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(items: readonly T[]): T => items[int(items.length)]!, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

const GARBAGE = ['', '0', '-1', '65536', '4294967296', '99999999999999999999', 'NaN', 'x'.repeat(3000), '\u0000', 'é🙂', '%s%s%n', ':::', '/', 'IN IP6 ::1', '*', ' '];
const EXTRA_LINES = [
  'a=rtpmap:96 H264/90000', 'a=rtpmap:127 VP8/0', 'a=rtpmap:4294967296 VP8/90000', 'a=fmtp:96 ' + 'x=1;'.repeat(500), 'a=ssrc:1 cname:', 'a=ssrc:-1',
  'a=ssrc-group:FID 1', 'a=candidate:garbage', 'a=candidate:1 1 udp 1 999.999.999.999 70000 typ host', 'a=fingerprint:sha-256 ZZ', 'a=fingerprint:md5',
  'a=setup:bogus', 'a=mid:', 'a=mid:' + 'm'.repeat(300), 'a=group:BUNDLE 0 1 2 3 4 5', 'a=ice-ufrag:', 'a=ice-pwd:', 'a=extmap:999999 urn:x', 'a=rtcp-fb:* nack',
  'a=msid:- -', 'a=sendrecv', 'a=inactive', 'a=rtcp-mux', 'b=AS:-1', 'c=IN IP4 999.1.1.1/0', 'm=video 0 RTP/AVP', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=sctp-port:0', 'a=max-message-size:-5', 'a=simulcast:send 1;2', 'a=rid:1 send', 'a=x-google-flag:conference',
];

function mutateSdp(r: Rng, sdp: string): string {
  let lines = sdp.replace(/\r\n$/, '').split('\r\n');
  for (let n = 1 + r.int(3); n > 0; n--) {
    if (lines.length < 2) break;
    const i = 1 + r.int(lines.length - 1); // keep v=0 mostly
    switch (r.int(9)) {
      case 0: lines.splice(i, 1); break;
      case 1: lines.splice(i, 0, lines[i]!); break;
      case 2: { const j = 1 + r.int(lines.length - 1); [lines[i], lines[j]] = [lines[j]!, lines[i]!]; break; }
      case 3: { const words = lines[i]!.split(/([ :/])/); words[r.int(words.length)] = r.pick(GARBAGE); lines[i] = words.join(''); break; }
      case 4: lines.splice(i, 0, r.pick(EXTRA_LINES)); break;
      case 5: lines = lines.slice(0, i); break;
      case 6: { const m = lines.findIndex((l) => l.startsWith('m=')); if (m > 0) { const section = lines.slice(m); for (let k = r.int(12); k > 0; k--) lines.push(...section); } break; }
      case 7: lines[i] = lines[i]!.slice(0, r.int(lines[i]!.length)); break;
      default: lines[i] = lines[i]!.replace(/\d+/, () => r.pick(GARBAGE)); break;
    }
  }
  const text = `${lines.join('\r\n')}\r\n`;
  return r.chance(0.05) ? text.replace(/\r\n/g, '\n') : r.chance(0.03) ? text.slice(0, r.int(text.length)) : text;
}

function mutateCandidate(r: Rng, c: { candidate: string; sdpMLineIndex: number | null; sdpMid: string | null }): { candidate: string; sdpMLineIndex?: number | null; sdpMid?: string | null } {
  const out: { candidate: string; sdpMLineIndex?: number | null; sdpMid?: string | null } = { ...c };
  for (let n = 1 + r.int(2); n > 0; n--) {
    switch (r.int(7)) {
      case 0: { const words = out.candidate.split(' '); words[r.int(words.length)] = r.pick(GARBAGE); out.candidate = words.join(' '); break; }
      case 1: out.candidate = out.candidate.slice(0, r.int(out.candidate.length)); break;
      case 2: out.sdpMLineIndex = r.pick([null, 0, 1, 7, 1024, 2 ** 31, -1, 0.5, NaN]); break;
      case 3: out.sdpMid = r.pick([null, '', '0', '1', 'video', 'm'.repeat(300), '\u0000']); break;
      case 4: { const words = out.candidate.split(' '); words.splice(r.int(words.length), r.int(3)); out.candidate = words.join(' '); break; }
      case 5: out.candidate = out.candidate.replace(/typ \w+/, `typ ${r.pick(['relay', 'srflx', 'prflx', 'bogus', ''])}`).replace(/ (udp|tcp) /i, ` ${r.pick(['UDP', 'tcp', 'sctp', ''])} `); break;
      default: out.candidate = `${out.candidate} ${r.pick(['tcptype active', 'raddr 0.0.0.0 rport 0', 'generation 99999999999', 'ufrag', 'network-id', 'x'.repeat(2000)])}`;
    }
  }
  return out;
}

// Every call gets a deadline: a hang is a failure, not a stuck test run.
function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`HANG: ${what} did not settle in ${ms} ms`)), ms))]);
}

const typed = (e: unknown) => e instanceof InvalidArgumentError || e instanceof OperationError;

// A real offer and real candidates from a sending peer.
const sender = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 160, height: 120 } });
const realCandidates: { candidate: string; sdpMLineIndex: number | null; sdpMid: string | null }[] = [];
sender.on('icecandidate', (c) => c && realCandidates.push({ candidate: c.candidate ?? '', sdpMLineIndex: c.sdpMLineIndex ?? null, sdpMid: c.sdpMid ?? null }));
const offer = await sender.createOffer();
await sender.setLocalDescription(offer);
for (let i = 0; i < 50 && realCandidates.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
t.teardown(() => sender.close());

function receiver(events: Error[]): WebRtcPeer {
  const peer = new WebRtcPeer({ video: { receive: true } });
  peer.on('error', (e) => events.push(e));
  return peer;
}

t.test(`${SDP_CASES} mutated offers into setRemoteDescription (seed ${SEED})`, async (t) => {
  const r = prng(SEED);
  const events: Error[] = [];
  let peer = receiver(events);
  const outcomes: Record<string, number> = {};
  const bad: string[] = [];
  const started = Date.now();
  for (let i = 0; i < SDP_CASES && bad.length < 5; i++) {
    const sdp = mutateSdp(r, offer.sdp);
    try {
      await bounded(peer.setRemoteDescription({ type: 'offer', sdp }), 10_000, `case ${i}`);
      outcomes.accepted = (outcomes.accepted ?? 0) + 1;
      // Accepted: the peer must answer (or refuse, typed) and close cleanly; the next case gets a new one.
      await bounded(peer.createAnswer(), 10_000, `case ${i} createAnswer`).catch((e: unknown) => {
        if (!typed(e)) bad.push(`case ${i}: createAnswer failed untyped: ${String(e)}`);
      });
      await bounded(peer.close(), 10_000, `case ${i} close`);
      peer = receiver(events);
    } catch (e) {
      const name = e instanceof Error ? e.name : typeof e;
      outcomes[name] = (outcomes[name] ?? 0) + 1;
      if (!typed(e)) {
        bad.push(`case ${i}: ${String(e)} for SDP ${JSON.stringify(sdp.slice(0, 400))}`);
        await peer.close().catch(() => {});
        peer = receiver(events);
      }
    }
    if (i % 50 === 49) {
      // The peer that has just refused bad input still takes the real offer.
      const check = receiver(events);
      await bounded(check.setRemoteDescription(offer), 10_000, 'sanity offer');
      const answer = await bounded(check.createAnswer(), 10_000, 'sanity answer');
      t.match(answer.sdp, /m=video/, `after case ${i}: a real offer still works`);
      await check.close();
    }
  }
  t.same(bad, [], 'every refusal was an InvalidArgumentError or OperationError, and nothing hung');
  t.ok(events.every((e) => e instanceof WebRtcBinError), `every error event typed (${events.length}: ${[...new Set(events.map((e) => e.message.slice(0, 60)))].slice(0, 3).join(' | ')})`);
  t.comment(`outcomes ${JSON.stringify(outcomes)} in ${Date.now() - started} ms`);
  // The last peer (after refusals) is still usable.
  await bounded(peer.setRemoteDescription(offer), 10_000, 'final offer');
  t.match((await peer.createAnswer()).sdp, /m=video/, 'the peer that refused the last cases still answers a real offer');
  await peer.close();
});

t.test(`${CANDIDATE_CASES} mutated candidates into addIceCandidate (seed ${SEED + 1})`, async (t) => {
  t.ok(realCandidates.length > 0, `${realCandidates.length} real candidates to mutate`);
  const r = prng(SEED + 1);
  const events: Error[] = [];
  const early = receiver(events); // candidates before the remote description are buffered, then applied
  const peer = receiver(events);
  await peer.setRemoteDescription(offer);
  await peer.setLocalDescription(await peer.createAnswer());
  const outcomes: Record<string, number> = {};
  const bad: string[] = [];
  for (let i = 0; i < CANDIDATE_CASES && bad.length < 5; i++) {
    const c = mutateCandidate(r, r.pick(realCandidates));
    for (const target of i % 5 === 0 ? [early] : [peer]) {
      try {
        await bounded(target.addIceCandidate(c), 5000, `candidate case ${i}`);
        outcomes.accepted = (outcomes.accepted ?? 0) + 1;
      } catch (e) {
        const name = e instanceof Error ? e.name : typeof e;
        outcomes[name] = (outcomes[name] ?? 0) + 1;
        if (!typed(e)) bad.push(`case ${i}: ${String(e)} for ${JSON.stringify(c).slice(0, 300)}`);
      }
    }
  }
  await bounded(early.setRemoteDescription(offer), 10_000, 'applying the buffered candidates');
  await new Promise((r) => setTimeout(r, 300)); // errors of applied candidates arrive as events
  t.same(bad, [], 'every refusal typed, nothing hung');
  t.ok(events.every((e) => e instanceof WebRtcBinError), `every error event typed (${events.length})`);
  t.comment(`outcomes ${JSON.stringify(outcomes)}`);
  await t.resolves(peer.addIceCandidate(realCandidates[0]!), 'a real candidate is still accepted');
  await t.resolves(peer.getStats(), 'the peer still answers getStats');
  await Promise.all([peer.close(), early.close()]);
});

t.test('regression: two session-level ICE ufrags used to abort the process (webrtcsdp.c g_assert)', async (t) => {
  const peer = receiver([]);
  // Session level gets two ufrag/pwd pairs; the m-section none, so webrtcbin falls back to the session's.
  const lines = offer.sdp.split('\r\n').filter((l) => !l.startsWith('a=ice-ufrag') && !l.startsWith('a=ice-pwd'));
  lines.splice(4, 0, 'a=ice-ufrag:aaaa', 'a=ice-pwd:aaaaaaaaaaaaaaaaaaaaaaaa', 'a=ice-ufrag:bbbb', 'a=ice-pwd:bbbbbbbbbbbbbbbbbbbbbbbb');
  await t.rejects(peer.setRemoteDescription({ type: 'offer', sdp: lines.join('\r\n') }), InvalidArgumentError);
  await t.rejects(peer.setRemoteDescription({ type: 'offer', sdp: lines.join('\r\n') }), /more than one session-level a=ice-ufrag/);
  await peer.setRemoteDescription(offer);
  t.pass('the peer still takes the real offer');
  await peer.close();
});

t.test('nothing left behind', async (t) => {
  await sender.close();
  t.equal(livePeerCount(), 0, 'every pipeline torn down');
  t.same(unhandled, [], 'no unhandled rejection');
});
