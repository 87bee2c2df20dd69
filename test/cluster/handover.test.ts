// A graceful stop of one instance (a rolling restart): its viewer is told bye, reconnects to the next
// URL and resumes its id there; the publisher on another instance hears peer-joined {resumed}, not
// peer-left, and keeps the viewer's peer connection: the media never stops.
import t from 'tap';
import { publish, view } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { RawClient, SECRET, startDaemon } from '../helpers/daemon.js';
import { RedisServer } from '../helpers/redis.js';

const HEARTBEAT_MS = 300;
const TTL_MS = 900;

async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('an instance that stops hands its viewers over without dropping their media', async (t) => {
  const redis = await RedisServer.start();
  t.teardown(() => redis.close());
  const [a, b, c] = await Promise.all([0, 1, 2].map(() => startDaemon({ redis: { url: redis.url, heartbeatMs: HEARTBEAT_MS, ttlMs: TTL_MS } })));
  t.teardown(() => Promise.all([a!.app.close(), c!.app.close()]));
  const token = (role: 'publisher' | 'viewer', session: string) => mintToken({ secret: SECRET, session, role });

  const publisher = publish({ url: a!.url, session: 'roll', token: token('publisher', 'roll'), source: { kind: 'test' }, video: { width: 320, height: 240 } });
  t.teardown(() => publisher.close());
  const left: string[] = [];
  publisher.on('viewer-left', (id) => left.push(id));
  const v = view({ url: [b!.url, c!.url], session: 'roll', token: token('viewer', 'roll'), timeoutMs: 30_000 });
  t.teardown(() => v.close());
  let frames = 0;
  v.on('frame', () => frames++);
  await v.ready;
  await until('frames through B', () => frames >= 10, 20_000);

  // A participant of B that does not come back: swept after the grace, with peer-left.
  const rawPublisher = await RawClient.open(a!.url);
  t.teardown(() => rawPublisher.close());
  rawPublisher.send({ type: 'join', session: 'gone', role: 'publisher', token: token('publisher', 'gone') });
  await rawPublisher.next('joined');
  const rawViewer = await RawClient.open(b!.url);
  rawViewer.send({ type: 'join', session: 'gone', role: 'viewer', token: token('viewer', 'gone') });
  const { peerId } = await rawViewer.next('joined');
  await rawPublisher.next('peer-joined');

  await b!.app.close();
  const stoppedAt = Date.now();
  t.match(await rawViewer.next('bye'), { reason: 'shutting-down' }, "B's participants are told bye");
  const before = frames;
  await new Promise((r) => setTimeout(r, TTL_MS + 4 * HEARTBEAT_MS));
  t.same(left, [], 'the publisher never dropped the viewer: it resumed on C');
  t.equal(publisher.viewers, 1, 'one viewer, the same peer');
  t.ok(frames > before + 10, `frames went on through the handover (${frames - before})`);
  const gone = await rawPublisher.next('peer-left', 10_000);
  t.equal(gone.peerId, peerId, "B's participant that did not come back is swept with peer-left");
  t.ok(Date.now() - stoppedAt >= TTL_MS, 'after the grace, not at once');
});
