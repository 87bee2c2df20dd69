// Redis going away and coming back empty under a live session: media is untouched (it never crosses
// the daemon), nobody hears a false peer-left, new joins are refused meanwhile with
// cluster-unavailable and /healthz says 503; afterwards presence is re-registered and joins work.
import t from 'tap';
import { publish, view } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { RawClient, SECRET, startDaemon } from '../helpers/daemon.js';
import { RedisServer } from '../helpers/redis.js';

const HEARTBEAT_MS = 300;
const TTL_MS = 900;

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('redis-server restarted under a live session', async (t) => {
  const redis = await RedisServer.start();
  t.teardown(() => redis.close());
  const [a, b] = await Promise.all([0, 1].map(() => startDaemon({ redis: { url: redis.url, heartbeatMs: HEARTBEAT_MS, ttlMs: TTL_MS } })));
  t.teardown(() => Promise.all([a!.app.close(), b!.app.close()]));
  const token = (role: 'publisher' | 'viewer', ttlSeconds = 600) => mintToken({ secret: SECRET, session: 'live', role, ttlSeconds });

  const publisher = publish({ url: a!.url, session: 'live', token: token('publisher'), source: { kind: 'test' }, video: { width: 320, height: 240 } });
  t.teardown(() => publisher.close());
  const left: string[] = [];
  publisher.on('viewer-left', (id) => left.push(id));
  const v = view({ url: b!.url, session: 'live', token: token('viewer'), timeoutMs: 30_000 });
  t.teardown(() => v.close());
  let frames = 0;
  v.on('frame', () => frames++);
  await v.ready;
  await until('frames', () => frames >= 10, 20_000);

  await redis.stop();
  await until('A notices', async () => (await fetch(`${a!.http}/healthz`)).status === 503, 5000);
  const health = await (await fetch(`${a!.http}/healthz`)).json();
  t.match(health, { ok: false, redis: 'down' }, '/healthz: 503, redis down');
  const refused = await RawClient.open(b!.url);
  refused.send({ type: 'join', session: 'live', role: 'viewer', token: token('viewer', 700) });
  t.match(await refused.next('error'), { code: 'cluster-unavailable' }, 'a new join is refused while Redis is away');
  t.equal(await refused.closed(), 1013, 'with 1013 (try again later)');
  const during = frames;
  await new Promise((r) => setTimeout(r, 2 * TTL_MS));
  t.ok(frames > during + 10, `media goes on while Redis is away (${frames - during} frames)`);

  await redis.restart();
  await until('A and B see Redis again', async () => (await fetch(`${a!.http}/healthz`)).ok && (await fetch(`${b!.http}/healthz`)).ok, 10_000);
  // Past the grace period (one TTL and a heartbeat): nobody was swept for its absence meanwhile.
  await new Promise((r) => setTimeout(r, TTL_MS + 3 * HEARTBEAT_MS));
  t.same(left, [], 'no viewer-left at the publisher: presence was re-registered, not expired');
  const metrics = await (await fetch(`${a!.http}/metrics`)).text();
  t.match(metrics, /webrtcbin_cluster_instances 2/, 'both instances are back in Redis');
  t.match(metrics, /webrtcbin_cluster_peers\{role="viewer"\} 1/, 'the viewer is counted again');
  const before = frames;
  await until('frames after', () => frames >= before + 10, 10_000);
  t.pass('media untouched after Redis came back');

  const fresh = await RawClient.open(b!.url);
  t.teardown(() => fresh.close());
  fresh.send({ type: 'join', session: 'live', role: 'viewer', token: token('viewer', 800) });
  const joined = await fresh.next('joined');
  t.ok(typeof joined.publisher === 'string', 'a new join on B finds the publisher on A again');
  t.equal((await fresh.next('offer', 10_000)).from, joined.publisher, 'and the publisher on A offers to it across the instances');
  const second = await RawClient.open(b!.url);
  t.teardown(() => second.close());
  second.send({ type: 'join', session: 'live', role: 'publisher', token: token('publisher', 900) });
  t.match(await second.next('error'), { code: 'publisher-exists' }, 'the publisher seat was re-registered: a second one is refused');
});
