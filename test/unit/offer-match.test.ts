// Pure unit tests for lib/media/offer-match.ts against a Chrome-like offer.
import t from 'tap';
import { offeredVideoCodecs, matchOfferedCodec } from '../../lib/media/offer-match.js';

// Shaped after a Chrome 12x offer: audio first, then video, then data. Chrome puts profile-level-id last.
const CHROME_OFFER_LINES = [
  'v=0',
  'o=- 7615412519466451112 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1 2',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:Hk3J',
  'a=ice-pwd:rV2cX1kq1v8G0Lk9iA7b9N3c',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 4F:1A:2B:3C:4D:5E:6F:70:81:92:A3:B4:C5:D6:E7:F8:09:1A:2B:3C:4D:5E:6F:70:81:92:A3:B4:C5:D6:E7:F8',
  'a=setup:actpass',
  'a=mid:0',
  'a=recvonly',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 102 103 104 105 106 107 108 109 116 117 112 113 45 46 114 115 118',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:Hk3J',
  'a=ice-pwd:rV2cX1kq1v8G0Lk9iA7b9N3c',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 4F:1A:2B:3C:4D:5E:6F:70:81:92:A3:B4:C5:D6:E7:F8:09:1A:2B:3C:4D:5E:6F:70:81:92:A3:B4:C5:D6:E7:F8',
  'a=setup:actpass',
  'a=mid:1',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=recvonly',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 goog-remb',
  'a=rtcp-fb:96 transport-cc',
  'a=rtcp-fb:96 ccm fir',
  'a=rtcp-fb:96 nack',
  'a=rtcp-fb:96 nack pli',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:98 VP9/90000',
  'a=rtcp-fb:98 nack pli',
  'a=fmtp:98 profile-id=0',
  'a=rtpmap:99 rtx/90000',
  'a=fmtp:99 apt=98',
  'a=rtpmap:100 VP9/90000',
  'a=rtcp-fb:100 nack pli',
  'a=fmtp:100 profile-id=2',
  'a=rtpmap:101 rtx/90000',
  'a=fmtp:101 apt=100',
  'a=rtpmap:102 H264/90000',
  'a=rtcp-fb:102 nack pli',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
  'a=rtpmap:103 rtx/90000',
  'a=fmtp:103 apt=102',
  'a=rtpmap:104 H264/90000',
  'a=rtcp-fb:104 nack pli',
  'a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f',
  'a=rtpmap:105 rtx/90000',
  'a=fmtp:105 apt=104',
  'a=rtpmap:106 H264/90000',
  'a=rtcp-fb:106 nack pli',
  'a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f',
  'a=rtpmap:107 rtx/90000',
  'a=fmtp:107 apt=106',
  'a=rtpmap:108 H264/90000',
  'a=rtcp-fb:108 nack pli',
  'a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:109 rtx/90000',
  'a=fmtp:109 apt=108',
  'a=rtpmap:116 H264/90000',
  'a=rtcp-fb:116 nack pli',
  'a=fmtp:116 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f',
  'a=rtpmap:117 rtx/90000',
  'a=fmtp:117 apt=116',
  'a=rtpmap:112 H264/90000',
  'a=rtcp-fb:112 nack pli',
  'a=fmtp:112 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f',
  'a=rtpmap:113 rtx/90000',
  'a=fmtp:113 apt=112',
  'a=rtpmap:45 AV1/90000',
  'a=rtcp-fb:45 nack pli',
  'a=fmtp:45 level-idx=5;profile=0;tier=0',
  'a=rtpmap:46 rtx/90000',
  'a=fmtp:46 apt=45',
  'a=rtpmap:114 red/90000',
  'a=rtpmap:115 rtx/90000',
  'a=fmtp:115 apt=114',
  'a=rtpmap:118 ulpfec/90000',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=mid:2',
  'a=sctp-port:5000',
  'a=max-message-size:262144',
];
const CHROME_OFFER = CHROME_OFFER_LINES.join('\r\n') + '\r\n';

/** The offer with some lines removed (by prefix) and the video m-line's payload list replaced. */
function variant(pts: number[], drop: (line: string) => boolean = () => false): string {
  return (
    CHROME_OFFER_LINES.filter((l) => !drop(l))
      .map((l) => (l.startsWith('m=video') ? `m=video 9 UDP/TLS/RTP/SAVPF ${pts.join(' ')}` : l))
      .join('\r\n') + '\r\n'
  );
}
const dropPts = (pts: number[]) => (line: string) => pts.some((pt) => new RegExp(`^a=(rtpmap|fmtp|rtcp-fb):${pt} `).test(line));

t.test('offeredVideoCodecs lists the first video m-section in m-line order', async (t) => {
  const codecs = offeredVideoCodecs(CHROME_OFFER);
  t.same(codecs.map((c) => c.payloadType), [96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 116, 117, 112, 113, 45, 46, 114, 115, 118]);
  t.same(
    codecs.map((c) => c.name),
    ['VP8', 'RTX', 'VP9', 'RTX', 'VP9', 'RTX', 'H264', 'RTX', 'H264', 'RTX', 'H264', 'RTX', 'H264', 'RTX', 'H264', 'RTX', 'H264', 'RTX', 'AV1', 'RTX', 'RED', 'RTX', 'ULPFEC'],
    'names upper-cased',
  );
  t.notOk(codecs.some((c) => c.name === 'OPUS' || c.payloadType === 111), 'audio codecs not included');
  const h264 = codecs.find((c) => c.payloadType === 108)!;
  t.same([...h264.params], [['level-asymmetry-allowed', '1'], ['packetization-mode', '1'], ['profile-level-id', '42e01f']]);
  t.same([...codecs.find((c) => c.payloadType === 97)!.params], [['apt', '96']]);
  t.same([...codecs.find((c) => c.payloadType === 100)!.params], [['profile-id', '2']]);
  t.same([...codecs.find((c) => c.payloadType === 96)!.params], [], 'no fmtp: empty params');
  t.same(offeredVideoCodecs(CHROME_OFFER.replace(/\r\n/g, '\n')), codecs, 'LF line ends give the same result');
});

t.test('offeredVideoCodecs edge cases', async (t) => {
  t.same(offeredVideoCodecs(''), []);
  t.same(offeredVideoCodecs(variant([], (l) => l.startsWith('m=video')).replace('m=video', '')), []);
  const audioOnly = CHROME_OFFER_LINES.slice(0, CHROME_OFFER_LINES.findIndex((l) => l.startsWith('m=video'))).join('\r\n');
  t.same(offeredVideoCodecs(audioOnly), [], 'no video m-section');
  // Payload types in the m-line without an rtpmap are skipped; only the first video section counts.
  const two = ['v=0', 'm=video 9 RTP/AVP 120 121', 'a=rtpmap:120 VP8/90000', 'm=video 9 RTP/AVP 96', 'a=rtpmap:96 VP9/90000'].join('\r\n');
  t.same(offeredVideoCodecs(two).map((c) => [c.payloadType, c.name]), [[120, 'VP8']]);
});

t.test('VP8 picks 96 and leaves the offer untouched', async (t) => {
  const match = matchOfferedCodec(CHROME_OFFER, 'vp8');
  t.same(match, { payloadType: 96, sdp: CHROME_OFFER });
  t.equal(matchOfferedCodec(CHROME_OFFER, 'vp8', 96)?.payloadType, 96);
  t.equal(matchOfferedCodec(CHROME_OFFER, 'vp8', 120)?.payloadType, 96, 'a current payload type not offered is ignored');
  const moved = ['v=0', 'm=video 9 RTP/AVP 120 121', 'a=rtpmap:120 VP8/90000', 'a=rtpmap:121 rtx/90000', 'a=fmtp:121 apt=120'].join('\r\n');
  t.equal(matchOfferedCodec(moved, 'vp8', 96)?.payloadType, 120, 'VP8 at another payload type');
});

t.test('VP9 picks the first offered entry (profile-id=0 here)', async (t) => {
  t.same(matchOfferedCodec(CHROME_OFFER, 'vp9'), { payloadType: 98, sdp: CHROME_OFFER });
  t.equal(matchOfferedCodec(CHROME_OFFER, 'vp9', 98)?.payloadType, 98);
});

t.test('H.264: constrained baseline with packetization-mode=1 preferred', async (t) => {
  const match = matchOfferedCodec(CHROME_OFFER, 'h264');
  t.equal(match?.payloadType, 108, '42e01f pm=1 beats 42001f (102), 4d001f (116), 64001f (112)');
  t.equal(matchOfferedCodec(CHROME_OFFER, 'h264', 999)?.payloadType, 108, 'unknown current payload type: ranking decides');
  const c0 = variant([102, 110, 116], dropPts([110])).replace(
    /(a=fmtp:116 .*\r\n)/,
    '$1a=rtpmap:110 H264/90000\r\na=fmtp:110 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42C01F\r\n',
  );
  t.equal(matchOfferedCodec(c0, 'h264')?.payloadType, 110, '42c0 (upper-case hex) counts as constrained baseline');
});

t.test('H.264: the current payload type wins when it is offered with packetization-mode=1', async (t) => {
  t.equal(matchOfferedCodec(CHROME_OFFER, 'h264', 102)?.payloadType, 102, '102 (42001f pm=1) kept over 108');
  t.equal(matchOfferedCodec(CHROME_OFFER, 'h264', 116)?.payloadType, 116, '116 (4d001f pm=1) kept');
  t.equal(matchOfferedCodec(CHROME_OFFER, 'h264', 104)?.payloadType, 108, '104 is pm=0: not kept');
  t.equal(matchOfferedCodec(CHROME_OFFER, 'h264', 106)?.payloadType, 108, '106 is pm=0: not kept');
  t.equal(matchOfferedCodec(CHROME_OFFER, 'h264', 103)?.payloadType, 108, '103 is rtx: not kept');
});

t.test('H.264 ranking: constrained baseline > baseline > others; pm=0 never', async (t) => {
  // Without 108: baseline 42001f (102) beats main (116) and high (112).
  const noCb = variant([102, 104, 106, 116, 112], dropPts([108]));
  t.equal(matchOfferedCodec(noCb, 'h264')?.payloadType, 102);
  // Order in the m-line does not matter for the rank.
  t.equal(matchOfferedCodec(variant([112, 116, 102, 108]), 'h264')?.payloadType, 108);
  t.equal(matchOfferedCodec(variant([112, 116, 102]), 'h264')?.payloadType, 102);
  // Only main/high: the first offered of equal rank.
  t.equal(matchOfferedCodec(variant([116, 112, 104, 106]), 'h264')?.payloadType, 116);
  t.equal(matchOfferedCodec(variant([112, 116, 104, 106]), 'h264')?.payloadType, 112);
  // Only packetization-mode=0 entries: no match, even when current.
  t.equal(matchOfferedCodec(variant([96, 104, 106]), 'h264'), undefined);
  t.equal(matchOfferedCodec(variant([96, 104, 106]), 'h264', 104), undefined);
  // No packetization-mode parameter means mode 0.
  const noPm = ['v=0', 'm=video 9 RTP/AVP 126', 'a=rtpmap:126 H264/90000', 'a=fmtp:126 profile-level-id=42e01f'].join('\r\n');
  t.equal(matchOfferedCodec(noPm, 'h264'), undefined);
  // pm=1 without profile-level-id counts as baseline 42001f.
  const noProfile = [
    'v=0',
    'm=video 9 RTP/AVP 120 121',
    'a=rtpmap:120 H264/90000',
    'a=fmtp:120 packetization-mode=1;profile-level-id=64001f',
    'a=rtpmap:121 H264/90000',
    'a=fmtp:121 packetization-mode=1',
  ].join('\r\n');
  t.equal(matchOfferedCodec(noProfile, 'h264')?.payloadType, 121);
});

t.test('H.264: profile-level-id removed only from the chosen fmtp line (Chrome order)', async (t) => {
  const match = matchOfferedCodec(CHROME_OFFER, 'h264')!;
  const expected = CHROME_OFFER.replace(
    'a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n',
    'a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1\r\n',
  );
  t.not(expected, CHROME_OFFER);
  t.equal(match.sdp, expected, 'exactly one line changed');
  t.match(match.sdp, /^a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r$/m, '102 untouched');
  t.match(match.sdp, /^a=fmtp:106 .*profile-level-id=42e01f\r$/m, '106 untouched');
  t.equal(match.sdp.split('\r\n').length, CHROME_OFFER.split('\r\n').length, 'same number of lines');
  t.equal(matchOfferedCodec(CHROME_OFFER, 'h264', 102)!.sdp, CHROME_OFFER.replace(';profile-level-id=42001f\r\na=rtpmap:103', '\r\na=rtpmap:103'), 'current 102: only its line');
  // LF-only offer stays LF-only.
  const lf = CHROME_OFFER.replace(/\r\n/g, '\n');
  t.equal(matchOfferedCodec(lf, 'h264')!.sdp, expected.replace(/\r\n/g, '\n'));
  // Profile-level-id in the middle.
  const middle = ['v=0', 'm=video 9 RTP/AVP 120', 'a=rtpmap:120 H264/90000', 'a=fmtp:120 level-asymmetry-allowed=1;profile-level-id=42e01f;packetization-mode=1', ''].join('\r\n');
  t.equal(matchOfferedCodec(middle, 'h264')!.sdp, middle.replace(';profile-level-id=42e01f', ''));
});

// Regression: const FIREFOX_BUG =
  'the removal regex /;?\\s*profile-level-id=[0-9a-fA-F]+/ also eats the blank after the payload type, so ' +
  '"a=fmtp:126 profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1" becomes ' +
  '"a=fmtp:126;level-asymmetry-allowed=1;packetization-mode=1" (the "a=fmtp:126 ;" fix-up never matches)';
t.test(
  'H.264: profile-level-id first in the fmtp line (Firefox order) keeps "a=fmtp:<pt> <params>" well-formed',
  async (t) => {
    const firefox = [
      'v=0',
      'o=mozilla...THIS_IS_SDPARTA-99.0 1 0 IN IP4 0.0.0.0',
      's=-',
      't=0 0',
      'm=video 9 UDP/TLS/RTP/SAVPF 120 124 121 125 126 127 97 98',
      'a=mid:0',
      'a=rtpmap:120 VP8/90000',
      'a=rtpmap:124 rtx/90000',
      'a=fmtp:124 apt=120',
      'a=rtpmap:121 VP9/90000',
      'a=rtpmap:125 rtx/90000',
      'a=fmtp:125 apt=121',
      'a=rtpmap:126 H264/90000',
      'a=fmtp:126 profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1',
      'a=rtpmap:127 rtx/90000',
      'a=fmtp:127 apt=126',
      'a=rtpmap:97 H264/90000',
      'a=fmtp:97 profile-level-id=42e01f;level-asymmetry-allowed=1',
      'a=rtpmap:98 rtx/90000',
      'a=fmtp:98 apt=97',
      '',
    ].join('\r\n');
    const match = matchOfferedCodec(firefox, 'h264', 102)!;
    t.equal(match.payloadType, 126);
    t.equal(match.sdp, firefox.replace('a=fmtp:126 profile-level-id=42e01f;', 'a=fmtp:126 '), 'blank after the payload type kept');
  },
);

t.test('undefined when the codec is absent', async (t) => {
  const noH264 = variant([96, 97, 98, 99, 45], dropPts([102, 104, 106, 108, 116, 112]));
  t.equal(matchOfferedCodec(noH264, 'h264'), undefined);
  t.equal(matchOfferedCodec(noH264, 'h264', 102), undefined);
  t.equal(matchOfferedCodec(variant([102, 108]), 'vp8'), undefined, 'VP8 rtpmap present but not in the m-line');
  t.equal(matchOfferedCodec(variant([96, 102]), 'vp9'), undefined);
  const audioOnly = CHROME_OFFER_LINES.slice(0, CHROME_OFFER_LINES.findIndex((l) => l.startsWith('m=video'))).join('\r\n');
  t.equal(matchOfferedCodec(audioOnly, 'vp8'), undefined, 'no video m-section');
  t.equal(matchOfferedCodec('', 'vp8'), undefined);
});
