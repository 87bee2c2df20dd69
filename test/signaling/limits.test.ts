// The daemon's abuse limits against real sockets: slow-loris HTTP clients, WebSockets that never join,
// too many sockets from one address, one token used by too many participants, and tokens that never
// reach a log line or /metrics, error paths included.
import t from 'tap';
import net from 'node:net';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { RawClient, SECRET, startDaemon } from '../helpers/daemon.js';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (e) => unhandled.push(e));

const token = (session: string, role: 'viewer' | 'publisher', extra: { control?: boolean } = {}) =>
  mintToken({ secret: SECRET, session, role, ttlSeconds: 600, ...extra });

/** A raw TCP client: what it received, and when the server closed it. */
function rawTcp(port: number): Promise<{ socket: net.Socket; received: () => string; closedAt: () => number | undefined }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    let closedAt: number | undefined;
    socket.on('data', (d) => (data += d.toString()));
    socket.on('error', () => {});
    socket.on('close', () => (closedAt = Date.now()));
    socket.once('connect', () => resolve({ socket, received: () => data, closedAt: () => closedAt }));
    socket.once('error', reject);
  });
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - started;
}

t.test('slow loris: an upgrade whose headers trickle in forever gets 408 and is closed', async (t) => {
  const daemon = await startDaemon({ headersTimeoutMs: 1000 });
  t.teardown(() => daemon.app.close());
  const c = await rawTcp(daemon.port);
  const started = Date.now();
  c.socket.write(`GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`);
  // One header byte every 200 ms: never idle, never complete.
  const trickle = setInterval(() => c.socket.writable && c.socket.write('X'), 200);
  t.teardown(() => clearInterval(trickle));
  await until('the server to close the trickling socket', () => c.closedAt() !== undefined, 5000);
  clearInterval(trickle);
  const ms = c.closedAt()! - started;
  t.ok(ms >= 900 && ms < 3000, `closed after ${ms} ms (headersTimeout 1000)`);
  t.match(c.received(), /^HTTP\/1\.1 408/, 'answered 408 Request Timeout');

  // A connection that sends nothing at all is closed too (idle timeout / header deadline).
  const silent = await rawTcp(daemon.port);
  await until('the silent socket to be closed', () => silent.closedAt() !== undefined, 5000);
  t.pass('a connection that never sends a byte is closed');

  // Meanwhile the daemon serves everyone else.
  const ok = await RawClient.open(daemon.url);
  ok.send({ type: 'join', session: 'loris', role: 'viewer', token: token('loris', 'viewer') });
  t.match(await ok.next('joined'), { session: 'loris' });
  ok.close();
});

t.test('a WebSocket that never joins is closed with join-timeout; one that joined is not', async (t) => {
  const daemon = await startDaemon({ joinTimeoutMs: 500 });
  t.teardown(() => daemon.app.close());
  const idle = await RawClient.open(daemon.url);
  const good = await RawClient.open(daemon.url);
  good.send({ type: 'join', session: 'jt', role: 'viewer', token: token('jt', 'viewer') });
  await good.next('joined');
  t.match(await idle.next('error', 3000), { code: 'join-timeout' });
  t.equal(await idle.closed(), 1008, 'closed with 1008');
  await new Promise((r) => setTimeout(r, 700));
  t.equal(good.closeCode, undefined, 'the joined socket stays open past the join timeout');
  // A socket that only sends garbage does not extend its deadline.
  const chatty = await RawClient.open(daemon.url);
  const tick = setInterval(() => chatty.send({ type: 'offer', sdp: 'v=0' }), 100);
  t.match(await chatty.next('error'), { code: 'not-joined' });
  await until('join-timeout for the chatty socket', () => chatty.messages.some((m) => m.code === 'join-timeout'), 3000);
  t.pass('garbage is no substitute for join');
  clearInterval(tick);
  t.equal(await chatty.closed(), 1008);
  good.close();
});

t.test('WebSockets per IP: over the cap the upgrade gets 429; closing one frees a slot', async (t) => {
  const daemon = await startDaemon({ maxSocketsPerIp: 5 });
  t.teardown(() => daemon.app.close());
  const open = await Promise.all(Array.from({ length: 5 }, () => RawClient.open(daemon.url)));
  await t.rejects(RawClient.open(daemon.url), /HTTP 429/, 'the sixth socket is refused');
  // Concurrent attempts cannot race past the cap.
  const burst = await Promise.allSettled(Array.from({ length: 10 }, () => RawClient.open(daemon.url)));
  t.equal(burst.filter((r) => r.status === 'fulfilled').length, 0, 'a burst of 10 more: all refused');
  open[0]!.close();
  await open[0]!.closed();
  let again: RawClient | undefined;
  for (let i = 0; i < 40 && !again; i++) {
    again = await RawClient.open(daemon.url).catch(() => undefined);
    if (!again) await new Promise((r) => setTimeout(r, 50));
  }
  t.ok(again, 'after one closes, a new socket gets in');
  const metrics = await fetch(`${daemon.http}/metrics`).then((r) => r.text());
  t.match(metrics, /webrtcbin_errors_total\{code="too-many-sockets"\} \d+/, 'counted in /metrics');
  t.ok((await fetch(`${daemon.http}/healthz`)).ok, 'plain HTTP is not capped by the WebSocket limit');
  for (const c of [...open.slice(1), again!]) c.close();
});

t.test('one token, a bounded number of participants (WebSocket and WHEP together)', async (t) => {
  const daemon = await startDaemon({ maxJoinsPerToken: 3 });
  t.teardown(() => daemon.app.close());
  const shared = token('tok', 'viewer');
  const joined: RawClient[] = [];
  for (let i = 0; i < 3; i++) {
    const c = await RawClient.open(daemon.url);
    c.send({ type: 'join', session: 'tok', role: 'viewer', token: shared });
    await c.next('joined');
    joined.push(c);
  }
  const fourth = await RawClient.open(daemon.url);
  fourth.send({ type: 'join', session: 'tok', role: 'viewer', token: shared });
  t.match(await fourth.next('error'), { code: 'token-in-use', message: /3 concurrent/ });
  t.equal(await fourth.closed(), 1008);
  const whep = await fetch(`${daemon.http}/whep/tok`, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${shared}` }, body: 'v=0\r\n' });
  t.equal(whep.status, 429, 'WHEP with the same token is over the cap too');
  const other = await RawClient.open(daemon.url);
  // (minted with another expiry: the same claims in the same second would be the very same token)
  other.send({ type: 'join', session: 'tok', role: 'viewer', token: mintToken({ secret: SECRET, session: 'tok', role: 'viewer', ttlSeconds: 1200 }) });
  t.match(await other.next('joined'), { session: 'tok' }, 'another token for the same session is not affected');
  joined[0]!.send({ type: 'bye' });
  await joined[0]!.closed();
  const fifth = await RawClient.open(daemon.url);
  fifth.send({ type: 'join', session: 'tok', role: 'viewer', token: shared });
  t.match(await fifth.next('joined'), { session: 'tok' }, 'a bye frees the slot');
  joined[1]!.terminate();
  const sixth = await RawClient.open(daemon.url);
  let got: Record<string, unknown> | undefined;
  for (let i = 0; i < 20 && got?.type !== 'joined'; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const c = i === 0 ? sixth : await RawClient.open(daemon.url);
    c.send({ type: 'join', session: 'tok', role: 'viewer', token: shared });
    got = await Promise.race([c.next('joined'), c.next('error')]);
  }
  t.match(got, { type: 'joined' }, 'a vanished socket frees its slot too');
  // A failed join (publisher-exists) does not keep its slot.
  const pubToken = token('tok2', 'publisher');
  const pub = await RawClient.open(daemon.url);
  pub.send({ type: 'join', session: 'tok2', role: 'publisher', token: pubToken });
  await pub.next('joined');
  for (let i = 0; i < 4; i++) {
    const dup = await RawClient.open(daemon.url);
    dup.send({ type: 'join', session: 'tok2', role: 'publisher', token: pubToken });
    t.match(await dup.next('error'), { code: 'publisher-exists' }, `refused publisher #${i + 2}: publisher-exists, not token-in-use`);
  }
  for (const c of [...joined, fifth, other, pub]) c.close();
});

t.test('tokens never reach a log line or /metrics, error paths included', async (t) => {
  const lines: string[] = [];
  const daemon = await startDaemon({ logLevel: 'debug', logStream: { write: (line: string) => lines.push(line) }, allowedOrigins: ['https://ok.example'] });
  t.teardown(() => daemon.app.close());
  const viewer = token('logs', 'viewer', { control: true });
  const publisher = token('logs', 'publisher');
  const expired = mintToken({ secret: SECRET, session: 'logs', role: 'viewer', ttlSeconds: -10 });
  const forged = mintToken({ secret: 'not-the-secret-0123456789', session: 'logs', role: 'viewer' });
  const secrets = [SECRET, viewer, publisher, expired, forged];
  // Every way a token can travel: join, the URL, Authorization, with good and bad tokens.
  const pub = await RawClient.open(daemon.url);
  pub.send({ type: 'join', session: 'logs', role: 'publisher', token: publisher });
  await pub.next('joined');
  for (const bad of [expired, forged, publisher]) {
    const c = await RawClient.open(`${daemon.url}?token=${bad}`);
    c.send({ type: 'join', session: 'logs', role: 'viewer', token: bad });
    t.match(await c.next('error'), { code: 'unauthorized' });
  }
  const v = await RawClient.open(`${daemon.url}?session=logs&token=${viewer}`);
  v.send({ type: 'join', session: 'logs', role: 'viewer', token: viewer });
  await v.next('joined');
  v.send({ type: 'join', session: 'logs', role: 'viewer', token: viewer });
  await v.next('error');
  v.send({ type: viewer });
  await v.next('error');
  v.send(`{"token":"${viewer}"`);
  await v.next('error');
  await t.rejects(RawClient.open(`${daemon.url}?token=${viewer}`, { origin: 'https://evil.example' }), /403/);
  pub.close(); // WHEP offers below then fail fast (409, no publisher) instead of waiting for an answer
  await pub.closed();
  for (const auth of [viewer, expired, forged]) {
    await fetch(`${daemon.http}/v1/ice-servers?access_token=${auth}`, { headers: { authorization: `Bearer ${auth}` } });
    await fetch(`${daemon.http}/whep/logs?token=${auth}`, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${auth}` }, body: 'v=0\r\nbad' });
    await fetch(`${daemon.http}/whep/logs/v-x?token=${auth}`, { method: 'PATCH', headers: { 'content-type': 'application/trickle-ice-sdpfrag', authorization: `Bearer ${auth}` }, body: 'a=candidate:x' });
    await fetch(`${daemon.http}/%E0%A4%A?token=${auth}`);
    await fetch(`${daemon.http}/nowhere?token=${auth}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"token":' });
    await fetch(`${daemon.http}/?session=logs&token=${auth}`);
  }
  const metrics = await fetch(`${daemon.http}/metrics`).then((r) => r.text());
  v.close();
  await new Promise((r) => setTimeout(r, 200));
  const log = lines.join('');
  t.ok(lines.length > 20, `${lines.length} log lines captured`);
  t.match(log, /join refused/, 'the refusals were logged');
  t.match(log, /token=\*\*\*/, 'URLs with tokens were logged, redacted');
  for (const s of secrets) {
    const signature = s.slice(s.lastIndexOf('.') + 1);
    t.notOk(log.includes(signature), `no token signature in the log (${signature.slice(0, 6)}…)`);
    t.notOk(metrics.includes(signature), 'nor in /metrics');
  }
  t.notOk(log.includes(SECRET), 'the secret is not logged');
  t.notOk(log.includes(viewer.split('.')[1]!), 'not even the claims part of a token');
});

t.test('no unhandled rejection through all of it', async (t) => {
  t.same(unhandled, []);
});
