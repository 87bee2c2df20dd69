// Why a WHEP/WHIP ICE restart is answered 422 (docs/protocol.md, "Why no ICE restart"): a restart
// needs the answerer to take new ice-ufrag/ice-pwd (RFC 8839 §4.4.1.1.2), and RFC 9725 §4.3.3 wants
// them in the 200's sdpfrag. This walks a real restart against the webrtcbin a publisher runs: werift
// (a stack with restartIce()) offers, connects, restarts; webrtcbin answers the restarting offer with
// its previous credentials. The day this test fails, webrtcbin can restart ICE and whep.ts can answer
// an ICE restart PATCH with 200 and the new sdpfrag instead of 422.
import t from 'tap';
import { RTCPeerConnection, useVP8 } from 'werift';
import { WebRtcPeer } from '../../lib/index.js';
import { waitFor } from '../helpers/wait.js';

const credentials = (sdp: string) => ({ ufrag: /^a=ice-ufrag:(.+?)\r?$/m.exec(sdp)?.[1], pwd: /^a=ice-pwd:(.+?)\r?$/m.exec(sdp)?.[1] });

t.test('webrtcbin answers an ICE-restarting offer with its old ice-ufrag/ice-pwd (so WHEP/WHIP restart is 422)', async (t) => {
  const server = new WebRtcPeer({ source: { kind: 'test' }, video: { codec: 'vp8', width: 160, height: 120 } });
  t.teardown(() => server.close());
  const client = new RTCPeerConnection({ codecs: { video: [useVP8()] } });
  t.teardown(() => client.close());
  client.addTransceiver('video', { direction: 'recvonly' });
  let packets = 0;
  client.onTrack.subscribe((track) => track.onReceiveRtp.subscribe(() => packets++));
  server.on('icecandidate', (c) => {
    if (c?.candidate) void client.addIceCandidate({ candidate: c.candidate, sdpMid: c.sdpMid ?? undefined, sdpMLineIndex: c.sdpMLineIndex ?? undefined }).catch(() => {});
  });
  client.onIceCandidate.subscribe((c) => {
    if (c) void server.addIceCandidate({ candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null }).catch(() => {});
  });
  const negotiate = async () => {
    await client.setLocalDescription(await client.createOffer());
    const offer = client.localDescription!.sdp;
    await server.setRemoteDescription({ type: 'offer', sdp: offer });
    const answer = await server.createAnswer();
    await server.setLocalDescription(answer);
    await client.setRemoteDescription({ type: 'answer', sdp: answer.sdp! });
    return { offer: credentials(offer), answer: credentials(answer.sdp!) };
  };

  const first = await negotiate();
  await waitFor('media over the first ICE session', () => packets > 10, 20_000);
  client.restartIce();
  const second = await negotiate();
  t.not(second.offer.ufrag, first.offer.ufrag, 'werift restarted ICE: its offer has a new ice-ufrag');
  t.not(second.offer.pwd, first.offer.pwd, 'and a new ice-pwd');
  t.same(second.answer, first.answer, 'webrtcbin 1.22 answers with its previous ice-ufrag/ice-pwd: it cannot take part in an ICE restart');
});
