// 1,000 create/negotiate/close cycles (a sender and a receiver each time): RSS stays bounded,
// no pipeline is left behind, and the process then exits by itself.
import t from 'tap';
import { runFixture } from '../helpers/fixture.js';

const CYCLES = Number(process.env.WEBRTCBIN_CYCLES ?? 1000);

t.test(`${CYCLES} create/negotiate/close cycles`, async (t) => {
  const r = await runFixture('cycles', { args: [String(CYCLES)], timeoutMs: 900_000 });
  t.notOk(r.timedOut, `finished and exited by itself in ${Math.round(r.ms / 1000)} s`);
  t.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
    samples: { cycle: number; rssMb: number; fds: number }[];
    livePeers: number;
    seconds: number;
  };
  t.equal(result.livePeers, 0, 'no pipeline left');
  const at = (cycle: number) => result.samples.find((s) => s.cycle === cycle)!;
  const first = at(Math.min(100, CYCLES)).rssMb;
  const last = at(CYCLES).rssMb;
  t.ok(Math.abs(at(CYCLES).fds - at(1).fds) <= 2, `open fds: ${at(1).fds} after one cycle, ${at(CYCLES).fds} after ${CYCLES}`);
  t.comment(`RSS: ${result.samples.map((s) => `${s.cycle}:${s.rssMb}MB`).join(' ')} (${result.seconds} s)`);
  // Allocator arenas and GStreamer's registries grow early; a leak would grow with every cycle.
  t.ok(last - first < 50, `RSS from cycle ${Math.min(100, CYCLES)} to ${CYCLES}: ${first} → ${last} MB`);
});
