// An instance that crashes (its own process, SIGKILLed; or SIGSTOPped: stalled, then woken): its
// participants resume their ids on another instance at once, while the dead instance's key still lives,
// and the other side keeps its peer (peer-joined {resumed}, no peer-left). Nobody takes a live
// participant's id: a wrong resume key gets a new id, and so does a resume of an id whose socket is open
// on a live instance. A stalled owner that wakes closes the socket it still had for a taken id.
import t, { type Test } from 'tap';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { publish, view } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { RawClient, SECRET, startDaemon } from '../helpers/daemon.js';
import { RedisServer } from '../helpers/redis.js';
import { freePort } from '../helpers/coturn.js';

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A daemon instance as its own process (the defaults: heartbeat 2 s, TTL 6 s), so it can be killed or stopped. */
async function spawnInstance(t: Test, redisUrl: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/lib/cli/cli.js', 'signal', '--port', String(port), '--log-level', 'warn'], {
    env: { ...process.env, WEBRTCBIN_SECRET: SECRET, WEBRTCBIN_REDIS: redisUrl },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  t.teardown(() => {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  });
  await until('the instance answers /healthz', () => fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false), 20_000);
  return { child, url: `ws://127.0.0.1:${port}/v1/ws` };
}

/** How many instance keys Redis holds (a killed instance's lives until its TTL). */
function liveInstances(redis: RedisServer): number {
  return execFileSync('redis-cli', ['-p', String(redis.port), '--scan', '--pattern', 'webrtcbin:i:*'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
}

const token = (role: 'publisher' | 'viewer', session: string) => mintToken({ secret: SECRET, session, role });

async function joinViewer(t: Test, url: string, session: string, resume?: { id: string; key: string }): Promise<{ client: RawClient; joined: Record<string, unknown> }> {
  const client = await RawClient.open(url);
  t.teardown(() => client.close());
  client.send({ type: 'join', session, role: 'viewer', token: token('viewer', session), ...(resume ? { resume } : {}) });
  return { client, joined: await client.next('joined') };
}

/** A real Redis, instances A and C in this process, and B in a process of its own (to be killed). */
async function threeInstances(t: Test) {
  const redis = await RedisServer.start();
  t.teardown(() => redis.close());
  const a = await startDaemon({ redis: redis.url });
  const c = await startDaemon({ redis: redis.url });
  t.teardown(() => Promise.all([a.app.close(), c.app.close()]));
  const b = await spawnInstance(t, redis.url);
  return { redis, a, b, c };
}

t.test('ids of a crashed instance resume elsewhere at once; live ids and wrong keys do not', async (t) => {
  const { redis, a, b, c } = await threeInstances(t);

  const publisher = await RawClient.open(a.url);
  t.teardown(() => publisher.close());
  publisher.send({ type: 'join', session: 'k', role: 'publisher', token: token('publisher', 'k') });
  await publisher.next('joined');
  const onB = [];
  for (let n = 0; n < 3; n++) {
    const v = await joinViewer(t, b.url, 'k');
    t.equal((await publisher.next('peer-joined')).peerId, v.joined.peerId);
    onB.push(v);
  }
  const [v1, v2, v3] = onB as [(typeof onB)[0], (typeof onB)[0], (typeof onB)[0]];
  const proof = (v: (typeof onB)[0]) => ({ id: String(v.joined.peerId), key: String(v.joined.resumeKey) });

  // B alive, v1's socket open there: a resume of its id is a duplicate, refused as in one process.
  const dup = await joinViewer(t, c.url, 'k', proof(v1));
  t.equal(dup.joined.resumed, false, 'a resume of an id whose socket is open on a live instance is refused');
  t.not(dup.joined.peerId, v1.joined.peerId, '… with a new id');
  t.equal(v1.client.closeCode, undefined, "the live participant's socket is untouched");
  t.equal((await publisher.next('peer-joined')).peerId, dup.joined.peerId);
  dup.client.close();
  t.equal((await publisher.next('peer-left')).peerId, dup.joined.peerId);

  // B stalled (SIGSTOP): v3's client gave up on it and resumes on C; B cannot answer the probe.
  b.child.kill('SIGSTOP');
  const r3 = await joinViewer(t, c.url, 'k', proof(v3));
  t.match(r3.joined, { peerId: v3.joined.peerId, resumed: true }, 'an id of a stalled instance is taken over after the probe goes unanswered');
  t.match(await publisher.next('peer-joined'), { peerId: v3.joined.peerId, resumed: true }, 'the publisher hears it resumed');
  b.child.kill('SIGCONT');
  await until("the woken instance closes v3's stale socket", () => v3.client.closeCode !== undefined, 10_000);
  t.equal(v3.client.closeCode, 1008, 'closed (1008): one id never has two sockets');
  t.equal(v1.client.closeCode, undefined, 'its other participants keep their sockets');

  // B killed: v1 resumes on C with its key, at once; v2's "client" tries a wrong key.
  b.child.kill('SIGKILL');
  await until("B's sockets close", () => v1.client.closeCode !== undefined && v2.client.closeCode !== undefined, 10_000);
  const r1 = await joinViewer(t, c.url, 'k', proof(v1));
  t.equal(liveInstances(redis), 3, "B's key still lives while its participant resumes (the TTL has not passed)");
  t.match(r1.joined, { peerId: v1.joined.peerId, resumed: true }, 'the id of a killed instance resumes on another at once');
  t.match(await publisher.next('peer-joined'), { peerId: v1.joined.peerId, resumed: true }, 'the publisher hears peer-joined {resumed}');
  const wrong = await joinViewer(t, c.url, 'k', { id: String(v2.joined.peerId), key: proof(v1).key });
  t.equal(wrong.joined.resumed, false, "a resume with another id's key gets a new id");
  t.not(wrong.joined.peerId, v2.joined.peerId);
  t.equal((await publisher.next('peer-joined')).peerId, wrong.joined.peerId);

  // The sweep after B's TTL: peer-left for v2 (it did not come back), never for the resumed ones.
  const left = await publisher.next('peer-left', 15_000);
  t.equal(left.peerId, v2.joined.peerId, "B's participant that did not resume is swept with peer-left");
  await new Promise((r) => setTimeout(r, 2500)); // one more heartbeat of every instance
  const lefts = publisher.messages.filter((m) => m.type === 'peer-left').map((m) => m.peerId);
  t.notOk(lefts.includes(v1.joined.peerId) || lefts.includes(v3.joined.peerId), 'no peer-left for a participant that resumed elsewhere');
  t.equal(r1.client.closeCode, undefined, 'the resumed participants stay joined');
  t.equal(r3.client.closeCode, undefined);
});

t.test('a viewer of a crashed instance keeps its media: it resumes on another, no renegotiation', async (t) => {
  const { a, b, c } = await threeInstances(t);

  const publisher = publish({ url: a.url, session: 'm', token: token('publisher', 'm'), source: { kind: 'test' }, video: { width: 320, height: 240 } });
  t.teardown(() => publisher.close());
  const connected: string[] = [];
  const left: string[] = [];
  publisher.on('viewer-connected', (id) => connected.push(id));
  publisher.on('viewer-left', (id) => left.push(id));
  const v = view({ url: [b.url, c.url], session: 'm', token: token('viewer', 'm'), timeoutMs: 30_000 });
  t.teardown(() => v.close());
  let frames = 0;
  v.on('frame', () => frames++);
  await v.ready;
  await until('frames through B', () => frames >= 10, 20_000);
  await until('the publisher counts the viewer connected', () => connected.length === 1, 10_000);

  b.child.kill('SIGKILL');
  // Frames keep coming in every second after the kill, past B's TTL (6 s) and the sweep after it.
  for (let second = 0; second < 10; second++) {
    const before = frames;
    await new Promise((r) => setTimeout(r, 1000));
    await until(`frames in second ${second} after the kill`, () => frames > before, 3000);
  }
  t.pass(`frames kept being decoded through the crash (${frames})`);
  t.same(left, [], 'the publisher never dropped the viewer');
  t.equal(connected.length, 1, 'no second viewer-connected: the peer connection was not renegotiated');
  t.equal(publisher.viewers, 1, 'one viewer, the same peer');
});
