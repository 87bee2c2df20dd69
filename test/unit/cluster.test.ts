// The cluster's pure parts: key names, what crosses the bus, the routing decision, the admission
// script's replies, the cluster counts, Redis health's grace period, a Redis password in a log line, and
// the probe that lets a crashed instance's ids resume elsewhere.
import t from 'tap';
import { clusterKeys } from '../../lib/signaling/cluster/keys.js';
import { crossesBus, decide, parseEnvelope, type LocalView } from '../../lib/signaling/cluster/bus.js';
import { admitResult } from '../../lib/signaling/cluster/limits.js';
import { pairs, sumSummaries } from '../../lib/signaling/cluster/presence.js';
import { RedisHealth } from '../../lib/signaling/cluster/health.js';
import { MAX_PENDING_FORWARDS, ResourceForwarder } from '../../lib/signaling/cluster/forward.js';
import { Prober, type Probe } from '../../lib/signaling/cluster/takeover.js';
import { RelayError } from '../../lib/signaling/daemon/sessions.js';
import { redactSecrets } from '../../lib/signaling/daemon/redact.js';
import { SignalingClient } from '../../lib/signaling/client.js';

t.test('key names: prefixed, and a token never in clear', async (t) => {
  const keys = clusterKeys('x:');
  t.equal(keys.instance('i1'), 'x:i:i1');
  t.equal(keys.instances, 'x:i:*');
  t.equal(keys.session('desk'), 'x:s:desk');
  t.equal(keys.channel('i1'), 'x:c:i1');
  const signature = 'AbCdEfSignature123';
  t.match(keys.token(signature), /^x:t:[A-Za-z0-9_-]{43}$/);
  t.notMatch(keys.token(signature), signature, 'the signature is hashed');
  t.equal(clusterKeys().session('desk'), 'webrtcbin:s:desk', 'default prefix');
});

t.test('what crosses the bus', async (t) => {
  t.ok(crossesBus({ type: 'offer', from: 'p-1', sdp: 'v=0' }));
  t.ok(crossesBus({ type: 'answer', from: 'v-1', sdp: 'v=0' }));
  t.ok(crossesBus({ type: 'candidate', from: 'v-1', candidate: null }));
  t.ok(crossesBus({ type: 'bye', from: 'p-1', reason: 'no-common-codec' }), "a publisher's bye to one viewer");
  t.notOk(crossesBus({ type: 'bye', reason: 'shutting-down' }), "the daemon's own bye stays local");
  t.notOk(crossesBus({ type: 'peer-joined', peerId: 'v-1', role: 'viewer' }), 'membership is derived by each instance');
  t.notOk(crossesBus({ type: 'peer-left', peerId: 'v-1', role: 'viewer' }));
  t.notOk(crossesBus({ type: 'error', code: 'internal', message: 'x' }));
});

t.test('the routing decision', async (t) => {
  const view: LocalView = {
    hasSession: (s) => s === 'desk',
    holdsLocal: (id) => id === 'v-here',
    remoteOwner: (s, id) => (s === 'desk' && id === 'v-remote' ? 'i2' : undefined),
  };
  const offer = { type: 'offer' as const, from: 'p-1', sdp: 'v=0' };
  t.same(decide({ k: 'relay', to: 'v-here', m: offer }, 'i1', view), { do: 'deliver', to: 'v-here', message: offer });
  t.match(decide({ k: 'relay', to: 'v-gone', m: offer }, 'i1', view), { do: 'ignore' }, 'a target that left');
  t.match(decide({ k: 'join', s: 'desk', id: 'v-2', e: { r: 'viewer', i: 'i2' } }, 'i1', view), { do: 'add-remote', session: 'desk', id: 'v-2' });
  t.match(decide({ k: 'join', s: 'other', id: 'v-2', e: { r: 'viewer', i: 'i2' } }, 'i1', view), { do: 'ignore' }, 'a session not held here');
  t.match(decide({ k: 'join', s: 'desk', id: 'v-2', e: { r: 'viewer', i: 'i1' } }, 'i1', view), { do: 'ignore' }, 'our own');
  t.same(decide({ k: 'leave', s: 'desk', id: 'v-remote', i: 'i2' }, 'i1', view), { do: 'remove-remote', session: 'desk', id: 'v-remote' });
  t.match(decide({ k: 'leave', s: 'desk', id: 'v-remote', i: 'i3' }, 'i1', view), { do: 'ignore' }, 'a late leave from the instance it moved away from');
  t.same(decide({ k: 'stopping', i: 'i2' }, 'i1', view), { do: 'grace', instance: 'i2' }, 'a stopping instance: its participants get a grace');
  t.match(parseEnvelope('{"k":"stopping","i":"i2"}'), { k: 'stopping', i: 'i2' });
});

t.test('envelopes from the channel are checked', async (t) => {
  t.equal(parseEnvelope('not json'), undefined);
  t.equal(parseEnvelope('{"k":"relay"}'), undefined);
  t.equal(parseEnvelope('{"k":"join","s":"a","id":"v"}'), undefined, 'a join without an entry');
  t.equal(parseEnvelope('{"k":"leave","s":"a","id":"v"}'), undefined, 'a leave without its owner');
  t.match(parseEnvelope('{"k":"leave","s":"a","id":"v","i":"i2"}'), { k: 'leave' });
  t.match(parseEnvelope('{"k":"relay","to":"v","m":{"type":"offer"}}'), { k: 'relay' });
});

t.test("the admission script's replies", async (t) => {
  t.same(admitResult(['ok', 'p-1', '{"r":"publisher","i":"i1"}'], 'desk', 3), { entries: [['p-1', '{"r":"publisher","i":"i1"}']] });
  t.same(admitResult(['id-held', 'v-1', 'i2'], 'desk', 3), { held: 'i2' }, 'id-held names the live owner (a resume probes it)');
  t.throws(() => admitResult(['publisher-exists', 'p-1'], 'desk', 3), new RelayError('publisher-exists', 'session desk already has a publisher'));
  t.throws(() => admitResult(['token-in-use', '3'], 'desk', 3), { code: 'token-in-use', message: /already holds 3 concurrent/ });
  t.throws(() => admitResult(['what'], 'desk', 3), { code: 'internal' });
  t.same(pairs(['a', '1', 'b', '2']), [['a', '1'], ['b', '2']]);
});

t.test('cluster counts: a session on two instances counts once', async (t) => {
  t.same(sumSummaries([JSON.stringify({ sessions: ['a', 'b'], publishers: 1, viewers: 2 }), JSON.stringify({ sessions: ['b'], publishers: 1, viewers: 3 }), null, 'junk']), {
    instances: 2,
    sessions: 2,
    publishers: 2,
    viewers: 5,
  });
});

t.test("Redis health: no sweeping until a TTL and a heartbeat after it came back", async (t) => {
  const health = new RedisHealth(1000);
  t.equal(health.markUp(0), false, 'the first connection is not a return');
  t.ok(health.maySweep(0), 'sweeps at once when first up');
  t.ok(health.markDown(10));
  t.notOk(health.markDown(20), 'down once');
  t.notOk(health.maySweep(30), 'never while down');
  t.equal(health.markUp(100), true, 'a return');
  t.notOk(health.maySweep(500), 'in grace');
  t.ok(health.inGrace(500));
  t.ok(health.maySweep(1100), 'after grace');
  t.same(health.fields(1100), { redis: 'up', redisSinceMs: 1000 });
});

t.test('a Redis password never reaches a log line', async (t) => {
  t.equal(redactSecrets('cannot reach redis://:s3cret@10.0.0.1:6379/0'), 'cannot reach redis://:***@10.0.0.1:6379/0');
  t.equal(redactSecrets('redis://user:s3cret@host'), 'redis://user:***@host');
  t.equal(redactSecrets('rediss://host:6380'), 'rediss://host:6380', 'a port is not a password');
});

t.test('SignalingClient takes a list of URLs', async (t) => {
  t.doesNotThrow(() => new SignalingClient({ url: ['ws://127.0.0.1:1/v1/ws', 'ws://127.0.0.1:2/v1/ws'], session: 's', role: 'viewer' }));
  t.throws(() => new SignalingClient({ url: [], session: 's', role: 'viewer' }), { message: /non-empty list/ });
  t.throws(() => new SignalingClient({ url: ['ws://ok/v1/ws', 'http://no'], session: 's', role: 'viewer' }), { message: /ws:\/\/ or wss:\/\// });
});

t.test("the registry's mirror of other instances' participants", async (t) => {
  const { SessionRegistry } = await import('../../lib/signaling/daemon/sessions.js');
  type Sent = { to: string; type: string; peerId?: string; resumed?: boolean };
  const sent: Sent[] = [];
  const make = (id: string, role: 'publisher' | 'viewer', instance?: string, resumed?: boolean) => ({
    id,
    role,
    session: 'desk',
    offers: false,
    ...(instance ? { instance } : {}),
    ...(resumed ? { resumed } : {}),
    send: (m: { type: string; peerId?: string; resumed?: boolean }) => sent.push({ to: id, type: m.type, ...(m.peerId ? { peerId: m.peerId } : {}), ...(m.resumed ? { resumed: true } : {}) }),
    close: () => {},
  });
  const registry = new SessionRegistry();
  const publisher = make('p-1', 'publisher');
  registry.addRemote(make('v-r', 'viewer', 'i2'));
  t.equal(registry.sessionCount, 0, 'a session is mirrored only for a local participant');
  registry.join(publisher);
  registry.addRemote(make('v-r', 'viewer', 'i2'));
  t.same(sent.splice(0), [{ to: 'p-1', type: 'peer-joined', peerId: 'v-r' }], 'the local publisher hears of a remote viewer');
  registry.addRemote(make('v-r', 'viewer', 'i2'));
  t.same(sent.splice(0), [], 'the same join twice (a re-registration) is no news');
  registry.addRemote(make('v-r', 'viewer', 'i3', true));
  t.same(sent.splice(0), [{ to: 'p-1', type: 'peer-joined', peerId: 'v-r', resumed: true }], 'resumed on another instance: replaced, no peer-left');
  t.equal(registry.remote('desk', 'v-r')?.instance, 'i3');
  t.equal(registry.peerCount(), 1, 'only local participants are counted');
  t.same([...registry.all()].map((p) => p.id), ['p-1'], 'shutdown reaches local participants only');
  t.same([...registry.remoteByInstance().keys()], ['i3']);
  registry.reconcile('desk', []);
  t.same(sent.splice(0), [{ to: 'p-1', type: 'peer-left', peerId: 'v-r' }], 'reconciled away: peer-left');
  t.notOk(registry.holds('desk', 'v-x'));
  registry.leave(publisher);
  t.equal(registry.sessionCount, 0, 'the last local participant takes the mirror with it');
});

t.test("a relay's local target: found by id, and gone when its participant is", async (t) => {
  const { SessionRegistry } = await import('../../lib/signaling/daemon/sessions.js');
  const make = (id: string, role: 'publisher' | 'viewer', session: string, instance?: string) => ({
    id,
    role,
    session,
    offers: false,
    ...(instance ? { instance } : {}),
    send: () => {},
    close: () => {},
  });
  const registry = new SessionRegistry();
  const publisher = make('p-1', 'publisher', 'desk');
  const viewer = make('v-1', 'viewer', 'desk');
  const other = make('v-2', 'viewer', 'lab');
  registry.join(publisher);
  registry.join(viewer);
  registry.join(other);
  registry.addRemote(make('v-r', 'viewer', 'desk', 'i2'));
  t.equal(registry.local('v-1'), viewer);
  t.equal(registry.local('v-2'), other, 'in any session');
  t.equal(registry.local('v-r'), undefined, "another instance's participant is not local");
  t.ok(registry.hasSession('desk'));
  t.notOk(registry.hasSession('attic'));
  registry.leave(viewer);
  t.equal(registry.local('v-1'), undefined, 'gone once it left');
  registry.addRemote(make('p-1', 'publisher', 'desk', 'i3'));
  t.not(registry.local('p-1'), publisher, 'its id resumed on another instance: no longer ours');
  t.equal(registry.local('p-1'), undefined);
  registry.join(make('v-1', 'viewer', 'desk'));
  t.equal(registry.local('v-1')?.id, 'v-1', 'a new participant under an old id is found');
  registry.leave(other);
  t.notOk(registry.hasSession('lab'), 'the session goes with its last local participant');
  t.same([...registry.all()].map((p) => p.id), ['v-1']);
  // Taken over by another instance (crash-resume's `took`): displaced, not left, and no longer ours.
  const stale = registry.local('v-1')!;
  registry.displace(stale);
  t.equal(registry.local('v-1'), undefined, 'a displaced participant is no longer local');
});

t.test('WHEP/WHIP asks and answers from the channel are checked (forward.ts)', async (t) => {
  const q = { kind: 'whep', method: 'PATCH', session: 's', id: 'v-x', contentType: 'application/trickle-ice-sdpfrag', ifMatch: '"v-x"', body: 'a=mid:0\r\n', tokenHash: 'h' };
  const ask = { k: 'ask', c: 'c1', from: 'i1', q };
  t.same(parseEnvelope(JSON.stringify(ask)), ask, 'a well-formed ask');
  t.same(decide(ask as never, 'i2', { hasSession: () => false, holdsLocal: () => false, remoteOwner: () => undefined }), { do: 'answer-resource', ask });
  t.equal(parseEnvelope(JSON.stringify({ ...ask, q: { ...q, method: 'POST' } })), undefined, 'a method a resource forward never carries');
  t.equal(parseEnvelope(JSON.stringify({ ...ask, q: { ...q, kind: 'ws' } })), undefined, 'an unknown kind');
  t.equal(parseEnvelope(JSON.stringify({ ...ask, q: { ...q, body: 'x'.repeat(65537) } })), undefined, 'a body over 64 KiB');
  t.equal(parseEnvelope(JSON.stringify({ ...ask, from: undefined })), undefined, 'no asker to answer');
  const answer = { k: 'answer', c: 'c1', a: { status: 412, headers: { etag: '"v-x"' }, body: { error: 'no' } } };
  t.same(parseEnvelope(JSON.stringify(answer)), answer, 'a well-formed answer');
  t.equal(parseEnvelope(JSON.stringify({ ...answer, a: { ...answer.a, headers: { 'set-cookie': 'x' } } })), undefined, 'a header a resource answer never has');
  t.equal(parseEnvelope(JSON.stringify({ ...answer, a: { ...answer.a, status: 99 } })), undefined, 'a status out of range');
  t.equal(parseEnvelope(JSON.stringify({ ...answer, a: { status: 204, headers: {}, body: 'text' } })), undefined, 'a body that is not {error}');
});

t.test('forwarded requests: bounded in number, each settled once, all settled at close', async (t) => {
  const sent: unknown[] = [];
  const forwarder = new ResourceForwarder({ self: 'i1', timeoutMs: 60_000, retryAfterS: 8, publish: async (_instance, envelope) => void sent.push(envelope) });
  const q = { kind: 'whep' as const, method: 'DELETE' as const, session: 's', id: 'v-x', contentType: undefined, ifMatch: undefined, body: '', tokenHash: undefined };
  const waiting = Array.from({ length: MAX_PENDING_FORWARDS }, () => forwarder.forward('i2', q));
  t.equal(forwarder.pending, MAX_PENDING_FORWARDS);
  t.match(await forwarder.forward('i2', q), { status: 503, headers: { 'retry-after': '1' } }, 'one more: 503 at once, not another wait');
  const first = sent[0] as { c: string };
  forwarder.answered({ k: 'answer', c: first.c, a: { status: 200, headers: {} } });
  forwarder.answered({ k: 'answer', c: first.c, a: { status: 404, headers: {} } });
  t.same(await waiting[0], { status: 200, headers: {} }, 'the first answer settles it; a repeat is ignored');
  forwarder.close();
  const rest = await Promise.all(waiting.slice(1));
  t.ok(rest.every((r) => r.status === 503), 'close() settles every waiting request with 503');
  t.equal(forwarder.pending, 0);
  const unreachable = new ResourceForwarder({ self: 'i1', timeoutMs: 60_000, retryAfterS: 8, publish: async () => Promise.reject(new Error('down')) });
  t.match(await unreachable.forward('i2', q), { status: 503, headers: { 'retry-after': '5' } }, 'Redis cannot take it: 503 at once');
  const silent = new ResourceForwarder({ self: 'i1', timeoutMs: 50, retryAfterS: 8, publish: async () => {} });
  t.match(await silent.forward('i2', q), { status: 503, headers: { 'retry-after': '8' }, body: { error: /did not answer within 50 ms/ } }, 'no answer: 503 after the bound');
});

t.test('probes of an id a crashed or stalled instance holds (takeover.ts)', async (t) => {
  const probe = (publish: () => Promise<number>) => new Prober({ self: 'i2', timeoutMs: 50, publish }).probe('i1', 'desk', 'v-1');
  t.same(await probe(async () => 0), { free: true, why: 'no-subscriber' }, 'nobody subscribed on the owner channel: it died');
  t.same(await probe(async () => 1), { free: true, why: 'no-answer' }, 'delivered, unanswered: stalled');
  t.same(await probe(() => Promise.reject(new Error('down'))), { free: false, why: 'unreachable' }, 'Redis away: refused as before');
  t.same(await probe(() => new Promise(() => {})), { free: false, why: 'unreachable' }, 'Redis too slow to take it: refused, and no hang');

  const sent: Probe[] = [];
  const prober = new Prober({ self: 'i2', timeoutMs: 5000, publish: async (_i, e) => (sent.push(e), 1) });
  const open = prober.probe('i1', 'desk', 'v-1');
  const released = prober.probe('i1', 'desk', 'v-2');
  await new Promise((r) => setImmediate(r));
  t.match(sent, [{ k: 'probe', from: 'i2', s: 'desk', id: 'v-1' }, { k: 'probe', from: 'i2', s: 'desk', id: 'v-2' }]);
  prober.answered({ k: 'probed', c: sent[0]!.c, open: true });
  prober.answered({ k: 'probed', c: sent[1]!.c, open: false });
  prober.answered({ k: 'probed', c: sent[1]!.c, open: true }); // a second answer changes nothing
  t.same(await open, { free: false, why: 'open' }, 'the owner has the socket open: a duplicate');
  t.same(await released, { free: true, why: 'released' });
  const waiting = prober.probe('i1', 'desk', 'v-3');
  prober.close();
  t.same(await waiting, { free: false, why: 'unreachable' }, 'closing settles what waits');

  t.same(parseEnvelope(JSON.stringify({ k: 'probe', c: 'c1', from: 'i2', s: 'desk', id: 'v-1' })), { k: 'probe', c: 'c1', from: 'i2', s: 'desk', id: 'v-1' });
  t.equal(parseEnvelope(JSON.stringify({ k: 'probe', c: 'c1', from: 'i2', s: 'desk' })), undefined, 'no id: dropped');
  t.equal(parseEnvelope(JSON.stringify({ k: 'probed', c: 'c1', open: 'yes' })), undefined, 'open must be a boolean');
  t.equal(parseEnvelope(JSON.stringify({ k: 'took', s: 'desk', id: 'x'.repeat(65), i: 'i2' })), undefined, 'an overlong id: dropped');
  const view: LocalView = { hasSession: () => true, holdsLocal: (id) => id === 'v-1', remoteOwner: () => undefined };
  t.same(decide({ k: 'took', s: 'desk', id: 'v-1', i: 'i2' }, 'i1', view), { do: 'displace', session: 'desk', id: 'v-1', by: 'i2' }, 'our participant taken over: close its stale socket');
  t.match(decide({ k: 'took', s: 'desk', id: 'v-9', i: 'i2' }, 'i1', view), { do: 'ignore' }, 'no socket for it here');
});
