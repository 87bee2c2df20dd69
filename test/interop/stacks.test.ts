// WebRTC stacks that are neither Chromium's nor GStreamer's, speaking to a real daemon and a real
// publish()/receive(): aiortc (Python, Debian python3-aiortc; decodes with PyAV) and werift (npm,
// TypeScript; its RTP decoded by a separate gst-launch) as WHEP players and protocol-v1 viewers, aiortc
// as a WHIP sender into receive(), werift relay-only through coturn (over the WebSocket, and over WHEP
// with the TURN server of the 201's Link headers). The clients are in test/fixtures/interop/. Connect
// and first-frame times per client × path are printed as a table at the end (ms from the client's
// start; each test starts a fresh publisher, so its rows include the encoder's start). With the
// loopback coturn the publisher's gathering ends ~2 s late (see test/signaling/whep-turn.test.ts), so
// the relay rows' answers carry that.
import t, { type Test } from 'tap';
import type { Frame } from '../../lib/index.js';
import { publish, receive } from '../../lib/client.js';
import { mintToken, type TokenRole } from '../../lib/signaling/daemon/token.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { aiortc } from '../helpers/aiortc.js';
import { startCoturn } from '../helpers/coturn.js';
import type { IceConfig } from '../../lib/signaling/daemon/ice-config.js';
import { waitFor } from '../helpers/wait.js';
import { whepPlay, wsView } from '../fixtures/interop/werift-client.js';


const token = (session: string, role: TokenRole) => mintToken({ secret: SECRET, session, role, ttlSeconds: 600 });

interface Row {
  client: string;
  path: string;
  codec: string;
  answerMs: number | string;
  connectMs: number | string;
  firstFrameMs: number | string;
}
const rows: Row[] = [];
t.teardown(() => {
  const header = ['client', 'path', 'codec', 'answer ms', 'connected ms', 'first frame ms'];
  const lines = [header, ...rows.map((r) => [r.client, r.path, r.codec, String(r.answerMs), String(r.connectMs), String(r.firstFrameMs)])];
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  console.log(['', 'interop timings (ms from the client start):', ...lines.map((l) => l.map((c, i) => c.padEnd(widths[i]!)).join('  '))].join('\n# '));
});

async function publishing(t: Test, session: string, ice?: IceConfig) {
  const daemon = await startDaemon(ice ? { ice } : {});
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session, token: token(session, 'publisher'), source: { kind: 'test', pattern: 'ball' }, video: { width: 320, height: 240 } });
  publisher.on('error', () => {});
  t.teardown(() => publisher.close());
  await waitFor('the publisher to join', () => publisher.client.state === 'joined', 10_000);
  return { daemon, publisher };
}

t.test('aiortc as a WHEP player: POST, 201 with ETag and end-of-candidates, PATCH, decoded frames, DELETE', async (t) => {
  const { daemon, publisher } = await publishing(t, 'aio-whep');
  const run = await aiortc(['whep', '--endpoint', `${daemon.http}/whep/aio-whep`, '--token', token('aio-whep', 'viewer'), '--frames', '30']);
  t.equal(run.code, 0, `aiortc exited 0 (${run.events.get('error')?.message ?? run.stderr})`);
  const answer = run.events.get('answer');
  const done = run.events.get('done');
  t.equal(answer?.status, 201);
  t.match(answer?.etag, /^"v-/, 'an ETag it can send back in If-Match');
  t.equal(answer?.eoc, true, 'the answer says a=end-of-candidates (no server-side trickle in WHEP)');
  t.equal(done?.patch, 204, 'its trickle PATCH (with If-Match) was taken');
  t.equal(done?.frames, 30, 'PyAV decoded 30 frames');
  t.same([run.events.get('frame')?.width, run.events.get('frame')?.height], [320, 240]);
  t.ok((done?.distinct as number) > 2, `a picture, not a blank frame (${String(done?.distinct)} grey levels)`);
  t.equal(done?.delete, 200, 'DELETE ends it');
  await waitFor('the publisher to drop the player', () => publisher.viewers === 0, 10_000);
  rows.push({ client: 'aiortc 1.4', path: 'WHEP', codec: String(done?.codec), answerMs: answer!.ms, connectMs: run.events.get('connected')!.ms, firstFrameMs: run.events.get('frame')!.ms });
});

t.test('aiortc as a protocol-v1 viewer over the WebSocket: answers the publisher\'s offer, decodes', async (t) => {
  const { daemon, publisher } = await publishing(t, 'aio-ws');
  const run = await aiortc(['ws', '--url', daemon.url, '--session', 'aio-ws', '--token', token('aio-ws', 'viewer'), '--frames', '30']);
  t.equal(run.code, 0, `aiortc exited 0 (${run.events.get('error')?.message ?? run.stderr})`);
  const done = run.events.get('done');
  t.equal(done?.frames, 30, 'PyAV decoded 30 frames');
  t.same([run.events.get('frame')?.width, run.events.get('frame')?.height], [320, 240]);
  t.ok((done?.distinct as number) > 2, `a picture (${String(done?.distinct)} grey levels)`);
  await waitFor('the publisher to drop the viewer after its bye', () => publisher.viewers === 0, 10_000);
  rows.push({ client: 'aiortc 1.4', path: 'WebSocket', codec: String(done?.codec), answerMs: run.events.get('answer')!.ms, connectMs: run.events.get('connected')!.ms, firstFrameMs: run.events.get('frame')!.ms });
});

t.test('aiortc as a WHIP sender (a sender token) into receive() (a receiver token): its frames arrive in Node', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const agent = receive({ url: daemon.url, session: 'aio-whip', token: token('aio-whip', 'receiver'), video: { format: 'RGBA' } });
  t.teardown(() => agent.close());
  await waitFor('the receiving agent to join', () => agent.client.state === 'joined', 10_000);
  const frames: Frame[] = [];
  let firstAt = 0;
  const started = Date.now();
  agent.on('frame', (frame) => {
    if (frames.length === 0) firstAt = Date.now() - started;
    if (frames.length < 10) frames.push({ ...frame, data: Buffer.from(frame.data) });
  });
  const run = await aiortc(['whip', '--endpoint', `${daemon.http}/whip/aio-whip`, '--token', token('aio-whip', 'sender'), '--frames', '30', '--seconds', '2']);
  t.equal(run.code, 0, `aiortc exited 0 (${run.events.get('error')?.message ?? run.stderr})`);
  t.equal(run.events.get('answer')?.status, 201);
  t.ok(frames.length >= 10, `${frames.length} frames arrived in Node`);
  const last = frames.at(-1)!;
  t.same([last.width, last.height], [320, 240], 'the size aiortc sent');
  // aiortc sent a horizontal gradient: the left edge is dark, the right edge bright (red channel).
  const row = Math.floor(last.height / 2) * last.stride;
  const red = (x: number) => last.data[row + x * 4]!;
  t.ok(Math.abs(red(300) - red(20)) > 40 || frames.some((f) => f.data[0] !== last.data[0]), 'a picture that is not uniform');
  t.equal(run.events.get('done')?.delete, 200);
  rows.push({ client: 'aiortc 1.4', path: 'WHIP → receive()', codec: String(run.events.get('done')?.codec), answerMs: run.events.get('answer')!.ms, connectMs: run.events.get('connected')!.ms, firstFrameMs: `${firstAt} (Node)` });
});

t.test('werift as a WHEP player: POST, trickle PATCH with If-Match, decoded frames, DELETE', async (t) => {
  const { daemon, publisher } = await publishing(t, 'wr-whep');
  const result = await whepPlay(`${daemon.http}/whep/wr-whep`, { token: token('wr-whep', 'viewer'), frames: 30 });
  t.equal(result.status, 201);
  t.ok(result.endOfCandidates, 'the answer carries a=end-of-candidates');
  t.equal(result.patch, 204, 'the trickle PATCH with If-Match was taken');
  t.ok(result.frames >= 30, `${result.frames} frames decoded (${result.codec})`);
  t.same([result.width, result.height], [320, 240]);
  t.equal(result.delete, 200);
  await waitFor('the publisher to drop the player', () => publisher.viewers === 0, 10_000);
  rows.push({ client: 'werift 0.25', path: 'WHEP', codec: result.codec, answerMs: result.answerMs, connectMs: result.connectMs, firstFrameMs: result.firstFrameMs });
});

t.test('werift as a WHEP player offering only VP8, to a publisher whose default is H.264: answered with VP8, decodes', async (t) => {
  const { daemon, publisher } = await publishing(t, 'wr-vp8');
  const result = await whepPlay(`${daemon.http}/whep/wr-vp8`, { token: token('wr-vp8', 'viewer'), frames: 30, codecs: ['VP8'] });
  t.equal(result.status, 201);
  t.equal(result.codec.toUpperCase().replace(/^VIDEO\//, ''), 'VP8', `negotiated ${result.codec}`);
  t.ok(result.frames >= 30, `${result.frames} VP8 frames decoded`);
  t.equal(result.delete, 200);
  await waitFor('the publisher to drop the player', () => publisher.viewers === 0, 10_000);
  rows.push({ client: 'werift 0.25', path: 'WHEP', codec: result.codec, answerMs: result.answerMs, connectMs: result.connectMs, firstFrameMs: result.firstFrameMs });
});

t.test('werift as a protocol-v1 viewer over the WebSocket: answers the publisher\'s offer, trickles both ways, decodes', async (t) => {
  const { daemon, publisher } = await publishing(t, 'wr-ws');
  const result = await wsView(daemon.url, 'wr-ws', { token: token('wr-ws', 'viewer'), frames: 30 });
  t.ok(result.frames >= 30, `${result.frames} frames decoded (${result.codec})`);
  t.same([result.width, result.height], [320, 240]);
  await waitFor('the publisher to drop the viewer after its bye', () => publisher.viewers === 0, 10_000);
  rows.push({ client: 'werift 0.25', path: 'WebSocket', codec: result.codec, answerMs: result.answerMs, connectMs: result.connectMs, firstFrameMs: result.firstFrameMs });
});

t.test('werift relay-only through coturn (iceTransportPolicy relay), credentials from joined.iceServers', async (t) => {
  const turnSecret = `interop-turn-${Math.random().toString(36).slice(2)}`;
  const turn = await startCoturn({ secret: turnSecret });
  t.teardown(() => turn.stop());
  const { daemon } = await publishing(t, 'wr-relay', { turn: [`turn:127.0.0.1:${turn.port}`], turnSecret });
  const result = await wsView(daemon.url, 'wr-relay', { token: token('wr-relay', 'viewer'), frames: 30, relay: true });
  t.same(result.candidateTypes, ['relay'], 'werift offered only relay candidates');
  t.ok(result.frames >= 30, `${result.frames} frames decoded through the relay`);
  t.ok(turn.allocations() >= 1, `coturn granted ${turn.allocations()} allocation(s)`);
  rows.push({ client: 'werift 0.25', path: 'WebSocket, relay only', codec: result.codec, answerMs: result.answerMs, connectMs: result.connectMs, firstFrameMs: result.firstFrameMs });
});

t.test('werift as a WHEP player relay-only, with the TURN server and credentials of the Link headers (RFC 9725 §4.6)', async (t) => {
  const turnSecret = `interop-turn-${Math.random().toString(36).slice(2)}`;
  const turn = await startCoturn({ secret: turnSecret });
  t.teardown(() => turn.stop());
  const { daemon } = await publishing(t, 'wr-whep-relay', { turn: [`turn:127.0.0.1:${turn.port}`], turnSecret });
  const bearer = token('wr-whep-relay', 'viewer');
  // A relay-only offer needs the TURN server before it is made, and the Links come on a 201: a first
  // session learns them (werift cannot change its ICE servers afterwards), a second one plays.
  const first = await whepPlay(`${daemon.http}/whep/wr-whep-relay`, { token: bearer, frames: 1 });
  t.same(first.links.map((l) => l.urls), [`turn:127.0.0.1:${turn.port}`], 'the 201 named the TURN server in a Link header');
  t.match(first.links[0], { username: /^\d+:v-/, credential: /.+/ }, 'with REST credentials minted for that resource');
  const result = await whepPlay(`${daemon.http}/whep/wr-whep-relay`, { token: bearer, frames: 30, relay: true, iceServers: first.links });
  t.same(result.candidateTypes, ['relay'], 'werift offered only relay candidates');
  t.ok(result.frames >= 30, `${result.frames} frames decoded through the relay`);
  t.equal(result.delete, 200);
  rows.push({ client: 'werift 0.25', path: 'WHEP, relay only', codec: result.codec, answerMs: result.answerMs, connectMs: result.connectMs, firstFrameMs: result.firstFrameMs });
});
