// GStreamer bus errors at runtime, anywhere in the pipeline, surface as typed `error` events naming the
// element: an `identity error-after=N` in a source pipeline fails after N buffers, on a peer of its own
// and in publish()'s shared encoder.
import t from 'tap';
import { GStreamerError, WebRtcPeer, livePeerCount } from '../../lib/index.js';
import { publish } from '../../lib/publish/publisher.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { once, waitFor } from '../helpers/wait.js';
import { Proc } from '../helpers/proc.js';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (e) => unhandled.push(e));
const BREAKING = 'videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=30/1 ! identity name=breaker error-after=20';

t.test('a peer: the runtime error names the element; the peer still closes cleanly', async (t) => {
  const peer = new WebRtcPeer({ source: { kind: 'pipeline', description: BREAKING } });
  const error = once<Error>(peer, 'error', 15_000);
  await peer.setLocalDescription();
  const e = await error;
  t.type(e, GStreamerError);
  t.equal((e as GStreamerError).element, 'breaker', `element named: ${e.message}`);
  t.match(e.message, /^breaker: /);
  await t.resolves(peer.close(), 'close() after a bus error');
  t.equal(livePeerCount(), 0);
});

t.test("publish(): the shared encoder's runtime error reaches publisher.on('error') with the element", async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const token = (role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session: 'bus', role, ttlSeconds: 600 });
  const publisher = publish({ url: daemon.url, session: 'bus', token: token('publisher'), source: { kind: 'pipeline', description: BREAKING } });
  t.teardown(() => publisher.close());
  const errors: Error[] = [];
  publisher.on('error', (e) => errors.push(e));
  await waitFor('the publisher to join', () => publisher.client.state === 'joined', 10_000);
  const viewer = new Proc(new URL('./fixtures/viewer.ts', import.meta.url).pathname, [daemon.url, 'bus', token('viewer')]);
  t.teardown(() => viewer.kill());
  await waitFor('an error from the publisher', () => errors.length > 0, 20_000);
  const e = errors.find((x) => x instanceof GStreamerError) as GStreamerError | undefined;
  t.ok(e, `a GStreamerError: ${errors.map((x) => x.message).join(' | ')}`);
  t.equal(e?.element, 'breaker');
  t.equal(publisher.client.state, 'joined', 'the publisher itself stays joined');
  // The encoder's pipeline is stopped for good: its viewer hears why, rather than a picture that froze.
  await waitFor('the viewer to get a bye', () => viewer.lines.some((l) => l.startsWith('bye ')), 10_000);
  const bye = viewer.lines.find((l) => l.startsWith('bye '))!;
  t.match(bye, /shared \w+ encoder failed: breaker: /, `the bye says which element failed: ${bye}`);
  await waitFor('the failed encoder to be closed', () => publisher.encoders.size === 0, 10_000);
  t.pass('the failed encoder is closed (a later viewer gets a fresh one)');
  await publisher.close();
  t.equal(livePeerCount(), 0, 'everything released after close()');
  t.same(unhandled, []);
});
