// Three daemon instances sharing one real redis-server: presence, relays across instances,
// peer-joined / peer-left everywhere, the limits across instances, WHEP on an instance without the
// publisher. Raw protocol clients (test/cluster/media.test.ts streams real media).
import t from 'tap';
import { RawClient, SECRET, startDaemon } from '../helpers/daemon.js';
import { RedisServer } from '../helpers/redis.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef012345\r\na=mid:0\r\n';

t.test('sessions across three instances on one Redis', async (t) => {
  const redis = await RedisServer.start();
  t.teardown(() => redis.close());
  const cluster = { url: redis.url, heartbeatMs: 200, ttlMs: 600 };
  const [a, b, c] = await Promise.all([0, 1, 2].map(() => startDaemon({ redis: cluster, maxJoinsPerToken: 2 })));
  t.teardown(() => Promise.all([a, b, c].map((d) => d!.app.close())));
  const token = (role: 'publisher' | 'viewer', session = 's1') => mintToken({ secret: SECRET, session, role });
  const open = async (d: { url: string }) => {
    const client = await RawClient.open(d.url);
    t.teardown(() => client.close());
    return client;
  };

  // The publisher on A, a viewer on B: each hears of the other, offer/answer/candidates cross.
  const publisher = await open(a!);
  publisher.send({ type: 'join', session: 's1', role: 'publisher', token: token('publisher') });
  const pJoined = await publisher.next('joined');
  const viewer = await open(b!);
  viewer.send({ type: 'join', session: 's1', role: 'viewer', token: mintToken({ secret: SECRET, session: 's1', role: 'viewer', ttlSeconds: 7200 }) });
  const vJoined = await viewer.next('joined');
  t.equal(vJoined.publisher, pJoined.peerId, 'the viewer on B learns the publisher on A');
  const peerJoined = await publisher.next('peer-joined');
  t.equal(peerJoined.peerId, vJoined.peerId, 'the publisher on A hears peer-joined for the viewer on B');
  publisher.send({ type: 'offer', to: vJoined.peerId, sdp: SDP });
  const offer = await viewer.next('offer');
  t.equal(offer.from, pJoined.peerId, 'the offer crosses from A to B');
  viewer.send({ type: 'answer', sdp: SDP });
  t.equal((await publisher.next('answer')).from, vJoined.peerId, 'the answer crosses back');
  viewer.send({ type: 'candidate', candidate: { candidate: 'candidate:1 1 UDP 1 127.0.0.1 9 typ host', sdpMid: '0' } });
  t.match(await publisher.next('candidate'), { from: vJoined.peerId, candidate: { sdpMid: '0' } }, 'candidates cross');

  // A viewer that does not wait for `joined`: what it sends meanwhile waits for its join (Redis) in order.
  const eager = await open(c!);
  eager.send({ type: 'join', session: 's1', role: 'viewer', token: mintToken({ secret: SECRET, session: 's1', role: 'viewer', ttlSeconds: 5400 }) });
  eager.send({ type: 'candidate', candidate: { candidate: 'candidate:eager 1 UDP 1 127.0.0.1 9 typ host', sdpMid: '0' } });
  const eagerJoined = await eager.next('joined');
  t.match(await publisher.next('candidate'), { from: eagerJoined.peerId, candidate: { candidate: /eager/ } }, 'a message sent before joined is relayed after the join, not refused');
  t.equal((await publisher.next('peer-joined')).peerId, eagerJoined.peerId);
  eager.close();
  await publisher.next('peer-left');

  // A second publisher anywhere is refused with the single process's error.
  const second = await open(b!);
  second.send({ type: 'join', session: 's1', role: 'publisher', token: token('publisher') });
  t.match(await second.next('error'), { code: 'publisher-exists' }, 'a second publisher on B is refused');

  // The per-token cap counts every instance: the viewer token holds one on B; one more on C, then none on A.
  const viewerToken = token('viewer');
  const v2 = await open(c!);
  v2.send({ type: 'join', session: 's1', role: 'viewer', token: viewerToken });
  await v2.next('joined');
  const v3 = await open(a!);
  v3.send({ type: 'join', session: 's1', role: 'viewer', token: viewerToken });
  await v3.next('joined');
  const v4 = await open(b!);
  v4.send({ type: 'join', session: 's1', role: 'viewer', token: viewerToken });
  t.match(await v4.next('error'), { code: 'token-in-use' }, 'the token cap holds across instances');
  v3.close();
  await publisher.next('peer-left');
  await publisher.next('peer-joined'); // v2's, before v3's peer-left

  // A viewer that leaves on C: the publisher on A hears peer-left; the slot is free again.
  v2.send({ type: 'bye' });
  t.match(await publisher.next('peer-left'), { role: 'viewer' }, 'peer-left crosses instances');
  const v5 = await open(a!);
  v5.send({ type: 'join', session: 's1', role: 'viewer', token: viewerToken });
  await v5.next('joined');

  // The publisher leaves: every viewer on every instance hears it.
  publisher.send({ type: 'bye' });
  t.match(await viewer.next('peer-left'), { peerId: pJoined.peerId, role: 'publisher' }, 'B hears the publisher leave');
  t.match(await v5.next('peer-left'), { peerId: pJoined.peerId, role: 'publisher' }, 'A hears it too');

  // A publisher that joins after the viewers (on C) hears of each, wherever they are.
  const late = await open(c!);
  late.send({ type: 'join', session: 's1', role: 'publisher', token: token('publisher') });
  await late.next('joined');
  const heard = new Set([(await late.next('peer-joined')).peerId, (await late.next('peer-joined')).peerId]);
  t.ok(heard.has(vJoined.peerId), 'the late publisher on C hears the viewer on B');
  t.equal((await viewer.next('peer-joined')).role, 'publisher', 'the viewer on B hears the new publisher on C');

  // /metrics: this instance's counts, and the cluster's from Redis (as of the last heartbeat).
  await new Promise((r) => setTimeout(r, 400));
  const metrics = await (await fetch(`${a!.http}/metrics`)).text();
  t.match(metrics, /webrtcbin_cluster_instances 3/, 'three instances');
  t.match(metrics, /webrtcbin_cluster_sessions 1/, 'one session across them');
  t.match(metrics, /webrtcbin_cluster_peers\{role="publisher"\} 1/);
  t.match(metrics, /webrtcbin_cluster_peers\{role="viewer"\} 2/);
  t.match(metrics, /webrtcbin_peers\{role="viewer"\} 1/, 'this instance counts its own');
  const health = await (await fetch(`${b!.http}/healthz`)).json();
  t.match(health, { ok: true, redis: 'up' });
});

t.test('WHEP on an instance that does not hold the publisher', async (t) => {
  const redis = await RedisServer.start();
  t.teardown(() => redis.close());
  const [a, c] = await Promise.all([0, 1].map(() => startDaemon({ redis: { url: redis.url, heartbeatMs: 200, ttlMs: 600 } })));
  t.teardown(() => Promise.all([a!.app.close(), c!.app.close()]));
  const publisher = await RawClient.open(a!.url);
  t.teardown(() => publisher.close());
  publisher.send({ type: 'join', session: 'w', role: 'publisher', token: mintToken({ secret: SECRET, session: 'w', role: 'publisher' }) });
  await publisher.next('joined');
  publisher.answerEveryOffer(SDP.replace('abcd', 'efgh'));
  const bearer = mintToken({ secret: SECRET, session: 'w', role: 'viewer' });
  const response = await fetch(`${c!.http}/whep/w`, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp', authorization: `Bearer ${bearer}` },
    body: SDP,
  });
  t.equal(response.status, 201, 'the WHEP offer on C is answered by the publisher on A');
  t.match(await response.text(), /a=ice-ufrag:efgh/, "the publisher's answer");
  const location = response.headers.get('location')!;
  const other = mintToken({ secret: SECRET, session: 'w', role: 'viewer', ttlSeconds: 1800 });
  const refused = await fetch(`${c!.http}${location}`, { method: 'DELETE', headers: { authorization: `Bearer ${other}` } });
  t.equal(refused.status, 403, 'only the creating token may DELETE');
  const del = await fetch(`${c!.http}${location}`, { method: 'DELETE', headers: { authorization: `Bearer ${bearer}` } });
  t.equal(del.status, 200, 'DELETE on C');
  t.match(await publisher.next('peer-left'), { role: 'viewer' }, 'the publisher on A hears the WHEP viewer leave');
});

t.test("a data-only viewer (join.media 'data') on another instance: the publisher hears media 'data'", async (t) => {
  const redis = await RedisServer.start();
  t.teardown(() => redis.close());
  const cluster = { url: redis.url, heartbeatMs: 200, ttlMs: 600 };
  const [a, b] = await Promise.all([0, 1].map(() => startDaemon({ redis: cluster })));
  t.teardown(() => Promise.all([a, b].map((d) => d!.app.close())));
  const token = (role: 'publisher' | 'viewer') => mintToken({ secret: SECRET, session: 'd1', role, control: role === 'viewer' });
  const publisher = await RawClient.open(a!.url);
  t.teardown(() => publisher.close());
  publisher.send({ type: 'join', session: 'd1', role: 'publisher', token: token('publisher') });
  await publisher.next('joined');
  const dataOnly = await RawClient.open(b!.url);
  t.teardown(() => dataOnly.close());
  dataOnly.send({ type: 'join', session: 'd1', role: 'viewer', token: token('viewer'), media: 'data' });
  const joined = await dataOnly.next('joined');
  t.match(await publisher.next('peer-joined'), { peerId: joined.peerId, media: 'data', control: true }, 'media: data crosses from B to the publisher on A');
  const watching = await RawClient.open(b!.url);
  t.teardown(() => watching.close());
  watching.send({ type: 'join', session: 'd1', role: 'viewer', token: token('viewer') });
  await watching.next('joined');
  const plain = await publisher.next('peer-joined');
  t.notOk('media' in plain, 'a viewer that wants video is announced without it');
});
