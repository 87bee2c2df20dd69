// lib/media/playout-delay.ts: the option's validation, the caps field webrtcbin turns into a=extmap, and
// reading the id an answer kept. (The native writer is exercised by bench/latency.ts against Chromium.)
import t from 'tap';
import { acceptedPlayoutDelayId, checkPlayoutDelay, playoutDelayCapsField, PLAYOUT_DELAY_ID, PLAYOUT_DELAY_URI } from '../../lib/media/playout-delay.js';

t.test('option validation', async (t) => {
  t.same(checkPlayoutDelay({ minMs: 0, maxMs: 0 }), { minMs: 0, maxMs: 0 });
  t.same(checkPlayoutDelay({ minMs: 10, maxMs: 40950 }), { minMs: 10, maxMs: 40950 });
  for (const bad of [null, 0, {}, { minMs: -1, maxMs: 0 }, { minMs: 20, maxMs: 10 }, { minMs: 0, maxMs: 40960 }, { minMs: 0.5, maxMs: 1 }]) {
    t.throws(() => checkPlayoutDelay(bad), { code: 'ERR_INVALID_ARGUMENT' }, JSON.stringify(bad));
  }
});

t.test('caps field names the extension and our id', async (t) => {
  t.equal(playoutDelayCapsField(), `,extmap-${PLAYOUT_DELAY_ID}=(string)"${PLAYOUT_DELAY_URI}"`);
});

t.test('the id is read from the video section of the answer only', async (t) => {
  const answer = (video: string, audio = '') =>
    ['v=0', 'o=- 1 1 IN IP4 0.0.0.0', 's=-', 't=0 0', ...(audio ? ['m=audio 9 UDP/TLS/RTP/SAVPF 111', audio] : []), 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=rtpmap:96 VP8/90000', video, ''].join('\r\n');
  t.equal(acceptedPlayoutDelayId(answer(`a=extmap:12 ${PLAYOUT_DELAY_URI}`)), 12);
  t.equal(acceptedPlayoutDelayId(answer(`a=extmap:5/sendrecv ${PLAYOUT_DELAY_URI}`)), 5);
  t.equal(acceptedPlayoutDelayId(answer('a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid')), undefined);
  t.equal(acceptedPlayoutDelayId(answer('a=sendonly', `a=extmap:7 ${PLAYOUT_DELAY_URI}`)), undefined);
});
