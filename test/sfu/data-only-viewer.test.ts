// A data-only viewer (join.media 'data') against a real publisher, from Node: our own WebRtcPeer answers
// an offer that is one m=application line, and the input channel carries acknowledged input like any
// viewer's (a control token's keys acked and seen by xev; a view-only token's refused 'view-only').
// A publisher that takes no input says so with a bye rather than building a peer with nothing on it.
import t from 'tap';
import type { DataChannel } from '../../lib/peer/data-channel.js';
import { publish } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { RawClient, SECRET, startDaemon } from '../helpers/daemon.js';
import { startDesk } from '../helpers/desk.js';
import { nodeViewer } from '../helpers/node-viewer.js';
import { once, waitFor } from '../helpers/wait.js';

async function inputChannel(viewer: ReturnType<typeof nodeViewer>): Promise<{ channel: DataChannel; replies: Record<string, unknown>[] }> {
  const channel = await once<DataChannel>(viewer.peer, 'datachannel', 20_000);
  const replies: Record<string, unknown>[] = [];
  channel.on('message', (data) => replies.push(JSON.parse(String(data)) as Record<string, unknown>));
  if (channel.readyState !== 'open') await once(channel, 'open', 10_000);
  return { channel, replies };
}

t.test('keys through a data-only peer: acked and at the display for control, refused for view-only', async (t) => {
  const desk = await startDesk(t, { session: 'do' });
  const viewOnly = nodeViewer(desk.daemon.url, 'do', desk.viewerToken(false), { media: 'data' });
  t.teardown(() => viewOnly.close());
  const v = await inputChannel(viewOnly);
  t.equal(v.channel.label, 'input');
  t.same((viewOnly.peer.remoteDescription?.sdp.match(/^m=\w+/gm) ?? []), ['m=application'], 'the offer is the data channel only');
  v.channel.send(JSON.stringify({ t: 'key', key: 'x', code: 'KeyX', down: true, seq: 1 }));
  await waitFor('the refusal', () => v.replies.some((m) => m.t === 'ack'), 10_000);
  t.match(v.replies.find((m) => m.t === 'ack'), { seq: 1, ok: false, code: 'view-only' });

  const controller = nodeViewer(desk.daemon.url, 'do', desk.viewerToken(true), { media: 'data' });
  t.teardown(() => controller.close());
  const c = await inputChannel(controller);
  t.equal(desk.publisher.viewers, 2);
  t.equal(desk.publisher.encoderStats?.subscribers ?? 0, 0, 'no video peer for either');
  let seq = 10;
  for (const [key, code] of [['h', 'KeyH'], ['i', 'KeyI'], ['Return', 'Enter']]) {
    for (const down of [true, false]) c.channel.send(JSON.stringify({ t: 'key', key: key === 'Return' ? 'Enter' : key, code, down, seq: seq++ }));
  }
  await waitFor('six acks', () => c.replies.filter((m) => m.t === 'ack').length >= 6, 10_000);
  t.ok(c.replies.filter((m) => m.t === 'ack').every((m) => m.ok === true), 'every key acked');
  await waitFor('the keys at the X client', () => /keysym 0xff0d, Return/.test(desk.xev.text), 10_000).catch(() => {});
  t.match(desk.xev.text, /keysym 0x68, h\)[^]*keysym 0x69, i\)[^]*keysym 0xff0d, Return/);
  c.channel.send(JSON.stringify({ t: 'quality', maxBitrate: 500_000 }));
  await waitFor('the quality answer', () => c.replies.some((m) => m.t === 'quality-result'), 10_000);
  t.match(c.replies.find((m) => m.t === 'quality-result'), { ok: false, code: 'unsupported' }, 'no stream of ours to cap');

  await controller.close();
  await waitFor('the viewer gone from the publisher', () => desk.publisher.viewers === 1, 10_000);
});

t.test('a publisher that takes no input answers a data-only join with a bye that says so', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session: 'ni', token: mintToken({ secret: SECRET, session: 'ni', role: 'publisher' }), source: { kind: 'test' }, video: { width: 320, height: 240 } });
  t.teardown(() => publisher.close());
  await once(publisher.client, 'joined', 10_000);
  const viewer = await RawClient.open(daemon.url);
  t.teardown(() => viewer.terminate());
  viewer.send({ type: 'join', session: 'ni', role: 'viewer', token: mintToken({ secret: SECRET, session: 'ni', role: 'viewer', control: true }), media: 'data' });
  await viewer.next('joined');
  const bye = await viewer.next('bye', 10_000);
  t.match(bye.message, /takes no input/);
  t.notOk(viewer.messages.some((m) => m.type === 'offer'), 'no offer was made');
  t.equal(publisher.viewers, 0);
});
