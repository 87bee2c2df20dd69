// Pure unit tests for lib/media/sdp.ts: description validation, mids per m-section, candidate normalisation.
import t from 'tap';
import { validateDescription, midsOf, normalizeCandidate, sendingVideoNamesSsrc } from '../../lib/media/sdp.js';
import { InvalidArgumentError } from '../../lib/errors.js';

const invalid = (message: RegExp) => ({ name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT', message });

const SDP_LINES = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1 2',
  'a=msid-semantic: WMS',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=mid:0',
  'a=rtpmap:111 opus/48000/2',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'c=IN IP4 0.0.0.0',
  'a=mid:1',
  'a=rtpmap:96 VP8/90000',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=mid:2',
  'a=sctp-port:5000',
];
const CRLF_SDP = SDP_LINES.join('\r\n') + '\r\n';
const LF_SDP = SDP_LINES.join('\n') + '\n';

t.test('validateDescription accepts offer/answer/pranswer with CRLF SDP unchanged', async (t) => {
  for (const type of ['offer', 'answer', 'pranswer'] as const) {
    t.same(validateDescription({ type, sdp: CRLF_SDP }, 'setRemoteDescription'), { type, sdp: CRLF_SDP }, type);
  }
});

t.test('validateDescription normalises LF (and mixed) line ends to CRLF', async (t) => {
  const out = validateDescription({ type: 'offer', sdp: LF_SDP }, 'setRemoteDescription');
  t.equal(out.sdp, CRLF_SDP);
  t.notMatch(out.sdp, /[^\r]\n/, 'no bare LF left');
  const mixed = SDP_LINES.slice(0, 2).join('\n') + '\r\n' + SDP_LINES.slice(2).join('\n') + '\r\n';
  t.equal(validateDescription({ type: 'answer', sdp: mixed }, 'op').sdp, CRLF_SDP, 'mixed → CRLF, no \\r\\r\\n');
  t.equal(validateDescription({ type: 'offer', sdp: 'v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0' }, 'op').sdp, 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0', 'no trailing line end added');
});

t.test('rollback needs no SDP and returns an empty one', async (t) => {
  t.same(validateDescription({ type: 'rollback' }, 'setLocalDescription'), { type: 'rollback', sdp: '' });
  t.same(validateDescription({ type: 'rollback', sdp: 'garbage' }, 'setLocalDescription'), { type: 'rollback', sdp: '' }, 'SDP ignored');
});

t.test('validateDescription rejects non-objects and bad types', async (t) => {
  t.throws(() => validateDescription(null, 'setRemoteDescription'), invalid(/^setRemoteDescription: expected \{type, sdp\}, got object$/));
  t.throws(() => validateDescription(undefined, 'setRemoteDescription'), invalid(/expected \{type, sdp\}, got undefined/));
  t.throws(() => validateDescription('v=0\r\n', 'setRemoteDescription'), invalid(/expected \{type, sdp\}, got string/));
  t.throws(() => validateDescription({ sdp: CRLF_SDP }, 'setRemoteDescription'), invalid(/^setRemoteDescription: type must be one of offer, answer, pranswer, rollback \(got undefined\)$/));
  t.throws(() => validateDescription({ type: 'Offer', sdp: CRLF_SDP }, 'op'), invalid(/type must be one of .* \(got "Offer"\)/), 'type is case-sensitive');
  t.throws(() => validateDescription({ type: 'bogus', sdp: CRLF_SDP }, 'op'), invalid(/\(got "bogus"\)/));
  t.throws(() => validateDescription({ type: 1, sdp: CRLF_SDP }, 'op'), invalid(/\(got 1\)/));
});

t.test('validateDescription rejects malformed SDP', async (t) => {
  const start = /^setRemoteDescription: malformed SDP \(it must start with "v=0" and a line break\)$/;
  t.throws(() => validateDescription({ type: 'offer' }, 'setRemoteDescription'), invalid(start), 'no sdp');
  t.throws(() => validateDescription({ type: 'offer', sdp: 42 }, 'setRemoteDescription'), invalid(start), 'non-string sdp');
  t.throws(() => validateDescription({ type: 'offer', sdp: '' }, 'setRemoteDescription'), invalid(start), 'empty sdp');
  t.throws(() => validateDescription({ type: 'offer', sdp: 'v=0' }, 'setRemoteDescription'), invalid(start), 'v=0 without a line break');
  t.throws(() => validateDescription({ type: 'offer', sdp: 'v=1\r\n' + SDP_LINES.slice(1).join('\r\n') }, 'setRemoteDescription'), invalid(start), 'v=1');
  t.throws(() => validateDescription({ type: 'offer', sdp: ' v=0\r\n' + SDP_LINES.slice(1).join('\r\n') }, 'setRemoteDescription'), invalid(start), 'leading blank');
  t.throws(() => validateDescription({ type: 'offer', sdp: 'hello world' }, 'setRemoteDescription'), invalid(start));

  for (const missing of ['o=', 's=', 't=']) {
    const sdp = SDP_LINES.filter((l) => !l.startsWith(missing)).join('\r\n') + '\r\n';
    t.throws(() => validateDescription({ type: 'offer', sdp }, 'setRemoteDescription'), invalid(new RegExp(`^setRemoteDescription: malformed SDP \\(no "${missing}" line\\)$`)), `no ${missing} line`);
  }

  const garbage = [...SDP_LINES.slice(0, 6), 'this is not sdp', ...SDP_LINES.slice(6)].join('\r\n');
  t.throws(() => validateDescription({ type: 'offer', sdp: garbage }, 'setRemoteDescription'), invalid(/^setRemoteDescription: malformed SDP line "this is not sdp"$/));
  const upper = [...SDP_LINES, 'A=mid:3'].join('\r\n');
  t.throws(() => validateDescription({ type: 'answer', sdp: upper }, 'op'), invalid(/malformed SDP line "A=mid:3"/), 'upper-case type letter');
  const blankStart = [...SDP_LINES, ' a=mid:3'].join('\r\n');
  t.throws(() => validateDescription({ type: 'answer', sdp: blankStart }, 'op'), invalid(/malformed SDP line " a=mid:3"/));
  const long = [...SDP_LINES, 'x'.repeat(200)].join('\r\n');
  t.throws(() => validateDescription({ type: 'answer', sdp: long }, 'op'), invalid(new RegExp(`malformed SDP line "${'x'.repeat(60)}"$`)), 'bad line cut to 60 characters');
});

t.test('midsOf lists the mid of each m-section in order', async (t) => {
  t.same(midsOf(CRLF_SDP), ['0', '1', '2']);
  t.same(midsOf(LF_SDP), ['0', '1', '2'], 'LF line ends');
  t.same(midsOf(null), []);
  t.same(midsOf(undefined), []);
  t.same(midsOf(''), []);
  t.same(midsOf('v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n'), [], 'no m-sections');
  const sdp = [
    'v=0',
    'a=mid:session-level-ignored',
    'm=audio 9 RTP/AVP 0',
    'm=video 9 UDP/TLS/RTP/SAVPF 96',
    'a=mid:video0 ',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    'a=mid:data',
  ].join('\r\n');
  t.same(midsOf(sdp), [null, 'video0', 'data'], 'null where an m-section has no mid; session-level a=mid ignored; value trimmed');
});

t.test('sendingVideoNamesSsrc: a video m-section that sends must name its SSRC', async (t) => {
  const head = ['v=0', 'o=- 1 0 IN IP4 0.0.0.0', 's=-', 't=0 0'];
  const video = (port: number, ...attrs: string[]) => [`m=video ${port} UDP/TLS/RTP/SAVPF 102`, 'a=rtpmap:102 H264/90000', ...attrs];
  const sdp = (...lines: string[]) => [...head, ...lines, ''].join('\r\n');
  t.equal(sendingVideoNamesSsrc(sdp(...video(9, 'a=sendonly', 'a=ssrc:474347166 cname:x'))), true, 'sendonly with a=ssrc');
  t.equal(sendingVideoNamesSsrc(sdp(...video(9, 'a=sendonly', 'a=fmtp:102 packetization-mode=1'))), false, 'sendonly without: webrtcbin had no caps yet');
  t.equal(sendingVideoNamesSsrc(sdp(...video(9, 'a=sendrecv'))), false, 'sendrecv without');
  t.equal(sendingVideoNamesSsrc(sdp(...video(9, 'a=recvonly'))), true, 'a receiving section has nothing to name');
  t.equal(sendingVideoNamesSsrc(sdp(...video(9, 'a=inactive'))), true, 'inactive');
  t.equal(sendingVideoNamesSsrc(sdp(...video(0, 'a=sendonly'))), true, 'a rejected section (port 0)');
  t.equal(sendingVideoNamesSsrc(sdp('m=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=sendonly')), true, 'audio is not checked');
  t.equal(sendingVideoNamesSsrc(sdp('m=application 9 UDP/DTLS/SCTP webrtc-datachannel')), true, 'no video at all');
  t.equal(sendingVideoNamesSsrc(sdp('m=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=ssrc:1 cname:x', ...video(9, 'a=sendonly'))), false, "another section's a=ssrc does not count");
  t.equal(sendingVideoNamesSsrc([...head, ...video(9, 'a=sendonly', 'a=ssrc:5 cname:x')].join('\n')), true, 'LF line ends');
});

const HOST = 'candidate:842163049 1 udp 1677729535 192.0.2.33 54400 typ host generation 0 ufrag EsAw network-cost 999';
const MDNS = 'candidate:1 1 udp 2122260223 3f1a9c2e-1234-4abc-9def-0123456789ab.local 54321 typ host generation 0';

t.test('normalizeCandidate returns "candidate:…" exactly once', async (t) => {
  t.equal(normalizeCandidate(HOST), HOST, 'already normalised');
  t.equal(normalizeCandidate(`a=${HOST}`), HOST, 'a= prefix stripped');
  t.equal(normalizeCandidate(HOST.slice('candidate:'.length)), HOST, 'bare value gets the prefix');
  t.equal(normalizeCandidate(`  a=${HOST}\r\n`), HOST, 'blanks and CRLF trimmed');
  t.equal(normalizeCandidate(MDNS), MDNS, 'mDNS .local host candidate');
  t.equal(normalizeCandidate(`a=${MDNS}`), MDNS);
  const srflx = 'candidate:3 1 udp 1686052607 203.0.113.5 61000 typ srflx raddr 192.168.1.2 rport 61000 generation 0';
  t.equal(normalizeCandidate(srflx), srflx);
  const relay = 'candidate:4 1 udp 41885439 198.51.100.9 50000 typ relay raddr 203.0.113.5 rport 61000';
  t.equal(normalizeCandidate(relay), relay);
  const tcp = 'candidate:5 1 tcp 1518280447 192.168.1.2 9 typ host tcptype active generation 0';
  t.equal(normalizeCandidate(tcp), tcp);
  const ipv6 = 'candidate:6 1 UDP 2122262783 2001:db8::1 50001 typ host';
  t.equal(normalizeCandidate(ipv6), ipv6, 'IPv6 address, upper-case transport');
  const prflx = 'candidate:7 2 udp 1845501695 203.0.113.7 40000 typ prflx';
  t.equal(normalizeCandidate(prflx), prflx, 'component 2, no trailing attributes');
  for (const c of [HOST, `a=${HOST}`, HOST.slice(10), MDNS]) {
    t.equal(normalizeCandidate(c).split('candidate:').length, 2, `one "candidate:" in ${c.slice(0, 20)}…`);
  }
});

t.test('bogus candidates throw InvalidArgumentError with a clear message', async (t) => {
  const bogus = [
    '',
    'candidate:',
    'a=',
    'hello',
    'candidate:1 1 udp 2122260223 192.0.2.1 54321',
    'candidate:1 1 udp 2122260223 192.0.2.1 54321 typ',
    'candidate:1 1 udp 2122260223 192.0.2.1 54321 typ foo',
    'candidate:1 1 sctp 2122260223 192.0.2.1 54321 typ host',
    'candidate:1 x udp 2122260223 192.0.2.1 54321 typ host',
    'candidate:1 1 udp prio 192.0.2.1 54321 typ host',
    'candidate:1 1 udp 2122260223 192.0.2.1 port typ host',
    'candidate:1 1 udp 2122260223 192.0.2.1 123456 typ host',
    'candidate:1 1 udp 2122260223 192.0.2.1 54321 typ hostgeneration 0',
    'm=video 9 UDP/TLS/RTP/SAVPF 96',
  ];
  for (const text of bogus) {
    t.throws(
      () => normalizeCandidate(text),
      invalid(/^addIceCandidate: .* is not an ICE candidate \(expected "candidate:<foundation> <component> <udp\|tcp> <priority> <address> <port> typ <type> …"\)$/),
      JSON.stringify(text),
    );
  }
  t.throws(() => normalizeCandidate('hello'), { message: /^addIceCandidate: "hello" is not an ICE candidate/ }, 'the input is quoted');
  const long = 'z'.repeat(200);
  t.throws(() => normalizeCandidate(long), { message: new RegExp(`^addIceCandidate: "${'z'.repeat(80)}" is not`) }, 'quoted input cut to 80 characters');
  t.throws(() => normalizeCandidate('bogus'), InvalidArgumentError);
});

// Regressions found by review: const PORT_BUG =
  'CANDIDATE regex allows any 1-5 digit port: normalizeCandidate("candidate:1 1 udp 2122260223 192.0.2.1 99999 typ host") ' +
  'returns it unchanged instead of throwing';
t.test('a port above 65535 is not a valid candidate', async (t) => {
  const text = 'candidate:1 1 udp 2122260223 192.0.2.1 99999 typ host';
  t.equal(outcome(text), 'InvalidArgumentError', `${text} rejected`);
});

const DOUBLING_BUG =
  'the foundation pattern accepts any non-blank run (":" and "=" included), so a leftover prefix becomes part of it and ' +
  '"candidate:" is prepended again: normalizeCandidate("CANDIDATE:1 1 udp 2122260223 10.0.0.1 5000 typ host") returns ' +
  '"candidate:CANDIDATE:1 1 udp 2122260223 10.0.0.1 5000 typ host"; "A=candidate:1 …" → "candidate:A=candidate:1 …"; ' +
  '"a=a=candidate:1 …" → "candidate:a=candidate:1 …"; "candidate:candidate:1 …" is returned unchanged ' +
  '(RFC 8839: a foundation is 1 to 32 of ALPHA / DIGIT / "+" / "/")';
t.test('a prefix that is not exactly "candidate:" / "a=" is never doubled', async (t) => {
  const rest = '1 1 udp 2122260223 10.0.0.1 5000 typ host';
  for (const text of [`CANDIDATE:${rest}`, `A=candidate:${rest}`, `a=a=candidate:${rest}`, `candidate:candidate:${rest}`]) {
    const out = outcome(text);
    t.ok(out === 'InvalidArgumentError' || out === `candidate:${rest}`, `${text.slice(0, 24)}… gave ${out}`);
  }
});

/** normalizeCandidate's result, or the name of the error it threw. */
function outcome(text: string): string {
  try {
    return normalizeCandidate(text);
  } catch (error) {
    return (error as Error).name;
  }
}
