// WHEP resources against a real daemon and a scripted publisher (a raw WebSocket that answers with a
// fixed SDP): a resource belongs to the token that created it and ends at that token's expiry, a
// client that hangs up before the 201 leaves nothing behind, and CORS headers go only to the WHEP/WHIP
// routes.
import t from 'tap';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { RawClient, SECRET, startDaemon } from '../helpers/daemon.js';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (e) => unhandled.push(e));

const OFFER = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n';
const ANSWER = 'v=0\r\no=- 2 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n';

const token = (session: string, role: 'viewer' | 'publisher', ttlSeconds = 600) => mintToken({ secret: SECRET, session, role, ttlSeconds });

/** A publisher that answers every offer at once (or never, with `answer: false`). */
async function scriptedPublisher(url: string, session: string, answer = true): Promise<RawClient> {
  const pub = await RawClient.open(url);
  pub.send({ type: 'join', session, role: 'publisher', token: token(session, 'publisher') });
  await pub.next('joined');
  if (answer) pub.answerEveryOffer(ANSWER);
  return pub;
}

const post = (http: string, path: string, bearer: string | undefined, init: RequestInit & { headers?: Record<string, string> } = {}) =>
  fetch(`${http}${path}`, {
    method: 'POST',
    body: OFFER,
    ...init,
    headers: { 'content-type': 'application/sdp', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...init.headers },
  });

/** Viewers in the daemon (WebSocket and WHEP), from /healthz: its peers minus the one publisher. */
const viewers = async (http: string) => ((await fetch(`${http}/healthz`).then((r) => r.json())) as { peers: number }).peers - 1;

t.test('a WHEP resource is its creator\'s: another viewer\'s token gets 403', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const pub = await scriptedPublisher(daemon.url, 'own');
  t.teardown(() => pub.close());
  const creator = token('own', 'viewer', 600); // not the same token as `other` (another exp)
  const other = token('own', 'viewer', 900);
  const created = await post(daemon.http, '/whep/own', creator);
  t.equal(created.status, 201, 'POST with a valid token: 201');
  await created.text();
  const location = created.headers.get('location')!;
  t.match(location, /^\/whep\/own\/v-[A-Za-z0-9_-]{22}$/, 'the resource id carries 128 random bits');
  const frag = 'a=candidate:1 1 udp 1 127.0.0.1 9 typ host';
  const patch = (bearer: string | undefined) =>
    fetch(`${daemon.http}${location}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/trickle-ice-sdpfrag', 'if-match': created.headers.get('etag')!, ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: frag,
    }).then(async (r) => (await r.text(), r.status));
  const del = (bearer: string | undefined, path = location) =>
    fetch(`${daemon.http}${path}`, { method: 'DELETE', headers: bearer ? { authorization: `Bearer ${bearer}` } : {} }).then(async (r) => (await r.text(), r.status));

  t.equal(await patch(other), 403, 'PATCH with another viewer token of the same session: 403');
  t.equal(await del(other), 403, 'DELETE with another viewer token of the same session: 403');
  t.equal(await del(undefined), 401, 'DELETE without a token: 401');
  t.equal(await del(`${creator}x`), 403, 'DELETE with a tampered token: 403');
  t.equal(await del(creator, `${location.slice(0, -4)}AAAA`), 404, 'DELETE of an id that does not exist: 404');
  t.equal(await viewers(daemon.http), 1, 'the resource is still there');

  t.equal(await patch(creator), 204, 'its owner can PATCH the resource');
  t.equal(await del(creator), 200, 'and DELETE it');
  t.equal(await viewers(daemon.http), 0, 'the resource is gone');
  t.match(await pub.next('peer-left'), { role: 'viewer' }, 'the publisher hears it left');
  t.same(unhandled, []);
});

/** A gauge or counter of the daemon's /metrics (0 when absent). */
const metric = async (http: string, name: string) => {
  const text = await fetch(`${http}/metrics`).then((r) => r.text());
  return Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
};

for (const kind of ['whep', 'whip']) {
  t.test(`a ${kind.toUpperCase()} resource ends at its token's expiry, like a WebSocket participant`, async (t) => {
    const daemon = await startDaemon();
    t.teardown(() => daemon.app.close());
    const pub = await scriptedPublisher(daemon.url, 'lease');
    t.teardown(() => pub.close());
    const short = token('lease', 'viewer', 2);
    const created = await post(daemon.http, `/${kind}/lease`, short);
    t.equal(created.status, 201);
    await created.text();
    const location = created.headers.get('location')!;
    const id = location.split('/').pop()!;
    t.equal(await viewers(daemon.http), 1, 'the resource holds a participant');
    t.equal(await metric(daemon.http, 'webrtcbin_tokens_in_use'), 2, 'the publisher\'s token and the viewer\'s hold a slot each');

    t.same(await pub.next('peer-left', 5000), { type: 'peer-left', peerId: id, role: 'viewer' }, 'at exp the publisher hears the viewer left');
    t.equal(await viewers(daemon.http), 0, 'no participant is left');
    t.equal(await metric(daemon.http, 'webrtcbin_tokens_in_use'), 1, 'the viewer token\'s slot is freed');
    t.equal(await metric(daemon.http, 'webrtcbin_errors_total{code="token-expired"}'), 1, 'counted like a WebSocket expiry');
    const patch = await fetch(`${daemon.http}${location}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/trickle-ice-sdpfrag', 'if-match': '*', authorization: `Bearer ${short}` },
      body: 'a=end-of-candidates',
    });
    await patch.text();
    t.equal(patch.status, 404, 'PATCH: 404');
    const del = await fetch(`${daemon.http}${location}`, { method: 'DELETE', headers: { authorization: `Bearer ${short}` } });
    await del.text();
    t.equal(del.status, 404, 'DELETE: 404');
    t.same(unhandled, []);
  });
}

t.test('a resource ended before its token\'s exp leaves no expiry timer acting later', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const pub = await scriptedPublisher(daemon.url, 'early');
  t.teardown(() => pub.close());
  const short = token('early', 'viewer', 2);
  const created = await post(daemon.http, '/whep/early', short);
  t.equal(created.status, 201);
  await created.text();
  const del = await fetch(`${daemon.http}${created.headers.get('location')!}`, { method: 'DELETE', headers: { authorization: `Bearer ${short}` } });
  await del.text();
  t.equal(del.status, 200, 'DELETE before exp');
  t.match(await pub.next('peer-left'), { role: 'viewer' });
  await new Promise((r) => setTimeout(r, 2500)); // past exp
  t.equal(await metric(daemon.http, 'webrtcbin_errors_total{code="token-expired"}'), 0, 'no expiry fired for the deleted resource');
  t.equal(pub.messages.filter((m) => m.type === 'peer-left').length, 0, 'and the publisher heard peer-left once');
});

t.test('a token that expires while its POST waits for the answer gets 401 and leaves nothing', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const pub = await scriptedPublisher(daemon.url, 'late', false); // never answers
  t.teardown(() => pub.close());
  const request = post(daemon.http, '/whep/late', token('late', 'viewer', 1));
  const offer = await pub.next('offer');
  const response = await request;
  t.equal(response.status, 401, 'the POST ends with 401 at exp, not at the answer timeout');
  t.equal(response.headers.get('www-authenticate'), 'Bearer', 'a 401 like any refused token');
  t.match(await response.json(), { error: /token expired/ });
  t.match(await pub.next('peer-left', 5000), { peerId: offer.from, role: 'viewer' }, 'the publisher hears it left');
  t.equal(await viewers(daemon.http), 0);
  t.equal(await metric(daemon.http, 'webrtcbin_tokens_in_use'), 1, 'only the publisher\'s token holds a slot');
});

t.test('a client that hangs up before the 201 leaves no resource and frees its token slot', async (t) => {
  const daemon = await startDaemon({ maxJoinsPerToken: 1 });
  t.teardown(() => daemon.app.close());
  const pub = await scriptedPublisher(daemon.url, 'gone', false);
  t.teardown(() => pub.close());
  const viewer = token('gone', 'viewer');
  const abort = new AbortController();
  const request = post(daemon.http, '/whep/gone', viewer, { signal: abort.signal }).catch((e: Error) => e);
  const offer = await pub.next('offer');
  abort.abort();
  t.match(await request, { name: 'AbortError' });
  // The publisher hears the viewer left as soon as its client is gone; its late answer then finds nobody.
  const left = await pub.next('peer-left', 5000).catch(() => undefined);
  pub.send({ type: 'answer', to: offer.from, sdp: ANSWER });
  pub.send({ type: 'candidate', to: offer.from, candidate: null });
  t.match(left, { peerId: offer.from, role: 'viewer' }, 'peer-left reaches the publisher');
  await new Promise((r) => setTimeout(r, 300)); // let a late answer reach the daemon
  t.equal(await viewers(daemon.http), 0, 'no participant is left for the vanished client');
  const ws = await RawClient.open(daemon.url);
  t.teardown(() => ws.close());
  ws.send({ type: 'join', session: 'gone', role: 'viewer', token: viewer });
  t.match(await ws.next('joined'), { session: 'gone' }, 'the token (cap 1) can join again: its slot was released');
  t.same(unhandled, []);
});

t.test('CORS headers only on the WHEP/WHIP routes, whatever the query string says', async (t) => {
  const daemon = await startDaemon({ insecure: true });
  t.teardown(() => daemon.app.close());
  const origin = { origin: 'https://evil.example' };
  for (const path of ['/v1/ice-servers?x=/whep/', '/metrics?/whip/', '/healthz?a=/whep/x']) {
    const r = await fetch(`${daemon.http}${path}`, { headers: origin });
    await r.text();
    t.equal(r.headers.get('access-control-allow-origin'), null, `${path}: no CORS header`);
  }
  const preflight = await fetch(`${daemon.http}/whep/cors`, { method: 'OPTIONS', headers: origin });
  t.equal(preflight.status, 204);
  t.equal(preflight.headers.get('access-control-allow-origin'), origin.origin, 'WHEP preflight: CORS allowed');
  const noPublisher = await post(daemon.http, '/whip/cors', undefined, { headers: { 'content-type': 'application/sdp', ...origin } });
  await noPublisher.text();
  t.equal(noPublisher.status, 503);
  t.equal(noPublisher.headers.get('access-control-allow-origin'), origin.origin, 'a WHIP answer, even an error, carries CORS');
});

t.test('the resource goes when the publisher says bye (what publish() sends at its negotiation deadline)', async (t) => {
  const daemon = await startDaemon({ maxJoinsPerToken: 1 });
  t.teardown(() => daemon.app.close());
  const pub = await scriptedPublisher(daemon.url, 'bye');
  t.teardown(() => pub.close());
  const viewer = token('bye', 'viewer');
  const created = await post(daemon.http, '/whep/bye', viewer);
  t.equal(created.status, 201);
  await created.text();
  const id = created.headers.get('location')!.split('/').pop()!;
  pub.send({ type: 'bye', to: id });
  for (let i = 0; i < 100 && (await viewers(daemon.http)) > 0; i++) await new Promise((r) => setTimeout(r, 50));
  t.equal(await viewers(daemon.http), 0, 'the resource is gone');
  const again = await post(daemon.http, '/whep/bye', viewer);
  t.equal(again.status, 201, 'the token slot (cap 1) is free for a new resource');
  await again.text();
  const gone = await fetch(`${daemon.http}/whep/bye/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${viewer}` } });
  t.equal(gone.status, 404, 'the old resource URL is gone');
});

t.test('a resource relays a bounded number of candidates over its lifetime', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const pub = await scriptedPublisher(daemon.url, 'many');
  t.teardown(() => pub.close());
  const viewer = token('many', 'viewer');
  const created = await post(daemon.http, '/whep/many', viewer);
  t.equal(created.status, 201);
  await created.text();
  const patch = (frag: string) =>
    fetch(`${daemon.http}${created.headers.get('location')!}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/trickle-ice-sdpfrag', 'if-match': created.headers.get('etag')!, authorization: `Bearer ${viewer}` },
      body: frag,
    }).then(async (r) => (await r.text(), r.status));
  const frag = (from: number) => Array.from({ length: 64 }, (_, i) => `a=candidate:${from + i} 1 udp 1 192.0.2.1 ${1000 + from + i} typ host`).join('\r\n');
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push(await patch(frag(i * 64)));
  t.same(statuses, [204, 204, 204, 204, 429, 429], 'four PATCHes of 64 pass, then 429');
  t.equal(await patch('a=end-of-candidates'), 204, 'end-of-candidates still passes');
  const relayed = () => pub.messages.filter((m) => m.type === 'candidate');
  for (let i = 0; i < 100 && relayed().length < 257; i++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100)); // anything beyond the bound would have arrived by now
  t.equal(relayed().filter((m) => m.candidate !== null).length, 256, 'the publisher got 256 candidates');
  t.equal(relayed().at(-1)?.candidate, null, 'and the end-of-candidates');
});
