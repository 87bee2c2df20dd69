// Resume (docs/protocol.md): a participant that rejoins with the key its `joined` gave reclaims its id,
// across a daemon restart (a new process-like instance with the same secret and port), and the publisher
// hears `peer-joined` with `resumed`. A hostile client cannot take an id: a forged key, a key of another
// session or role, an id someone holds, a key minted under another secret all get a new id. Keys never
// reach a log line; a resumed participant holds one slot of its token's cap.
import t from 'tap';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { ResumeKeys } from '../../lib/signaling/daemon/resume.js';
import { RawClient, SECRET, startDaemon } from '../helpers/daemon.js';

const tok = (session: string, role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session, role, ttlSeconds: 600 });

async function joined(url: string, join: Record<string, unknown>): Promise<{ client: RawClient; m: Record<string, unknown> }> {
  const client = await RawClient.open(url);
  client.send({ type: 'join', v: 1, ...join });
  return { client, m: await client.next('joined') };
}

t.test('ids survive a daemon restart; the publisher hears the viewer resumed', async (t) => {
  const lines: string[] = [];
  const logStream = { write: (line: string) => lines.push(line) };
  let daemon = await startDaemon({ logLevel: 'trace', logStream });
  const port = daemon.port;
  t.teardown(() => daemon.app.close());

  const pub = await joined(daemon.url, { session: 'r1', role: 'publisher', token: tok('r1', 'publisher') });
  const view = await joined(daemon.url, { session: 'r1', role: 'viewer', token: tok('r1', 'viewer') });
  t.type(pub.m.resumeKey, 'string', 'joined carries a resume key');
  t.notOk('resumed' in view.m, 'no `resumed` on a join that did not ask');
  t.notOk((await pub.client.next('peer-joined')).resumed, 'a fresh viewer is not `resumed`');

  await daemon.app.close();
  daemon = await startDaemon({ port, logLevel: 'trace', logStream });

  // The viewer comes back first: no publisher yet.
  const view2 = await joined(daemon.url, { session: 'r1', role: 'viewer', token: tok('r1', 'viewer'), resume: { id: view.m.peerId, key: view.m.resumeKey } });
  t.equal(view2.m.peerId, view.m.peerId, 'the viewer got its id back from the new daemon');
  t.equal(view2.m.resumed, true);
  t.equal(view2.m.publisher, null);
  const pub2 = await joined(daemon.url, { session: 'r1', role: 'publisher', token: tok('r1', 'publisher'), resume: { id: pub.m.peerId, key: pub.m.resumeKey } });
  t.equal(pub2.m.peerId, pub.m.peerId, 'the publisher got its id back');
  t.equal(pub2.m.resumed, true);
  const announced = await pub2.client.next('peer-joined');
  t.same([announced.peerId, announced.resumed], [view.m.peerId, true], 'the publisher hears the viewer with `resumed`');
  const back = await view2.client.next('peer-joined');
  t.same([back.peerId, back.resumed], [pub.m.peerId, true], 'the viewer hears the publisher with `resumed`');

  // Relaying works between the reclaimed ids.
  view2.client.send({ type: 'candidate', to: pub.m.peerId, candidate: null });
  t.equal((await pub2.client.next('candidate')).from, view.m.peerId);

  for (const c of [pub2.client, view2.client]) c.close();
  const keys = [pub.m.resumeKey, view.m.resumeKey, pub2.m.resumeKey, view2.m.resumeKey] as string[];
  t.ok(lines.length > 10, `${lines.length} log lines captured`);
  t.notOk(lines.some((l) => keys.some((k) => l.includes(k))), 'no resume key in any log line (trace level)');
  t.ok(lines.some((l) => l.includes('"resumed":true')), 'the join line says it resumed');
});

t.test('a hostile client cannot take an id', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const victim = await joined(daemon.url, { session: 'r2', role: 'viewer', token: tok('r2', 'viewer') });
  const id = victim.m.peerId as string;
  const key = victim.m.resumeKey as string;
  const other = await joined(daemon.url, { session: 'r2b', role: 'viewer', token: tok('r2b', 'viewer') });
  const pub = await joined(daemon.url, { session: 'r2', role: 'publisher', token: tok('r2', 'publisher') });
  victim.client.close();
  await victim.client.closed();
  await new Promise((r) => setTimeout(r, 100)); // the daemon has let the id go

  const attempt = async (what: string, session: string, role: 'viewer' | 'publisher', resume: unknown) => {
    const { client, m } = await joined(daemon.url, { session, role, token: tok(session, role), resume });
    t.not(m.peerId, (resume as { id: string }).id, `${what}: a new id`);
    t.equal(m.resumed, false, `${what}: joined says resumed false`);
    client.close();
    await client.closed();
  };
  const flipped = key.slice(0, -2) + (key.endsWith('AA') ? 'BB' : 'AA');
  await attempt('a forged key', 'r2', 'viewer', { id, key: flipped });
  await attempt('a key for another id', 'r2', 'viewer', { id, key: other.m.resumeKey });
  await attempt("another session's key and id", 'r2', 'viewer', { id: other.m.peerId, key: other.m.resumeKey });
  await attempt('the key presented for another session', 'r2b', 'viewer', { id, key });
  pub.client.close();
  await pub.client.closed();
  await new Promise((r) => setTimeout(r, 100));
  await attempt('the key presented for another role', 'r2', 'publisher', { id, key });
  const foreign = new ResumeKeys('another-secret-0123456789').keyFor('r2', id, 'viewer');
  await attempt('a key minted under another secret', 'r2', 'viewer', { id, key: foreign });

  // The genuine key while the id is held by someone: refused too (the holder keeps it).
  const owner = await joined(daemon.url, { session: 'r2', role: 'viewer', token: tok('r2', 'viewer'), resume: { id, key } });
  t.equal(owner.m.peerId, id, 'the genuine key reclaims the free id');
  await attempt('the genuine key while the id is held', 'r2', 'viewer', { id, key });

  // Malformed resume fields are schema errors.
  const bad = await RawClient.open(daemon.url);
  bad.send({ type: 'join', v: 1, session: 'r2', role: 'viewer', token: tok('r2', 'viewer'), resume: { id, key: 'not a key!' } });
  t.equal((await bad.next('error')).code, 'bad-message', 'a malformed key is a bad-message');
  bad.close();
  owner.client.close();
  other.client.close();
});

t.test('a resumed participant holds one slot of its token', async (t) => {
  let daemon = await startDaemon({ maxJoinsPerToken: 1 });
  const port = daemon.port;
  t.teardown(() => daemon.app.close());
  const token = tok('r3', 'viewer');
  const first = await joined(daemon.url, { session: 'r3', role: 'viewer', token });
  // Its socket drops (a network cut): the rejoin with resume takes the one slot.
  first.client.terminate();
  await first.client.closed();
  await new Promise((r) => setTimeout(r, 100));
  const again = await joined(daemon.url, { session: 'r3', role: 'viewer', token, resume: { id: first.m.peerId, key: first.m.resumeKey } });
  t.equal(again.m.resumed, true, 'reclaimed after its socket dropped');
  const extra = await RawClient.open(daemon.url);
  extra.send({ type: 'join', v: 1, session: 'r3', role: 'viewer', token });
  t.equal((await extra.next('error')).code, 'token-in-use', 'the resumed participant counts once: the cap is full');
  await daemon.app.close();
  daemon = await startDaemon({ port, maxJoinsPerToken: 1 });
  const third = await joined(daemon.url, { session: 'r3', role: 'viewer', token, resume: { id: again.m.peerId, key: again.m.resumeKey } });
  t.equal(third.m.resumed, true, 'reclaimed after the restart, within the cap of 1');
  third.client.close();
});

t.test('SignalingClient resumes its id by itself after a daemon restart', async (t) => {
  const { SignalingClient } = await import('../../lib/signaling/client.js');
  let daemon = await startDaemon();
  const port = daemon.port;
  t.teardown(() => daemon.app.close());
  const client = new SignalingClient({ url: daemon.url, session: 'r4', role: 'viewer', token: tok('r4', 'viewer'), backoff: { initialMs: 50, maxMs: 200 } });
  t.teardown(() => client.close());
  const joins: { peerId: string; resumed?: boolean }[] = [];
  client.on('joined', (m) => joins.push({ peerId: m.peerId, resumed: m.resumed }));
  client.connect();
  const until = async (n: number) => {
    for (let i = 0; i < 200 && joins.length < n; i++) await new Promise((r) => setTimeout(r, 50));
  };
  await until(1);
  await daemon.app.close();
  daemon = await startDaemon({ port });
  await until(2);
  t.same(joins, [{ peerId: joins[0]!.peerId, resumed: undefined }, { peerId: joins[0]!.peerId, resumed: true }], 'the second joined has the same id, resumed');
  await client.close();
});
