// A WebSocket upgrade to a path without a WebSocket route is answered with plain HTTP (404). Node hands
// an upgrade's socket over and stops tracking it, so unless the daemon ends it, the connection stays
// open forever (no timeout applies) and app.close() waits on it for ever.
import t from 'tap';
import WebSocket from 'ws';
import { startDaemon } from '../helpers/daemon.js';

function connections(app: { server: { getConnections(cb: (e: Error | null, n: number) => void): void } }): Promise<number> {
  return new Promise((resolve, reject) => app.server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
}

t.test('an upgrade answered with 404 does not leave its socket open', async (t) => {
  const daemon = await startDaemon();
  let closed = false;
  t.teardown(() => (closed ? undefined : daemon.app.close()));
  const status = await new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${daemon.port}/v2/ws`);
    ws.on('error', () => {});
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.once('open', () => reject(new Error('upgraded on a path with no WebSocket route')));
  });
  t.equal(status, 404, 'the unknown path is refused');
  let open = await connections(daemon.app);
  for (let i = 0; i < 100 && open > 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
    open = await connections(daemon.app);
  }
  t.equal(open, 0, 'the daemon closed the refused upgrade\'s socket');
  // And shutdown does not wait on it.
  const shutdown = daemon.app.close().then(() => (closed = true));
  await Promise.race([shutdown, new Promise((r) => setTimeout(r, 3000))]);
  t.ok(closed, 'app.close() completed');
});

t.test('a controller that mounts the plugin closes them with closeUnansweredUpgrades(app)', async (t) => {
  const { default: Fastify } = await import('fastify');
  const { closeUnansweredUpgrades, signaling } = await import('../../lib/signaling/daemon/server.js');
  const { SECRET } = await import('../helpers/daemon.js');
  const app = Fastify();
  closeUnansweredUpgrades(app);
  await app.register(signaling, { secret: SECRET, viewer: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const port = (app.server.address() as { port: number }).port;
  await new Promise<void>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/not-a-socket`);
    ws.on('error', () => {});
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve();
    });
  });
  let open = await connections(app);
  for (let i = 0; i < 100 && open > 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
    open = await connections(app);
  }
  t.equal(open, 0, 'the host app closed the refused upgrade\'s socket');
});
