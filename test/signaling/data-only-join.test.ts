// join.media (docs/protocol.md, "Data-only viewers"): a viewer asking for the input data channel only,
// against raw WebSocket clients. The field is validated like every other one, reaches the publisher in
// peer-joined, and leaves an old client's join and peer-joined exactly as they were.
import t from 'tap';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { RawClient, SECRET, startDaemon } from '../helpers/daemon.js';

const token = (session: string, role: 'viewer' | 'publisher', control = false) => mintToken({ secret: SECRET, session, role, ttlSeconds: 600, control });

const daemon = await startDaemon();
t.teardown(() => daemon.app.close());

async function open(t: { teardown(fn: () => unknown): void }): Promise<RawClient> {
  const c = await RawClient.open(daemon.url);
  t.teardown(() => c.terminate());
  return c;
}

t.test("a viewer's media 'data' reaches the publisher in peer-joined, with its control claim", async (t) => {
  const pub = await open(t);
  pub.send({ type: 'join', session: 'd1', role: 'publisher', token: token('d1', 'publisher') });
  await pub.next('joined');
  const data = await open(t);
  data.send({ type: 'join', session: 'd1', role: 'viewer', token: token('d1', 'viewer', true), media: 'data' });
  const joined = await data.next('joined');
  t.match(joined, { role: 'viewer', control: true });
  t.match(await pub.next('peer-joined'), { peerId: joined.peerId, role: 'viewer', media: 'data', control: true });

  // A view-only token in data-only mode: the publisher hears no control claim (its input is refused there).
  const viewOnly = await open(t);
  viewOnly.send({ type: 'join', session: 'd1', role: 'viewer', token: token('d1', 'viewer'), media: 'data' });
  const j2 = await viewOnly.next('joined');
  t.equal(j2.control, false);
  const announced = await pub.next('peer-joined');
  t.match(announced, { peerId: j2.peerId, media: 'data' });
  t.notOk('control' in announced, 'no control claim for a view-only token');
});

t.test("old clients: no media field, or media 'all', give the peer-joined they always had", async (t) => {
  const pub = await open(t);
  pub.send({ type: 'join', session: 'd2', role: 'publisher', token: token('d2', 'publisher') });
  await pub.next('joined');
  for (const extra of [{}, { media: 'all' }]) {
    const v = await open(t);
    v.send({ type: 'join', session: 'd2', role: 'viewer', token: token('d2', 'viewer'), ...extra });
    const j = await v.next('joined');
    const announced = await pub.next('peer-joined');
    t.equal(announced.peerId, j.peerId);
    t.notOk('media' in announced, `peer-joined has no media field (join ${JSON.stringify(extra)})`);
  }
});

t.test('invalid media values and combinations are refused with bad-message, the socket kept', async (t) => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['unknown value', { role: 'viewer', media: 'video' }, /media/],
    ['not a string', { role: 'viewer', media: true }, /media/],
    ['a publisher', { role: 'publisher', media: 'data' }, /for viewers/],
    ['with offers', { role: 'viewer', media: 'data', offers: true }, /leave out join.offers/],
  ];
  for (const [name, extra, why] of cases) {
    const c = await open(t);
    const role = extra.role as 'viewer' | 'publisher';
    c.send({ type: 'join', session: 'd3', token: token('d3', role), ...extra });
    const error = await c.next('error');
    t.match(error, { code: 'bad-message', message: why }, name);
    t.notOk(c.messages.some((m) => m.type === 'joined'), `${name}: not joined`);
    // The refusal loses nothing: the same socket joins correctly afterwards.
    c.send({ type: 'join', session: 'd3', role: 'viewer', token: token('d3', 'viewer') });
    t.match(await c.next('joined'), { role: 'viewer' }, `${name}: a valid join on the same socket works`);
  }
});
