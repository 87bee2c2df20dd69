// SignalingClient and publish() against a tiny fake daemon (a bare ws WebSocketServer on a free
// loopback port), not the real one: what the client sends, what it emits, how it reconnects, and that
// close() leaves nothing behind. Every wait is bounded.
import t from 'tap';
import { runNode } from '../helpers/fixture.js';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { SignalingClient, SignalingError, type ProtocolErrorInfo, type SignalingState } from '../../lib/signaling/client.js';
import { checkClientMessage } from '../../lib/signaling/protocol/messages.js';
import { publish } from '../../lib/publish/publisher.js';
import { WebRtcPeer } from '../../lib/peer/peer.js';
import { InvalidArgumentError, InvalidStateError } from '../../lib/errors.js';
import { once, waitFor } from '../helpers/wait.js';

type Json = Record<string, unknown>;

/** One accepted socket on the fake daemon: every message it received, and how it ended. */
class FakeSocket {
  readonly messages: Json[] = [];
  join: Json | undefined;
  readonly openedAt = Date.now();
  closedAt: number | undefined;
  closeCode: number | undefined;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as Json;
      if (message.type === 'join') this.join ??= message;
      this.messages.push(message);
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.closedAt = Date.now();
    });
  }
  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }
  /** The next not yet consumed message of `type`. */
  async next(type: string, timeoutMs = 5000): Promise<Json> {
    let found: Json | undefined;
    await waitFor(`a '${type}' message (got ${JSON.stringify(this.messages).slice(0, 300)})`, () => {
      const index = this.messages.findIndex((m) => m.type === type);
      if (index >= 0) found = this.messages.splice(index, 1)[0];
      return found !== undefined;
    }, timeoutMs, 5);
    return found!;
  }
  closed(timeoutMs = 5000): Promise<void> {
    return waitFor('the socket to close', () => this.closeCode !== undefined, timeoutMs, 5);
  }
  joined(extra: Json = {}): void {
    this.send({ type: 'joined', v: 1, peerId: 'p1', session: this.join?.session ?? 's', role: this.join?.role ?? 'publisher', iceServers: [], ...extra });
  }
}

class FakeDaemon {
  readonly sockets: FakeSocket[] = [];
  /** Called for every new socket, e.g. to answer join automatically. */
  onSocket: ((socket: FakeSocket) => void) | undefined;
  private constructor(readonly wss: WebSocketServer, readonly url: string) {
    wss.on('connection', (ws) => {
      const socket = new FakeSocket(ws);
      this.sockets.push(socket);
      this.onSocket?.(socket);
    });
  }
  static start(): Promise<FakeDaemon> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      wss.once('error', reject);
      wss.once('listening', () => {
        const address = wss.address();
        const port = typeof address === 'object' && address ? address.port : 0;
        resolve(new FakeDaemon(wss, `ws://127.0.0.1:${port}/v1/ws`));
      });
    });
  }
  /** The n-th socket (0-based) once it has connected. */
  async socket(n: number, timeoutMs = 5000): Promise<FakeSocket> {
    await waitFor(`connection #${n + 1}`, () => this.sockets.length > n, timeoutMs, 5);
    return this.sockets[n]!;
  }
  close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

async function setup(t: { teardown(fn: () => unknown): void }) {
  const daemon = await FakeDaemon.start();
  t.teardown(() => daemon.close());
  return daemon;
}

function collect<T>(emitter: { on(event: string, listener: (value: T) => void): unknown }, event: string): T[] {
  const values: T[] = [];
  emitter.on(event, (value: T) => values.push(value));
  return values;
}

// ---- SignalingClient ----

t.test('join is the first message, with exactly the configured fields', async (t) => {
  const daemon = await setup(t);
  const client = new SignalingClient({ url: daemon.url, session: 's1', role: 'viewer', token: 'tok', offers: true });
  t.teardown(() => client.close());
  const states = collect<SignalingState>(client, 'state');
  client.connect();
  t.equal(client.connect(), client, 'connect() again is a no-op');
  const socket = await daemon.socket(0);
  const join = await socket.next('join');
  t.strictSame(join, { type: 'join', v: 1, session: 's1', role: 'viewer', token: 'tok', offers: true });
  t.equal(socket.messages.length, 0, 'nothing else before joined');

  const joined = once(client, 'joined');
  socket.joined({ peerId: 'v1', role: 'viewer', publisher: 'p1', iceServers: [{ urls: 'stun:example.org' }] });
  t.strictSame(await joined, { type: 'joined', v: 1, peerId: 'v1', session: 's1', role: 'viewer', publisher: 'p1', iceServers: [{ urls: 'stun:example.org' }] });
  t.strictSame(states, ['connecting', 'open', 'joined']);
  t.equal(client.state, 'joined');
  t.equal(client.peerId, 'v1');
  t.equal(daemon.sockets.length, 1);

  const bare = new SignalingClient({ url: daemon.url, session: 's2', role: 'publisher' });
  t.teardown(() => bare.close());
  bare.connect();
  t.strictSame(await (await daemon.socket(1)).next('join'), { type: 'join', v: 1, session: 's2', role: 'publisher' }, 'no token/offers fields when not given');
});

t.test('bad options are refused at construction', async (t) => {
  const invalid = { name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT' };
  t.throws(() => new SignalingClient({ url: 'http://x/v1/ws', session: 's', role: 'viewer' }), { ...invalid, message: /ws:\/\/ or wss:\/\// });
  t.throws(() => new SignalingClient({ url: 'nonsense', session: 's', role: 'viewer' }), { ...invalid, message: /absolute URL/ });
  t.throws(() => new SignalingClient({ url: 'ws://x/v1/ws', session: 'bad session!', role: 'viewer' }), { ...invalid, message: /invalid join.*session/ });
  t.throws(() => new SignalingClient({ url: 'ws://x/v1/ws', session: 's', role: 'boss' as never }), invalid);
  t.throws(() => new SignalingClient({ url: 'ws://x/v1/ws', session: 's', role: 'viewer', backoff: { initialMs: 0 } }), { ...invalid, message: /backoff/ });
});

t.test('every daemon message becomes its typed event; error becomes protocol-error', async (t) => {
  const daemon = await setup(t);
  const client = new SignalingClient({ url: daemon.url, session: 's', role: 'publisher' });
  t.teardown(() => client.close());
  const seen: [string, unknown][] = [];
  for (const event of ['peer-joined', 'peer-left', 'offer', 'answer', 'candidate', 'bye', 'protocol-error'] as const) {
    client.on(event, (m: unknown) => seen.push([event, m]));
  }
  client.connect();
  const socket = await daemon.socket(0);
  await socket.next('join');
  socket.joined();
  await once(client, 'joined');

  const messages = [
    { type: 'peer-joined', peerId: 'v1', role: 'viewer', offers: true },
    { type: 'offer', from: 'v1', sdp: 'v=0 offer' },
    { type: 'answer', from: 'v1', sdp: 'v=0 answer' },
    { type: 'candidate', from: 'v1', candidate: { candidate: 'candidate:1 1 UDP 1 192.0.2.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 } },
    { type: 'candidate', from: 'v1', candidate: null },
    { type: 'bye', from: 'v1' },
    { type: 'peer-left', peerId: 'v1', role: 'viewer' },
  ];
  for (const m of messages) socket.send(m);
  socket.send({ type: 'error', code: 'unknown-peer', message: 'no peer v9 in this session' });
  await waitFor('all events', () => seen.length === messages.length + 1, 5000, 5);
  t.strictSame(seen.slice(0, messages.length), messages.map((m) => [m.type, m]), 'one event per message, payload as sent, in order');
  t.strictSame(seen.at(-1), ['protocol-error', { code: 'unknown-peer', message: 'no peer v9 in this session', origin: 'daemon' }]);
  t.equal(client.listenerCount('error'), 0, 'nobody listens to error, and nothing threw');
  t.equal(client.state, 'joined', 'a bye from a peer does not disconnect');
  t.equal(daemon.sockets.length, 1);
});

t.test('invalid daemon messages are dropped and reported as protocol-error', async (t) => {
  const daemon = await setup(t);
  const client = new SignalingClient({ url: daemon.url, session: 's', role: 'viewer' });
  t.teardown(() => client.close());
  const errors = collect<ProtocolErrorInfo>(client, 'protocol-error');
  const offers = collect<unknown>(client, 'offer');
  client.connect();
  const socket = await daemon.socket(0);
  await socket.next('join');
  socket.joined({ role: 'viewer', peerId: 'v1' });
  await once(client, 'joined');

  socket.send({ type: 'offer', from: 'p1', sdp: 'v=0', extra: 1 }); // unknown field
  socket.send({ type: 'offer', from: 'p1' }); // missing sdp
  socket.send({ type: 'teleport' }); // unknown type
  socket.send({ type: 'error', code: 'made-up', message: 'x' }); // unknown error code
  socket.send('{not json');
  socket.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  socket.send({ type: 'offer', from: 'p1', sdp: 'v=0 fine' });
  await waitFor('the valid offer', () => offers.length === 1, 5000, 5);
  t.equal(errors.length, 6);
  t.match(errors.slice(0, 4), [
    { code: 'bad-message', origin: 'client', message: /\(offer \/extra: unknown field\); dropped/ },
    { code: 'bad-message', origin: 'client', message: /\(offer: .*sdp\)/ },
    { code: 'bad-message', origin: 'client', message: /unknown type "teleport"/ },
    { code: 'bad-message', origin: 'client', message: /\(error \/code: / },
  ]);
  t.match(errors[4], { code: 'bad-json', origin: 'client' });
  t.match(errors[5], { code: 'binary-not-supported', origin: 'client' });
  t.strictSame(offers, [{ type: 'offer', from: 'p1', sdp: 'v=0 fine' }], 'only the valid message became an event');
  t.equal(client.state, 'joined', 'still joined');
});

t.test('send validates, sends when joined, drops when not', async (t) => {
  const daemon = await setup(t);
  const client = new SignalingClient({ url: daemon.url, session: 's', role: 'publisher', backoff: { initialMs: 2000, maxMs: 2000 } });
  t.teardown(() => client.close());
  t.equal(client.send({ type: 'candidate', to: 'v1', candidate: null }), false, 'not connected: dropped');
  client.connect();
  const socket = await daemon.socket(0);
  await socket.next('join');
  t.equal(client.send({ type: 'offer', to: 'v1', sdp: 'v=0' }), false, 'open but not joined yet: dropped');
  socket.joined();
  await once(client, 'joined');

  const invalid = { name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT' };
  t.throws(() => client.send({ type: 'offer', to: 'v1', sdp: '' }), { ...invalid, message: /invalid message \(offer \/sdp/ });
  t.throws(() => client.send({ type: 'offer', to: 'v 1', sdp: 'v=0' }), { ...invalid, message: /to/ });
  t.throws(() => client.send({ type: 'answer', sdp: 'v=0', from: 'me' } as never), invalid, 'unknown field');
  t.throws(() => client.send({ type: 'hello' } as never), { ...invalid, message: /unknown message type "hello"/ });
  t.throws(() => client.send(null as never), invalid);
  t.throws(() => client.send({ type: 'join', session: 's', role: 'viewer' }), { ...invalid, message: /sent by the client itself/ });
  t.type(new InvalidArgumentError('x'), Error);

  const offer = { type: 'offer', to: 'v1', sdp: 'v=0 real' } as const;
  const candidate = { type: 'candidate', to: 'v1', candidate: { candidate: 'candidate:1 1 UDP 1 192.0.2.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 } } as const;
  t.equal(client.send(offer), true);
  t.equal(client.send(candidate), true);
  t.equal(client.send({ type: 'bye', to: 'v1' }), true);
  t.strictSame(await socket.next('offer'), offer);
  t.strictSame(await socket.next('candidate'), candidate);
  t.strictSame(await socket.next('bye'), { type: 'bye', to: 'v1' });

  socket.ws.terminate();
  await once(client, 'disconnected');
  t.equal(client.send(offer), false, 'disconnected: relay messages are dropped, not queued');
  t.equal(client.state, 'connecting');
});

t.test('outgoing messages are paced under the daemon rate limit, in order', async (t) => {
  const daemon = await setup(t);
  const client = new SignalingClient({ url: daemon.url, session: 's', role: 'publisher', rate: { perSecond: 100, burst: 5 } });
  t.teardown(() => client.close());
  client.connect();
  const socket = await daemon.socket(0);
  await socket.next('join');
  socket.joined();
  await once(client, 'joined');
  const started = Date.now();
  for (let i = 0; i < 24; i++) t.equal(client.send({ type: 'offer', to: 'v1', sdp: `v=0 ${i}` }), true);
  await waitFor('24 offers', () => socket.messages.length === 24, 5000, 5);
  const ms = Date.now() - started;
  // 4 tokens left after join, then 100/s: 20 more take ≈ 200 ms.
  t.ok(ms >= 150, `paced: 24 messages took ${ms} ms`);
  t.strictSame(socket.messages.map((m) => m.sdp), Array.from({ length: 24 }, (_, i) => `v=0 ${i}`), 'in order');
});

t.test('reconnects with growing, jittered backoff after the daemon kills the socket, and rejoins', async (t) => {
  const daemon = await setup(t);
  // Every connection: answer join, then kill the socket at once (a daemon that keeps crashing).
  const kills = 4;
  daemon.onSocket = (socket) => {
    void socket.next('join').then(() => {
      socket.joined();
      if (daemon.sockets.length <= kills) setTimeout(() => socket.ws.terminate(), 5);
    });
  };
  const client = new SignalingClient({ url: daemon.url, session: 's', role: 'publisher', backoff: { initialMs: 40, maxMs: 1000, factor: 2 } });
  t.teardown(() => client.close());
  const retries = collect<{ code: number; retryInMs: number | undefined }>(client, 'disconnected');
  const joins = collect<unknown>(client, 'joined');
  client.connect();
  await waitFor(`joined ${kills + 1} times`, () => joins.length === kills + 1, 10_000, 5);
  t.equal(daemon.sockets.length, kills + 1, 'one socket per attempt');
  t.equal(retries.length, kills);
  t.ok(retries.every((r) => r.code === 1006), 'abnormal closes (1006)');
  const delays = retries.map((r) => r.retryInMs!);
  // Equal jitter: attempt n waits between half and all of 40·2ⁿ ms.
  delays.forEach((d, n) => t.ok(d >= 20 * 2 ** n && d <= 40 * 2 ** n, `delay #${n + 1} ${d} ms within [${20 * 2 ** n}, ${40 * 2 ** n}]`));
  for (let i = 1; i < delays.length; i++) t.ok(delays[i]! >= delays[i - 1]!, `delay grows: ${delays.join(' → ')} ms`);
  t.ok(delays.at(-1)! > delays[0]! * 2, 'and really grows');
  for (let i = 1; i <= kills; i++) {
    const gap = daemon.sockets[i]!.openedAt - daemon.sockets[i - 1]!.closedAt!;
    t.ok(gap >= delays[i - 1]! - 5, `waited ${gap} ms before attempt ${i + 1} (announced ${delays[i - 1]} ms)`);
  }
  for (const socket of daemon.sockets) t.equal(socket.messages.length === 0 || socket.messages[0]?.type === 'join', true);
  t.equal(client.state, 'joined');
});

t.test('a daemon bye (shutting down) makes the client leave and come back', async (t) => {
  const daemon = await setup(t);
  daemon.onSocket = (socket) => void socket.next('join').then(() => socket.joined());
  const client = new SignalingClient({ url: daemon.url, session: 's', role: 'viewer', backoff: { initialMs: 20 } });
  t.teardown(() => client.close());
  client.connect();
  await once(client, 'joined');
  const byes = collect<unknown>(client, 'bye');
  const rejoined = once(client, 'joined');
  daemon.sockets[0]!.send({ type: 'bye', reason: 'shutting-down' }); // the fake daemon does not close: the client must
  await rejoined;
  t.strictSame(byes, [{ type: 'bye', reason: 'shutting-down' }]);
  await daemon.sockets[0]!.closed();
  t.equal(daemon.sockets[0]!.closeCode, 1000, 'the client closed the old socket cleanly');
  t.equal(daemon.sockets.length, 2);
});

t.test('unauthorized stops reconnecting; publisher-exists stops a first join but is retried after a reconnect', async (t) => {
  const daemon = await setup(t);
  let rejoins = 0;
  daemon.onSocket = (socket) => {
    void socket.next('join').then((join) => {
      if (join.session === 'locked') {
        socket.send({ type: 'error', code: 'unauthorized', message: 'token expired' });
        socket.ws.close(1008, 'unauthorized');
      } else if (join.session === 'taken' || (rejoins++ >= 1 && rejoins <= 3)) {
        socket.send({ type: 'error', code: 'publisher-exists', message: 'the session already has a publisher' });
        socket.ws.close(1008, 'publisher-exists');
      } else {
        socket.joined();
      }
    });
  };
  const client = new SignalingClient({ url: daemon.url, session: 'locked', role: 'publisher', token: 'expired', backoff: { initialMs: 20 } });
  t.teardown(() => client.close());
  const states: [SignalingState, SignalingError | undefined][] = [];
  client.on('state', (state, error) => states.push([state, error]));
  const errors = collect<ProtocolErrorInfo>(client, 'protocol-error');
  const disconnects = collect<{ retryInMs: number | undefined }>(client, 'disconnected');
  client.connect();
  await waitFor('state closed', () => client.state === 'closed', 5000, 5);
  const [, error] = states.at(-1)!;
  t.type(error, SignalingError);
  t.match(error, { code: 'ERR_SIGNALING', reason: 'unauthorized', message: /token expired.*mint a new one/ });
  t.notOk(error!.message.includes('"expired"'), 'the token itself is not in the message');
  t.match(errors, [{ code: 'unauthorized', origin: 'daemon' }]);
  t.strictSame(disconnects.map((d) => d.retryInMs), [undefined], 'no retry announced');
  await new Promise((r) => setTimeout(r, 300)); // 15× the initial backoff
  t.equal(daemon.sockets.length, 1, 'no further attempt');
  t.throws(() => client.connect(), InvalidStateError, 'a closed client cannot be restarted');
  await client.close();

  // On a first join another agent holds the session: retrying would only fight it.
  const second = new SignalingClient({ url: daemon.url, session: 'taken', role: 'publisher', backoff: { initialMs: 20 } });
  t.teardown(() => second.close());
  second.connect();
  await waitFor('state closed', () => second.state === 'closed', 5000, 5);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(daemon.sockets.length, 2, 'publisher-exists on a first join: no further attempt');

  // After a reconnect it is usually our own previous socket, not yet noticed gone: retried.
  const publisher = new SignalingClient({ url: daemon.url, session: 'rejoin', role: 'publisher', backoff: { initialMs: 20 } });
  t.teardown(() => publisher.close());
  const refused = collect<ProtocolErrorInfo>(publisher, 'protocol-error');
  publisher.connect();
  await once(publisher, 'joined', 5000);
  (await daemon.socket(2)).ws.terminate();
  await once(publisher, 'joined', 5000);
  t.strictSame(refused.map((e) => e.code), ['publisher-exists', 'publisher-exists'], 'refused twice after the reconnect, retried, then joined');
  t.equal(daemon.sockets.length, 6);
});

t.test('close() is idempotent, says bye, and stops everything', async (t) => {
  const daemon = await setup(t);
  daemon.onSocket = (socket) => void socket.next('join').then(() => socket.joined());
  const client = new SignalingClient({ url: daemon.url, session: 's', role: 'viewer' });
  const states = collect<SignalingState>(client, 'state');
  const disconnects = collect<unknown>(client, 'disconnected');
  client.connect();
  await once(client, 'joined');
  const first = client.close();
  t.equal(client.close(), first, 'the same promise');
  await first;
  const socket = daemon.sockets[0]!;
  await socket.next('bye');
  t.strictSame(socket.messages, [], 'bye (without to) was the last message');
  await socket.closed();
  t.equal(socket.closeCode, 1000);
  t.strictSame(states, ['connecting', 'open', 'joined', 'closed']);
  t.strictSame(disconnects, [], 'a deliberate close is no disconnect');
  t.equal(client.send({ type: 'bye' }), false);
  t.throws(() => client.connect(), InvalidStateError);
  await new Promise((r) => setTimeout(r, 100));
  t.equal(daemon.sockets.length, 1, 'no reconnect after close');

  // Closing while waiting to retry, and before ever connecting.
  const unreachable = new SignalingClient({ url: 'ws://127.0.0.1:1/v1/ws', session: 's', role: 'viewer', backoff: { initialMs: 60_000 } });
  unreachable.connect();
  const d = await once<{ code: number; retryInMs: number }>(unreachable, 'disconnected');
  t.equal(d.code, 1006);
  await unreachable.close();
  await new SignalingClient({ url: daemon.url, session: 's', role: 'viewer' }).close();
});

// Runs a script in a child process (tsx), so that "the process exits by itself" is what is tested.
function runChild(script: string, env: Record<string, string>, timeoutMs = 20_000) {
  return runNode(['--import', 'tsx', '--input-type=module', '-e', script], { env, timeoutMs });
}

const clientModule = fileURLToPath(new URL('../../lib/signaling/client.ts', import.meta.url));
const publishModule = fileURLToPath(new URL('../../lib/publish/publisher.ts', import.meta.url));

t.test('after close() nothing keeps the process alive (joined, and waiting to retry)', async (t) => {
  const daemon = await setup(t);
  daemon.onSocket = (socket) => void socket.next('join').then(() => socket.joined());
  const script = `
    const { SignalingClient } = await import(process.env.MODULE);
    const joined = new SignalingClient({ url: process.env.URL, session: 's', role: 'viewer', pingIntervalMs: 50 });
    joined.connect();
    await new Promise((resolve) => joined.once('joined', resolve));
    await Promise.all([joined.close(), joined.close()]);
    const retrying = new SignalingClient({ url: 'ws://127.0.0.1:1/v1/ws', session: 's', role: 'viewer', backoff: { initialMs: 60000 } });
    retrying.connect();
    await new Promise((resolve) => retrying.once('disconnected', resolve));
    await retrying.close();
    console.log('closed both');
  `;
  const r = await runChild(script, { MODULE: clientModule, URL: daemon.url });
  t.notOk(r.timedOut, 'exited by itself');
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /closed both/);
});

// ---- publish() ----

t.test('publish: offers to a viewer that joins, drops it when it leaves', async (t) => {
  const daemon = await setup(t);
  const publisher = publish({ url: daemon.url, session: 'vm1', token: 'pub-token', source: { kind: 'test' }, video: { width: 160, height: 120 } });
  t.teardown(() => publisher.close());
  const errors = collect<Error>(publisher, 'error');
  const left = collect<string>(publisher, 'viewer-left');
  const socket = await daemon.socket(0);
  t.strictSame(await socket.next('join'), { type: 'join', v: 1, session: 'vm1', role: 'publisher', token: 'pub-token' });
  socket.send({ type: 'joined', v: 1, peerId: 'p1', session: 'vm1', role: 'publisher', iceServers: [] });
  socket.send({ type: 'peer-joined', peerId: 'v1', role: 'viewer' });

  const offer = await socket.next('offer', 15_000);
  t.ok(checkClientMessage.Check(offer), 'a valid protocol message');
  t.equal(offer.to, 'v1');
  t.match(offer.sdp, /m=video/);
  t.equal(publisher.viewers, 1);
  await waitFor('a candidate for v1', () => socket.messages.some((m) => m.type === 'candidate'), 10_000);
  const candidates = socket.messages.filter((m) => m.type === 'candidate');
  t.ok(candidates.every((m) => m.to === 'v1' && checkClientMessage.Check(m)), 'candidates are valid and addressed to v1');

  socket.send({ type: 'peer-left', peerId: 'v1', role: 'viewer' });
  await waitFor('viewers back to 0', () => publisher.viewers === 0, 5000, 5);
  t.strictSame(left, ['v1']);
  t.notOk(socket.messages.some((m) => m.type === 'bye'), 'no bye to a viewer that left');
  await publisher.close();
  await socket.next('bye');
  await socket.closed();
  t.strictSame(errors, []);
});

// The fake daemon relays between the publisher and a receiving WebRtcPeer playing the viewer.
for (const viewerOffers of [false, true]) {
  const who = viewerOffers ? 'viewer offers (WHEP-style), publisher answers' : 'publisher offers, viewer answers';
  t.test(`publish end to end through the fake daemon: ${who}`, async (t) => {
  const daemon = await setup(t);
  const publisher = publish({ url: daemon.url, session: 'vm2', source: { kind: 'test' }, video: { width: 160, height: 120 } });
  t.teardown(() => publisher.close());
  const errors = collect<Error>(publisher, 'error');
  const viewer = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => viewer.close());
  const socket = await daemon.socket(0);
  await socket.next('join');
  socket.joined({ peerId: 'p1', session: 'vm2' });
  socket.send({ type: 'peer-joined', peerId: 'v1', role: 'viewer', ...(viewerOffers ? { offers: true } : {}) });
  socket.ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as Json;
    if (m.type === 'candidate') void viewer.addIceCandidate(m.candidate as never).catch(() => {});
  });
  viewer.on('icecandidate', (candidate) => {
    const c = candidate && { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex };
    socket.send({ type: 'candidate', from: 'v1', candidate: c });
  });
  const connected = once<string>(publisher, 'viewer-connected', 20_000);
  if (viewerOffers) {
    const offer = await viewer.createOffer();
    await viewer.setLocalDescription(offer);
    socket.send({ type: 'offer', from: 'v1', sdp: offer.sdp });
    const answer = await socket.next('answer', 15_000);
    t.equal(answer.to, 'v1');
    await viewer.setRemoteDescription({ type: 'answer', sdp: answer.sdp as string });
  } else {
    const offer = await socket.next('offer', 15_000);
    await viewer.setRemoteDescription({ type: 'offer', sdp: offer.sdp as string });
    const answer = await viewer.createAnswer();
    await viewer.setLocalDescription(answer);
    socket.send({ type: 'answer', from: 'v1', sdp: answer.sdp });
  }
  t.equal(await connected, 'v1', 'viewer-connected');
  await waitFor('decoded frames', () => viewer.framesDecoded >= 3, 15_000);
  t.ok(viewer.framesDecoded >= 3, 'the viewer decodes the stream');
  // The daemon goes away: the media is peer to peer, so the connected viewer is kept and keeps
  // decoding; the client comes back by itself. Rejoined under another id, we are a new publisher to
  // the viewers: the old peer goes.
  socket.ws.terminate();
  await waitFor('the publisher to notice', () => publisher.client.state !== 'joined', 5000);
  t.equal(publisher.viewers, 1, 'the connected viewer is kept through the outage');
  const before = viewer.framesDecoded;
  await waitFor('frames with no daemon', () => viewer.framesDecoded >= before + 3, 10_000);
  const again = await daemon.socket(1, 5000);
  await again.next('join');
  const left = once<[string, string]>(publisher, 'viewer-left');
  again.joined({ peerId: 'p2', session: 'vm2' });
  t.equal(await left, 'v1', 'rejoined with a new id: the viewer is let go');
  t.equal(publisher.viewers, 0);
  await publisher.close();
  t.strictSame(errors, []);
  });
}

t.test('publish: a viewer offer without our codec is refused with no-common-codec (a warning, not an error)', async (t) => {
  const daemon = await setup(t);
  const warnings: string[] = [];
  const noop = () => {};
  const logger = { debug: noop, info: noop, error: noop, warn: (_o: object, msg?: string) => void warnings.push(msg ?? '') };
  const publisher = publish({ url: daemon.url, session: 'vm3', source: { kind: 'test' }, video: { codec: 'vp8', width: 160, height: 120 }, logger });
  t.teardown(() => publisher.close());
  const errors: Error[] = [];
  publisher.on('error', (e) => errors.push(e));
  const socket = await daemon.socket(0);
  await socket.next('join');
  socket.joined({ session: 'vm3' });
  const sdp = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\na=rtcp-mux\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 ' + Array(32).fill('AA').join(':') + '\r\na=setup:actpass\r\na=rtpmap:102 H264/90000\r\n';
  socket.send({ type: 'offer', from: 'v7', sdp });
  const bye = await socket.next('bye');
  t.match(bye, { type: 'bye', to: 'v7', reason: 'no-common-codec', codecs: { publisher: ['VP8'], viewer: ['H264'] } }, 'the viewer is told why, with both sides\' codecs (video.codec restricts ours to VP8)');
  t.match(bye.message, /the publisher encodes VP8, the viewer decodes H264/);
  t.equal(publisher.viewers, 0, 'no peer was built for it');
  t.same(errors, [], 'not an error of the publisher');
  t.equal(warnings.filter((w) => /no video codec in common/.test(w)).length, 1, 'one warning');
  await publisher.close();
});

t.test('after publisher.close() nothing keeps the process alive', async (t) => {
  const daemon = await setup(t);
  daemon.onSocket = (socket) => {
    void socket.next('join').then(() => {
      socket.joined();
      socket.send({ type: 'peer-joined', peerId: 'v1', role: 'viewer' });
    });
  };
  const script = `
    const { publish } = await import(process.env.MODULE);
    const publisher = publish({ url: process.env.URL, session: 's', source: { kind: 'test' }, video: { width: 160, height: 120 } });
    await new Promise((resolve) => {
      const check = setInterval(() => { if (publisher.viewers === 1) { clearInterval(check); resolve(); } }, 10);
    });
    await new Promise((resolve) => setTimeout(resolve, 300)); // negotiation under way
    await Promise.all([publisher.close(), publisher.close()]);
    console.log('closed with ' + publisher.viewers + ' viewers');
  `;
  const r = await runChild(script, { MODULE: publishModule, URL: daemon.url }, 30_000);
  t.notOk(r.timedOut, 'exited by itself');
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /closed with 0 viewers/);
});
