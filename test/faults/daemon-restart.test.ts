// The daemon process is SIGKILLed (no bye, no close frames) and started again on the same port: the
// publisher and a viewer process rejoin with backoff and the viewer decodes again; nothing leaks (the
// publisher's live peers return to their baseline, and to zero after close()).
import t from 'tap';
import net from 'node:net';
import { publish } from '../../lib/publish/publisher.js';
import { livePeerCount } from '../../lib/index.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { SECRET } from '../helpers/daemon.js';
import { Proc } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (e) => unhandled.push(e));
const DAEMON = new URL('./fixtures/daemon.ts', import.meta.url).pathname;
const VIEWER = new URL('./fixtures/viewer.ts', import.meta.url).pathname;
const token = (role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session: 'dkill', role, ttlSeconds: 600 });

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

t.test('daemon SIGKILL and restart: publisher and viewer rejoin, decode again, nothing leaks', async (t) => {
  const port = await freePort();
  const url = `ws://127.0.0.1:${port}/v1/ws`;
  let daemon = new Proc(DAEMON, [String(port), SECRET]);
  t.teardown(() => daemon.kill());
  await daemon.waitLine(/^listening/);
  const baselineBefore = livePeerCount();
  const publisher = publish({ url, session: 'dkill', token: token('publisher'), source: { kind: 'test', pattern: 'ball' }, video: { width: 320, height: 240 }, backoff: { initialMs: 100, maxMs: 1000 } });
  publisher.on('error', () => {});
  const disconnects: number[] = [];
  publisher.client.on('disconnected', (d) => disconnects.push(d.retryInMs ?? -1));
  const viewer = new Proc(VIEWER, [url, 'dkill', token('viewer')]);
  t.teardown(() => viewer.kill());
  await viewer.waitFrames(15, 30_000);
  await waitFor('one viewer on the publisher', () => publisher.viewers === 1, 10_000);
  const baseline = livePeerCount();
  t.pass(`decoding; ${baseline} live peers in the publisher's process`);

  for (let round = 1; round <= 2; round++) {
    const mark = viewer.lines.length;
    await daemon.kill('SIGKILL');
    await viewer.waitLine(/^disconnected /, 10_000, mark);
    await waitFor('the publisher to notice', () => publisher.client.state !== 'joined', 10_000);
    await waitFor('the publisher to drop its viewer peer', () => publisher.viewers === 0, 10_000);
    t.pass(`round ${round}: both sides noticed the daemon is gone; the publisher dropped the dead viewer peer`);
    await new Promise((r) => setTimeout(r, 1500)); // a few failed reconnect attempts: the backoff grows
    const framesBefore = viewer.frames;
    daemon = new Proc(DAEMON, [String(port), SECRET]);
    await daemon.waitLine(/^listening/);
    const restartedAt = Date.now();
    await waitFor('the publisher to rejoin', () => publisher.client.state === 'joined', 15_000);
    await viewer.waitLine(/^joined /, 15_000, mark);
    await viewer.waitFrames(framesBefore + 15, 30_000);
    t.pass(`round ${round}: rejoined and decoding again ${Date.now() - restartedAt} ms after the restart`);
    await waitFor('one viewer on the publisher', () => publisher.viewers === 1, 10_000);
    await waitFor(`live peers back to ${baseline}`, () => livePeerCount() === baseline, 10_000).catch(() => {});
    t.equal(livePeerCount(), baseline, `round ${round}: live peers back to the baseline`);
  }
  const delays = disconnects.filter((d) => d >= 0);
  t.ok(delays.length >= 4, `the publisher retried with backoff (${delays.join(', ')} ms)`);
  t.ok(Math.max(...delays) > Math.min(...delays), 'the delays grew');
  await publisher.close();
  t.equal(livePeerCount(), baselineBefore, 'after close() no peer is left');
  t.same(unhandled, []);
});
