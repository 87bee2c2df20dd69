// WHEP/WHIP HTTP endpoints under bad input (bad SDP, huge bodies, wrong content types, PATCH sdpfrag
// garbage, odd URLs) against a real daemon and a real publish(); and publish() itself against a fake
// daemon that sends it garbage. Every case a clear status or a dropped message; nothing crashes; a
// good client works afterwards.
import t from 'tap';
import { publish } from '../../lib/publish/publisher.js';
import { WebRtcPeer, livePeerCount } from '../../lib/index.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { SECRET, startDaemon, startScriptedDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (e) => unhandled.push(e));

t.test('WHEP/WHIP: bad input gets 4xx, the endpoint keeps working', async (t) => {
  const daemon = await startDaemon({ maxJoinsPerToken: 0 });
  t.teardown(() => daemon.app.close());
  const token = (role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session: 'wh', role, ttlSeconds: 600 });
  const publisher = publish({ url: daemon.url, session: 'wh', token: token('publisher'), source: { kind: 'test' }, video: { width: 160, height: 120 } });
  publisher.on('error', () => {});
  t.teardown(() => publisher.close());
  await waitFor('the publisher to join', () => publisher.client.state === 'joined', 10_000);
  const auth = { authorization: `Bearer ${token('viewer')}` };
  const post = (body: BodyInit, headers: Record<string, string> = {}, path = '/whep/wh') =>
    fetch(`${daemon.http}${path}`, { method: 'POST', headers: { 'content-type': 'application/sdp', ...auth, ...headers }, body });
  const cases: [string, () => Promise<Response>, number | RegExp][] = [
    ['not SDP', () => post('hello'), 415],
    ['SDP garbage the publisher refuses', () => post('v=0\r\nthis is not sdp\r\n'), 400],
    ['SDP without media', () => post('v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n'), 400],
    ['huge body', () => post(`v=0\r\n${'a=x\r\n'.repeat(40_000)}`), 413],
    ['JSON body', () => post('{"sdp":"v=0"}', { 'content-type': 'application/json' }), 415],
    ['text/plain', () => post('v=0\r\n', { 'content-type': 'text/plain' }), 415],
    ['no content type', () => fetch(`${daemon.http}/whep/wh`, { method: 'POST', headers: auth, body: new Uint8Array([0xff, 0xfe]) }), /^4/],
    ['binary', () => post(new Uint8Array([0x76, 0x3d, 0x30, 0x0d, 0x0a, 0xff, 0x00]), { 'content-type': 'application/octet-stream' }), 415],
    ['bad session name', () => post('v=0\r\n', {}, `/whep/${'x'.repeat(100)}`), 400],
    ['session with dots and percent', () => post('v=0\r\n', {}, '/whep/%2e%2e%2fetc'), /^4/],
    ['bad URL encoding', () => post('v=0\r\n', {}, '/whep/%E0%A4%A'), 400],
    ['no token', () => fetch(`${daemon.http}/whep/wh`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\n' }), 401],
    ['publisher token', () => post('v=0\r\n', { authorization: `Bearer ${token('publisher')}` }), 401],
    ['PATCH unknown id', () => fetch(`${daemon.http}/whep/wh/v-nobody`, { method: 'PATCH', headers: { 'content-type': 'application/trickle-ice-sdpfrag', ...auth }, body: 'a=candidate:x' }), 404],
    ['DELETE unknown id', () => fetch(`${daemon.http}/whep/wh/v-nobody`, { method: 'DELETE', headers: auth }), 404],
    ['WHIP not SDP', () => post('hello', {}, '/whip/wh'), 415],
  ];
  for (const [name, run, want] of cases) {
    const r = await run();
    await r.text();
    if (typeof want === 'number') t.equal(r.status, want, `${name}: ${r.status}`);
    else t.match(String(r.status), want, `${name}: ${r.status}`);
  }

  // A real offer works after all that; then PATCH garbage against it.
  const player = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => player.close());
  const offer = await player.createOffer();
  await player.setLocalDescription(offer);
  const ok = await post(offer.sdp);
  t.equal(ok.status, 201, 'a real WHEP offer gets 201');
  await ok.text();
  const location = ok.headers.get('location')!;
  const patch = (body: string, type = 'application/trickle-ice-sdpfrag') =>
    fetch(`${daemon.http}${location}`, { method: 'PATCH', headers: { 'content-type': type, 'if-match': ok.headers.get('etag')!, ...auth }, body }).then(async (r) => (await r.text(), r.status));
  t.equal(await patch('a=candidate:1 1 udp 1 127.0.0.1 9 typ host'), 204, 'a plausible candidate: 204');
  t.equal(await patch('garbage\r\n\u0000\r\n'), 204, 'a frag without candidates: 204, nothing relayed');
  t.equal(await patch(`a=candidate:${'x'.repeat(2000)}`), 400, 'a 2000-character candidate: 400');
  t.equal(await patch(`a=mid:${'m'.repeat(100)}\r\na=candidate:1 1 udp 1 1.2.3.4 9 typ host`), 400, 'an overlong mid: 400');
  t.equal(await patch('a=candidate:1 1 udp 1 1.2.3.4 9 typ host\r\n'.repeat(100)), 400, '100 candidates in one PATCH: 400');
  t.equal(await patch('a=candidate:1', 'application/sdp'), 415, 'wrong content type: 415');
  t.equal(await patch('a=candidate:1 1 udp 1 ::1 9 typ host\r\na=end-of-candidates'), 204);
  const del = await fetch(`${daemon.http}${location}`, { method: 'DELETE', headers: auth });
  t.equal(del.status, 200, 'DELETE ends it');
  await waitFor('the publisher to drop the WHEP viewer', () => publisher.viewers === 0, 10_000);
  t.equal(publisher.client.state, 'joined', 'the publisher is still joined');
  t.match(await fetch(`${daemon.http}/healthz`).then((r) => r.json()), { ok: true, peers: 1 });
});

t.test('publish() against a daemon that sends garbage: drops it, stays joined, keeps serving', async (t) => {
  const { port, received, connected } = await startScriptedDaemon(t);
  const publisher = publish({ url: `ws://127.0.0.1:${port}/v1/ws`, session: 'g', token: 'x', source: { kind: 'test' }, video: { width: 160, height: 120 } });
  t.teardown(() => publisher.close());
  const errors: Error[] = [];
  publisher.on('error', (e) => errors.push(e));
  const protocolErrors: string[] = [];
  publisher.client.on('protocol-error', (e) => protocolErrors.push(e.code));
  const ws = await connected;
  ws.send(JSON.stringify({ type: 'joined', v: 1, peerId: 'p1', session: 'g', role: 'publisher', iceServers: [] }));
  await waitFor('joined', () => publisher.client.state === 'joined', 5000);
  const garbage: (string | Buffer)[] = [
    'not json', '', '[]', 'null', '{"type":"joined"}', '{"type":"offer","from":"v1"}', '{"type":"offer","from":"v1","sdp":""}',
    Buffer.from([1, 2, 3]), '{"__proto__":{"polluted":1},"type":"peer-joined","peerId":"v1","role":"viewer"}',
    '{"type":"peer-joined","peerId":"__proto__","role":"viewer","offers":true}', '{"type":"peer-joined","peerId":"constructor","role":"viewer","offers":true}',
    '{"type":"peer-left","peerId":"nobody","role":"viewer"}', '{"type":"bye","from":"nobody"}', '{"type":"answer","from":"nobody","sdp":"v=0"}',
    '{"type":"candidate","from":"nobody","candidate":{"candidate":"garbage"}}', '{"type":"error","code":"nope","message":"x"}',
    '{"type":"peer-joined","peerId":"v1","role":"viewer","iceServers":[{"urls":"http://evil"}]}', JSON.stringify({ type: 'offer', from: 'v-x', sdp: 'x'.repeat(70_000) }),
  ];
  for (const g of garbage) ws.send(g, { binary: Buffer.isBuffer(g) });
  // Schema-valid offers with bad SDP from made-up viewers: each gets a peer, a typed failure and a bye.
  for (const [i, sdp] of ['v=0\r\nnope\r\n', 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n', 'hello'].entries()) {
    ws.send(JSON.stringify({ type: 'offer', from: `v-bad${i}`, sdp }));
    ws.send(JSON.stringify({ type: 'candidate', from: `v-bad${i}`, candidate: { candidate: 'candidate:x', sdpMLineIndex: 99 } }));
  }
  await waitFor('byes to the bad offerers', () => ['v-bad0', 'v-bad1', 'v-bad2'].every((id) => received.some((m) => m.type === 'bye' && m.to === id)), 10_000);
  t.pass('each bad offer: its viewer dropped with a bye');
  t.ok(protocolErrors.length >= 8, `malformed daemon messages dropped as protocol errors (${protocolErrors.length})`);
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
  // Still serving: a proper viewer gets an offer.
  ws.send(JSON.stringify({ type: 'peer-joined', peerId: 'v-good', role: 'viewer' }));
  await waitFor('an offer to v-good', () => received.some((m) => m.type === 'offer' && m.to === 'v-good'), 10_000);
  t.pass('a well-formed viewer still gets an offer');
  t.equal(publisher.client.state, 'joined', 'still joined');
  t.ok(errors.every((e) => e instanceof Error), `errors emitted as events (${errors.length})`);
  await publisher.close();
  t.equal(livePeerCount(), 0, 'no peer left behind after close()');
  t.same(unhandled, []);
});
