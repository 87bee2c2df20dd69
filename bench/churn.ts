// Churn: 1,000 viewer joins and leaves against one running stream, in this process. One Streamer (a
// moving test pattern) keeps a standing viewer the whole time; each churning viewer is a
// Streamer.createPeer() sender and a receiving WebRtcPeer, negotiated with connectPair (as
// bench/fanout.ts), held until the receiver has decoded a frame, then both are closed. Reports RSS,
// threads, open fds and livePeerCount() (webrtcbins not yet finalized) before, during and after.
//   flock /tmp/webrtcbin-bench.lock node --expose-gc --import tsx bench/churn.ts [--cycles 1000] [--parallel 4] [--quick]
import { parseArgs } from 'node:util';
import { Streamer, WebRtcPeer, livePeerCount, type VideoCodec } from '../lib/index.js';
import { connectPair } from '../test/helpers/peers.js';
import { describeMachine, ensureBenchLock, fdCount, fmt, machine, percentile, procStatus, sleep, table, writeResult } from './support/common.js';

ensureBenchLock();
const { values } = parseArgs({ options: { cycles: { type: 'string' }, parallel: { type: 'string' }, codec: { type: 'string' }, quick: { type: 'boolean' } } });
const cycles = Number(values.cycles ?? (values.quick ? 200 : 1000));
const parallel = Number(values.parallel ?? 4);
const codec = (values.codec ?? 'vp8') as VideoCodec;
const m = machine();
const gc = (globalThis as { gc?: () => void }).gc;

interface Snapshot {
  at: number;
  rssMiB: number;
  heapMiB: number;
  threads: number;
  fds: number;
  livePeers: number;
}
async function snapshot(at: number): Promise<Snapshot> {
  gc?.();
  await sleep(200);
  gc?.();
  const s = procStatus(process.pid);
  return { at, rssMiB: s.rssMiB, heapMiB: process.memoryUsage().heapUsed / 2 ** 20, threads: s.threads, fds: fdCount(), livePeers: livePeerCount() };
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

console.log(`churn: ${cycles} viewer joins/leaves (${parallel} at a time) against one ${codec} 640x360@30 stream with a standing viewer; ${describeMachine(m)}`);
const before = await snapshot(0);
const streamer = new Streamer({ source: { kind: 'test', pattern: 'ball' }, video: { codec, width: 640, height: 360, fps: 30 } });
const standingSender = streamer.createPeer();
const standing = new WebRtcPeer({ video: { receive: true, maxFps: 1 } });
await connectPair(standingSender, standing);
await waitFor(() => standing.framesDecoded > 0, 20_000, 'the standing viewer');
const withStream = await snapshot(0);

const durations: number[] = [];
let failures = 0;
let done = 0;
const snapshots: Snapshot[] = [];
const marks = new Set([50, Math.round(cycles / 4), Math.round(cycles / 2), Math.round((3 * cycles) / 4)]);

async function cycle(): Promise<void> {
  const t0 = performance.now();
  const sender = streamer.createPeer();
  const receiver = new WebRtcPeer({ video: { receive: true, maxFps: 1 } });
  try {
    await connectPair(sender, receiver);
    await waitFor(() => receiver.framesDecoded > 0, 15_000, 'a churning viewer frame');
    durations.push(performance.now() - t0);
  } catch {
    failures++;
  } finally {
    await Promise.all([sender.close(), receiver.close()]);
  }
}

const t0 = performance.now();
let next = 0;
async function worker(): Promise<void> {
  while (next < cycles) {
    next++;
    await cycle();
    done++;
    if (marks.has(done)) snapshots.push(await snapshot(done));
    if (done % 50 === 0) process.stderr.write(`\r${done}/${cycles}`);
  }
}
await Promise.all(Array.from({ length: parallel }, worker));
process.stderr.write('\n');
const wall = (performance.now() - t0) / 1000;
const standingFrames = standing.framesDecoded;
const after = await snapshot(cycles);
// GLib's thread pools keep idle threads for 15 s: threads are read again once those have gone.
await sleep(16_000);
const settled = await snapshot(cycles);
await Promise.all([standingSender.close(), standing.close()]);
await streamer.close();
await sleep(500);
const end = await snapshot(cycles);

// RSS growth per 1,000 cycles after warm-up (first snapshot after 50 cycles → the end, stream still up).
const warm = snapshots[0] ?? withStream;
const slope = ((after.rssMiB - warm.rssMiB) / Math.max(1, cycles - warm.at)) * 1000;
const row = (label: string, s: Snapshot) => [label, fmt(s.rssMiB, 0), fmt(s.heapMiB, 1), String(s.threads), String(s.fds), String(s.livePeers)];
console.log(
  table(
    ['point', 'RSS MiB', 'JS heap MiB', 'threads', 'fds', 'livePeerCount()'],
    [
      row('before anything', before),
      row('stream + standing viewer', withStream),
      ...snapshots.map((s) => row(`after ${s.at} cycles (${parallel - 1} others in flight)`, s)),
      row(`after ${cycles} cycles (stream still up)`, after),
      row('  16 s later (idle pool threads gone)', settled),
      row('stream and standing viewer closed', end),
    ],
  ),
);
console.log(
  table(
    ['figure', 'value'],
    [
      ['cycles ok / failed', `${durations.length} / ${failures}`],
      ['join → first decoded frame per cycle p50 / p95 (ms)', `${fmt(percentile(durations, 50), 0)} / ${fmt(percentile(durations, 95), 0)}`],
      ['cycles per second', fmt(cycles / wall, 1)],
      ['RSS growth per 1,000 cycles after warm-up (MiB)', fmt(slope, 1)],
      ['livePeerCount() back to baseline', `${after.livePeers === withStream.livePeers ? 'yes' : 'NO'} (${withStream.livePeers} → ${after.livePeers}; ${end.livePeers} after all closed)`],
      ['threads / fds vs the stream baseline, 16 s after the last cycle', `${settled.threads - withStream.threads >= 0 ? '+' : ''}${settled.threads - withStream.threads} threads, ${settled.fds - withStream.fds >= 0 ? '+' : ''}${settled.fds - withStream.fds} fds`],
      ['standing viewer frames decoded (receiver maxFps 1)', String(standingFrames)],
    ],
  ),
);
const file = writeResult('churn', {
  bench: 'churn',
  machine: m,
  command: `node --expose-gc --import tsx bench/churn.ts ${process.argv.slice(2).join(' ')}`.trim(),
  config: { cycles, parallel, codec, width: 640, height: 360, gc: gc !== undefined },
  before,
  withStream,
  snapshots,
  after,
  settled,
  end,
  ok: durations.length,
  failures,
  cycleMs: { p50: percentile(durations, 50), p95: percentile(durations, 95) },
  cyclesPerSecond: cycles / wall,
  rssMiBPer1000: slope,
});
console.log(`results appended to ${file}`);
