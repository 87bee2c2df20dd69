// What a remote peer sends must never reach a g_assert in webrtcbin 1.22 (an abort takes every viewer
// of the publisher with it). Each case applies one input to a real peer in a child process
// (fixtures/remote-input.ts) and asserts the child survives and refuses the input with an
// InvalidArgumentError naming it. The children run with G_DEBUG=fatal-criticals, so a g_return_* that
// the input reaches fails its case too. docs/reliability.md lists the audit these cases come from.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { runNode, type FixtureResult } from '../helpers/fixture.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'remote-input.ts');

interface Case {
  name: string;
  scenario: 'answer' | 'offer' | 'offer+channel' | 'reoffer' | 'candidate';
  input: unknown;
  refusal: RegExp; // the InvalidArgumentError's message
  asEvent?: boolean; // refused later, as a 'warning' event (a candidate buffered before the description)
}

// The m-line leans on the session level for its ICE credentials (the only way webrtcbin reads them).
const noMediaUfrag = { op: 'replace', from: '^a=ice-ufrag:.*\\r\\n', to: '' };
const noMediaPwd = { op: 'replace', from: '^a=ice-pwd:.*\\r\\n', to: '' };
const SPELLINGS = [
  { name: 'a second session-level a=ice-ufrag without a colon', edits: [noMediaUfrag, { op: 'session', lines: ['a=ice-ufrag:abcd', 'a=ice-ufrag'] }], refusal: /more than one session-level a=ice-ufrag/ },
  { name: 'a second session-level "a= ice-ufrag:x" (space after a=)', edits: [noMediaUfrag, { op: 'session', lines: ['a=ice-ufrag:abcd', 'a= ice-ufrag:x'] }], refusal: /more than one session-level a=ice-ufrag/ },
  { name: 'a second session-level a=ice-pwd without a colon', edits: [noMediaPwd, { op: 'session', lines: ['a=ice-pwd:abcdabcdabcdabcdabcdabcd', 'a=ice-pwd'] }], refusal: /more than one session-level a=ice-pwd/ },
];

const twoVideos = (first: string, second: string) => [
  { op: 'clone-media', index: 0, mid: 'v1' },
  { op: 'replace', from: '^a=mid:video0$', to: 'a=mid:A' },
  { op: 'replace', from: '^a=mid:v1$', to: 'a=mid:B' },
  { op: 'replace', from: '^a=mid:A$', to: `a=mid:${first}` },
  { op: 'replace', from: '^a=mid:B$', to: `a=mid:${second}` },
  { op: 'replace', from: '^a=group:.*$', to: `a=group:BUNDLE ${first} ${second}` },
];

const HOST = 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host';

const CASES: Case[] = [
  ...SPELLINGS.flatMap((s) => [
    { name: `${s.name}, in an answer to our offer`, scenario: 'answer' as const, input: s.edits, refusal: s.refusal },
    { name: `${s.name}, in a remote offer`, scenario: 'offer' as const, input: s.edits, refusal: s.refusal },
  ]),
  // nice.c set_remote_credentials gets a NULL ufrag or pwd (a critical; ICE then cannot work).
  { name: 'an m-line with its ufrag and the session with only the pwd, in an answer', scenario: 'answer', input: [noMediaPwd, { op: 'session', lines: ['a=ice-pwd:abcdabcdabcdabcdabcdabcd'] }], refusal: /m-line 0 lacks its own a=ice-ufrag\/a=ice-pwd pair and the session level has only a=ice-pwd/ },
  { name: 'an m-line with its pwd and the session with only the ufrag, in a remote offer', scenario: 'offer', input: [noMediaUfrag, { op: 'session', lines: ['a=ice-ufrag:abcd'] }], refusal: /m-line 0 lacks its own a=ice-ufrag\/a=ice-pwd pair and the session level has only a=ice-ufrag/ },
  // Aborts in our next createOffer (sdp_media_from_transceiver: trans->mline == media_idx).
  { name: 'two m-lines with one mid, in a remote offer', scenario: 'offer', input: twoVideos('video0', 'video0'), refusal: /a=mid:video0 on m-line 0 and m-line 1/ },
  // Aborts in createAnswer (_create_answer_task: mid == last_mid).
  {
    name: 'a re-offer that swaps the mids of two m-lines',
    scenario: 'reoffer',
    input: { first: twoVideos('video0', 'v1'), second: twoVideos('v1', 'video0') },
    refusal: /m-line 0 has a=mid:v1 but was negotiated as mid "video0"/,
  },
  // Aborts in our next createOffer when we have a channel (_add_data_channel_offer: last_data_index == medias).
  {
    name: 'a second data-channel m-line in a remote offer',
    scenario: 'offer+channel',
    input: [
      { op: 'session-fingerprint' },
      { op: 'media', index: 0, lines: ['m=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 0.0.0.0', 'a=mid:dc2', 'a=sctp-port:5000', 'a=setup:actpass', 'a=ice-ufrag:abcd', 'a=ice-pwd:abcdabcdabcdabcdabcdabcd'] },
    ],
    refusal: /a second m=application webrtc-datachannel line \(m-line 2; the first is m-line 1\)/,
  },
  {
    name: '17 m-lines in a remote offer',
    scenario: 'offer',
    input: Array.from({ length: 16 }, (_, i) => ({ op: 'clone-media', index: 0, mid: `extra${i}` })),
    refusal: /17 m= lines \(at most 16\)/,
  },
  { name: 'a=ssrc:0 in an answer to our offer', scenario: 'answer', input: [{ op: 'media', index: 0, lines: ['a=ssrc:0 cname:x'] }], refusal: /a=ssrc:0 cname:x on m-line 0 \(SSRC 0/ },
  { name: 'an a=ssrc that wraps to 0 in a remote offer', scenario: 'offer', input: [{ op: 'media', index: 0, lines: ['a=ssrc:4294967296 cname:x'] }], refusal: /a=ssrc:4294967296 cname:x on m-line 0/ },
  // webrtcbin would keep these until the next description, as many as a peer sends.
  { name: 'a candidate for an m-line the remote description lacks', scenario: 'candidate', input: { candidate: HOST, sdpMLineIndex: 5 }, refusal: /sdpMLineIndex 5 names no m= line/ },
  { name: 'the same candidate sent before the description', scenario: 'candidate', input: { candidate: HOST, sdpMLineIndex: 2 ** 31, early: true }, refusal: /sdpMLineIndex 2147483648 names no m= line/, asEvent: true },
  // libnice criticals (g_return_*: fatal under G_DEBUG=fatal-criticals, which the children run with).
  { name: 'a candidate with component 0', scenario: 'candidate', input: { candidate: 'candidate:1 0 udp 2122260223 127.0.0.1 50000 typ host', sdpMLineIndex: 0 }, refusal: /component "0" is not 1 to 256/ },
  { name: 'a tcp candidate without tcptype', scenario: 'candidate', input: { candidate: 'candidate:1 1 tcp 2122260223 127.0.0.1 9 typ host', sdpMLineIndex: 0 }, refusal: /a tcp candidate without "tcptype/ },
  // The same, as a=candidate lines inside a remote description (webrtcbin adds them to libnice itself).
  { name: 'an a=candidate with component 0 in an answer', scenario: 'answer', input: [{ op: 'media', index: 0, lines: ['a=candidate:1 0 udp 2122260223 127.0.0.1 50000 typ host'] }], refusal: /a=candidate on m-line 0: component "0" is not 1 to 256/ },
  { name: 'an a=candidate over tcp without tcptype in a remote offer', scenario: 'offer', input: [{ op: 'media', index: 0, lines: ['a=candidate:1 1 tcp 2122260223 127.0.0.1 9 typ host'] }], refusal: /a=candidate on m-line 0: a tcp candidate without "tcptype/ },
  // webrtcbin would resolve any name the peer picks (DNS lookups on its behalf); mDNS .local names stay allowed.
  { name: 'a candidate whose address is a DNS name', scenario: 'candidate', input: { candidate: 'candidate:1 1 udp 2122260223 lookup.example.invalid 50000 typ host', sdpMLineIndex: 0 }, refusal: /address "lookup.example.invalid" is neither an IP address nor an mDNS .local name/ },
];

// Two children at a time (each is a GStreamer process); results are asserted in order below.
async function runAll(cases: Case[]): Promise<FixtureResult[]> {
  const results: FixtureResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i]!;
      results[i] = await runNode(['--import', 'tsx', FIXTURE, c.scenario, JSON.stringify(c.input)], { timeoutMs: 60_000, env: { G_DEBUG: 'fatal-criticals' } });
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

const results = await runAll(CASES);

for (const [i, c] of CASES.entries()) {
  t.test(c.name, async (t) => {
    const r = results[i]!;
    const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const why = r.stderr.split('\n').find((l) => /assert|CRITICAL|ERROR/.test(l)) ?? r.stderr.slice(-300);
    t.equal(r.signal, null, `the peer's process survives (${r.signal ?? 'no signal'}${r.signal ? `: ${why}` : ''})`);
    t.equal(r.code, 0, 'and exits normally');
    t.ok(lines.some((l) => l.alive === true), 'it is still working after the input');
    const refusal = c.asEvent ? lines.find((l) => l.event === 'warning') : lines.find((l) => 'outcome' in l);
    t.equal(refusal?.name, 'InvalidArgumentError', `refused with InvalidArgumentError (${JSON.stringify(refusal)})`);
    t.match(String(refusal?.message), c.refusal, 'the message names the offending line');
  });
}
