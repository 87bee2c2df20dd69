// The daemon process is SIGKILLed (no bye, no close frames) and started again on the same port. The
// media is peer to peer: the viewer process (SignalingClient + WebRtcPeer) keeps decoding through the
// outage, the publisher keeps its peer, both rejoin with backoff and reclaim their ids (join.resume), and
// nothing is renegotiated; nothing leaks (live peers stay at their baseline, and zero after close()).
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

t.test('daemon SIGKILL and restart: the media keeps flowing, both rejoin with their ids, nothing leaks', async (t) => {
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
  let connections = 0;
  publisher.on('viewer-connected', () => connections++);
  const viewer = new Proc(VIEWER, [url, 'dkill', token('viewer')]);
  t.teardown(() => viewer.kill());
  await viewer.waitFrames(15, 30_000);
  await waitFor('one viewer on the publisher', () => publisher.viewers === 1, 10_000);
  const baseline = livePeerCount();
  t.pass(`decoding; ${baseline} live peers in the publisher's process`);
  const viewerId = viewer.last(/^joined (\S+)/)![1]!;
  const publisherId = publisher.client.peerId;

  for (let round = 1; round <= 2; round++) {
    const mark = viewer.lines.length;
    await daemon.kill('SIGKILL');
    await viewer.waitLine(/^disconnected /, 10_000, mark);
    await waitFor('the publisher to notice', () => publisher.client.state !== 'joined', 10_000);
    const atKill = viewer.frames;
    await new Promise((r) => setTimeout(r, 1500)); // a few failed reconnect attempts: the backoff grows
    t.ok(viewer.frames >= atKill + 15, `round ${round}: the viewer kept decoding with no daemon (${viewer.frames - atKill} frames in 1.5 s)`);
    t.equal(publisher.viewers, 1, `round ${round}: the publisher kept its connected viewer`);
    const framesBefore = viewer.frames;
    daemon = new Proc(DAEMON, [String(port), SECRET]);
    await daemon.waitLine(/^listening/);
    const restartedAt = Date.now();
    await waitFor('the publisher to rejoin', () => publisher.client.state === 'joined', 15_000);
    const rejoined = await viewer.waitLine(/^joined (\S+)/, 15_000, mark);
    t.equal(publisher.client.peerId, publisherId, `round ${round}: the publisher reclaimed its id`);
    t.equal(rejoined[1], viewerId, `round ${round}: the viewer reclaimed its id`);
    await viewer.waitFrames(framesBefore + 15, 30_000);
    t.pass(`round ${round}: rejoined ${Date.now() - restartedAt} ms after the restart, decoding throughout`);
    t.equal(publisher.viewers, 1, 'one viewer on the publisher');
    t.equal(connections, 1, `round ${round}: no new connection (nothing renegotiated)`);
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
