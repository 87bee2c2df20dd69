// A real WHEP player behind a load balancer: aiortc (Debian python3-aiortc, test/fixtures/interop/)
// talks to one URL; its POST lands on instance A, its trickle PATCH and its DELETE on instance B. The
// publisher (publish(), a real webrtcbin) is on A. Frames decode; the DELETE through B ends the
// publisher's peer for it; a second DELETE is 404.
import t from 'tap';
import { publish } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { aiortc } from '../helpers/aiortc.js';
import { RedisServer } from '../helpers/redis.js';
import { startBalancer } from '../helpers/http-balancer.js';
import { waitFor } from '../helpers/wait.js';


t.test('aiortc through a load balancer: POST on A, PATCH and DELETE on B', async (t) => {
  const redis = await RedisServer.start();
  t.teardown(() => redis.close());
  const cluster = { url: redis.url, heartbeatMs: 500, ttlMs: 1500 };
  const [a, b] = await Promise.all([0, 1].map(() => startDaemon({ redis: cluster })));
  t.teardown(() => Promise.all([a!.app.close(), b!.app.close()]));
  // The balancer's only rule: a POST goes to A, everything else to B (the worst case for a resource).
  const balancer = await startBalancer((method) => (method === 'POST' ? a!.http : b!.http));
  t.teardown(() => balancer.close());

  const session = 'lb-media';
  const publisher = publish({ url: a!.url, session, token: mintToken({ secret: SECRET, session, role: 'publisher' }), source: { kind: 'test', pattern: 'ball' }, video: { width: 320, height: 240 } });
  publisher.on('error', () => {});
  t.teardown(() => publisher.close());
  await waitFor('the publisher to join', () => publisher.client.state === 'joined', 10_000);

  const token = mintToken({ secret: SECRET, session, role: 'viewer', ttlSeconds: 600 });
  let peak = 0;
  const counting = setInterval(() => (peak = Math.max(peak, publisher.viewers)), 50);
  t.teardown(() => clearInterval(counting));
  const run = await aiortc(['whep', '--endpoint', `${balancer.url}/whep/${session}`, '--token', token, '--frames', '30']);
  clearInterval(counting);
  t.equal(run.code, 0, `aiortc exited 0 (${String(run.events.get('error')?.message ?? run.stderr)})`);
  const done = run.events.get('done');
  t.equal(done?.frames, 30, 'PyAV decoded 30 frames');
  t.ok((done?.distinct as number) > 2, `a picture, not a blank frame (${String(done?.distinct)} grey levels)`);
  t.equal(done?.patch, 204, 'its trickle PATCH (with If-Match) was taken through B');
  t.equal(done?.delete, 200, 'its DELETE through B ended the resource');
  t.equal(peak, 1, 'the publisher had a peer for the player');

  const byMethod = (method: string) => balancer.routed.filter((r) => r.method === method);
  t.same(byMethod('POST').map((r) => [r.backend, r.status]), [[a!.http, 201]], 'the POST landed on A');
  t.same(byMethod('PATCH').map((r) => [r.backend, r.status]), [[b!.http, 204]], 'the PATCH landed on B');
  t.same(byMethod('DELETE').map((r) => [r.backend, r.status]), [[b!.http, 200]], 'the DELETE landed on B');

  await waitFor("the publisher's peer for the player to end", () => publisher.viewers === 0, 10_000);
  t.equal(publisher.viewers, 0, 'the DELETE through B ended the publisher\'s peer for it');
  const again = await fetch(`${balancer.url}${byMethod('DELETE')[0]!.path}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(15_000) });
  t.equal(again.status, 404, 'a second DELETE (through B) is 404');
});
