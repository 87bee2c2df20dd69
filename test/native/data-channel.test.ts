// Data channels between two real webrtcbin peers, held to the browser's RTCDataChannel semantics:
// handover, properties, message size, buffering, closing.
import t from 'tap';
import { InvalidStateError, WebRtcPeer, type DataChannel } from '../../lib/index.js';
import { connectPair, trickle } from '../helpers/peers.js';
import { once, waitFor } from '../helpers/wait.js';

// Two data-only peers, connected, with `setup` run on the offerer before the offer.
async function pair(t: { teardown(fn: () => unknown): void }, setup: (a: WebRtcPeer) => void): Promise<[WebRtcPeer, WebRtcPeer]> {
  const a = new WebRtcPeer({});
  const b = new WebRtcPeer({});
  t.teardown(() => Promise.all([a.close(), b.close()]));
  setup(a);
  await connectPair(a, b);
  return [a, b];
}

async function opened(channel: DataChannel): Promise<void> {
  if (channel.readyState === 'connecting') await once(channel, 'open');
}

t.test('a channel handed over in datachannel is open: send() works at once, no open event follows', async (t) => {
  let ours!: DataChannel;
  const a = new WebRtcPeer({});
  const b = new WebRtcPeer({});
  t.teardown(() => Promise.all([a.close(), b.close()]));
  ours = a.createDataChannel('now');
  let opens = 0;
  const handed = new Promise<{ state: string; error: unknown; channel: DataChannel }>((resolve) => {
    b.on('datachannel', (channel) => {
      channel.on('open', () => opens++);
      const state = channel.readyState;
      let error: unknown;
      try {
        channel.send('sent from inside the datachannel handler');
      } catch (caught) {
        error = caught;
      }
      resolve({ state, error, channel });
    });
  });
  await connectPair(a, b);
  const { state, error, channel } = await handed;
  t.equal(state, 'open', "the announced channel's readyState is 'open' in the handler");
  t.equal(error, undefined, 'send() in the handler does not throw');
  if (!error) t.equal(await once(ours, 'message'), 'sent from inside the datachannel handler', 'and what it sent arrives');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(opens, 0, "no 'open' event for a channel that was open when handed over");
  t.equal(channel.label, 'now');
});

t.test('properties: id, label, ordered, maxRetransmits, maxPacketLifeTime, protocol, negotiated on both sides', async (t) => {
  let rtx!: DataChannel;
  let ttl!: DataChannel;
  const remotes: DataChannel[] = [];
  const [, b] = await pair(t, (a) => {
    rtx = a.createDataChannel('rtx', { ordered: false, maxRetransmits: 3, protocol: 'chat "v1"' });
    ttl = a.createDataChannel('ttl', { maxPacketLifeTime: 250 });
    t.equal(rtx.id, null, 'no id before the SCTP transport exists');
  });
  b.on('datachannel', (c) => remotes.push(c));
  await waitFor('two announced channels', () => remotes.length === 2);
  const theirs = Object.fromEntries(remotes.map((c) => [c.label, c]));
  for (const [ours, remote] of [[rtx, theirs.rtx], [ttl, theirs.ttl]] as const) {
    t.ok(remote, `the remote has '${ours.label}'`);
    t.type(ours.id, 'number');
    t.equal(remote!.id, ours.id, `'${ours.label}' has the same SCTP stream id on both sides`);
    t.equal(remote!.ordered, ours.ordered);
    t.equal(remote!.maxRetransmits, ours.maxRetransmits);
    t.equal(remote!.maxPacketLifeTime, ours.maxPacketLifeTime);
    t.equal(remote!.protocol, ours.protocol);
    t.equal(remote!.negotiated, false);
  }
  t.same([rtx.ordered, rtx.maxRetransmits, rtx.maxPacketLifeTime, rtx.protocol], [false, 3, null, 'chat "v1"']);
  t.same([ttl.ordered, ttl.maxRetransmits, ttl.maxPacketLifeTime, ttl.protocol], [true, null, 250, '']);
});

t.test('negotiated channels: both sides create one with the same id, both open, no datachannel event', async (t) => {
  let ours!: DataChannel;
  const a = new WebRtcPeer({});
  const b = new WebRtcPeer({});
  t.teardown(() => Promise.all([a.close(), b.close()]));
  ours = a.createDataChannel('pre', { negotiated: true, id: 7 });
  const theirs = b.createDataChannel('pre', { negotiated: true, id: 7 });
  let announced = 0;
  b.on('datachannel', () => announced++);
  t.equal(ours.id, 7);
  t.equal(ours.negotiated, true);
  await connectPair(a, b);
  await Promise.all([opened(ours), opened(theirs)]);
  const got = once(theirs, 'message');
  ours.send('pre-negotiated');
  t.equal(await got, 'pre-negotiated');
  t.equal(announced, 0);
});

t.test('createDataChannel options are checked as the spec does', async (t) => {
  const a = new WebRtcPeer({});
  t.teardown(() => a.close());
  t.throws(() => a.createDataChannel('x', { maxRetransmits: 1, maxPacketLifeTime: 1 }), { name: 'TypeError', message: /maxPacketLifeTime and maxRetransmits cannot both be set/ });
  t.throws(() => a.createDataChannel('x', { negotiated: true }), { name: 'TypeError', message: /needs an id/ });
  t.throws(() => a.createDataChannel('x', { negotiated: true, id: 65535 }), { name: 'TypeError', message: /id must be a whole number from 0 to 65534/ });
  t.throws(() => a.createDataChannel('x', { maxRetransmits: -1 }), { name: 'TypeError', message: /maxRetransmits must be a whole number from 0 to 65535/ });
  t.throws(() => a.createDataChannel('x', { maxPacketLifeTime: 70000 }), { name: 'TypeError' });
  t.throws(() => a.createDataChannel('x', { ordered: 'no' as never }), { name: 'TypeError', message: /ordered must be a boolean/ });
  t.throws(() => a.createDataChannel('x', { protocol: 'p'.repeat(65536) }), { name: 'TypeError', message: /protocol must be a string/ });
  t.throws(() => a.createDataChannel('x', { orderd: false } as never), { name: 'TypeError', message: /unknown option 'orderd'; valid options: ordered, / });
  t.throws(() => a.createDataChannel('l'.repeat(65536)), /label must be a string of at most 65535 bytes/);
});

t.test('maxMessageSize comes from the SCTP negotiation; a larger send throws TypeError naming both sizes', async (t) => {
  let ours!: DataChannel;
  const [a, b] = await pair(t, (a) => {
    ours = a.createDataChannel('big');
    t.equal(a.sctp, null, 'no SCTP transport before negotiation');
  });
  const theirs = await once<DataChannel>(b, 'datachannel');
  await opened(ours);
  // webrtcbin's descriptions carry no a=max-message-size: each side reads RFC 8841's default.
  t.match(a.localDescription!.sdp, /a=sctp-port/);
  t.notMatch(a.localDescription!.sdp, /a=max-message-size/);
  t.equal(a.sctp?.maxMessageSize, 65536);
  t.equal(b.sctp?.maxMessageSize, 65536);
  t.equal(a.sctp?.state, 'connected');
  t.equal(ours.maxMessageSize, 65536);
  const received: (string | Buffer)[] = [];
  theirs.on('message', (m) => received.push(m));
  ours.send(Buffer.alloc(65536, 0xab));
  ours.send('é'.repeat(32768)); // 65536 bytes of UTF-8
  t.throws(() => ours.send(Buffer.alloc(65537)), { name: 'TypeError', message: /65537 bytes .* maxMessageSize of 65536 bytes/ });
  t.throws(() => ours.send('é'.repeat(32769)), { name: 'TypeError', message: /65538 bytes .* 65536 bytes/ }, 'a string is measured in UTF-8 bytes');
  await waitFor('two messages', () => received.length === 2);
  t.ok(Buffer.isBuffer(received[0]) && received[0].length === 65536 && received[0].every((x) => x === 0xab), 'the 64 KiB binary message arrives whole');
  t.equal(received[1], 'é'.repeat(32768), 'the 64 KiB text message arrives whole');
  t.equal(ours.readyState, 'open', 'the refused sends left the channel open');
});

t.test('maxMessageSize follows a=max-message-size in the descriptions (webrtcbin: the smaller of the two)', async (t) => {
  const a = new WebRtcPeer({});
  const b = new WebRtcPeer({});
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const ours = a.createDataChannel('sized');
  // What another RFC 8841 endpoint would write: the size after the SCTP port.
  const saying = (d: { type: 'offer' | 'answer'; sdp: string }, size: number) => ({ type: d.type, sdp: d.sdp.replace(/(a=sctp-port:\d+\r\n)/, `$1a=max-message-size:${size}\r\n`) });
  trickle(a, b);
  const offer = saying(await a.createOffer(), 200_000);
  await a.setLocalDescription(offer);
  await b.setRemoteDescription(offer);
  const answer = saying(await b.createAnswer(), 100_000);
  await b.setLocalDescription(answer);
  await a.setRemoteDescription(answer);
  await opened(ours);
  t.equal(a.sctp?.maxMessageSize, 100_000);
  t.equal(b.sctp?.maxMessageSize, 100_000);
  t.equal(ours.maxMessageSize, 100_000);
  t.throws(() => ours.send(Buffer.alloc(100_001)), { name: 'TypeError', message: /100001 bytes .* maxMessageSize of 100000 bytes/ });
  t.equal(ours.readyState, 'open');
});

t.test('binary as Buffer (from Buffer, Uint8Array, ArrayBuffer, DataView), text as string', async (t) => {
  let ours!: DataChannel;
  const [, b] = await pair(t, (a) => (ours = a.createDataChannel('types')));
  const theirs = await once<DataChannel>(b, 'datachannel');
  await opened(ours);
  const received: unknown[] = [];
  theirs.on('message', (m) => received.push(m));
  const bytes = new Uint8Array([9, 8, 7, 6, 5]);
  ours.send(Buffer.from([1, 2]));
  ours.send(bytes.subarray(1, 3));
  ours.send(bytes.buffer);
  ours.send(new DataView(bytes.buffer, 3, 2));
  ours.send('text');
  t.throws(() => ours.send(42 as never), { name: 'TypeError', message: /takes a string, a Buffer/ });
  t.throws(() => ours.send(''), /cannot send an empty message/);
  await waitFor('five messages', () => received.length === 5);
  t.ok(received.slice(0, 4).every((m) => Buffer.isBuffer(m)), 'every binary message is a Buffer');
  t.same(received.slice(0, 4).map((m) => [...(m as Buffer)]), [[1, 2], [8, 7], [9, 8, 7, 6, 5], [6, 5]]);
  t.equal(received[4], 'text');
});

t.test('bufferedAmount counts what waits; bufferedamountlow fires when it falls to the threshold', async (t) => {
  let ours!: DataChannel;
  const [, b] = await pair(t, (a) => (ours = a.createDataChannel('flow')));
  const theirs = await once<DataChannel>(b, 'datachannel');
  await opened(ours);
  t.equal(ours.bufferedAmount, 0);
  t.equal(ours.bufferedAmountLowThreshold, 0);
  ours.bufferedAmountLowThreshold = 100_000;
  t.equal(ours.bufferedAmountLowThreshold, 100_000);
  t.throws(() => (ours.bufferedAmountLowThreshold = -1), TypeError);
  let received = 0;
  theirs.on('message', (m) => (received += (m as Buffer).length));
  const lows: number[] = [];
  ours.on('bufferedamountlow', () => lows.push(ours.bufferedAmount));
  let peak = 0;
  for (let i = 0; i < 60; i++) {
    ours.send(Buffer.alloc(60_000, i));
    peak = Math.max(peak, ours.bufferedAmount);
  }
  t.ok(peak > 100_000, `bufferedAmount rose above the threshold (peak ${peak} bytes)`);
  await waitFor('everything received', () => received === 60 * 60_000, 20_000);
  await waitFor('bufferedamountlow', () => lows.length > 0);
  t.ok(lows.every((amount) => amount <= 100_000), `each bufferedamountlow saw bufferedAmount at or below the threshold (${lows.join(', ')})`);
  t.equal(ours.bufferedAmount, 0, 'nothing waits once all is sent');
});

t.test('a channel created on a connected peer opens (its open is not lost)', async (t) => {
  const [a, b] = await pair(t, (a) => a.createDataChannel('first'));
  await once(b, 'datachannel');
  const later = a.createDataChannel('later');
  t.equal(later.readyState, 'connecting', 'a new channel starts connecting, as in browsers');
  t.throws(() => later.send('early'), InvalidStateError, 'send() before open throws InvalidStateError');
  await once(later, 'open', 5000);
  t.equal(later.readyState, 'open');
});

t.test('close(): idempotent, closing at once, close on both sides; the remote sees closing then close', async (t) => {
  let ours!: DataChannel;
  const [, b] = await pair(t, (a) => (ours = a.createDataChannel('bye')));
  const theirs = await once<DataChannel>(b, 'datachannel');
  await opened(ours);
  const events: string[] = [];
  ours.on('closing', () => events.push('ours closing'));
  ours.on('close', () => events.push('ours close'));
  theirs.on('closing', () => events.push(`theirs closing (${theirs.readyState})`));
  theirs.on('close', () => events.push(`theirs close (${theirs.readyState})`));
  ours.close();
  t.equal(ours.readyState, 'closing', 'closing as soon as close() returns');
  ours.close();
  t.throws(() => ours.send('late'), InvalidStateError);
  await waitFor('both closed', () => ours.readyState === 'closed' && theirs.readyState === 'closed', 10_000);
  ours.close();
  await new Promise((r) => setTimeout(r, 200));
  t.same(events.filter((e) => e.startsWith('ours')), ['ours close'], "our own close() gives one 'close' and no 'closing'");
  t.same(events.filter((e) => e.startsWith('theirs')), ['theirs closing (closing)', 'theirs close (closed)']);
  t.throws(() => theirs.send('late'), InvalidStateError);
});

t.test("closing the peer closes its channels: 'close' once, readyState closed, send() throws", async (t) => {
  let ours!: DataChannel;
  const [a, b] = await pair(t, (a) => (ours = a.createDataChannel('owner')));
  await once<DataChannel>(b, 'datachannel');
  await opened(ours);
  ours.send(Buffer.alloc(1000));
  let closes = 0;
  ours.on('close', () => closes++);
  await a.close();
  t.equal(ours.readyState, 'closed');
  t.equal(closes, 1);
  t.throws(() => ours.send('after'), InvalidStateError);
  ours.close();
  t.type(ours.bufferedAmount, 'number', 'bufferedAmount is still readable');
  t.equal(a.sctp, null);
});
