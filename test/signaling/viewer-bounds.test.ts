// What one viewer can make publish() hold, against a real daemon and real peers: a viewer that never
// answers (or a WHEP player that never connects) is closed at the negotiation deadline and its WHEP
// resource and token slot go with it; a flood of early candidates is bounded; a candidate with an
// unknown mid is ignored with a warning instead of dropping the viewer.
import t from 'tap';
import { publish } from '../../lib/publish/publisher.js';
import { InvalidArgumentError, WebRtcPeer, livePeerCount } from '../../lib/index.js';
import { SignalingClient, type Logger } from '../../lib/signaling/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { RawClient, SECRET, startDaemon, startScriptedDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (e) => unhandled.push(e));

const token = (session: string, role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session, role, ttlSeconds: 600 });
const small = { source: { kind: 'test' as const }, video: { width: 160, height: 120 }, shareEncoder: false };
const viewersIn = async (http: string) => ((await fetch(`${http}/healthz`).then((r) => r.json())) as { peers: number }).peers - 1;
const HOST = 'candidate:1 1 UDP 2122260223 192.0.2.1 9 typ host';

/** A logger that keeps the warnings. */
function recordingLogger(): Logger & { warnings: { obj: object; msg?: string }[] } {
  const warnings: { obj: object; msg?: string }[] = [];
  const noop = () => {};
  return { warnings, debug: noop, info: noop, error: noop, warn: (obj, msg) => void warnings.push({ obj, msg }) };
}

t.test('negotiationTimeoutMs is checked', async (t) => {
  for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, '30' as unknown as number]) {
    t.throws(() => publish({ url: 'ws://127.0.0.1:9/v1/ws', session: 's', ...small, negotiationTimeoutMs: bad }), InvalidArgumentError, `${String(bad)} refused`);
  }
});

t.test('a viewer that never answers is closed at the negotiation deadline and told with bye', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const baseline = livePeerCount();
  const publisher = publish({ url: daemon.url, session: 'dl', token: token('dl', 'publisher'), ...small, negotiationTimeoutMs: 1000 });
  t.teardown(() => publisher.close());
  publisher.on('error', () => {});
  const left: [string, string][] = [];
  publisher.on('viewer-left', (id, reason) => left.push([id, reason]));
  await waitFor('the publisher to join', () => publisher.client.state === 'joined', 10_000);
  const viewer = await RawClient.open(daemon.url);
  t.teardown(() => viewer.close());
  viewer.send({ type: 'join', session: 'dl', role: 'viewer', token: token('dl', 'viewer') });
  const joined = await viewer.next('joined');
  await viewer.next('offer', 10_000);
  t.equal(publisher.viewers, 1, 'the publisher holds a peer for the silent viewer');
  t.match(await viewer.next('bye', 10_000), { type: 'bye' }, 'the viewer hears bye at the deadline');
  t.same(left, [[joined.peerId, 'not connected within 1000 ms']], 'viewer-left says why');
  t.equal(publisher.viewers, 0);
  await waitFor('the native peer to be torn down', () => livePeerCount() === baseline, 10_000);
  t.pass('live native peers back to the baseline');
  t.same(unhandled, []);
});

t.test('a WHEP player that never connects: its resource and token slot go at the publisher deadline', async (t) => {
  const daemon = await startDaemon({ maxJoinsPerToken: 1 });
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session: 'wd', token: token('wd', 'publisher'), ...small, negotiationTimeoutMs: 1500 });
  t.teardown(() => publisher.close());
  publisher.on('error', () => {});
  await waitFor('the publisher to join', () => publisher.client.state === 'joined', 10_000);
  const player = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => player.close());
  const offer = await player.createOffer();
  await player.setLocalDescription(offer);
  const baseline = livePeerCount();
  const viewer = token('wd', 'viewer');
  const post = () => fetch(`${daemon.http}/whep/wd`, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${viewer}` }, body: offer.sdp });
  const created = await post();
  t.equal(created.status, 201);
  await created.text(); // the answer is never applied: this player never connects
  const location = created.headers.get('location')!;
  t.equal(await viewersIn(daemon.http), 1, 'the resource exists');
  await waitFor('the publisher to drop its peer', () => publisher.viewers === 0, 10_000);
  let left = 1;
  for (let i = 0; i < 50 && (left = await viewersIn(daemon.http)) > 0; i++) await new Promise((r) => setTimeout(r, 50));
  t.equal(left, 0, 'the daemon dropped the WHEP participant');
  const gone = await fetch(`${daemon.http}${location}`, { method: 'DELETE', headers: { authorization: `Bearer ${viewer}` } });
  t.equal(gone.status, 404, 'its URL is gone');
  await waitFor('the publisher peer to be torn down', () => livePeerCount() === baseline, 10_000);
  t.pass('live native peers back to the baseline');
  const again = await post();
  t.equal(again.status, 201, 'the token (cap 1) can create a new resource: its slot was released');
  await again.text();
  await fetch(`${daemon.http}${again.headers.get('location')!}`, { method: 'DELETE', headers: { authorization: `Bearer ${viewer}` } }).then((r) => r.text());
  t.same(unhandled, []);
});

t.test('a candidate with an unknown sdpMid is ignored with a warning; the viewer connects', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const log = recordingLogger();
  const publisher = publish({ url: daemon.url, session: 'mid', token: token('mid', 'publisher'), ...small, logger: log });
  t.teardown(() => publisher.close());
  const errors: Error[] = [];
  publisher.on('error', (e) => errors.push(e));
  const left: string[] = [];
  publisher.on('viewer-left', (_id, reason) => left.push(reason));
  let connected = false;
  publisher.on('viewer-connected', () => (connected = true));
  await waitFor('the publisher to join', () => publisher.client.state === 'joined', 10_000);

  const peer = new WebRtcPeer({ video: { receive: true } });
  const client = new SignalingClient({ url: daemon.url, session: 'mid', role: 'viewer', token: token('mid', 'viewer') });
  t.teardown(async () => {
    await client.close();
    await peer.close();
  });
  const bogus = (sdpMid: string) => client.send({ type: 'candidate', candidate: { candidate: HOST, sdpMid, sdpMLineIndex: null } });
  peer.on('icecandidate', (c) => void client.send({ type: 'candidate', candidate: c ? { candidate: c.candidate ?? '', sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null } : null }));
  client.on('offer', async (m: { sdp: string }) => {
    await peer.setRemoteDescription({ type: 'offer', sdp: m.sdp });
    bogus('early-bogus'); // reaches the publisher before the answer: held, then found to name no m-line
    const answer = await peer.createAnswer();
    await peer.setLocalDescription(answer);
    client.send({ type: 'answer', sdp: answer.sdp });
    setTimeout(() => bogus('late-bogus'), 200); // after the answer: refused on arrival
  });
  client.on('candidate', (m: { candidate: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null } | null }) => void peer.addIceCandidate(m.candidate).catch(() => {}));
  client.connect();
  // Whichever comes first: before the fix the bogus candidate dropped the viewer at once.
  await waitFor('the viewer to connect (or be dropped)', () => connected || left.length > 0, 20_000);
  t.same(left, [], 'no viewer-left');
  t.ok(connected, 'the viewer connected');
  await waitFor('both bogus candidates to be refused', () => log.warnings.filter((w) => /bogus/.test(JSON.stringify(w.obj))).length >= 2, 5000);
  t.equal(publisher.viewers, 1, 'the viewer is still there');
  t.same(left, [], 'still no viewer-left');
  t.same(errors, [], 'no error event');
  t.same(unhandled, []);
});

t.test('10 000 early candidates through publish(): bounded, one warning, the viewer kept', async (t) => {
  // A scripted daemon: the real one rate-limits a viewer long before 10 000 messages.
  const { port, received, connected } = await startScriptedDaemon(t);
  const log = recordingLogger();
  const publisher = publish({ url: `ws://127.0.0.1:${port}/v1/ws`, session: 'f', token: 'x', ...small, logger: log });
  t.teardown(() => publisher.close());
  publisher.on('error', () => {});
  const ws = await connected;
  ws.send(JSON.stringify({ type: 'joined', v: 1, peerId: 'p1', session: 'f', role: 'publisher', iceServers: [] }));
  ws.send(JSON.stringify({ type: 'peer-joined', peerId: 'v1', role: 'viewer' }));
  await waitFor('the offer to v1', () => received.some((m) => m.type === 'offer' && m.to === 'v1'), 10_000);
  for (let i = 0; i < 10_000; i++) {
    ws.send(JSON.stringify({ type: 'candidate', from: 'v1', candidate: { candidate: `candidate:${i} 1 UDP 1 192.0.2.1 ${1000 + (i % 60_000)} typ host`, sdpMid: '0', sdpMLineIndex: 0 } }));
  }
  ws.send(JSON.stringify({ type: 'peer-joined', peerId: 'v2', role: 'viewer' })); // after all of them, in order
  await waitFor('the offer to v2', () => received.some((m) => m.type === 'offer' && m.to === 'v2'), 10_000);
  const flood = log.warnings.filter((w) => /wait for the remote description/.test(JSON.stringify(w.obj)));
  t.equal(flood.length, 1, 'one warning for the flood');
  t.match(JSON.stringify(flood[0]?.obj), /"viewer":"v1".*100 candidates already wait/);
  t.equal(publisher.viewers, 2, 'the flooding viewer is still served (until its deadline)');
});
