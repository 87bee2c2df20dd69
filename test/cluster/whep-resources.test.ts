// WHEP/WHIP resources behind a load balancer, over plain HTTP (no media; test/cluster/whep-media.test.ts
// plays through aiortc): a resource POSTed to instance A is GET, PATCHed and DELETEd through instance
// B, and B answers every request exactly as A does (status, ETag, Accept-Patch, WWW-Authenticate,
// CORS, body), the token checked on B and again on A. Then A dies: a request through B ends in bounded
// time with 503 + Retry-After while A's presence lasts, 404 after.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { RawClient, SECRET, startDaemon } from '../helpers/daemon.js';
import { RedisServer } from '../helpers/redis.js';
import { freePort } from '../helpers/coturn.js';

const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef012345\r\na=mid:0\r\n';
const ANSWER = OFFER.replace('abcd', 'efgh');
const CANDIDATE = 'a=candidate:1 1 udp 2113937151 192.0.2.7 50000 typ host';
const FRAG = `a=mid:0\r\n${CANDIDATE}\r\n`;

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What a client sees of an answer: status, the headers the specs name, the body. */
async function seen(response: Response): Promise<Record<string, unknown>> {
  const headers: Record<string, string | null> = {};
  for (const name of ['etag', 'accept-patch', 'www-authenticate', 'allow', 'retry-after', 'content-type', 'access-control-allow-origin', 'access-control-expose-headers']) {
    headers[name] = response.headers.get(name);
  }
  return { status: response.status, headers, body: await response.text() };
}

/** Every request goes to both instances; the test compares the answers. A bounded wait: never a hang. */
const request = (base: string, path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(15_000) });

t.test('a resource made on A, served through B exactly as A serves it', async (t) => {
  const redis = await RedisServer.start();
  t.teardown(() => redis.close());
  const cluster = { url: redis.url, heartbeatMs: 200, ttlMs: 600 };
  const [a, b] = await Promise.all([0, 1].map(() => startDaemon({ redis: cluster })));
  t.teardown(() => Promise.all([a!.app.close(), b!.app.close()]));

  const publisher = await RawClient.open(a!.url);
  t.teardown(() => publisher.close());
  publisher.send({ type: 'join', session: 'lb', role: 'publisher', token: mintToken({ secret: SECRET, session: 'lb', role: 'publisher' }) });
  await publisher.next('joined');
  publisher.answerEveryOffer(ANSWER);

  const bearer = mintToken({ secret: SECRET, session: 'lb', role: 'viewer' });
  const auth = { authorization: `Bearer ${bearer}` };
  const created = await request(a!.http, '/whep/lb', { method: 'POST', headers: { 'content-type': 'application/sdp', ...auth }, body: OFFER });
  t.equal(created.status, 201, 'POST on A: 201');
  const location = created.headers.get('location')!;
  const etag = created.headers.get('etag')!;
  t.match(location, /^\/whep\/lb\/v-/);
  await created.text();
  const id = location.split('/').pop()!;

  const other = mintToken({ secret: SECRET, session: 'lb', role: 'viewer', ttlSeconds: 1800 });
  const forged = `${bearer.slice(0, -4)}AAAA`;
  const patch = (headers: Record<string, string>, body = FRAG): RequestInit => ({
    method: 'PATCH',
    headers: { 'content-type': 'application/trickle-ice-sdpfrag', origin: 'https://player.example', ...headers },
    body,
  });
  // Requests that change nothing, sent to the owner and through the other instance alike.
  const cases: [string, string, RequestInit][] = [
    ['GET the resource', location, { headers: auth }],
    ['HEAD the resource', location, { method: 'HEAD', headers: auth }],
    ['PATCH without If-Match: 428 with the ETag', location, patch(auth)],
    ['PATCH with a wrong If-Match: 412 with the ETag', location, patch({ ...auth, 'if-match': '"v-not-this-one"' })],
    ['PATCH with a weak tag: 412', location, patch({ ...auth, 'if-match': `W/${etag}` })],
    ['PATCH an ICE restart: 422', location, patch({ ...auth, 'if-match': '*' }, 'a=ice-ufrag:new1\r\na=ice-pwd:newpassword0123456789012\r\n')],
    ['PATCH with the wrong content type: 415', location, { method: 'PATCH', headers: { ...auth, 'content-type': 'application/sdp', 'if-match': etag }, body: FRAG }],
    ['PATCH with too many candidates: 400', location, patch({ ...auth, 'if-match': etag }, `a=mid:0\r\n${`${CANDIDATE}\r\n`.repeat(65)}`)],
    ['PATCH without a token: 401', location, patch({ 'if-match': etag })],
    ['PATCH with a forged token: 403', location, patch({ authorization: `Bearer ${forged}`, 'if-match': etag })],
    ["PATCH with another viewer's token: 403", location, patch({ authorization: `Bearer ${other}`, 'if-match': etag })],
    ["DELETE with another viewer's token: 403", location, { method: 'DELETE', headers: { authorization: `Bearer ${other}` } }],
    ['PUT: 405 with Allow', location, { method: 'PUT', headers: auth }],
    ['the WHEP id under /whip/: 404', location.replace('/whep/', '/whip/'), { method: 'DELETE', headers: auth }],
    ['the id under another session: 404', location.replace('/lb/', '/other/'), { method: 'DELETE', headers: auth }],
    ['an unknown id: 404', '/whep/lb/v-AAAAAAAAAAAAAAAAAAAAAA', { method: 'DELETE', headers: auth }],
  ];
  for (const [name, path, init] of cases) {
    const fromOwner = await seen(await request(a!.http, path, init));
    const throughB = await seen(await request(b!.http, path, init));
    t.same(throughB, fromOwner, `${name}: B answers as A (${String(fromOwner.status)})`);
  }
  const wrong = await request(b!.http, location, patch({ ...auth, 'if-match': '"v-not-this-one"' }));
  t.equal(wrong.status, 412, "a wrong If-Match through B: 412 from A's state");
  t.equal(wrong.headers.get('etag'), etag, "with A's ETag");
  await wrong.text();
  t.same(publisher.messages.filter((m) => m.type === 'candidate'), [], 'none of those reached the publisher');

  const trickled = await request(b!.http, location, patch({ ...auth, 'if-match': etag }));
  t.equal(trickled.status, 204, 'a trickle PATCH through B: 204');
  t.equal(trickled.headers.get('etag'), null, 'no ETag on a 204 trickle (as on the owner)');
  const relayed = await publisher.next('candidate');
  t.match(relayed, { from: id, candidate: { candidate: CANDIDATE.slice(2), sdpMid: '0' } }, 'the publisher on A got the candidate PATCHed through B');

  const deleted = await request(b!.http, location, { method: 'DELETE', headers: auth });
  t.equal(deleted.status, 200, 'DELETE through B: 200');
  t.match(await publisher.next('peer-left'), { peerId: id, role: 'viewer' }, 'the publisher on A hears the resource leave');
  t.equal((await request(b!.http, location, { method: 'DELETE', headers: auth })).status, 404, 'a second DELETE through B: 404');
  t.equal((await request(a!.http, location, { method: 'DELETE', headers: auth })).status, 404, 'and on A: 404');
  t.equal((await request(b!.http, location, { headers: auth })).status, 404, 'GET through B: 404');
});

t.test('the owner dies: a PATCH through another instance ends in bounded time, 503 then 404', async (t) => {
  const redis = await RedisServer.start();
  t.teardown(() => redis.close());
  // The defaults, which A's process runs with (Retry-After assumes the instances share them).
  const HEARTBEAT_MS = 2000;
  const TTL_MS = 6000;
  const b = await startDaemon({ redis: { url: redis.url, forwardTimeoutMs: 500 } });
  t.teardown(() => b.app.close());

  // A: its own process, so that it can die as a process does (SIGKILL: no goodbye to Redis).
  const aPort = await freePort();
  const a = spawn(process.execPath, ['dist/lib/cli/cli.js', 'signal', '--port', String(aPort), '--log-level', 'warn'], {
    env: { ...process.env, WEBRTCBIN_SECRET: SECRET, WEBRTCBIN_REDIS: redis.url },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  t.teardown(() => a.kill('SIGKILL'));
  const aHttp = `http://127.0.0.1:${aPort}`;
  await until('A answers /healthz', () => fetch(`${aHttp}/healthz`).then((r) => r.ok, () => false), 20_000);

  // The publisher on B; the WHEP resource POSTed to A.
  const publisher = await RawClient.open(b.url);
  t.teardown(() => publisher.close());
  publisher.send({ type: 'join', session: 'dead', role: 'publisher', token: mintToken({ secret: SECRET, session: 'dead', role: 'publisher' }) });
  await publisher.next('joined');
  publisher.answerEveryOffer(ANSWER);
  const bearer = mintToken({ secret: SECRET, session: 'dead', role: 'viewer' });
  const auth = { authorization: `Bearer ${bearer}` };
  const created = await request(aHttp, '/whep/dead', { method: 'POST', headers: { 'content-type': 'application/sdp', ...auth }, body: OFFER });
  t.equal(created.status, 201, 'POST on A (its own process)');
  const location = created.headers.get('location')!;
  const etag = created.headers.get('etag')!;
  await created.text();
  const trickle = (): RequestInit => ({ method: 'PATCH', headers: { ...auth, 'content-type': 'application/trickle-ice-sdpfrag', 'if-match': etag }, body: FRAG });
  t.equal((await request(b.http, location, trickle())).status, 204, 'while A lives, a PATCH through B reaches it');

  a.kill('SIGKILL');
  await new Promise((resolve) => (a.exitCode !== null ? resolve(undefined) : a.once('exit', resolve)));
  // A's instance key lives on until its TTL: B forwards, nobody answers, B gives up after its bound.
  const first = await request(b.http, location, trickle());
  t.equal(first.status, 503, 'right after the kill (its presence not yet expired): 503');
  t.equal(first.headers.get('retry-after'), String(Math.ceil((TTL_MS + HEARTBEAT_MS) / 1000)), 'with Retry-After: when its presence has surely expired');
  t.match(await first.json(), { error: /did not answer within 500 ms/ }, 'saying what happened and when to retry');
  // Once the presence expired: 404 (its resources died with it). Every request ends (AbortSignal bound).
  let last = 0;
  await until('a 404 through B', async () => {
    const response = await request(b.http, location, trickle());
    last = response.status;
    await response.text();
    return last === 404;
  }, 20_000);
  t.equal(last, 404, 'after the TTL: 404, the resource died with its instance');
  t.equal((await request(b.http, location, { method: 'DELETE', headers: auth })).status, 404, 'DELETE through B: 404 too');
});
