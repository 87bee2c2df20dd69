// Every offer of a peer that sends video names its SSRC (a=ssrc) and, for H.264, the encoder's
// profile-level-id: Janus's VideoRoom learns a publisher's SSRC from those lines and drops every RTP
// packet it cannot place ("Unknown SSRC"). webrtcbin writes them from the caps its sink pad holds. Our
// `send-caps` event used to come a moment before that, and an offer made in the gap had neither (12 of
// 200 fresh relay-like peers on a loaded machine); now it is reported once the sink pad holds them, and
// createOffer() fails loudly rather than send such an offer, so any offer here without them fails the test.
import t from 'tap';
import { Streamer } from '../../lib/index.js';

const OFFERS = 200;

t.test(`${OFFERS} first offers from fresh shared encoders (what relay() does) all name the SSRC`, async (t) => {
  const missing: string[] = [];
  for (let i = 0; i < OFFERS; i++) {
    const streamer = new Streamer({ source: { kind: 'test', pattern: 'ball' }, video: { codec: 'h264', width: 320, height: 240, fps: 30 } });
    try {
      const peer = streamer.createPeer();
      try {
        // As soon as the encoder's caps are announced: the moment the gap was open.
        const { sdp } = await peer.createOffer();
        if (!/^a=ssrc:\d+ /m.test(sdp) || !/profile-level-id=/.test(sdp)) missing.push(`offer ${i + 1}: ${sdp.split(/\r?\n/).filter((l) => /^a=(ssrc|fmtp)/.test(l)).join(' | ') || 'no a=ssrc or a=fmtp'}`);
      } finally {
        await peer.close();
      }
    } finally {
      await streamer.close();
    }
  }
  t.same(missing, [], `every one of ${OFFERS} offers has a=ssrc and profile-level-id`);
});
