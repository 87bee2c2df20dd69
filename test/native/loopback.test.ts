// Two real webrtcbin peers in one process, connected over loopback: ICE, DTLS, SRTP and decoding.
import t from 'tap';
import { WebRtcPeer } from '../../lib/index.js';
import { connectPair } from '../helpers/peers.js';
import { once, waitFor } from '../helpers/wait.js';

t.test('a sender and a receiver connect and the receiver decodes frames', async (t) => {
  const sender = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 320, height: 240 } });
  const receiver = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => Promise.all([sender.close(), receiver.close()]));
  const states: string[] = [];
  receiver.on('connectionstatechange', (s) => states.push(s));
  const track = once(receiver, 'track');
  const gathered: (unknown | null)[] = [];
  sender.on('icecandidate', (c) => gathered.push(c));
  await connectPair(sender, receiver);
  t.same(await track, { kind: 'video', encoding: 'VP8' }, 'the receiver sees a VP8 video track');
  const frame = await once<{ width: number; height: number }>(receiver, 'frame');
  t.equal(frame.width, 320);
  t.equal(frame.height, 240);
  await waitFor('30 decoded frames', () => receiver.framesDecoded >= 30);
  t.ok(receiver.framesDecoded >= 30, `${receiver.framesDecoded} frames decoded`);
  t.equal(sender.connectionState, 'connected');
  t.equal(receiver.connectionState, 'connected');
  t.ok(states.includes('connecting') && states.includes('connected'), `receiver went through ${states.join(' → ')}`);
  t.equal(sender.signalingState, 'stable');
  t.equal(sender.localDescription?.type, 'offer');
  t.equal(sender.remoteDescription?.type, 'answer');
  t.equal(receiver.localDescription?.type, 'answer');
  await waitFor('end of gathering', () => gathered.includes(null));
  t.ok(gathered.filter((c) => c !== null).length > 0, 'the sender gathered candidates');
  t.equal(gathered.at(-1), null, 'null marks the end of candidates, last');
  const stats = await receiver.getStats();
  const inbound = [...stats.values()].find((s) => s.type === 'inbound-rtp');
  t.ok(inbound, 'getStats has an inbound-rtp entry');
  t.ok(Number(inbound?.packetsReceived) > 0, `packetsReceived ${inbound?.packetsReceived}`);
});

t.test('remote candidates given before the remote description are buffered, prefixes normalised', async (t) => {
  const sender = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 320, height: 240 } });
  const receiver = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => Promise.all([sender.close(), receiver.close()]));
  const fromSender: { candidate: string; sdpMid: string | null; sdpMLineIndex: number | null }[] = [];
  sender.on('icecandidate', (c) => c && fromSender.push(c as never));
  receiver.on('icecandidate', (c) => void sender.addIceCandidate(c));
  await sender.setLocalDescription(await sender.createOffer());
  await waitFor('sender candidates', () => fromSender.length > 0);
  // Early: the receiver has no remote description yet. Send some with "a=" and some bare.
  for (const [i, c] of fromSender.entries()) {
    const text = i % 2 === 0 ? `a=${c.candidate}` : c.candidate.replace(/^candidate:/, '');
    await receiver.addIceCandidate({ candidate: text, sdpMid: c.sdpMid });
  }
  await receiver.setRemoteDescription(sender.localDescription!);
  await receiver.setLocalDescription(await receiver.createAnswer());
  await sender.setRemoteDescription(receiver.localDescription!);
  await waitFor('frames', () => receiver.framesDecoded >= 5);
  t.ok(receiver.framesDecoded >= 5, 'connected with only early, re-prefixed candidates (trickled by mid)');
});

t.test('data channels carry text and binary both ways', async (t) => {
  const a = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 160, height: 120 } });
  const b = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const channel = a.createDataChannel('input');
  const remote = once<import('../../lib/index.js').DataChannel>(b, 'datachannel');
  await connectPair(a, b);
  const theirs = await remote;
  t.equal(theirs.label, 'input');
  if (channel.readyState !== 'open') await once(channel, 'open');
  const text = once(theirs, 'message');
  channel.send('hello ✓');
  t.equal(await text, 'hello ✓');
  const binary = once<Buffer>(channel, 'message');
  if (theirs.readyState !== 'open') await once(theirs, 'open');
  theirs.send(Buffer.from([0, 1, 2, 255]));
  t.same([...(await binary)], [0, 1, 2, 255]);
  t.throws(() => a.createDataChannel(5 as never), /label must be a string/);
});
