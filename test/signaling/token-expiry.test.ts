// A token is a lease: at its `exp` the daemon tells the participant `bye {reason:'token-expired'}`,
// removes it and closes its socket, so the publisher drops that viewer's peer (media and control end).
import t from 'tap';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { publish } from '../../lib/publish/publisher.js';
import { RawClient, SECRET, startDaemon } from '../helpers/daemon.js';
import { runAgentWithTokenFile } from '../helpers/fixture.js';
import { nodeViewer } from '../helpers/node-viewer.js';
import { waitFor } from '../helpers/wait.js';

const token = (session: string, role: 'viewer' | 'publisher', ttlSeconds: number, control = false) =>
  mintToken({ secret: SECRET, session, role, ttlSeconds, control });

t.test('a viewer whose token expires is told why, removed and cannot rejoin with it', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const pub = await RawClient.open(daemon.url);
  pub.send({ type: 'join', session: 'exp', role: 'publisher', token: token('exp', 'publisher', 600) });
  await pub.next('joined');
  const short = token('exp', 'viewer', 2, true);
  const viewer = await RawClient.open(daemon.url);
  viewer.send({ type: 'join', session: 'exp', role: 'viewer', token: short });
  t.match(await viewer.next('joined'), { control: true });
  const joined = await pub.next('peer-joined');

  t.same(await viewer.next('bye', 5000), { type: 'bye', reason: 'token-expired' }, 'the viewer hears why');
  t.equal(await viewer.closed(), 1008, 'and its socket is closed');
  t.same(await pub.next('peer-left'), { type: 'peer-left', peerId: joined.peerId, role: 'viewer' }, 'the publisher drops it');
  const health = (await fetch(`${daemon.http}/healthz`).then((r) => r.json())) as { peers: number };
  t.equal(health.peers, 1, 'only the publisher is left');

  const again = await RawClient.open(daemon.url);
  again.send({ type: 'join', session: 'exp', role: 'viewer', token: short });
  t.match(await again.next('error'), { code: 'unauthorized', message: /expired/ }, 'the same token is refused');
  t.match(await fetch(`${daemon.http}/metrics`).then((r) => r.text()), /webrtcbin_errors_total\{code="token-expired"\} 1/);
  pub.close();
});

t.test('a publisher whose token expires is removed too; its viewers hear peer-left', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const viewer = await RawClient.open(daemon.url);
  viewer.send({ type: 'join', session: 'pexp', role: 'viewer', token: token('pexp', 'viewer', 600) });
  await viewer.next('joined');
  const pub = await RawClient.open(daemon.url);
  pub.send({ type: 'join', session: 'pexp', role: 'publisher', token: token('pexp', 'publisher', 2) });
  await pub.next('joined');
  await viewer.next('peer-joined');
  t.same(await pub.next('bye', 5000), { type: 'bye', reason: 'token-expired' });
  t.match(await viewer.next('peer-left'), { role: 'publisher' });
  t.equal(viewer.closeCode, undefined, 'the viewer (valid token) stays joined');
  viewer.close();
});

t.test('a real publisher tears down the expired viewer\'s peer connection', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session: 'rexp', token: token('rexp', 'publisher', 600), source: { kind: 'test', pattern: 'ball' }, video: { width: 160, height: 120 } });
  t.teardown(() => publisher.close());
  publisher.on('error', () => {});
  const left: string[] = [];
  publisher.on('viewer-left', (id: string) => left.push(id));
  let connected: string | undefined;
  publisher.on('viewer-connected', (id: string) => (connected = id));
  const viewer = nodeViewer(daemon.url, 'rexp', token('rexp', 'viewer', 3, true));
  t.teardown(() => viewer.close());
  viewer.client.on('protocol-error', () => {});
  await waitFor('the viewer to connect', () => connected !== undefined, 15_000);
  t.equal(publisher.viewers, 1, 'one viewer connected');
  await waitFor('the publisher to drop the expired viewer', () => left.includes(connected!), 10_000);
  t.equal(publisher.viewers, 0, 'no viewer peer left on the publisher');
});

t.test('the VM agent stops (exit 2, no restart loop) when the daemon refuses its expired token', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const r = await runAgentWithTokenFile({ url: daemon.url, session: 'agent', token: token('agent', 'publisher', -5), timeoutMs: 40_000 });
  t.notOk(r.timedOut, 'it did not keep running');
  t.equal(r.code, 2, `exit code 2 (${r.stderr.trim().split('\n').pop()})`);
  t.match(r.stdout, /refused the token/);
});
