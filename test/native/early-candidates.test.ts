// Remote candidates on a real WebRtcPeer: those that arrive before the remote description are held up
// to a bound (a flood is dropped with one warning, not buffered without end), and a candidate for a
// mid the description lacks is refused on its own, never an 'error' that would end the peer.
import t from 'tap';
import { InvalidArgumentError, WebRtcPeer, livePeerCount } from '../../lib/index.js';
import { MAX_EARLY_CANDIDATES } from '../../lib/peer/peer.js';

const host = (i: number) => `candidate:${i} 1 UDP 2122260223 192.0.2.${(i % 250) + 1} ${10_000 + (i % 50_000)} typ host`;

/** A real offer, and the mid of its (only) m-section. */
async function offerFromSender(t: { teardown(fn: () => unknown): void }): Promise<{ sdp: string; mid: string }> {
  const sender = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 160, height: 120 } });
  t.teardown(() => sender.close());
  const offer = await sender.createOffer();
  await sender.setLocalDescription(offer);
  return { sdp: offer.sdp, mid: /a=mid:(\S+)/.exec(offer.sdp)![1]! };
}

t.test('10 000 candidates before the remote description: the peer holds at most the bound, warns once', async (t) => {
  const baseline = livePeerCount();
  const { sdp, mid } = await offerFromSender(t);
  const receiver = new WebRtcPeer({ video: { receive: true } });
  const warnings: Error[] = [];
  const errors: Error[] = [];
  receiver.on('warning', (w) => warnings.push(w));
  receiver.on('error', (e) => errors.push(e));
  for (let i = 0; i < 10_000; i++) await receiver.addIceCandidate({ candidate: host(i), sdpMid: mid, sdpMLineIndex: 0 });
  t.equal(receiver.earlyCandidateCount, MAX_EARLY_CANDIDATES, `held ${receiver.earlyCandidateCount} of 10 000`);
  t.equal(warnings.length, 1, 'one warning for the whole flood');
  t.type(warnings[0], InvalidArgumentError);
  t.match(warnings[0]!.message, /dropped until it is set/);
  await receiver.setRemoteDescription({ type: 'offer', sdp });
  t.equal(receiver.earlyCandidateCount, 0, 'the held candidates are applied with the description');
  t.same(errors, [], 'no error event');
  t.equal(receiver.connectionState, 'new', 'the peer is still usable');
  await receiver.close();
  t.equal(livePeerCount(), baseline + 1, 'only the sender is left');
});

t.test('a candidate with an unknown mid is refused alone; the peer lives on', async (t) => {
  const { sdp, mid } = await offerFromSender(t);
  const receiver = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => receiver.close());
  const warnings: Error[] = [];
  const errors: Error[] = [];
  receiver.on('warning', (w) => warnings.push(w));
  receiver.on('error', (e) => errors.push(e));
  // Early: held, then dropped with a warning when the description shows no such mid.
  await receiver.addIceCandidate({ candidate: host(1), sdpMid: 'no-such-mid' });
  await receiver.addIceCandidate({ candidate: host(2), sdpMid: mid });
  await receiver.setRemoteDescription({ type: 'offer', sdp });
  t.equal(warnings.length, 1, 'the early one with an unknown mid: one warning');
  t.match(warnings[0]!.message, /no m-line has mid "no-such-mid"/);
  // Late: the call itself rejects, nothing else happens.
  await t.rejects(receiver.addIceCandidate({ candidate: host(3), sdpMid: 'nope' }), InvalidArgumentError);
  await receiver.addIceCandidate({ candidate: host(4), sdpMid: mid });
  t.same(errors, [], 'no error event: the peer is not failed');
  t.equal(receiver.closed, false);
  const answer = await receiver.createAnswer();
  t.match(answer.sdp, /^v=0/, 'and it still answers');
});
