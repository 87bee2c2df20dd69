// The pure pieces of codec negotiation (issue 14): the publisher's codec order and the choice against
// a viewer's list or offer (lib/publish/codecs.ts), H.264 levels (lib/media/send.ts), and the SDP we
// put on the wire (lib/media/sdp.ts, tidySdp) read back by werift's SDP parser.
import t from 'tap';
import { SessionDescription } from 'werift';
import {
  CODEC_ORDER,
  chooseForOffer,
  chooseForViewer,
  noCommonCodecMessage,
  normalizeCodecNames,
  offerCodecNames,
  sendableCodecs,
  videoRejected,
} from '../../lib/publish/codecs.js';
import { h264Level, h264LevelFor } from '../../lib/media/send.js';
import { tidySdp } from '../../lib/media/sdp.js';

const sdp = (...lines: string[]) => lines.join('\r\n') + '\r\n';
const HEAD = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0'];
const ICE = ['c=IN IP4 0.0.0.0', 'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'a=fingerprint:sha-256 4F:1A:2B:3C:4D:5E:6F:70:81:92:A3:B4:C5:D6:E7:F8:09:1A:2B:3C:4D:5E:6F:70:81:92:A3:B4:C5:D6:E7:F8', 'a=setup:actpass', 'a=rtcp-mux'];

// A browser offer whose video lists AV1, then VP8, then H.264 in both packetization modes.
const BROWSER_OFFER = sdp(
  ...HEAD,
  'm=video 9 UDP/TLS/RTP/SAVPF 45 96 97 102 103',
  ...ICE,
  'a=mid:0',
  'a=recvonly',
  'a=rtpmap:45 AV1/90000',
  'a=rtpmap:96 VP8/90000',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:102 H264/90000',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f',
  'a=rtpmap:103 H264/90000',
  'a=fmtp:103 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
);

t.test('the publisher\'s order is the cheapest measured first, and only installed encoders count', async (t) => {
  t.same(CODEC_ORDER, ['h264', 'vp9', 'vp8'], 'x264 < vp9 < vp8 in CPU per 720p frame (docs/benchmarks.md)');
  t.same(sendableCodecs(() => true), ['h264', 'vp9', 'vp8']);
  t.same(sendableCodecs((e) => e !== 'x264enc'), ['h264', 'vp9', 'vp8'], 'openh264enc alone still gives H.264');
  t.same(sendableCodecs((e) => e === 'vp8enc'), ['vp8'], 'only what is installed');
  t.same(sendableCodecs((e) => e !== 'x264enc' && e !== 'openh264enc'), ['vp9', 'vp8'], 'no H.264 encoder: no H.264 offered');
  t.same(sendableCodecs(() => true, 'vp8'), ['vp8'], 'a user-set video.codec restricts the list to it');
  t.same(sendableCodecs(() => false, 'vp8'), [], 'restricted to a codec that is not installed: nothing');
});

t.test('a viewer\'s list: the first of ours it decodes', async (t) => {
  t.same(normalizeCodecNames(['video/VP8', 'video/rtx', 'video/H264', 'video/H264', 'video/red', 'video/ulpfec', 'video/AV1']), ['VP8', 'H264', 'AV1']);
  t.equal(chooseForViewer(['h264', 'vp9', 'vp8'], ['video/VP8', 'video/H264']), 'h264', 'our order wins: H.264 is the cheaper to encode');
  t.equal(chooseForViewer(['h264', 'vp9', 'vp8'], ['VP8']), 'vp8', 'a VP8-only viewer gets VP8');
  t.equal(chooseForViewer(['h264', 'vp9', 'vp8'], ['vp9', 'vp8']), 'vp9', 'names are case-insensitive');
  t.equal(chooseForViewer(['h264', 'vp9', 'vp8'], ['AV1', 'H265']), undefined, 'nothing in common');
  t.equal(chooseForViewer(['h264', 'vp9', 'vp8'], []), undefined, 'an empty list has nothing in common');
});

t.test('a browser\'s offer: its first codec we can encode', async (t) => {
  t.equal(chooseForOffer(['h264', 'vp9', 'vp8'], BROWSER_OFFER), 'vp8', 'AV1 skipped, VP8 is the offer\'s first we encode');
  t.equal(chooseForOffer(['h264'], BROWSER_OFFER), 'h264', 'H.264 in packetization-mode 1 is usable');
  const modeZeroOnly = BROWSER_OFFER.replace(/ 96 97 102 103/, ' 102').replace(/a=rtpmap:(96|97|103)[^\r]*\r\n|a=fmtp:(97|103)[^\r]*\r\n/g, '');
  t.equal(chooseForOffer(['h264', 'vp8'], modeZeroOnly), undefined, 'H.264 only in packetization-mode 0 is not usable');
  t.same(offerCodecNames(BROWSER_OFFER), ['AV1', 'VP8', 'H264'], 'the offer\'s codecs, rtx left out, for the error message');
  t.equal(chooseForOffer(['vp9'], BROWSER_OFFER), undefined, 'no common codec');
  t.equal(chooseForOffer(['vp9'], sdp(...HEAD, 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=rtpmap:111 opus/48000/2')), 'vp9', 'no video in the offer: any codec');
});

t.test('a rejected video m-line in an answer, and the message naming both sides', async (t) => {
  t.ok(videoRejected(sdp(...HEAD, 'm=video 0 UDP/TLS/RTP/SAVPF 102', 'a=mid:0')));
  t.notOk(videoRejected(sdp(...HEAD, 'm=video 9 UDP/TLS/RTP/SAVPF 102', 'a=mid:0')));
  t.notOk(videoRejected(sdp(...HEAD, 'm=audio 0 UDP/TLS/RTP/SAVPF 111')), 'only video counts');
  const message = noCommonCodecMessage(['H264', 'VP9', 'VP8'], ['AV1']);
  t.match(message, /publisher encodes H264, VP9, VP8/);
  t.match(message, /viewer decodes AV1/);
  t.notMatch(message, /relay|firewall/i, 'the network is not blamed');
});

t.test('H.264 level follows the size and rate, never below 3.1', async (t) => {
  t.equal(h264Level(320, 240, 30), 0x1f, 'small: 3.1 (42e01f, what browsers offer)');
  t.equal(h264Level(1280, 720, 30), 0x1f, '720p30: 3.1');
  t.equal(h264Level(1280, 720, 60), 0x20, '720p60: 3.2');
  t.equal(h264Level(1920, 1080, 30), 0x28, '1080p30: 4.0');
  t.equal(h264Level(1920, 1080, 60), 0x2a, '1080p60: 4.2');
  t.equal(h264Level(3840, 2160, 30), 0x33, '2160p30: 5.1');
  t.equal(h264Level(7680, 4320, 60), 0x3d, '4320p60: 6.1');
  t.equal(h264LevelFor({}), 0x1f, 'the defaults (1280×720 at 30)');
});

// What webrtcbin 1.22 writes (an answer to a Chrome offer that had level-asymmetry-allowed=1).
const WEBRTCBIN = sdp(
  ...HEAD,
  'a=ice-options:trickle',
  'm=video 9 UDP/TLS/RTP/SAVPF 102 96',
  ...ICE,
  'a=mid:video0',
  'a=sendonly',
  'a=rtpmap:102 H264/90000',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;sprop-parameter-sets=Z0LAH9oBQBbsBagwMDIAAAMAAgAAAwB5HjBlQA==,aM48gA==;profile-level-id=42c01f;level-asymmetry-allowed=1',
  'a=rtpmap:96 rtx/90000',
  'a=fmtp:96 apt=102',
  'a=ssrc-group:FID 2527899299 3112841324',
  'a=ssrc:2527899299 msid:user2237821481@host-27bf06a9 webrtctransceiver0',
  'a=ssrc:2527899299 cname:user2237821481@host-27bf06a9',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'a=mid:application1',
  'a=sctp-port:5000',
);

t.test('tidySdp: each fmtp parameter once, a=msid per sending m-line, H.264 offers as 42e0', async (t) => {
  const answer = tidySdp(WEBRTCBIN);
  t.equal(answer.match(/level-asymmetry-allowed/g)?.length, 1, 'level-asymmetry-allowed once');
  t.match(answer, /a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;sprop-parameter-sets=[^;]+;profile-level-id=42c01f\r\n/, 'the rest kept in order; an answer keeps the stream\'s profile-level-id');
  t.match(answer, /a=mid:video0\r\na=msid:user2237821481-host-27bf06a9 webrtctransceiver0\r\n/, 'a=msid after the mid, naming the a=ssrc lines\' stream and track');
  t.match(answer, /a=ssrc:2527899299 msid:user2237821481-host-27bf06a9 webrtctransceiver0\r\n/, 'both in RFC 4566 token-chars (webrtcbin\'s "@" is not one), alike');
  t.match(answer, /a=ssrc:2527899299 cname:user2237821481@host-27bf06a9\r\n/, 'the cname (any byte-string) is left alone');
  t.equal(answer.match(/^a=msid:/gm)?.length, 1, 'none for the data channel m-line');
  t.ok(answer.endsWith('\r\n'), 'CRLF kept');
  t.equal(tidySdp(answer), answer, 'idempotent');

  const offer = tidySdp(WEBRTCBIN, { h264Level: 0x1f });
  t.match(offer, /profile-level-id=42e01f/, 'an offer says constrained baseline as browsers write it');
  t.match(tidySdp(WEBRTCBIN, { h264Level: 0x28 }), /profile-level-id=42e028/, 'at the planned size\'s level when higher');
  t.match(tidySdp(WEBRTCBIN.replace('42c01f', '42c032'), { h264Level: 0x1f }), /profile-level-id=42e032/, 'or at the encoder\'s when that is higher');

  const recvonly = tidySdp(WEBRTCBIN.replace('a=sendonly', 'a=recvonly'));
  t.notMatch(recvonly, /^a=msid:/m, 'a recvonly m-line gets no a=msid');
  const noSsrc = tidySdp(WEBRTCBIN.replace(/a=ssrc[^\r]*\r\n/g, ''));
  t.match(noSsrc, /a=msid:- video0\r\n/, 'without a=ssrc lines: no stream ("-"), the mid as track');

  // RFC 8830's grammar: msid-id [SP msid-appdata], each 1–64 RFC 4566 token-chars.
  const token = '[\\x21\\x23-\\x27\\x2A\\x2B\\x2D\\x2E\\x30-\\x39\\x41-\\x5A\\x5E-\\x7E]{1,64}';
  for (const line of offer.match(/^a=msid:.*$/gm) ?? []) t.match(line, new RegExp(`^a=msid:${token}( ${token})?$`), `${line} follows RFC 8830`);
  // A strict reading: werift's parser takes it and sees one msid and the deduplicated parameters.
  const parsed = SessionDescription.parse(offer);
  t.equal(parsed.media.length, 2);
  t.same(parsed.media[0]!.msids, ['user2237821481-host-27bf06a9 webrtctransceiver0']);
  const h264 = parsed.media[0]!.rtp.codecs.find((c) => c.payloadType === 102);
  t.equal(h264?.parameters?.match(/level-asymmetry-allowed/g)?.length, 1);
});
