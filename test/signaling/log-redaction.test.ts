// No token reaches any log line at any level: the daemon runs at `trace`, every route (and unknown and
// malformed ones) gets recognisable tokens in the query, the Authorization header, the WebSocket
// subprotocol and the body, and every captured line is searched for them.
import t from 'tap';
import net from 'node:net';
import WebSocket from 'ws';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { redactSecrets } from '../../lib/signaling/daemon/redact.js';
import { RawClient, SECRET, startDaemon } from '../helpers/daemon.js';

const CANARY = 'CanaryTokenZq7Xw3Lp9';

function wsAttempt(url: string, options: { protocols?: string[]; headers?: Record<string, string> } = {}): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      ws.terminate();
      resolve();
    };
    ws.once('open', () => setTimeout(done, 50));
    ws.on('error', done); // terminate() while connecting emits one more
    ws.once('unexpected-response', done);
  });
}

function rawRequest(port: number, text: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    socket.on('data', () => {});
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    setTimeout(() => socket.destroy(), 1000);
  });
}

t.test('redactSecrets scrubs query credentials, Bearer values and token shapes', async (t) => {
  const token = mintToken({ secret: SECRET, session: 's', role: 'viewer' });
  t.equal(redactSecrets(`Route GET:/x?a=1&token=${CANARY}&b=2 not found`), 'Route GET:/x?a=1&token=***&b=2 not found');
  t.equal(redactSecrets(`{"url":"/?access_token=${CANARY}"}`), '{"url":"/?access_token=***"}');
  t.equal(redactSecrets(`authorization: Bearer ${CANARY}`), 'authorization: Bearer ***');
  t.notMatch(redactSecrets(`path ${token} and a truncated ${token.slice(0, 20)}`), /eyJ/);
  t.equal(redactSecrets('GET /v1/ws 101 gstreamer v1.22.0'), 'GET /v1/ws 101 gstreamer v1.22.0', 'ordinary text is untouched');
});

t.test('at trace level, no line carries a token, whatever route or malformed request carried it', async (t) => {
  const lines: string[] = [];
  const daemon = await startDaemon({ logLevel: 'trace', logStream: { write: (line: string) => lines.push(line) } });
  t.teardown(() => daemon.app.close());
  const viewer = mintToken({ secret: SECRET, session: 'logs', role: 'viewer', ttlSeconds: 600, control: true });
  const publisher = mintToken({ secret: SECRET, session: 'logs', role: 'publisher', ttlSeconds: 600 });
  const secrets = [CANARY, viewer, publisher];

  for (const secret of secrets) {
    const auth = { authorization: `Bearer ${secret}` };
    const q = `token=${secret}&access_token=${secret}`;
    const json = { 'content-type': 'application/json', ...auth };
    const requests: [string, RequestInit][] = [
      [`/?session=logs&${q}`, { headers: auth }],
      [`/viewer.js?${q}`, { headers: auth }],
      [`/v1/ws?${q}`, { headers: auth }],
      [`/v1/ice-servers?${q}`, { headers: auth }],
      [`/healthz?${q}`, { headers: auth }],
      [`/metrics?${q}`, { headers: auth }],
      [`/whep/logs?${q}`, { method: 'POST', headers: { 'content-type': 'application/sdp', ...auth }, body: `v=0\r\na=token:${secret}\r\n` }],
      [`/whip/logs?${q}`, { method: 'POST', headers: json, body: `{"token":"${secret}"}` }],
      [`/whep/logs?${q}`, { method: 'POST', headers: json, body: `{"token":"${secret}" oops` }],
      [`/whep/logs/v-x?${q}`, { method: 'PATCH', headers: { 'content-type': 'application/trickle-ice-sdpfrag', ...auth }, body: `a=candidate:${secret}` }],
      [`/whep/logs/v-x?${q}`, { method: 'DELETE', headers: auth }],
      [`/whip/logs/v-x?${q}`, { method: 'OPTIONS', headers: auth }],
      // A token pasted into a path: only its shape can tell (the canary is not shaped like one).
      [`/nowhere/${secret === CANARY ? 'x' : secret}?${q}`, { headers: auth }],
      [`/nowhere?${q}`, { method: 'POST', headers: json, body: `{"token":"${secret}"` }],
      [`/%E0%A4%A?${q}`, { headers: auth }],
    ];
    for (const [path, init] of requests) await fetch(`${daemon.http}${path}`, init).then((r) => r.arrayBuffer());

    // WebSockets: the token in the query, in Sec-WebSocket-Protocol, on a path with no WebSocket route.
    await wsAttempt(`${daemon.url}?${q}`, { protocols: [secret.replace(/[^A-Za-z0-9]/g, '')], headers: auth });
    await wsAttempt(`ws://127.0.0.1:${daemon.port}/v2/ws?${q}`, { headers: auth });
    await wsAttempt(`ws://127.0.0.1:${daemon.port}/healthz?${q}`, { headers: auth });
    // A join with the token, then frames quoting it.
    const v = await RawClient.open(`${daemon.url}?${q}`);
    v.send({ type: 'join', session: 'logs', role: 'viewer', token: secret });
    await Promise.race([v.next('joined', 2000), v.next('error', 2000)]).catch(() => {});
    v.send({ type: secret });
    v.send(`{"token":"${secret}"`);
    v.close();
    // Requests Node's HTTP parser rejects (logged by Fastify at trace with the raw packet).
    await rawRequest(daemon.port, `GET /x?token=${secret} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${secret}\r\nBroken header\r\n\r\n`);
    await rawRequest(daemon.port, `GET /?token=${secret} HTTP/9\r\n\r\n`);
  }
  await new Promise((r) => setTimeout(r, 200));

  const log = lines.join('');
  t.ok(lines.length > 50, `${lines.length} lines captured`);
  t.match(log, /not found/, 'the 404 lines were logged');
  t.match(log, /token=\*\*\*/, 'the URLs were logged, redacted');
  for (const secret of secrets) {
    const parts = secret === CANARY ? [CANARY] : secret.split('.').slice(1);
    for (const part of parts) {
      const hits = lines.filter((line) => line.includes(part));
      t.same(hits, [], `no line carries ${part.slice(0, 8)}…`);
    }
  }
  t.notOk(log.includes(SECRET), 'nor the daemon secret');
});
