// publish({sfu}): the publisher keeps its daemon session (direct viewers, input) and pushes its stream
// once into a real Janus. 20 viewers subscribe through Janus and all decode while the VM sends one
// stream; Janus restarts under them and the relay republishes (a new room, a new feed) on its own; the
// direct viewer's media is untouched by it; close() leaves the room.
import t from 'tap';
import { publish } from '../../lib/client.js';
import { WebRtcPeer } from '../../lib/index.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import type { JanusRelayError } from '../../lib/sfu/relay-error.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { peerAnswerer, startJanus, subscribe, type Subscription } from '../helpers/janus.js';
import { nodeViewer } from '../helpers/node-viewer.js';
import { waitFor } from '../helpers/wait.js';

const janus = await startJanus();
t.teardown(() => janus.stop());
const ROOM = 2002;

interface Watcher {
  peer: WebRtcPeer;
  frames: number;
  sub: Subscription;
}

async function watch(feed: number | string): Promise<Watcher> {
  const peer = new WebRtcPeer({ video: { receive: true } });
  const w = { peer, frames: 0 } as Watcher;
  peer.on('frame', () => w.frames++);
  w.sub = await subscribe(janus.url, ROOM, feed, peerAnswerer(peer));
  return w;
}

async function unwatch(w: Watcher): Promise<void> {
  await w.sub.close();
  await w.peer.close();
}

t.test('20 viewers through Janus, a direct viewer beside them, Janus restarted under them', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const token = (role: 'publisher' | 'viewer') => mintToken({ secret: SECRET, session: 'sfu', role });
  const errors: JanusRelayError[] = [];
  const publisher = publish({
    url: daemon.url,
    session: 'sfu',
    token: token('publisher'),
    source: { kind: 'test', pattern: 'ball' },
    video: { codec: 'h264', width: 320, height: 240, fps: 15 },
    sfu: { janus: janus.url, room: ROOM, backoff: { initialMs: 200, maxMs: 1000 } },
  });
  publisher.on('error', (e) => errors.push(e as JanusRelayError));
  t.teardown(() => publisher.close());
  const first = await new Promise<{ feed: number | string }>((resolve) => publisher.once('sfu-published', resolve));
  t.equal(publisher.sfu!.feed, first.feed, 'the relay names its feed');

  const direct = nodeViewer(daemon.url, 'sfu', token('viewer'));
  t.teardown(() => direct.close());
  let directFrames = 0;
  direct.peer.on('frame', () => directFrames++);

  const watchers: Watcher[] = [];
  t.teardown(() => Promise.all(watchers.map(unwatch)));
  for (let i = 0; i < 20; i++) watchers.push(await watch(first.feed));
  await waitFor('20 viewers through Janus each decoding 15 frames', () => watchers.every((w) => w.frames >= 15), 45_000);
  t.ok(watchers.every((w) => w.frames >= 15), `every one of 20 Janus viewers decoded (fewest: ${Math.min(...watchers.map((w) => w.frames))} frames)`);
  await waitFor('the direct viewer decoding', () => directFrames >= 15, 20_000);
  t.equal(publisher.viewers, 1, 'the daemon session holds only the direct viewer: Janus took the 20');

  // Janus restarts: its rooms and sessions are gone; the relay reports it, creates the room again and republishes.
  await Promise.all(watchers.splice(0).map(unwatch));
  const republished = new Promise<{ feed: number | string }>((resolve) => publisher.once('sfu-published', resolve));
  await janus.restart();
  const again = await republished;
  t.ok(errors.some((e) => e.name === 'JanusRelayError' && e.reason === 'connection-lost' && e.retryInMs !== undefined), 'the loss came as a typed error with its retry');
  const after = await watch(again.feed);
  watchers.push(after);
  await waitFor('a viewer decoding after the restart', () => after.frames >= 15, 20_000);
  t.ok(after.frames >= 15, 'a viewer through the restarted Janus decodes');
  const before = directFrames;
  await waitFor('the direct viewer still decoding', () => directFrames >= before + 15, 20_000);
  t.pass('the direct viewer played on through the Janus restart');

  // close() leaves the room: Janus lists no publisher in it any more.
  await publisher.close();
  await publisher.close(); // idempotent
  const { default: Janode } = (await import('janode' as string)) as { default: any };
  const { default: VideoRoom } = (await import('janode/plugins/videoroom' as string)) as { default: any };
  const connection = await Janode.connect({ address: { url: janus.url } });
  const session = await connection.create();
  const handle = await session.attach(VideoRoom);
  const { participants } = await handle.listParticipants({ room: ROOM });
  t.same(participants.filter((p: { publisher: boolean }) => p.publisher), [], 'no publisher left in the room');
  await session.destroy();
  await connection.close();
});

t.test('the last direct viewer leaving does not stop the encoder Janus is fed from (warm: false)', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const token = (role: 'publisher' | 'viewer') => mintToken({ secret: SECRET, session: 'sfu-cold', role });
  const publisher = publish({
    url: daemon.url,
    session: 'sfu-cold',
    token: token('publisher'),
    source: { kind: 'test' },
    video: { codec: 'h264', width: 320, height: 240, fps: 15 },
    warm: false,
    sfu: { janus: janus.url, room: ROOM + 1 },
  });
  t.teardown(() => publisher.close());
  const { feed } = await new Promise<{ feed: number | string }>((resolve) => publisher.once('sfu-published', resolve));
  const peer = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => peer.close());
  let frames = 0;
  peer.on('frame', () => frames++);
  const sub = await subscribe(janus.url, ROOM + 1, feed, peerAnswerer(peer));
  t.teardown(() => sub.close());
  await waitFor('frames through Janus', () => frames >= 10, 20_000);

  const direct = nodeViewer(daemon.url, 'sfu-cold', token('viewer'));
  await new Promise((resolve) => publisher.once('viewer-connected', resolve));
  const left = new Promise((resolve) => publisher.once('viewer-left', resolve));
  await direct.close();
  await left;
  const before = frames;
  await waitFor('frames through Janus after the direct viewer left', () => frames >= before + 15, 20_000);
  t.ok(frames >= before + 15, 'Janus still gets the stream after the codec\'s last direct viewer left');
});
