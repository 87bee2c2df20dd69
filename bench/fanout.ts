// Fan-out cost: process CPU while N viewers watch, with one shared encoder (Streamer) and with an
// encoder per viewer, measured side by side in one run. Receivers run in the same process (their
// decode cost is the same in both setups), so the difference is what sharing saves.
//   node --import tsx bench/fanout.ts [--codec vp8|h264] [--size 1280x720] [--seconds 8] [--viewers 1,2,4,8]
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { Streamer, WebRtcPeer, type VideoCodec } from '../lib/index.js';
import { connectPair } from '../test/helpers/peers.js';

const { values } = parseArgs({
  options: { codec: { type: 'string' }, size: { type: 'string' }, seconds: { type: 'string' }, viewers: { type: 'string' } },
});
const codec = (values.codec ?? 'vp8') as VideoCodec;
const [width, height] = (values.size ?? '1280x720').split('x').map(Number) as [number, number];
const seconds = Number(values.seconds ?? 8);
const counts = (values.viewers ?? '1,2,4,8').split(',').map(Number);
const video = { codec, width, height, fps: 30 };
const source = { kind: 'test' as const, pattern: 'ball' };

async function measure(viewers: number, shared: boolean): Promise<{ cpuPercent: number; fps: number }> {
  const streamer = shared ? new Streamer({ source, video }) : undefined;
  const peers: WebRtcPeer[] = [];
  const receivers: WebRtcPeer[] = [];
  for (let i = 0; i < viewers; i++) {
    const sender = streamer ? streamer.createPeer() : new WebRtcPeer({ source, video });
    const receiver = new WebRtcPeer({ video: { receive: true, maxFps: 1 } });
    peers.push(sender, receiver);
    receivers.push(receiver);
    await connectPair(sender, receiver);
  }
  await new Promise((r) => setTimeout(r, 1500)); // settle
  const frames0 = receivers.reduce((n, r) => n + r.framesDecoded, 0);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const frames = receivers.reduce((n, r) => n + r.framesDecoded, 0) - frames0;
  await Promise.all(peers.map((p) => p.close()));
  await streamer?.close();
  return { cpuPercent: ((cpu.user + cpu.system) / 1e6 / wall) * 100, fps: frames / wall / viewers };
}

console.log(`fan-out: ${codec} ${width}x${height}@30, ${seconds} s per point, ${cpus().length} cores (${cpus()[0]?.model}), ${new Date().toISOString()}`);
console.log('viewers | shared encoder: CPU % of one core (fps/viewer) | encoder per viewer: CPU % (fps/viewer) | ratio');
for (const n of counts) {
  // Interleaved: shared then separate for each N, so drift hits both alike.
  const shared = await measure(n, true);
  const separate = await measure(n, false);
  console.log(
    `${String(n).padStart(7)} | ${shared.cpuPercent.toFixed(1).padStart(6)} (${shared.fps.toFixed(1)}) | ` +
      `${separate.cpuPercent.toFixed(1).padStart(6)} (${separate.fps.toFixed(1)}) | ${(separate.cpuPercent / shared.cpuPercent).toFixed(2)}×`,
  );
}
