// Measures what a viewer behind a hostile link gets: a WebRtcPeer sender here, headless Chromium in a
// network namespace behind test/helpers/wan-link.py. Root only.
//   node --import tsx bench/hostile.ts '{"loss":5,"delay":75,"rate":1,"nack":true,"fec":0,"abr":false,"bitrate":2000,"seconds":20}'
import { WebRtcPeer } from '../lib/peer/peer.js';
import { AdaptiveBitrate } from '../lib/encoder/adaptive-bitrate.js';
import { BrowserPeer } from '../test/helpers/browser.js';
import { launchChromiumIn, startWanLink } from '../test/helpers/wan.js';

interface Config {
  loss: number; delay: number; rate: number; queue?: number; nack: boolean; fec: number; abr: boolean;
  bitrate: number; seconds: number; width?: number; height?: number; pattern?: string; codec?: 'vp8' | 'vp9' | 'h264';
  liftAfter?: number;
}
const cfg: Config = { loss: 5, delay: 75, rate: 1, nack: true, fec: 0, abr: false, bitrate: 2000, seconds: 20, ...JSON.parse(process.argv[2] ?? '{}') };
const ns = `bench${process.pid % 10000}`;
const link = await startWanLink(ns, { delay: cfg.delay, loss: cfg.loss, rate: cfg.rate, queue: cfg.queue ?? 50 });
const browser = await launchChromiumIn(ns);
const pattern = cfg.pattern ?? 'smpte horizontal-speed=8';
const sender = new WebRtcPeer({
  source: { kind: 'pipeline', description: `videotestsrc is-live=true pattern=${pattern}` },
  video: { codec: cfg.codec ?? 'vp8', bitrate: cfg.bitrate, width: cfg.width ?? 960, height: cfg.height ?? 540, fps: 30 },
  nack: cfg.nack,
  fec: cfg.fec || false,
});
sender.on('error', (e) => console.error('sender error', e.message));
const viewer = await BrowserPeer.open(browser);
sender.on('icecandidate', (c) => void viewer.addCandidate(c).catch(() => {}));
viewer.onCandidate((c) => void sender.addIceCandidate(c).catch(() => {}));
await sender.setLocalDescription();
const answer = await viewer.answer(sender.localDescription!);
await sender.setRemoteDescription(answer);
await viewer.waitForFrames(1, 30_000);
const offer = sender.localDescription!.sdp;
console.error('offer has red/ulpfec:', /red\/90000/.test(offer), /ulpfec\/90000/.test(offer), 'answer has:', /red\/90000/.test(answer.sdp), /ulpfec\/90000/.test(answer.sdp));

let abr: AdaptiveBitrate | undefined;
if (cfg.abr) {
  abr = new AdaptiveBitrate({ min: 150, max: cfg.bitrate, getStats: () => sender.getStats(), apply: (kbps) => sender.setBitrate(kbps), onChange: (c) => console.error('abr', JSON.stringify(c)) });
  abr.start();
}

async function inbound(): Promise<Record<string, number>> {
  return viewer.page.evaluate(async () => {
    const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
    const out: Record<string, number> = {};
    (await pc.getStats()).forEach((s: Record<string, unknown>) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        for (const k of ['framesDecoded', 'packetsLost', 'packetsReceived', 'nackCount', 'pliCount', 'firCount', 'freezeCount', 'totalFreezesDuration', 'framesDropped', 'bytesReceived', 'keyFramesDecoded', 'fecPacketsReceived', 'fecPacketsDiscarded', 'retransmittedPacketsReceived']) out[k] = Number(s[k] ?? 0);
      }
    });
    return out;
  });
}

const start = await inbound();
const t0 = Date.now();
const samples: string[] = [];
let last = start;
for (let i = 0; i < cfg.seconds; i++) {
  await new Promise((r) => setTimeout(r, 1000));
  if (cfg.liftAfter !== undefined && i === cfg.liftAfter) await link.set({ rate: 0 });
  const now = await inbound();
  samples.push(`${now.framesDecoded - last.framesDecoded}fps/${Math.round(((now.bytesReceived - last.bytesReceived) * 8) / 1000)}k/enc${sender.bitrate}`);
  last = now;
}
const end = last;
const secs = (Date.now() - t0) / 1000;
if (cfg.seconds >= 10) {
  const stats = await sender.getStats();
  for (const s of stats.values()) if (/remote-inbound|transport|outbound|candidate-pair/.test(s.type)) console.error(JSON.stringify(s).slice(0, 600));
}
const d = (k: string) => end[k]! - start[k]!;
console.log(JSON.stringify({
  cfg,
  fps: +(d('framesDecoded') / secs).toFixed(1),
  kbps: Math.round((d('bytesReceived') * 8) / 1000 / secs),
  freezes: d('freezeCount'), freezeSec: +d('totalFreezesDuration').toFixed(1),
  lostPct: +((100 * d('packetsLost')) / Math.max(1, d('packetsLost') + d('packetsReceived'))).toFixed(1),
  nack: d('nackCount'), pli: d('pliCount'), keyframes: d('keyFramesDecoded'), rtx: d('retransmittedPacketsReceived'), fecRecv: d('fecPacketsReceived'), dropped: d('framesDropped'),
  perSecond: samples.join(' '),
}));
abr?.stop();
await sender.close();
await browser.close();
await link.stop();
