// An instance that dies: a daemon process (`webrtcbin signal --redis`) killed with SIGKILL. Its
// viewer (view() with the cluster's URLs) reconnects to another instance and plays again; the
// publisher on a third hears peer-left for the dead instance's participants within the TTL bound.
import t from 'tap';
import { spawn } from 'node:child_process';
import { publish, view } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { RawClient, SECRET, startDaemon } from '../helpers/daemon.js';
import { RedisServer } from '../helpers/redis.js';
import { freePort } from '../helpers/coturn.js';

const HEARTBEAT_MS = 2000; // the defaults the process runs with
const TTL_MS = 6000;

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('kill an instance: its viewer plays again from another, the publisher hears peer-left within the TTL', async (t) => {
  const redis = await RedisServer.start({ password: 'redis-pass-0123' });
  t.teardown(() => redis.close());
  const a = await startDaemon({ redis: redis.url });
  const c = await startDaemon({ redis: redis.url });
  t.teardown(() => Promise.all([a.app.close(), c.app.close()]));

  // B: its own process, as a deployment runs it; the URL (with a password) comes from the environment.
  const bPort = await freePort();
  const b = spawn(process.execPath, ['dist/lib/cli/cli.js', 'signal', '--port', String(bPort), '--log-level', 'info'], {
    env: { ...process.env, WEBRTCBIN_SECRET: SECRET, WEBRTCBIN_REDIS: redis.url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let bLog = '';
  b.stdout!.on('data', (d: Buffer) => (bLog += d));
  b.stderr!.on('data', (d: Buffer) => (bLog += d));
  t.teardown(() => b.kill('SIGKILL'));
  await until('B answers /healthz', () => fetch(`http://127.0.0.1:${bPort}/healthz`).then((r) => r.ok, () => false), 20_000);
  const bUrl = `ws://127.0.0.1:${bPort}/v1/ws`;

  const publisher = publish({ url: a.url, session: 'm', token: mintToken({ secret: SECRET, session: 'm', role: 'publisher' }), source: { kind: 'test' }, video: { width: 320, height: 240 } });
  t.teardown(() => publisher.close());
  const v = view({ url: [bUrl, c.url], session: 'm', token: mintToken({ secret: SECRET, session: 'm', role: 'viewer' }), timeoutMs: 30_000 });
  t.teardown(() => v.close());
  let frames = 0;
  v.on('frame', () => frames++);
  await v.ready;
  await until('frames through B', () => frames >= 10, 20_000);
  t.pass(`the viewer on B decodes frames from the publisher on A (${frames})`);

  // A second session, spoken by hand, to time the peer-left: a publisher on A, a viewer on B.
  const rawPublisher = await RawClient.open(a.url);
  t.teardown(() => rawPublisher.close());
  rawPublisher.send({ type: 'join', session: 'r', role: 'publisher', token: mintToken({ secret: SECRET, session: 'r', role: 'publisher' }) });
  await rawPublisher.next('joined');
  const rawViewer = await RawClient.open(bUrl);
  rawViewer.send({ type: 'join', session: 'r', role: 'viewer', token: mintToken({ secret: SECRET, session: 'r', role: 'viewer' }) });
  const { peerId } = await rawViewer.next('joined');
  t.equal((await rawPublisher.next('peer-joined')).peerId, peerId);

  b.kill('SIGKILL');
  const killedAt = Date.now();
  const left = await rawPublisher.next('peer-left', TTL_MS + 3 * HEARTBEAT_MS + 5000);
  const after = Date.now() - killedAt;
  t.equal(left.peerId, peerId, 'the publisher on A hears peer-left for the viewer of the dead instance');
  t.ok(after <= TTL_MS + HEARTBEAT_MS + 1500, `within the bound: ${after} ms ≤ TTL ${TTL_MS} + heartbeat ${HEARTBEAT_MS} (+ slack)`);

  const before = frames;
  await until('frames again, through C', () => frames >= before + 20, 30_000);
  t.pass(`the viewer reconnected to C and plays again (${frames - before} more frames)`);
  t.notMatch(bLog, /redis-pass-0123/, "the Redis password is in none of B's log lines");
  t.match(bLog, /cluster: joined/, 'B logged joining the cluster (with the URL redacted)');
});
