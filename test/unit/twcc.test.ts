// transport-cc in SDP (what Chromium and Firefox write), and TwccBitrate: feedback events in, the
// estimator's target applied when it moves enough.
import { EventEmitter } from 'node:events';
import t from 'tap';
import { TWCC_ID, TWCC_URI, twccCapsField, twccExtmapId, twccNegotiated } from '../../lib/media/twcc.js';
import { renderCongestionMetrics, TwccBitrate, twccPackets } from '../../lib/encoder/twcc-bitrate.js';
import { PublisherBitrate, usesTwcc } from '../../lib/publish/bitrate.js';
import type { WebRtcPeer } from '../../lib/peer/peer.js';

// Video sections in the shapes Chromium and Firefox write (Firefox adds a direction to extmap); the real
// browsers' SDP is checked in test/e2e/twcc.test.ts.
const CHROMIUM = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 transport-cc', 'a=rtcp-fb:96 nack', `a=extmap:3 ${TWCC_URI}`, ''].join('\r\n');
const FIREFOX = ['v=0', 'o=mozilla...THIS_IS_SDPARTA-115.0 1 0 IN IP4 0.0.0.0', 'm=video 9 UDP/TLS/RTP/SAVPF 120', 'a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', `a=extmap:8/sendrecv ${TWCC_URI}`, 'a=rtcp-fb:120 nack', 'a=rtcp-fb:120 transport-cc', 'a=rtpmap:120 VP8/90000', ''].join('\r\n');
const NONE = ['v=0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 transport-cc', ''].join('\r\n');

t.test('the extmap id and whether transport-cc is negotiated', async (t) => {
  t.equal(twccExtmapId(CHROMIUM), 3);
  t.equal(twccExtmapId(FIREFOX), 8, 'with a direction');
  t.equal(twccExtmapId(CHROMIUM.replace('a=extmap:3 ', 'a=extmap:300 ')), undefined, 'an id we cannot write (one-byte form: 1–14) is treated as absent: it never reaches the caps');
  t.equal(twccExtmapId(NONE), undefined);
  t.ok(twccNegotiated(CHROMIUM));
  t.ok(twccNegotiated(FIREFOX));
  t.notOk(twccNegotiated(NONE), 'feedback without the extension is not TWCC');
  t.equal(twccCapsField(), `,extmap-${TWCC_ID}=(string)"${TWCC_URI}"`);
  t.not(TWCC_ID, 12, 'apart from playout-delay');
  t.ok(usesTwcc({ localDescription: { type: 'offer', sdp: CHROMIUM }, remoteDescription: { type: 'answer', sdp: FIREFOX } } as never));
  t.notOk(usesTwcc({ localDescription: { type: 'offer', sdp: CHROMIUM }, remoteDescription: { type: 'answer', sdp: NONE } } as never), 'a viewer without it keeps receiver reports');
});

t.test('TwccBitrate: a building queue lowers the applied target; small moves are not applied', async (t) => {
  const source = new EventEmitter();
  const applied: number[] = [];
  let now = 0;
  const c = new TwccBitrate({ min: 150, max: 2000, start: 2000, source: source as never, apply: (k) => applied.push(k), now: () => now }).start();
  // 2 Mbit/s into a 1 Mbit/s link: each 33 ms frame (8.3 kB) takes 67 ms to drain, the queue grows.
  let seq = 0;
  let linkFree = 0;
  for (let batch = 0; batch < 40; batch++) {
    const flat: number[] = [];
    for (let f = 0; f < 3; f++) {
      const frame = (batch * 3 + f) * 33.3;
      for (let i = 0; i < 7; i++) {
        linkFree = Math.max(frame, linkFree) + (1200 * 8) / 1000;
        flat.push(seq++, frame, linkFree + 25, 1200);
      }
    }
    now = batch * 100 + 100;
    source.emit('twcc', new Float64Array(flat));
  }
  t.ok(applied.length > 0 && applied[applied.length - 1]! < 2000, `lowered (${applied.join(', ')})`);
  for (let i = 1; i < applied.length; i++) t.ok(Math.abs(applied[i]! - applied[i - 1]!) >= applied[i - 1]! * 0.02, 'each applied step is ≥ 2%');
  const snap = c.snapshot();
  t.equal(snap.controller, 'twcc');
  t.ok((snap.estimate?.queueDelayMs ?? 0) > 0, 'reports the queueing delay');
  const metrics = renderCongestionMetrics(new Map([['v1', snap]]));
  t.match(metrics, /webrtcbin_viewer_queue_delay_ms\{viewer="v1",controller="twcc"\} \d/);
  t.match(metrics, /webrtcbin_viewer_link_kbps\{viewer="v1",controller="twcc"\} \d/, 'and the link rate its frame bursts show');
  c.stop();
  t.equal(source.listenerCount('twcc'), 0, 'stop() unsubscribes');
});

t.test('PublisherBitrate: a TWCC viewer starts below the configured rate, applied as it connects', async (t) => {
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  const peer = (applied: number[]) =>
    Object.assign(new EventEmitter(), {
      localDescription: { type: 'offer', sdp: CHROMIUM },
      remoteDescription: { type: 'answer', sdp: CHROMIUM },
      getStats: async () => new Map(),
      setBitrate: (kbps: number) => (applied.push(kbps), kbps),
    }) as unknown as WebRtcPeer;
  const applied: number[] = [];
  const bitrate = new PublisherBitrate({ max: 3000, log });
  bitrate.add('v', peer(applied), undefined);
  t.same(applied, [1000], 'the default start, 1000 kbit/s, reaches the encoder at once');
  t.equal(bitrate.snapshot().get('v')?.target, 1000);
  bitrate.close();

  const low: number[] = [];
  const small = new PublisherBitrate({ max: 800, log });
  small.add('v', peer(low), undefined);
  t.same(low, [], 'a configured rate under the start: it starts there, nothing to apply');
  small.close();

  const rr: number[] = [];
  const reports = new PublisherBitrate({ max: 3000, log, controller: 'receiver-reports' });
  reports.add('v', peer(rr), undefined);
  t.same(rr, [], 'the receiver-report controller starts where the encoder is');
  reports.close();

  for (const bad of [0, -5, Number.NaN, Infinity, '800' as unknown as number]) {
    t.throws(() => new PublisherBitrate({ max: 3000, log, startKbps: bad }), { name: 'InvalidArgumentError', message: /^adaptiveBitrate\.startKbps must be a number of kbit\/s above 0 and at most 100000 \(got / }, `startKbps ${String(bad)}`);
  }
  t.throws(() => new PublisherBitrate({ max: 3000, log, min: 0 }), { name: 'InvalidArgumentError', message: /^adaptiveBitrate\.min must be a whole number of kbit\/s from 1 to 100000 \(got 0\)/ });
  t.throws(() => new PublisherBitrate({ max: 3000, log, floor: 2.5 }), { name: 'InvalidArgumentError', message: /^adaptiveBitrate\.floor must be a whole number/ });
  t.throws(() => new PublisherBitrate({ max: 3000, log, controller: 'gcc' as 'twcc' }), { name: 'InvalidArgumentError', message: /^adaptiveBitrate\.controller must be "auto", "twcc" or "receiver-reports" \(got "gcc"\)/ });
});

t.test('twccPackets: NaN arrival is a lost packet', async (t) => {
  t.same(twccPackets(new Float64Array([5, 10, NaN, 1200, 6, 11, 40, 900])), [
    { seq: 5, sendMs: 10, arrivalMs: undefined, size: 1200 },
    { seq: 6, sendMs: 11, arrivalMs: 40, size: 900 },
  ]);
});
