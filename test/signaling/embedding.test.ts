// The plugin inside a controller that is already a full app: its own `GET /`, its own auth hook, its
// own @fastify/websocket route, and the daemon mounted under a prefix. A real publisher streams, and a
// real Chromium loads the viewer page from the prefix and decodes frames.
import t from 'tap';
import Fastify, { type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import WebSocket from 'ws';
import { signaling, closeUnansweredUpgrades } from '../../lib/signaling/index.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { SessionRegistry } from '../../lib/signaling/daemon/sessions.js';
import { publish } from '../../lib/publish/publisher.js';
import { launchChromium, waitForViewerFrames } from '../helpers/browser.js';
import { RawClient, SECRET } from '../helpers/daemon.js';

const token = (session: string, role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session, role, ttlSeconds: 600 });
const APP_KEY = 'app-key-1';

/** A controller as its authors would write it, then the daemon mounted into it. */
async function controller(t: Tap.Test, mount: (app: FastifyInstance) => Promise<void>): Promise<{ app: FastifyInstance; http: string; ws: string }> {
  const app = Fastify();
  closeUnansweredUpgrades(app);
  await app.register(websocket);
  // The app's auth: everything needs its key, except the daemon's routes (they check tokens themselves).
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.signaling) return;
    if (request.headers['x-app-key'] !== APP_KEY) return reply.code(401).send({ error: 'app key required' });
  });
  app.get('/', async () => ({ controller: true }));
  app.get('/app/echo', { websocket: true }, (socket) => socket.on('message', (m) => socket.send(`echo ${String(m)}`)));
  await mount(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const port = (app.server.address() as { port: number }).port;
  return { app, http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}` };
}

t.test('mounted into an app with its own /, auth hook and @fastify/websocket, under a prefix', async (t) => {
  const { app, http, ws } = await controller(t, (app) => app.register(signaling, { secret: SECRET, prefix: '/rtc', viewer: true }));

  t.ok(app.signalingRegistry instanceof SessionRegistry, 'signalingRegistry is on the app, as its type declares');

  t.same(await fetch(`${http}/`, { headers: { 'x-app-key': APP_KEY } }).then((r) => r.json()), { controller: true }, "the app keeps its own /");
  t.equal((await fetch(`${http}/`)).status, 401, "the app's auth hook still guards its own routes");
  t.equal((await fetch(`${http}/rtc/unknown`)).status, 401, 'and unknown paths under the prefix');

  // The app's own WebSocket route, through the app's own @fastify/websocket.
  const echo = new WebSocket(`${ws}/app/echo`, { headers: { 'x-app-key': APP_KEY } });
  await new Promise((resolve, reject) => echo.once('open', resolve).once('error', reject));
  echo.send('hi');
  t.equal(String(await new Promise((resolve) => echo.once('message', resolve))), 'echo hi');
  echo.close();

  // The daemon's routes pass the app's hook and sit under the prefix.
  t.match(await fetch(`${http}/rtc/healthz`).then((r) => r.json()), { ok: true });
  t.equal((await fetch(`${http}/v1/ice-servers`)).status, 401, 'nothing of the daemon at the root');
  const page = await fetch(`${http}/rtc/?session=s&token=x`);
  t.equal(page.status, 200);
  t.match(page.headers.get('content-type'), /text\/html/);
  const bare = await fetch(`${http}/rtc?session=s&token=x`, { redirect: 'manual' });
  t.equal(bare.status, 308, '<prefix> without the slash redirects to the page');
  t.equal(bare.headers.get('location'), '/rtc/?session=s&token=x', 'keeping the query');
  t.equal((await fetch(`${http}/rtc/viewer.js`)).status, 200);

  const c = await RawClient.open(`${ws}/rtc/v1/ws`);
  c.send({ type: 'join', session: 'embedded', role: 'viewer', token: token('embedded', 'viewer') });
  t.match(await c.next('joined'), { session: 'embedded' });
  t.equal(app.signalingRegistry.sessionCount, 1, 'the decorated registry is the one in use');
  await app.close();
  t.ok((await c.closed()) > 0, "closing the app closes the daemon's sockets (by the app's own WebSocket preClose)");
});

t.test('a real publisher and a real Chromium viewer loading the page from the prefix', async (t) => {
  const { http, ws } = await controller(t, (app) => app.register(signaling, { secret: SECRET, prefix: '/rtc', viewer: true }));
  const publisher = publish({ url: `${ws}/rtc/v1/ws`, session: 'embed', token: token('embed', 'publisher'), source: { kind: 'test', pattern: 'ball' }, video: { width: 320, height: 240 } });
  t.teardown(() => publisher.close());
  publisher.on('error', () => {});

  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  t.teardown(() => page.close());
  const sockets: string[] = [];
  page.on('websocket', (s) => sockets.push(s.url()));
  await page.goto(`${http}/rtc?session=embed&token=${token('embed', 'viewer')}`);
  await waitForViewerFrames(page, 5);
  t.ok(new URL(page.url()).pathname === '/rtc/', 'the page is at <prefix>/');
  t.same(sockets, [`${ws}/rtc/v1/ws`], 'the page connects to the WebSocket under the prefix');
});

t.test('the page only where asked', async (t) => {
  // No viewer option: the app may own / (no FST_ERR_DUPLICATED_ROUTE) even without a prefix.
  const plain = await controller(t, (app) => app.register(signaling, { secret: SECRET }));
  t.same(await fetch(`${plain.http}/`, { headers: { 'x-app-key': APP_KEY } }).then((r) => r.json()), { controller: true });
  t.equal((await fetch(`${plain.http}/viewer.js`)).status, 401, 'no viewer script either (an unknown path to the app)');
  t.match(await fetch(`${plain.http}/healthz`).then((r) => r.json()), { ok: true });

  // A page name: served there, next to the WebSocket.
  const named = await controller(t, (app) => app.register(signaling, { secret: SECRET, viewer: '/watch' }));
  t.equal((await fetch(`${named.http}/watch?session=s`)).status, 200);
  t.same(await fetch(`${named.http}/`, { headers: { 'x-app-key': APP_KEY } }).then((r) => r.json()), { controller: true });

  for (const bad of ['/a/b', '', '/', 'x?y']) {
    const app = Fastify();
    await t.rejects(app.register(signaling, { secret: SECRET, viewer: bad }).ready(), /viewer .* is not true, false or one path segment/, `viewer ${JSON.stringify(bad)} refused`);
  }
});

t.test('without @fastify/websocket in the app, the plugin brings its own; two mounts in one context are refused', async (t) => {
  const app = Fastify();
  app.get('/', async () => 'mine');
  await app.register(signaling, { secret: SECRET, prefix: '/a' });
  await app.register(async (child) => {
    await child.register(signaling, { secret: SECRET, prefix: '/b' });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const port = (app.server.address() as { port: number }).port;
  const clients: RawClient[] = [];
  for (const p of ['/a', '/b']) {
    const c = await RawClient.open(`ws://127.0.0.1:${port}${p}/v1/ws`);
    c.send({ type: 'join', session: 'x', role: 'viewer', token: token('x', 'viewer') });
    t.match(await c.next('joined'), { session: 'x' }, `daemon at ${p}`);
    clients.push(c);
  }
  await app.close();
  for (const c of clients) t.match(await c.next('bye'), { reason: 'shutting-down' }, 'both mounts say bye through the one WebSocket server');
  const twice = Fastify();
  await t.rejects(twice.register(signaling, { secret: SECRET }).register(signaling, { secret: SECRET }).ready(), /already registered in this Fastify context/);
});
