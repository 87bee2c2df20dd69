// lib/media/playout-delay.ts: the option's validation, the caps field webrtcbin turns into a=extmap,
// reading the id an answer kept, and the values chosen per browser (Firefox from its o= line). (The native writer is exercised by bench/latency.ts against Chromium.)
import t from 'tap';
import { acceptedPlayoutDelayId, checkPlayoutDelay, playoutDelayCapsField, playoutDelayFor, sdpAuthor, PLAYOUT_DELAY_ID, PLAYOUT_DELAY_URI } from '../../lib/media/playout-delay.js';

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

// Session-level lines as each browser writes them (Firefox ESR 153's answer; Chromium's libwebrtc).
const FIREFOX = 'v=0\r\no=mozilla...THIS_IS_SDPARTA-153.8.0 6011416340346713521 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n';
const CHROMIUM = 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';

t.test("an SDP's author: Firefox by its o= line, anything else is other", async (t) => {
  t.equal(sdpAuthor(FIREFOX), 'firefox');
  t.equal(sdpAuthor(CHROMIUM), 'other');
  t.equal(sdpAuthor(''), 'other');
  t.equal(sdpAuthor('v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=THIS_IS_SDPARTA\r\n'), 'other', 'only the o= line counts');
});

t.test('Firefox never gets a minimum under 10 ms (it paints only the first frame); others get what was asked', async (t) => {
  t.same(playoutDelayFor({ minMs: 0, maxMs: 0 }, FIREFOX), { minMs: 10, maxMs: 10 }, 'the default 0/0 becomes 10/10');
  t.same(playoutDelayFor({ minMs: 0, maxMs: 100 }, FIREFOX), { minMs: 10, maxMs: 100 }, 'a maximum above 10 is kept');
  t.same(playoutDelayFor({ minMs: 1, maxMs: 1 }, FIREFOX), { minMs: 10, maxMs: 10 });
  t.same(playoutDelayFor({ minMs: 20, maxMs: 40 }, FIREFOX), { minMs: 20, maxMs: 40 }, 'a delay Firefox plays is left as set');
  t.same(playoutDelayFor({ minMs: 10, maxMs: 10 }, FIREFOX), { minMs: 10, maxMs: 10 });
  for (const asked of [{ minMs: 0, maxMs: 0 }, { minMs: 0, maxMs: 10 }, { minMs: 5, maxMs: 500 }]) {
    t.same(playoutDelayFor(asked, CHROMIUM), asked, `Chromium gets ${JSON.stringify(asked)} as set`);
  }
});
