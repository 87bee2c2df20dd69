// A viewer that vanishes without `bye`: a viewer process SIGKILLed (its TCP connection dies with it),
// and one frozen with SIGSTOP (its socket stays open; only the daemon's pings notice). In both cases
// the publisher's peer for it is removed within a bounded time, and the other viewer never stalls.
import t from 'tap';
import { publish } from '../../lib/publish/publisher.js';
import { livePeerCount } from '../../lib/index.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { Proc } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (e) => unhandled.push(e));
const FIXTURE = new URL('./fixtures/viewer.ts', import.meta.url).pathname;
const token = (role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session: 'vanish', role, ttlSeconds: 600 });

t.test('SIGKILL and SIGSTOP viewers are removed; the steady viewer keeps decoding', async (t) => {
  const daemon = await startDaemon({ pingIntervalMs: 500 });
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session: 'vanish', token: token('publisher'), source: { kind: 'test', pattern: 'ball' }, video: { width: 320, height: 240 } });
  t.teardown(() => publisher.close());
  const left: { id: string; why: string; at: number }[] = [];
  publisher.on('viewer-left', (id, why) => left.push({ id, why, at: Date.now() }));
  publisher.on('error', () => {});
  const connected: string[] = [];
  publisher.on('viewer-connected', (id) => connected.push(id));
  await waitFor('the publisher to join', () => publisher.client.state === 'joined', 10_000);

  const steady = new Proc(FIXTURE, [daemon.url, 'vanish', token('viewer')]);
  const killed = new Proc(FIXTURE, [daemon.url, 'vanish', token('viewer')]);
  const frozen = new Proc(FIXTURE, [daemon.url, 'vanish', token('viewer')]);
  t.teardown(async () => {
    frozen.child.kill('SIGCONT');
    await Promise.all([steady.kill(), killed.kill(), frozen.kill()]);
  });
  await Promise.all([steady.waitFrames(15, 30_000), killed.waitFrames(15, 30_000), frozen.waitFrames(15, 30_000)]);
  await waitFor('three connected viewers', () => publisher.viewers === 3 && connected.length === 3, 10_000);
  const baseline = livePeerCount();
  t.pass(`three viewers decoding; ${baseline} live peers in the publisher's process`);
  const killedId = killed.last(/^joined (\S+)/)![1]!;
  const frozenId = frozen.last(/^joined (\S+)/)![1]!;

  // SIGKILL: no bye, no close frame; the kernel resets the TCP connection.
  let before = steady.frames;
  let t0 = Date.now();
  await killed.kill('SIGKILL');
  await waitFor('the killed viewer to be removed', () => left.some((l) => l.id === killedId), 10_000);
  const killMs = left.find((l) => l.id === killedId)!.at - t0;
  t.ok(killMs < 5000, `the killed viewer's peer removed ${killMs} ms after SIGKILL (${left.find((l) => l.id === killedId)!.why})`);
  await steady.waitFrames(before + 20, 10_000);
  t.pass('the steady viewer kept decoding');

  // SIGSTOP: the socket stays open and ICE consent would take ~30 s; the daemon's ping does it in ~1 s.
  before = steady.frames;
  t0 = Date.now();
  frozen.child.kill('SIGSTOP');
  const sampled: number[] = [];
  const sampler = setInterval(() => sampled.push(steady.frames), 250);
  await waitFor('the frozen viewer to be removed', () => left.some((l) => l.id === frozenId), 15_000);
  await new Promise((r) => setTimeout(r, 3000)); // and a while after the removal
  clearInterval(sampler);
  const stopMs = left.find((l) => l.id === frozenId)!.at - t0;
  t.ok(stopMs < 5000, `the frozen viewer's peer removed ${stopMs} ms after SIGSTOP (${left.find((l) => l.id === frozenId)!.why})`);
  // Never stalled: the steady viewer's count grew across every second of the wait.
  let stalls = 0;
  for (let i = 4; i < sampled.length; i++) if (sampled[i] === sampled[i - 4]) stalls++;
  t.equal(stalls, 0, `the steady viewer never stalled for a second (${sampled.length} samples)`);
  t.ok(steady.frames >= before + 30, `the steady viewer decoded ${steady.frames - before} frames meanwhile`);

  await waitFor('one viewer left in the publisher', () => publisher.viewers === 1, 5000);
  await waitFor('the removed peers torn down', () => livePeerCount() <= baseline - 2, 10_000).catch(() => {});
  t.equal(livePeerCount(), baseline - 2, 'the two removed viewers\' peers are released');
  t.same(unhandled, []);
});
