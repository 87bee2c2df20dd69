// SignalingClient's `disconnected` says why, against real servers: a daemon that is not there
// (ECONNREFUSED), a host DNS does not know (ENOTFOUND), a real daemon asked on the wrong path (HTTP 404,
// with a hint), a proxy that refuses the upgrade (HTTP 401/403: final, no retry), a second publisher
// (final on a first join). A daemon out of reach is warned about twice in all, not once per retry.
import t from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignalingClient, SignalingError, type DisconnectInfo, type Logger } from '../../lib/signaling/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { freePort } from '../helpers/coturn.js';
import { once, waitFor } from '../helpers/wait.js';

const token = (session: string) => mintToken({ secret: SECRET, session, role: 'publisher', ttlSeconds: 600 });
const fast = { initialMs: 20, maxMs: 40 };

function watch(client: SignalingClient): DisconnectInfo[] {
  const seen: DisconnectInfo[] = [];
  client.on('disconnected', (info) => seen.push(info));
  return seen;
}

// An HTTP server that answers every request (upgrades included) with `status` and a JSON body, as an
// authenticating proxy in front of the daemon does.
async function refusingServer(t: Tap.Test, status: number, error: string, headers: Record<string, string> = {}): Promise<string> {
  const server = http.createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ error }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/ws`;
}

t.test('nobody listening: ECONNREFUSED, host:port and a hint; it keeps retrying', async (t) => {
  const port = await freePort();
  const client = new SignalingClient({ url: `ws://127.0.0.1:${port}/v1/ws`, session: 's', role: 'publisher', backoff: fast });
  const seen = watch(client);
  client.connect();
  t.teardown(() => client.close());
  await waitFor('three failed attempts', () => seen.length >= 3);
  t.match(seen[0], { code: 1006, reason: `connection refused (ECONNREFUSED) by 127.0.0.1:${port}`, socketError: 'ECONNREFUSED', failedAttempts: 1, hint: /is the daemon running/ });
  t.type(seen[0]!.retryInMs, 'number', 'it retries');
  t.same(seen.map((s) => s.failedAttempts), seen.map((_, i) => i + 1), 'failedAttempts counts the attempts in a row');
});

t.test('a host DNS cannot resolve: ENOTFOUND naming it', async (t) => {
  const client = new SignalingClient({ url: 'ws://no-such-host.invalid:8080/v1/ws', session: 's', role: 'publisher', backoff: fast });
  const seen = watch(client);
  client.connect();
  t.teardown(() => client.close());
  await waitFor('a failed attempt', () => seen.length >= 1);
  t.match(seen[0], { socketError: /^(ENOTFOUND|EAI_AGAIN)$/, reason: /no-such-host\.invalid:8080/ });
});

t.test('a real daemon on the wrong path: HTTP 404 and "is the daemon mounted at …/v1/ws?"', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const client = new SignalingClient({ url: `ws://127.0.0.1:${daemon.port}/signaling`, session: 's', role: 'publisher', token: token('s'), backoff: fast });
  const seen = watch(client);
  client.connect();
  t.teardown(() => client.close());
  await waitFor('two failed attempts', () => seen.length >= 2);
  t.match(seen[0], { status: 404, reason: /the WebSocket upgrade was refused: HTTP 404/, hint: new RegExp(`is the daemon mounted at ws://127\\.0\\.0\\.1:${daemon.port}/signaling\\?.*/v1/ws`) });
  t.type(seen[1]!.retryInMs, 'number', 'a 404 is retried (a proxy may answer so while the daemon restarts)');
});

for (const status of [401, 403]) {
  t.test(`an upgrade refused with HTTP ${status}: the status and the body's words, and no retry`, async (t) => {
    const url = await refusingServer(t, status, 'sign in first');
    const client = new SignalingClient({ url, session: 's', role: 'publisher', backoff: fast });
    const seen = watch(client);
    const closed = once<unknown>(client, 'state', 10_000, (s) => s === 'closed');
    let error: SignalingError | undefined;
    client.on('state', (state, e) => state === 'closed' && (error = e));
    client.connect();
    t.teardown(() => client.close());
    await closed;
    await new Promise((r) => setTimeout(r, 200));
    t.equal(seen.length, 1, 'one disconnected, no retry');
    t.match(seen[0], { status, retryInMs: undefined, reason: new RegExp(`HTTP ${status}.*sign in first`) });
    t.type(error, SignalingError);
    t.equal(error?.reason, 'unauthorized');
    t.match(error?.message, new RegExp(`HTTP ${status}`));
  });
}

t.test('a redirect (a TLS front sending ws:// to wss://): the status and where it points; retried', async (t) => {
  const url = await refusingServer(t, 301, 'moved', { location: 'wss://controller.example/v1/ws?token=secret' });
  const client = new SignalingClient({ url, session: 's', role: 'publisher', backoff: fast });
  const seen = watch(client);
  client.connect();
  t.teardown(() => client.close());
  await waitFor('a failed attempt', () => seen.length >= 1);
  t.match(seen[0], { status: 301, hint: /redirects to wss:\/\/controller\.example\/v1\/ws;.*final URL/ });
  t.notMatch(seen[0]!.hint, /secret/, "the Location's query (it may carry a token) is not repeated");
});

t.test('a second publisher on its first join: publisher-exists is final', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const first = new SignalingClient({ url: daemon.url, session: 'one', role: 'publisher', token: token('one') }).connect();
  t.teardown(() => first.close());
  await once(first, 'joined');
  const second = new SignalingClient({ url: daemon.url, session: 'one', role: 'publisher', token: token('one'), backoff: fast });
  const seen = watch(second);
  const closed = once(second, 'state', 10_000, (s) => s === 'closed');
  second.connect();
  t.teardown(() => second.close());
  await closed;
  await new Promise((r) => setTimeout(r, 200));
  t.equal(seen.length, 1, 'no retry');
  t.match(seen[0], { reason: 'publisher-exists', retryInMs: undefined, error: { reason: 'publisher-exists', message: /another agent streams session "one"/ } });
  t.equal(first.state, 'joined', 'the first publisher is untouched');
});

t.test('a daemon out of reach: one warning at the first failure and one after five, not one per retry', async (t) => {
  const port = await freePort();
  const warnings: string[] = [];
  const logger: Logger = { debug() {}, info() {}, error() {}, warn: (_fields, msg) => warnings.push(msg ?? '') };
  const client = new SignalingClient({ url: `ws://127.0.0.1:${port}/v1/ws`, session: 's', role: 'publisher', backoff: fast, logger });
  const seen = watch(client);
  client.connect();
  t.teardown(() => client.close());
  await waitFor('twelve failed attempts', () => seen.length >= 12);
  t.equal(warnings.length, 2, warnings.join(' | '));
  t.match(warnings[1], /still cannot reach the daemon after 5 attempts/);
});
