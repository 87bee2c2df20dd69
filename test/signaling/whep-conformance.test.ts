// WHEP (draft-ietf-wish-whep-03) and WHIP (RFC 9725) over real HTTP against a real daemon, one
// requirement at a time; each assertion names the section it checks (RFC 9725's numbers; the WHEP
// draft has the same text at §4.1 HTTP usage, §4.2 set up, §4.4 ICE, §4.7 STUN/TURN). The publisher is
// scripted (a raw WebSocket answering with a fixed SDP) where only the HTTP side is checked, and a real
// publish() with a real player where the session has to keep playing.
import t, { type Test } from 'tap';
import { createHmac } from 'node:crypto';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { iceServerLinks, ifMatch, isIceRestart } from '../../lib/signaling/daemon/whep.js';
import { publish } from '../../lib/publish/publisher.js';
import { WebRtcPeer } from '../../lib/index.js';
import { RawClient, SECRET, startDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const OFFER =
  'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n' +
  'a=ice-ufrag:EsAw\r\na=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r\na=mid:0\r\na=recvonly\r\na=rtpmap:96 VP8/90000\r\n';
const ANSWER = 'v=0\r\no=- 2 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=ice-ufrag:srv1\r\na=ice-pwd:serverpassword0000000000\r\na=mid:0\r\n';
const TRICKLE = 'a=ice-ufrag:EsAw\r\na=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=candidate:1 1 udp 2122260223 192.0.2.1 61764 typ host\r\n';
const RESTART = 'a=ice-ufrag:ysXw\r\na=ice-pwd:vw5LmwG4y/e6dPP/zAP9Gp5k\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=candidate:2 1 udp 2122260223 192.0.2.1 61765 typ host\r\n';
const ICE = {
  stun: ['stun:stun.example.net:3478'],
  turn: ['turn:turn.example.net:3478?transport=udp', 'turns:turn.example.net:5349?transport=tcp'],
  turnSecret: 'conformance-turn-secret',
};

const token = (session: string, role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session, role, ttlSeconds: 600 });

/** A publisher that answers every offer at once, with end-of-candidates. */
async function scriptedPublisher(url: string, session: string): Promise<RawClient> {
  const pub = await RawClient.open(url);
  pub.send({ type: 'join', session, role: 'publisher', token: token(session, 'publisher') });
  await pub.next('joined');
  pub.answerEveryOffer(ANSWER);
  return pub;
}

async function setUp(t: Test, session: string) {
  const daemon = await startDaemon({ ice: ICE });
  t.teardown(() => daemon.app.close());
  const pub = await scriptedPublisher(daemon.url, session);
  t.teardown(() => pub.close());
  const bearer = token(session, 'viewer');
  const auth = { authorization: `Bearer ${bearer}` };
  const request = async (method: string, path: string, headers: Record<string, string> = {}, body?: string) => {
    const r = await fetch(`${daemon.http}${path}`, { method, headers: { ...auth, ...headers }, body });
    return { status: r.status, headers: r.headers, body: await r.text() };
  };
  const create = (kind: string) => request('POST', `/${kind}/${session}`, { 'content-type': 'application/sdp' }, OFFER);
  const patch = (location: string, body: string, headers: Record<string, string> = {}) =>
    request('PATCH', location, { 'content-type': 'application/trickle-ice-sdpfrag', ...headers }, body);
  return { daemon, pub, request, create, patch };
}

for (const kind of ['whep', 'whip']) {
  const NAME = kind.toUpperCase();

  t.test(`${NAME}: session set up (RFC 9725 §4.2, WHEP §4.2.1)`, async (t) => {
    const { create, request } = await setUp(t, `setup-${kind}`);
    const created = await create(kind);
    t.equal(created.status, 201, '§4.2: an SDP offer POSTed to the endpoint gets "201 Created"');
    t.equal(created.headers.get('content-type'), 'application/sdp', '§4.2: the 201 has a content type of "application/sdp"');
    t.match(created.body, /^v=0\r\n/, '§4.2: the SDP answer is the body');
    t.match(created.headers.get('location'), new RegExp(`^/${kind}/setup-${kind}/v-`), '§4.2: a Location header field points to the new session');
    t.match(created.headers.get('etag'), /^"[^"]+"$/, '§4.3.1: the 201 carries the ICE session\'s entity-tag in ETag, a strong one (no W/)');
    const wrongType = await request('POST', `/${kind}/setup-${kind}`, { 'content-type': 'text/plain' }, OFFER);
    t.equal(wrongType.status, 415, '§4.2: a content type other than "application/sdp" is rejected with a 4xx (415)');
  });

  t.test(`${NAME}: STUN/TURN in Link headers (RFC 9725 §4.6, WHEP §4.7)`, async (t) => {
    const { create } = await setUp(t, `links-${kind}`);
    const first = await create(kind);
    t.equal(first.status, 201);
    const links = (first.headers.get('link') ?? '').split(/,\s*(?=<)/);
    t.equal(links.length, 3, '§4.6: one Link per STUN/TURN server URI');
    t.equal(links[0], '<stun:stun.example.net:3478>; rel="ice-server"', '§4.6: a STUN server: its URI (RFC 7064) and rel="ice-server", no credentials');
    const turn = /^<turn:turn\.example\.net:3478\?transport=udp>; rel="ice-server"; username="(\d+):(v-[^"]+)"; credential="([^"]+)"; credential-type="password"$/.exec(links[1] ?? '');
    t.ok(turn, `§4.6: a TURN server: URI (RFC 7065), rel="ice-server", username, credential, credential-type="password" (${links[1]})`);
    const [, expiry, user, credential] = turn ?? [];
    t.equal(user, first.headers.get('location')!.split('/').pop(), 'the TURN REST user is this resource: credentials are minted per resource');
    t.equal(credential, createHmac('sha1', ICE.turnSecret).update(`${expiry}:${user}`).digest('base64'), 'the credential is coturn\'s REST HMAC of that username');
    t.match(links[2], /^<turns:turn\.example\.net:5349\?transport=tcp>; rel="ice-server"; username="/, '§4.6: a TURNS URI too, with the same credentials');
    const second = await create(kind);
    t.not(second.headers.get('link'), first.headers.get('link'), 'another resource gets other credentials');
    t.match(first.headers.get('access-control-expose-headers'), /link/, 'a cross-origin player can read Link (and ETag, Location)');
  });

  t.test(`${NAME}: PATCH and entity-tags (RFC 9725 §4.3.1, §4.3.2; WHEP §4.4.1, §4.4.2)`, async (t) => {
    const { create, patch, pub } = await setUp(t, `etag-${kind}`);
    const created = await create(kind);
    const location = created.headers.get('location')!;
    const etag = created.headers.get('etag')!;
    const relayed = () => pub.messages.filter((m) => m.type === 'candidate' && m.candidate !== null).length;

    const trickle = await patch(location, TRICKLE, { 'if-match': etag });
    t.equal(trickle.status, 204, '§4.3.2: a trickle PATCH with the current entity-tag gets "204 No Content"');
    t.equal(trickle.body, '', '§4.3.2: without a body');
    t.equal(trickle.headers.get('etag'), null, '§4.3.2: and MUST NOT include an ETag header');
    for (let i = 0; i < 50 && relayed() < 1; i++) await new Promise((r) => setTimeout(r, 20));
    t.equal(relayed(), 1, 'its candidate reached the publisher');

    const stale = await patch(location, TRICKLE, { 'if-match': '"not-the-etag"' });
    t.equal(stale.status, 412, '§4.3.1: a non-matching entity-tag gets "412 Precondition Failed"');
    const weak = await patch(location, TRICKLE, { 'if-match': `W/${etag}` });
    t.equal(weak.status, 412, 'RFC 9110 §13.1.1: If-Match uses the strong comparison, a weak tag never matches');
    const listed = await patch(location, TRICKLE, { 'if-match': `"other", ${etag}` });
    t.equal(listed.status, 204, 'RFC 9110 §13.1.1: a list that holds the current tag matches');
    const missing = await patch(location, TRICKLE);
    t.equal(missing.status, 428, '§4.3.1: a missing entity-tag gets "428 Precondition Required" (§4.3.2: trickle MUST use conditional requests)');
    t.match(JSON.parse(missing.body), { error: /If-Match/ }, 'the body says what to send');
    await new Promise((r) => setTimeout(r, 100));
    t.equal(relayed(), 2, 'the refused PATCHes relayed nothing');

    const wrongType = await patch(location, TRICKLE, { 'content-type': 'application/sdp', 'if-match': etag });
    t.equal(wrongType.status, 415, '§4.3.1: a content type other than "application/trickle-ice-sdpfrag" is rejected with a 4xx (415)');
    const malformed = await patch(location, `a=candidate:${'x'.repeat(2000)}`, { 'if-match': etag });
    t.equal(malformed.status, 400, '§4.3.1: a malformed SDP fragment is rejected with a 4xx (400)');
  });

  t.test(`${NAME}: ICE restart (RFC 9725 §4.3.3, WHEP §4.4.3)`, async (t) => {
    const { create, patch, pub, request } = await setUp(t, `restart-${kind}`);
    const created = await create(kind);
    const location = created.headers.get('location')!;
    const etag = created.headers.get('etag')!;
    const before = pub.messages.length;

    const bare = await patch(location, RESTART);
    t.equal(bare.status, 428, '§4.3.1/§4.3.3: an ICE restart (new ice-ufrag/ice-pwd) without If-Match gets "428 Precondition Required"');
    const stale = await patch(location, RESTART, { 'if-match': '"old"' });
    t.equal(stale.status, 412, '§4.3.1: with a non-matching entity-tag, 412');
    const restart = await patch(location, RESTART, { 'if-match': '"*"' });
    t.equal(restart.status, 422, '§4.3.1: a session that does trickle but not ICE restart answers the restart "422 Unprocessable Content"');
    t.match(JSON.parse(restart.body), { error: /does not support ICE restart.*goes on/ }, 'the body says why and what to do');
    t.equal((await patch(location, RESTART, { 'if-match': '*' })).status, 422, 'the same for the bare * of RFC 9110');
    t.equal(restart.headers.get('etag'), null, 'no new entity-tag: the ICE session did not change');

    await new Promise((r) => setTimeout(r, 100));
    t.same(pub.messages.slice(before), [], '§4.3.3: the refused restart is not half-applied: nothing reached the publisher');
    const trickle = await patch(location, TRICKLE, { 'if-match': etag });
    t.equal(trickle.status, 204, '§4.3.3: a failed restart MUST NOT terminate the session: it keeps the existing ICE session, same ETag');
    t.equal((await request('GET', location)).status, 204, 'the resource is still there');
  });

  t.test(`${NAME}: OPTIONS, GET, other methods (RFC 9725 §4.1, §4.2)`, async (t) => {
    const { create, request } = await setUp(t, `methods-${kind}`);
    const endpoint = `/${kind}/methods-${kind}`;
    const preflight = await request('OPTIONS', endpoint, { origin: 'https://player.example', 'access-control-request-method': 'POST' });
    t.equal(preflight.status, 204, '§4.2: the endpoint supports OPTIONS for CORS (a 2xx)');
    t.equal(preflight.headers.get('accept-post'), 'application/sdp', '§4.2: the OPTIONS response includes "Accept-Post: application/sdp"');
    t.equal(preflight.headers.get('access-control-allow-origin'), 'https://player.example', 'CORS: the origin is allowed (the Bearer token is the guard)');
    t.match(preflight.headers.get('access-control-allow-methods'), /POST/, 'CORS: POST is allowed');
    t.match(preflight.headers.get('access-control-allow-headers'), /authorization.*content-type.*if-match/, 'CORS: Authorization, Content-Type and If-Match may be sent');
    t.equal(preflight.headers.get('link'), null, '§4.6: no ice-server Links on a CORS preflight');

    const get = await request('GET', endpoint);
    t.equal(get.status, 204, '§4.1: GET on the endpoint is a 2xx with no content');
    t.equal(get.body, '', '§4.1: no content');
    const head = await request('HEAD', endpoint);
    t.equal(head.status, 204, 'HEAD is GET without a body (RFC 9110 §9.3.2)');
    t.equal(head.headers.get('accept-post'), 'application/sdp', 'the endpoint says it takes SDP on GET and HEAD too');
    const created = await create(kind);
    const location = created.headers.get('location')!;
    const getSession = await request('GET', location);
    t.equal(getSession.status, 204, '§4.1: GET on the session is a 2xx with no content');
    t.equal(getSession.body, '');
    const sessionOptions = await request('OPTIONS', location, { origin: 'https://player.example', 'access-control-request-method': 'PATCH' });
    t.equal(sessionOptions.headers.get('accept-patch'), 'application/trickle-ice-sdpfrag', 'RFC 5789 §3.1: the session says what PATCH takes');
    t.match(sessionOptions.headers.get('access-control-allow-methods'), /PATCH.*DELETE/, 'CORS: PATCH and DELETE are allowed on the session');

    const put = await request('PUT', endpoint, { 'content-type': 'application/sdp' }, OFFER);
    t.equal(put.status, 405, 'RFC 9110 §15.5.6: another method on the endpoint is "405 Method Not Allowed"');
    t.equal(put.headers.get('allow'), 'GET, HEAD, OPTIONS, POST', 'RFC 9110 §15.5.6: with Allow');
    const postSession = await request('POST', location, { 'content-type': 'application/sdp' }, OFFER);
    t.equal(postSession.status, 405, 'POST on the session URL: 405');
    t.equal(postSession.headers.get('allow'), 'GET, HEAD, OPTIONS, PATCH, DELETE', 'with Allow');

    const del = await request('DELETE', location, { 'if-match': '"anything"' });
    t.equal(del.status, 200, '§4.3.1: DELETE ignores any entity-tag; §4.2: "200 OK" ends the session');
    t.equal((await request('GET', location)).status, 404, 'the ended session is gone');
  });
}

t.test('WHEP and WHIP resources are apart: a WHEP session URL under /whip/ (and the reverse) is 404', async (t) => {
  const { create, patch, request } = await setUp(t, 'apart');
  for (const [kind, other] of [['whep', 'whip'], ['whip', 'whep']] as const) {
    const created = await create(kind);
    const location = created.headers.get('location')!;
    const elsewhere = location.replace(`/${kind}/`, `/${other}/`);
    t.equal((await patch(elsewhere, TRICKLE)).status, 404, `a ${kind} id: PATCH under /${other}/ is 404`);
    t.equal((await request('GET', elsewhere)).status, 404, `a ${kind} id: GET under /${other}/ is 404`);
    t.equal((await request('DELETE', elsewhere)).status, 404, `a ${kind} id: DELETE under /${other}/ is 404`);
    t.equal((await request('DELETE', location)).status, 200, `it is still there under /${kind}/`);
  }
});

t.test('statuses when no session can be made (RFC 9725 §4.5, §4.4.3; WHEP §4.2.8)', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const bearer = token('empty', 'viewer');
  const post = (kind: string) => fetch(`${daemon.http}/${kind}/empty`, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${bearer}` }, body: OFFER });
  const whep = await post('whep');
  await whep.text();
  t.equal(whep.status, 409, 'WHEP §4.2.8: no live publisher: "409 Conflict"');
  t.equal(whep.headers.get('retry-after'), '2', 'WHEP §4.2.8: with a Retry-After header');
  const whip = await post('whip');
  await whip.text();
  t.equal(whip.status, 503, 'RFC 9725 §4.5: WHIP with no publisher to receive: "503 Service Unavailable"');
  t.equal(whip.headers.get('retry-after'), '2', 'RFC 9725 §4.5: with Retry-After');

  // The publisher refusing the offer (a bye before the answer) is still 400: §4.4.3 allows 400 or 422
  // for WHIP; WHEP draft-03 gives 406 its own meaning (a counter-offer in the body), so a 406 with a
  // JSON reason would mislead a player.
  const pub = await RawClient.open(daemon.url);
  t.teardown(() => pub.close());
  pub.send({ type: 'join', session: 'empty', role: 'publisher', token: token('empty', 'publisher') });
  await pub.next('joined');
  const refused = fetch(`${daemon.http}/whip/empty`, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${bearer}` }, body: OFFER });
  const offer = await pub.next('offer');
  pub.send({ type: 'bye', to: offer.from });
  const response = await refused;
  t.equal(response.status, 400, '§4.4.3: an offer the publisher refuses: 400 (one of the two statuses RFC 9725 names)');
  t.match(await response.json(), { error: /refused/ });
});

t.test('with a real publisher: trickle by the ETag, a refused ICE restart leaves the session playing (RFC 9725 §4.3)', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session: 'real', token: token('real', 'publisher'), source: { kind: 'test' }, video: { width: 160, height: 120 } });
  publisher.on('error', () => {});
  t.teardown(() => publisher.close());
  await waitFor('the publisher to join', () => publisher.client.state === 'joined', 10_000);
  const auth = { authorization: `Bearer ${token('real', 'viewer')}` };

  const player = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => player.close());
  const gathered: { candidate: string; sdpMid?: string | null }[] = [];
  let complete = false;
  player.on('icecandidate', (c: { candidate: string; sdpMid?: string | null } | null) => (c ? gathered.push(c) : (complete = true)));
  const offer = await player.createOffer();
  await player.setLocalDescription(offer);
  const created = await fetch(`${daemon.http}/whep/real`, { method: 'POST', headers: { 'content-type': 'application/sdp', ...auth }, body: offer.sdp });
  const answer = await created.text();
  t.equal(created.status, 201, '§4.2: a real offer, a real answer: 201');
  const etag = created.headers.get('etag')!;
  const location = created.headers.get('location')!;
  await player.setRemoteDescription({ type: 'answer', sdp: answer });
  const patch = (body: string, headers: Record<string, string>) =>
    fetch(`${daemon.http}${location}`, { method: 'PATCH', headers: { 'content-type': 'application/trickle-ice-sdpfrag', ...auth, ...headers }, body }).then(async (r) => (await r.text(), r.status));

  const restart = 'a=ice-ufrag:rstr\r\na=ice-pwd:restartrestartrestart00\r\na=mid:0\r\n';
  t.equal(await patch(restart, {}), 428, '§4.3.3: an ICE restart without If-Match: 428');
  t.equal(await patch(restart, { 'if-match': '"*"' }), 422, '§4.3.1: ICE restart not supported: 422');
  await waitFor('the player to gather', () => complete, 10_000);
  const mid = gathered[0]?.sdpMid ?? '0';
  const frag = `a=mid:${mid}\r\n${gathered.map((c) => `a=${c.candidate.replace(/^a=/, '')}\r\n`).join('')}a=end-of-candidates\r\n`;
  t.equal(await patch(frag, { 'if-match': etag }), 204, '§4.3.2: one aggregated trickle PATCH with the ETag: 204');
  await waitFor('the player to connect', () => player.connectionState === 'connected', 20_000);
  await waitFor('10 decoded frames', () => player.framesDecoded >= 10, 20_000);
  t.ok(player.framesDecoded >= 10, `§4.3.3: the refused restart kept the ICE session: ${player.framesDecoded} frames decoded`);
  const del = await fetch(`${daemon.http}${location}`, { method: 'DELETE', headers: auth });
  t.equal(del.status, 200, '§4.2: DELETE ends it with 200');
  await waitFor('the publisher to drop the player', () => publisher.viewers === 0, 10_000);
});

t.test('the helpers: If-Match, ICE restart detection, Link formatting', async (t) => {
  t.ok(ifMatch('"*"', '"a"') && ifMatch('*', '"a"') && ifMatch('"b", "a"', '"a"'), 'wildcards and lists match');
  t.notOk(ifMatch('W/"a"', '"a"') || ifMatch('"b"', '"a"'), 'weak or other tags do not');
  const session = { ufrag: 'u', pwd: 'p' };
  t.notOk(isIceRestart(session, { ufrag: undefined, pwd: undefined }), 'a bare candidate is trickle');
  t.notOk(isIceRestart(session, { ufrag: 'u', pwd: 'p' }), 'the same credentials are trickle');
  t.ok(isIceRestart(session, { ufrag: 'v', pwd: 'p' }) && isIceRestart(session, { ufrag: undefined, pwd: 'q' }), 'new ones are a restart');
  t.same(iceServerLinks([{ urls: 'turn:t.example', username: 'a"b\\c', credential: 'x' }]), ['<turn:t.example>; rel="ice-server"; username="a\\"b\\\\c"; credential="x"; credential-type="password"'], 'quotes and backslashes are escaped (RFC 8288 quoted-string)');
  t.same(iceServerLinks([{ urls: ['stun:s.example'], username: 'u', credential: 'c' }]), ['<stun:s.example>; rel="ice-server"'], 'a STUN URI carries no credentials');
});
