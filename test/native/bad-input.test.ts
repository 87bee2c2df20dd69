// Bad input gets a clear, typed error; the peer stays usable or closable; nothing crashes.
import t from 'tap';
import {
  InvalidArgumentError,
  InvalidStateError,
  MissingPluginError,
  OperationError,
  PipelineError,
  WebRtcPeer,
} from '../../lib/index.js';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (e) => unhandled.push(e));

const GOOD_SHAPE_BAD_MEDIA = ['v=0', 'o=- 1 1 IN IP4 0.0.0.0', 's=-', 't=0 0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=rtpmap:96 VP8/90000', ''].join('\r\n');

t.test('descriptions', async (t) => {
  const peer = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 160, height: 120 } });
  t.teardown(() => peer.close());
  await t.rejects(peer.setRemoteDescription({ type: 'offer', sdp: 'hello' }), InvalidArgumentError, 'not SDP');
  await t.rejects(peer.setRemoteDescription({ type: 'offer', sdp: 'v=0\r\nthis is not sdp\r\n' }), /malformed SDP/);
  await t.rejects(peer.setRemoteDescription({ type: 'bogus' as never, sdp: GOOD_SHAPE_BAD_MEDIA }), /type must be one of/);
  await t.rejects(peer.setRemoteDescription(null as never), InvalidArgumentError);
  await t.rejects(peer.setRemoteDescription({ type: 'answer', sdp: GOOD_SHAPE_BAD_MEDIA }), InvalidStateError, 'an answer with no offer');
  await t.rejects(peer.createAnswer(), InvalidStateError, 'createAnswer with no remote offer');
  // Well-formed text that webrtcbin refuses (no ICE credentials, no fingerprint): its own message.
  const refused = peer.setRemoteDescription({ type: 'offer', sdp: GOOD_SHAPE_BAD_MEDIA });
  await t.rejects(refused, OperationError);
  await refused.catch((e: Error) => t.match(e.message, /^setRemoteDescription failed: .+/, `webrtcbin says: ${e.message}`));
  // The peer still works after all that.
  const offer = await peer.createOffer();
  t.match(offer.sdp, /m=video/, 'a good offer is still produced');
});

t.test('candidates', async (t) => {
  const peer = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 160, height: 120 } });
  t.teardown(() => peer.close());
  await t.rejects(peer.addIceCandidate({ candidate: 'not a candidate', sdpMLineIndex: 0 }), InvalidArgumentError);
  await t.rejects(peer.addIceCandidate({ candidate: 'candidate:1 1 udp 1 1.2.3.4 99999999 typ host', sdpMLineIndex: 0 }), /not an ICE candidate/);
  await t.rejects(peer.addIceCandidate({ candidate: 'candidate:1 1 udp 1 1.2.3.4 5000 typ host', sdpMLineIndex: -1 }), /sdpMLineIndex/);
  await t.rejects(peer.addIceCandidate('candidate:1' as never), InvalidArgumentError);
  await t.resolves(peer.addIceCandidate(null), 'end-of-candidates before any description is accepted (buffered)');
});

t.test('sources and options', async (t) => {
  t.throws(() => new WebRtcPeer({ source: { kind: 'pipeline', description: 'nosuchelementsrc' } }), MissingPluginError);
  t.throws(
    () => new WebRtcPeer({ source: { kind: 'pipeline', description: 'nosuchelementsrc' } }),
    /'nosuchelementsrc' is not available/,
  );
  t.throws(() => new WebRtcPeer({ source: { kind: 'pipeline', description: 'videotestsrc ! ! videoconvert' } }), PipelineError);
  t.throws(() => new WebRtcPeer({ source: { kind: 'pipeline', description: '' } }), InvalidArgumentError);
  t.throws(() => new WebRtcPeer({ source: { kind: 'webcam' } as never }), /source.kind must be/);
  t.throws(() => new WebRtcPeer({ source: { kind: 'test' }, video: { codec: 'av1' as never } }), /video.codec/);
  t.throws(() => new WebRtcPeer({ source: { kind: 'test' }, video: { bitrate: -5 } }), /video.bitrate/);
  t.throws(() => new WebRtcPeer({ source: { kind: 'test' }, iceServers: [{ urls: 'http://example.com' }] }), /ICE server URL/);
  t.throws(() => new WebRtcPeer({ source: { kind: 'test' }, iceServers: [{ urls: 'turn:127.0.0.1' }] }), /username and a credential/);
  t.throws(() => new WebRtcPeer({ source: { kind: 'test' }, iceTransportPolicy: 'relay' }), /needs at least one TURN server/);
  t.throws(() => new WebRtcPeer({ video: { receive: true }, source: { kind: 'test' } }), /takes no source/);
  const error = t.throws(() => new WebRtcPeer({ source: { kind: 'x11', display: ':93' } })) as Error;
  t.type(error, PipelineError, 'a display that does not exist fails construction');
  t.match(error.message, /ximagesrc|display/i, `message: ${error.message}`);
});

t.test('after close', async (t) => {
  const peer = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 160, height: 120 } });
  const pendingOffer = peer.createOffer();
  const first = peer.close();
  t.equal(peer.close(), first, 'close() is idempotent and returns the same promise');
  await t.rejects(pendingOffer, InvalidStateError, 'a pending operation rejects on close');
  await first;
  t.equal(peer.connectionState, 'closed');
  t.equal(peer.signalingState, 'closed');
  await t.rejects(peer.createOffer(), InvalidStateError);
  await t.rejects(peer.setRemoteDescription({ type: 'offer', sdp: GOOD_SHAPE_BAD_MEDIA }), InvalidStateError);
  await t.rejects(peer.addIceCandidate(null), InvalidStateError);
  t.throws(() => peer.createDataChannel('x'), InvalidStateError);
  t.equal(peer.localDescription, null);
  t.equal(peer.unref(), peer, 'unref() after close is harmless');
});

t.test('nothing above left an unhandled rejection', async (t) => {
  await new Promise((r) => setTimeout(r, 100));
  t.same(unhandled, []);
});

t.test('a final answer after a remote pranswer: InvalidStateError that names webrtcbin 1.22, not a missing offer', async (t) => {
  const offerer = new WebRtcPeer({ video: { receive: true } });
  const answerer = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 160, height: 120 } });
  t.teardown(() => Promise.all([offerer.close(), answerer.close()]));
  const offer = await offerer.createOffer();
  await offerer.setLocalDescription(offer);
  await answerer.setRemoteDescription(offer);
  const answer = await answerer.createAnswer();
  await offerer.setRemoteDescription({ type: 'pranswer', sdp: answer.sdp });
  t.equal(offerer.signalingState, 'have-remote-pranswer');
  await t.rejects(offerer.setRemoteDescription({ type: 'answer', sdp: answer.sdp }), { name: 'InvalidStateError', message: /after a remote pranswer is not supported by webrtcbin 1\.22/ });
  t.equal(offerer.signalingState, 'have-remote-pranswer', 'nothing changed');
});
