// Socket writes coalesced per event-loop turn (lib/signaling/daemon/write-batch.ts): the order of
// messages on each socket holds, and nothing is held past the turn it was written in.
import { once } from 'node:events';
import net from 'node:net';
import t from 'tap';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { WriteBatcher } from '../../lib/signaling/daemon/write-batch.js';
import { RawClient, SECRET, startDaemon } from '../helpers/daemon.js';

const turnEnds = () => new Promise<void>((resolve) => setImmediate(resolve));

t.test('a held socket is written out at the end of the turn, in order', async (t) => {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const client = net.connect(port, '127.0.0.1');
  const [peer] = (await once(server, 'connection')) as [net.Socket];
  await once(client, 'connect');
  t.teardown(() => {
    client.destroy();
    peer.destroy();
    server.close();
  });
  let received = '';
  peer.on('data', (d: Buffer) => (received += d.toString()));

  const writes = new WriteBatcher();
  writes.hold(client);
  client.write('a');
  writes.hold(client); // a second hold in the same turn corks once
  client.write('b');
  t.equal(client.writableCorked, 1, 'corked once for the turn');
  t.equal(client.writableLength, 2, 'both writes held');
  await turnEnds();
  t.equal(client.writableCorked, 0, 'uncorked when the turn ends');

  writes.hold(client);
  client.write('c');
  t.equal(client.writableCorked, 1);
  await turnEnds();
  t.equal(client.writableCorked, 0, 'a lone write waits no longer than its turn');

  writes.hold(client);
  client.write('d');
  writes.release(client);
  t.equal(client.writableCorked, 0, 'release() writes out at once');
  while (received.length < 4) await once(peer, 'data');
  t.equal(received, 'abcd');
});

t.test('through the daemon: every viewer’s burst reaches the publisher in order, and the publisher’s burst the viewer', async (t) => {
  const daemon = await startDaemon({ rate: { perSecond: 10_000, burst: 10_000 } });
  t.teardown(() => daemon.app.close());
  const join = async (role: 'publisher' | 'viewer') => {
    const c = await RawClient.open(daemon.url);
    c.send({ type: 'join', session: 'order', role, token: mintToken({ secret: SECRET, session: 'order', role }) });
    return { c, id: (await c.next('joined')).peerId as string };
  };
  const pub = await join('publisher');
  const viewers = [];
  for (let n = 0; n < 5; n++) viewers.push(await join('viewer'));
  const N = 200;
  const candidate = (n: number) => ({ candidate: `candidate:${n} 1 udp 1 127.0.0.1 ${5000 + n} typ host`, sdpMid: '0', sdpMLineIndex: 0 });
  // Interleaved bursts: the daemon reads several viewers' frames per turn and writes them to one socket.
  for (let n = 0; n < N; n++) for (const v of viewers) v.c.send({ type: 'candidate', candidate: candidate(n) });
  const seen = new Map<string, number[]>(viewers.map((v) => [v.id, []]));
  for (let k = 0; k < N * viewers.length; k++) {
    const m = await pub.c.next('candidate');
    seen.get(m.from as string)!.push(Number(/^candidate:(\d+)/.exec((m.candidate as { candidate: string }).candidate)![1]));
  }
  const inOrder = Array.from({ length: N }, (_, n) => n);
  for (const v of viewers) t.same(seen.get(v.id), inOrder, `viewer ${v.id}: all ${N}, in order`);

  const target = viewers[0]!;
  for (let n = 0; n < N; n++) pub.c.send({ type: 'candidate', to: target.id, candidate: candidate(n) });
  const got: number[] = [];
  for (let n = 0; n < N; n++) got.push(Number(/^candidate:(\d+)/.exec(((await target.c.next('candidate')).candidate as { candidate: string }).candidate)![1]));
  t.same(got, inOrder, 'the publisher’s burst to one viewer, in order');
  for (const c of [pub.c, ...viewers.map((v) => v.c)]) c.close();
});
