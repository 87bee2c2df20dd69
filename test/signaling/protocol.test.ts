// The daemon's protocol against raw WebSocket clients: every message type, valid and invalid, tokens,
// limits, and a daemon that keeps serving everyone else through all of it.
import t from 'tap';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { RawClient, SECRET, startDaemon } from '../helpers/daemon.js';

const token = (session: string, role: 'viewer' | 'publisher', ttlSeconds = 600) => mintToken({ secret: SECRET, session, role, ttlSeconds });

const daemon = await startDaemon({ maxMessageBytes: 4096, rate: { perSecond: 20, burst: 30 }, ice: { stun: ['stun:127.0.0.1:3478'], turn: ['turn:127.0.0.1:3478'], turnSecret: 'turn-secret' } });
t.teardown(() => daemon.app.close());

async function joined(session: string, role: 'viewer' | 'publisher', extra: Record<string, unknown> = {}) {
  const c = await RawClient.open(daemon.url);
  c.send({ type: 'join', v: 1, session, role, token: token(session, role), ...extra });
  const j = await c.next('joined');
  return { c, id: j.peerId as string, joined: j };
}

t.test('publisher and viewer: join, peer-joined, relay both ways, peer-left', async (t) => {
  const pub = await joined('s1', 'publisher');
  t.match(pub.joined, { v: 1, session: 's1', role: 'publisher' });
  const ice = pub.joined.iceServers as { urls: string[]; username?: string; credential?: string }[];
  t.same(ice[0], { urls: ['stun:127.0.0.1:3478'] });
  t.match(ice[1]!.username, /^\d+:p-/, 'TURN username in coturn REST form (expiry:user)');
  t.ok(ice[1]!.credential && ice[1]!.credential.length > 20);
  const view = await joined('s1', 'viewer');
  t.equal(view.joined.publisher, pub.id, 'the viewer learns the publisher id');
  const announced = await pub.c.next('peer-joined');
  t.match(announced, { type: 'peer-joined', peerId: view.id, role: 'viewer' });
  const fresh = announced.iceServers as { username: string }[];
  t.match(fresh[1]!.username, /^\d+:p-/, 'the publisher gets fresh TURN credentials for each new viewer');

  pub.c.send({ type: 'offer', to: view.id, sdp: 'v=0 offer' });
  t.same(await view.c.next('offer'), { type: 'offer', from: pub.id, sdp: 'v=0 offer' });
  view.c.send({ type: 'answer', sdp: 'v=0 answer' });
  t.same(await pub.c.next('answer'), { type: 'answer', from: view.id, sdp: 'v=0 answer' });
  const cand = { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 };
  view.c.send({ type: 'candidate', candidate: cand });
  t.same(await pub.c.next('candidate'), { type: 'candidate', from: view.id, candidate: cand });
  pub.c.send({ type: 'candidate', to: view.id, candidate: null });
  t.same(await view.c.next('candidate'), { type: 'candidate', from: pub.id, candidate: null }, 'null = end of candidates');

  view.c.send({ type: 'bye' });
  t.same(await pub.c.next('peer-left'), { type: 'peer-left', peerId: view.id, role: 'viewer' });
  t.equal(await view.c.closed(), 1000);
  pub.c.close();
});

t.test('viewers first, publisher later; publisher leaves and comes back', async (t) => {
  const v1 = await joined('s2', 'viewer');
  t.equal(v1.joined.publisher, null);
  v1.c.send({ type: 'answer', sdp: 'v=0' });
  t.match(await v1.c.next('error'), { code: 'no-publisher' });
  const pub = await joined('s2', 'publisher');
  t.match(await v1.c.next('peer-joined'), { peerId: pub.id, role: 'publisher' });
  t.match(await pub.c.next('peer-joined'), { peerId: v1.id, role: 'viewer' }, 'the publisher hears about earlier viewers');
  pub.c.terminate();
  t.match(await v1.c.next('peer-left'), { peerId: pub.id, role: 'publisher' });
  const pub2 = await joined('s2', 'publisher');
  t.match(await v1.c.next('peer-joined'), { peerId: pub2.id, role: 'publisher' });
  v1.c.close();
  pub2.c.close();
});

t.test('a WHEP-style viewer that offers is announced with offers: true', async (t) => {
  const pub = await joined('s3', 'publisher');
  const v = await joined('s3', 'viewer', { offers: true });
  t.match(await pub.c.next('peer-joined'), { type: 'peer-joined', peerId: v.id, role: 'viewer', offers: true });
  v.c.close();
  pub.c.close();
});

t.test('bad frames get their error code and the socket keeps working', async (t) => {
  const c = await RawClient.open(daemon.url);
  c.send('not json {');
  t.match(await c.next('error'), { code: 'bad-json' });
  c.sendBinary(Buffer.from([1, 2, 3]));
  t.match(await c.next('error'), { code: 'binary-not-supported' });
  c.send({ type: 'dance' });
  t.match(await c.next('error'), { code: 'bad-message', message: /unknown message type "dance"/ });
  c.send([1, 2]);
  t.match(await c.next('error'), { code: 'bad-message', message: /JSON object/ });
  c.send({ type: 'join', session: 'bad session!', role: 'viewer', token: 'x' });
  t.match(await c.next('error'), { code: 'bad-message', message: /join \/session/ });
  c.send({ type: 'join', session: 's', role: 'admin', token: 'x' });
  t.match(await c.next('error'), { code: 'bad-message' });
  c.send({ type: 'join', session: 's', role: 'viewer', token: 'x', extra: 1 });
  t.match(await c.next('error'), { code: 'bad-message' }, 'unknown fields refused');
  c.send({ type: 'offer', sdp: 'v=0' });
  t.match(await c.next('error'), { code: 'not-joined' });
  let deep: unknown = 'x';
  for (let i = 0; i < 500; i++) deep = { a: deep };
  c.send({ type: 'bye', to: deep });
  t.match(await c.next('error'), { code: 'bad-message' }, 'deep nesting');
  c.send({ type: 'join', session: 'ok', role: 'viewer', token: token('ok', 'viewer') });
  await c.next('joined');
  c.send({ type: 'join', session: 'ok', role: 'viewer', token: token('ok', 'viewer') });
  t.match(await c.next('error'), { code: 'already-joined' });
  c.send({ type: 'candidate', to: 'p-nobody', candidate: null });
  t.match(await c.next('error'), { code: 'no-publisher' });
  c.close();
  // A text frame that is not UTF-8 is a WebSocket protocol error: ws closes with 1007.
  const raw = await RawClient.open(daemon.url);
  raw.sendText(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
  t.equal(await raw.closed(), 1007, 'non-UTF-8 text frame: closed with 1007');
});

t.test('tokens: missing, forged, expired, other session, other role', async (t) => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['missing', { session: 'tk', role: 'viewer' }, /required/],
    ['forged', { session: 'tk', role: 'viewer', token: mintToken({ secret: 'another-secret-0123456789', session: 'tk', role: 'viewer' }) }, /signature/],
    ['expired', { session: 'tk', role: 'viewer', token: mintToken({ secret: SECRET, session: 'tk', role: 'viewer', ttlSeconds: -5 }) }, /expired/],
    ['other session', { session: 'tk', role: 'viewer', token: token('other', 'viewer') }, /another session/],
    ['viewer token as publisher', { session: 'tk', role: 'publisher', token: token('tk', 'viewer') }, /role viewer/],
    ['garbage', { session: 'tk', role: 'viewer', token: 'v1.abc.def' }, /signature|malformed/],
  ];
  for (const [name, join, message] of cases) {
    const c = await RawClient.open(daemon.url);
    c.send({ type: 'join', ...join });
    t.match(await c.next('error'), { code: 'unauthorized', message }, name);
    t.equal(await c.closed(), 1008, `${name}: socket closed with 1008`);
  }
});

t.test('one publisher per session; a publisher must address a viewer; sessions are isolated', async (t) => {
  const pub = await joined('iso-a', 'publisher');
  const second = await RawClient.open(daemon.url);
  second.send({ type: 'join', session: 'iso-a', role: 'publisher', token: token('iso-a', 'publisher') });
  t.match(await second.next('error'), { code: 'publisher-exists' });
  t.equal(await second.closed(), 1008);
  const other = await joined('iso-b', 'viewer');
  pub.c.send({ type: 'offer', to: other.id, sdp: 'v=0' });
  t.match(await pub.c.next('error'), { code: 'unknown-peer' }, 'a viewer of another session is unreachable');
  pub.c.send({ type: 'offer', sdp: 'v=0' });
  t.match(await pub.c.next('error'), { code: 'unknown-peer', message: /must say which viewer/ });
  const v = await joined('iso-a', 'viewer');
  v.c.send({ type: 'answer', to: 'p-someone-else', sdp: 'v=0' });
  t.match(await v.c.next('error'), { code: 'unknown-peer' });
  t.equal(other.c.messages.length, 0, 'the other session heard nothing');
  for (const c of [pub.c, other.c, v.c]) c.close();
});

t.test('limits: message size and rate close the socket, others keep being served', async (t) => {
  const bystander = await joined('lim', 'publisher');
  const big = await RawClient.open(daemon.url);
  big.send({ type: 'join', session: 'lim', role: 'viewer', token: 'x'.repeat(5000) });
  t.match(await big.next('error'), { code: 'too-large' });
  t.equal(await big.closed(), 1009);
  const flood = await RawClient.open(daemon.url);
  for (let i = 0; i < 60; i++) flood.send({ type: 'bye' });
  t.equal(await flood.closed(), 1008);
  t.ok(flood.messages.some((m) => m.code === 'rate-limited'), 'rate-limited before the close');
  const v = await joined('lim', 'viewer');
  t.match(await bystander.c.next('peer-joined'), { peerId: v.id }, 'the daemon still serves others');
  bystander.c.close();
  v.c.close();
});

t.test('a viewer that vanishes mid-negotiation: the publisher hears peer-left', async (t) => {
  const pub = await joined('mid', 'publisher');
  const v = await joined('mid', 'viewer');
  await pub.c.next('peer-joined');
  pub.c.send({ type: 'offer', to: v.id, sdp: 'v=0' });
  await v.c.next('offer');
  v.c.terminate();
  t.match(await pub.c.next('peer-left'), { peerId: v.id });
  pub.c.send({ type: 'candidate', to: v.id, candidate: null });
  t.match(await pub.c.next('error'), { code: 'unknown-peer' });
  pub.c.close();
});

t.test('HTTP: healthz, metrics, ice-servers with and without a token', async (t) => {
  const health = await fetch(`${daemon.http}/healthz`).then((r) => r.json());
  t.match(health, { ok: true });
  const metrics = await fetch(`${daemon.http}/metrics`).then((r) => r.text());
  t.match(metrics, /webrtcbin_messages_total\{direction="in"\} \d+/);
  t.match(metrics, /webrtcbin_errors_total\{code="unauthorized"\} \d+/);
  const anonymous = await fetch(`${daemon.http}/v1/ice-servers`);
  t.equal(anonymous.status, 401);
  const ok = await fetch(`${daemon.http}/v1/ice-servers`, { headers: { authorization: `Bearer ${token('x', 'viewer')}` } });
  t.equal(ok.status, 200);
  const body = (await ok.json()) as { iceServers: { urls: string[]; username?: string }[] };
  t.match(body.iceServers[1]!.username, /^\d+:x-viewer$/);
});

t.test('origin allow-list', async (t) => {
  const guarded = await startDaemon({ allowedOrigins: ['https://ok.example'] });
  t.teardown(() => guarded.app.close());
  await t.rejects(RawClient.open(guarded.url, { origin: 'https://evil.example' }), /HTTP 403/);
  const ok = await RawClient.open(guarded.url, { origin: 'https://ok.example' });
  ok.close();
  const agent = await RawClient.open(guarded.url);
  agent.close();
  t.pass('allowed origin and origin-less agents connect');
});

t.test('shutdown tells everyone bye', async (t) => {
  const d = await startDaemon();
  const c = await RawClient.open(d.url);
  c.send({ type: 'join', session: 'z', role: 'viewer', token: token('z', 'viewer') });
  await c.next('joined');
  await d.app.close();
  t.match(await c.next('bye'), { reason: 'shutting-down' });
  t.equal(await c.closed(), 1001);
});

t.test('the daemon refuses to start without a secret unless insecure', async (t) => {
  await t.rejects(startDaemon({ secret: undefined }), /needs a secret/);
  await t.rejects(startDaemon({ secret: 'short' }), /needs a secret/);
  const open = await startDaemon({ secret: undefined, insecure: true });
  const c = await RawClient.open(open.url);
  c.send({ type: 'join', session: 'dev', role: 'viewer' });
  t.match(await c.next('joined'), { role: 'viewer' }, 'insecure mode joins without a token');
  c.close();
  await open.app.close();
});

t.test('mounted as a plugin inside an existing Fastify app, under a prefix', async (t) => {
  const Fastify = (await import('fastify')).default;
  const { signaling } = await import('../../lib/signaling/daemon/server.js');
  const app = Fastify();
  app.get('/controller/own-route', async () => ({ mine: true }));
  await app.register(signaling, { secret: SECRET, prefix: '/rtc' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const port = (app.server.address() as { port: number }).port;
  const c = await RawClient.open(`ws://127.0.0.1:${port}/rtc/v1/ws`);
  c.send({ type: 'join', session: 'mounted', role: 'viewer', token: token('mounted', 'viewer') });
  t.match(await c.next('joined'), { session: 'mounted' });
  c.close();
  t.same(await fetch(`http://127.0.0.1:${port}/controller/own-route`).then((r) => r.json()), { mine: true }, "the controller's own routes are untouched");
  t.match(await fetch(`http://127.0.0.1:${port}/rtc/healthz`).then((r) => r.json()), { ok: true });
});
