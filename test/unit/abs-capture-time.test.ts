// The glass-to-glass probe's pure parts: NTP time and the abs-capture-time data layout (the spec's
// text: webrtc.googlesource.com/src/+/main/docs/native-code/rtp-hdrext/abs-capture-time), the extmap
// in caps and SDP, Chromium's captureTimestamp epoch, the clock-offset estimator (min round trip) and
// the latency text the page shows. (The native writer and reader: test/native/abs-capture-time.test.ts;
// against Chromium's parser: test/e2e/glass-to-glass.test.ts.)
import t from 'tap';
import {
  ABS_CAPTURE_TIME_ID,
  ABS_CAPTURE_TIME_URI,
  absCaptureTimeId,
  captureTimestampToUnixMs,
  ntpFromUnixMs,
  parseAbsCaptureTime,
  unixMsFromNtp,
  withAbsCaptureTime,
} from '../../lib/media/abs-capture-time.js';
import { ClockOffset, describeLatency, p50 } from '../../lib/viewer/latency-probe.js';

t.test('NTP UQ32.32: seconds since 1900 in the high word, the fraction in the low one', async (t) => {
  t.equal(ntpFromUnixMs(0), 0x83aa7e80n << 32n, 'the Unix epoch is NTP second 2208988800 (0x83AA7E80)');
  t.equal(ntpFromUnixMs(1500), ((0x83aa7e80n + 1n) << 32n) | 0x8000_0000n, 'half a second is 2^31 of the fraction');
  t.equal(ntpFromUnixMs(250), (0x83aa7e80n << 32n) | 0x4000_0000n);
  t.equal(unixMsFromNtp(0x83aa7e80n << 32n), 0);
  for (const ms of [1, 999.5, 1_796_642_037_926.966, Date.now()]) {
    t.ok(Math.abs(unixMsFromNtp(ntpFromUnixMs(ms)) - ms) < 1e-3, `${ms} round-trips within a µs`);
  }
});

t.test('the data: 8 bytes (or 16 with the clock offset), the NTP time big-endian', async (t) => {
  // 2026-12-07T00:00:00.5Z, written out by hand from the spec's layout.
  const unixMs = Date.UTC(2026, 11, 7) + 500;
  const seconds = unixMs / 1000 - 0.5 + 2_208_988_800;
  const bytes = new Uint8Array([(seconds >>> 24) & 255, (seconds >>> 16) & 255, (seconds >>> 8) & 255, seconds & 255, 0x80, 0, 0, 0]);
  t.equal(parseAbsCaptureTime(bytes), unixMs);
  const extended = new Uint8Array(16);
  extended.set(bytes);
  extended.set([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0], 8); // estimated capture clock offset −1 s: not ours to apply
  t.equal(parseAbsCaptureTime(extended), unixMs, 'the 16-byte form: the same timestamp first');
  t.equal(parseAbsCaptureTime(bytes.subarray(0, 7)), undefined, 'shorter than 8: none');
});

t.test('extmap: in every caps structure, read from the video section only', async (t) => {
  const field = `extmap-${ABS_CAPTURE_TIME_ID}=(string)"${ABS_CAPTURE_TIME_URI}"`;
  t.equal(withAbsCaptureTime('application/x-rtp,encoding-name=VP8;application/x-rtp,encoding-name=H264'), `application/x-rtp,encoding-name=VP8,${field};application/x-rtp,encoding-name=H264,${field}`);
  t.equal(withAbsCaptureTime('application/x-rtp', 3), `application/x-rtp,extmap-3=(string)"${ABS_CAPTURE_TIME_URI}"`, 'answering: the offer\'s id');
  const sdp = (video: string, audio = '') =>
    ['v=0', 'o=- 1 1 IN IP4 0.0.0.0', 's=-', 't=0 0', ...(audio ? ['m=audio 9 UDP/TLS/RTP/SAVPF 111', audio] : []), 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=rtpmap:96 VP8/90000', video, ''].join('\r\n');
  t.equal(absCaptureTimeId(sdp(`a=extmap:5 ${ABS_CAPTURE_TIME_URI}`)), 5);
  t.equal(absCaptureTimeId(sdp(`a=extmap:9/recvonly ${ABS_CAPTURE_TIME_URI}`)), 9, 'with a direction');
  t.equal(absCaptureTimeId(sdp('a=extmap:5 urn:ietf:params:rtp-hdrext:toffset', `a=extmap:4 ${ABS_CAPTURE_TIME_URI}`)), undefined, 'audio only: none for video');
  t.equal(absCaptureTimeId(sdp(`a=extmap:15 ${ABS_CAPTURE_TIME_URI}`)), undefined, 'a two-byte id (15+): we write one-byte headers');
  t.equal(absCaptureTimeId(sdp('a=sendrecv')), undefined);
});

t.test("Chromium's captureTimestamp: NTP ms since 1900, made Unix ms", async (t) => {
  const now = Date.now();
  t.equal(captureTimestampToUnixMs(now + 2_208_988_800_000), now);
  t.equal(captureTimestampToUnixMs(now), now, 'already Unix ms: kept');
});

t.test('clock offset: the sample with the smallest round trip wins, uncertain by half of it', async (t) => {
  const truth = 1234.5; // the publisher's clock is ahead by this much
  const clock = new ClockOffset(4);
  t.equal(clock.estimate, null, 'nothing before a reply');
  // A reply that sat 40 ms in a queue on the way back: its offset is off by 20 ms, its round trip long.
  const exchange = (t0: number, up: number, down: number, serve = 0.2) => ({ t0, t1: t0 + up + truth, t2: t0 + up + serve + truth, t3: t0 + up + serve + down });
  clock.add(exchange(1000, 1, 41));
  t.ok(Math.abs(clock.estimate!.offsetMs - (truth - 20)) < 1e-9, 'one slow sample: its (biased) offset');
  clock.add(exchange(2000, 1, 1));
  clock.add(exchange(3000, 5, 9));
  t.ok(Math.abs(clock.estimate!.offsetMs - truth) < 1e-9, 'the symmetric quick one wins');
  t.ok(Math.abs(clock.estimate!.uncertaintyMs - (1 + 0.5)) < 1e-9, 'half its 2 ms round trip, plus half a ms for whole-ms stamps');
  clock.add({ t0: 10, t1: 5, t2: 6, t3: 8 }); // round trip −3: clocks stepped, ignored
  t.ok(Math.abs(clock.estimate!.offsetMs - truth) < 1e-9);
  for (let i = 0; i < 4; i++) clock.add(exchange(4000 + i, 10, 10));
  t.ok(Math.abs(clock.estimate!.uncertaintyMs - 10.5) < 1e-9, 'only the last `keep` samples count (a clock drifts)');
});

t.test('p50 and the latency the page shows', async (t) => {
  t.equal(p50([]), null);
  t.equal(p50([5, 1, 9]), 5);
  t.equal(p50([4, 1, 9, 2]), 2, 'the lower middle');
  t.match(describeLatency({ latencyEstimateMs: 20, glassToGlassMs: 33.4, glassToGlassUncertaintyMs: 1.2 }), { text: 'glass-to-glass ≈ 33 ms', tooltip: /abs-capture-time.*±1 ms/ });
  t.match(describeLatency({ latencyEstimateMs: 20.4, glassToGlassMs: null, glassToGlassUncertaintyMs: null }), { text: '≈20 ms', tooltip: /this browser's share only/ });
  t.match(describeLatency({ latencyEstimateMs: 9, glassToGlassMs: -0.6, glassToGlassUncertaintyMs: 1.7 }), { text: 'glass-to-glass ≈ 0 ms' }, 'never a negative latency on screen');
  t.equal(describeLatency({ latencyEstimateMs: null }), null);
});
