// 10,000 WebSockets on the signaling daemon: three instances on Redis beside one single-process daemon
// (issue 19), and where the relay latency tail comes from. Daemons in child processes
// (bench/support/daemon-child.mjs, compiled dist/, default limits), one real redis-server, this process
// the load generator (one clock). Per layout:
//   1. sockets: --sockets sockets in sessions of 20 (1 publisher + 19 viewers), signed tokens, 200
//      handshakes at a time: join rate (sockets/s); each daemon's RSS idle and holding → KiB per socket;
//      Redis INFO memory (used_memory) before and after → bytes per participant.
//   2. relay: every viewer sends a `candidate` to its publisher at --rate msg/s for --seconds; latency =
//      send → the publisher's socket delivers it, split by whether the viewer is on its publisher's
//      instance (within) or not (across: B → Redis pub/sub → A). Beside it, for every process, the
//      event-loop delay (how late a 1 ms timer ran) and GC pauses, and its CPU: the tail's owner.
// Cluster layout: 3 instances; session s's publisher on instance s % 3, its k-th viewer on (s + k) % 3,
// so 7 of 19 viewers relay within an instance and 12 across. Layouts alternate within a run (--rounds:
// single, cluster, then cluster, single, …) so both see the same machine.
// Needs (set up by the bench, say so in results):
//   - client source addresses 127.0.1.1 … (50 sockets each, under the daemon's default 64 per IP; all of
//     127/8 is loopback on Linux, so nothing is configured);
//   - the fd limit: 10,000 sockets hold 10,000 fds in this process and as many in a daemon. The bench
//     raises its soft limit to the hard one (up to 65,536) with `prlimit --pid <self>` before starting
//     children, which inherit it, and stops when that leaves no room for --sockets (here the hard limit is
//     20,000 and raising it needs CAP_SYS_RESOURCE, which this container lacks: enough for 10,000).
// Options: --profile: in round 1, the relay phase of the single daemon and of the first instance under
// the V8 CPU profiler (the inspector
// in the daemon, the same profile as --cpu-prof but from the warm-up second to the window's end),
// summarized in the result (the .cpuprofile itself stays in $TMPDIR/webrtcbin-bench-profiles);
// --pin: daemons and redis-server on CPU 0, this load generator on CPU 1 (taskset), so the generator's
// event loop never takes the daemon's core; --daemon-flags='…': node/V8 flags for every daemon (e.g.
// --daemon-flags=--max-semi-space-size=32, to see whether a GC setting moves the tail).
//   flock /tmp/webrtcbin-bench.lock node --import tsx bench/cluster-sockets.ts [--sockets 10000]
//     [--instances 3] [--rate 0.2] [--seconds 10] [--rounds 2] [--profile] [--pin] [--daemon-flags='…']
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { mintToken } from '../lib/signaling/daemon/token.js';
import { RedisServer } from '../test/helpers/redis.js';
import { CpuMeter, describeMachine, ensureBenchLock, fmt, loadavg, machine, percentile, procStatus, sleep, table, writeResult } from './support/common.js';
import { paceCandidates, SOCKETS_PER_ADDRESS, sourceAddress, terminateAll } from './support/sockets.js';
import { summarizeProfile, type ProfileSummary } from './support/cpu-profile.js';
import { DaemonProcess, type LoopReading } from './support/daemon-process.js';
import { LoopStats } from './support/loop-stats.mjs';

ensureBenchLock();
const { values } = parseArgs({
  options: {
    sockets: { type: 'string' },
    instances: { type: 'string' },
    rate: { type: 'string' },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
    profile: { type: 'boolean' },
    pin: { type: 'boolean' },
    'daemon-flags': { type: 'string' },
  },
});
const total = Number(values.sockets ?? 10_000);
const instances = Number(values.instances ?? 3);
const rate = Number(values.rate ?? 0.2);
const seconds = Number(values.seconds ?? 10);
const rounds = Number(values.rounds ?? 2);
const pin = values.pin === true;
const daemonFlags = (values['daemon-flags'] ?? '').split(' ').filter(Boolean);
const PER_SESSION = 20;
const HANDSHAKES_AT_ONCE = 200;
const FD_LIMIT = 65_536;
const SECRET = 'bench-secret-0123456789abcdef';
const DAEMON_CPUS = pin ? '0' : undefined;

// ---- the fd limit, before any child starts (children inherit it): the soft limit up to the hard one,
// which must leave room for every socket (raising the hard limit needs CAP_SYS_RESOURCE) ----
const hardLimit = Number(spawnSync('prlimit', ['--pid', String(process.pid), '--nofile', '--output', 'HARD', '--noheadings'], { encoding: 'utf8' }).stdout.trim());
const fdLimit = Math.min(FD_LIMIT, Number.isFinite(hardLimit) ? hardLimit : FD_LIMIT);
const raised = spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${fdLimit}:${fdLimit}`], { encoding: 'utf8' });
if (raised.status !== 0 || fdLimit < total + 1000) {
  console.error(`cluster-sockets: ${total} sockets need an fd limit of at least ${total + 1000} in this process and in a daemon; the hard limit is ${hardLimit}${raised.status !== 0 ? ` (${raised.stderr.trim()})` : ''}: raise it (ulimit -Hn, or prlimit as root)`);
  process.exit(1);
}
if (pin) spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });

const m = machine();
const generator = new LoopStats().start();

type Role = 'publisher' | 'viewer';
interface Client {
  ws: WebSocket;
  role: Role;
  index: number;
  session: number;
  instance: number;
}

// ---- relay bookkeeping ----
let recording = false;
let latencies: { within: number[]; across: number[] } = { within: [], across: [] };
let clientsByIndex = new Map<number, Client>();


function open(port: number, role: Role, session: number, index: number, instance: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws`, { perMessageDeflate: false, localAddress: sourceAddress(index) });
    const client: Client = { ws, role, index, session, instance };
    let joined = false;
    ws.once('error', reject);
    ws.once('open', () => {
      const name = `s${session}`;
      ws.send(JSON.stringify({ type: 'join', session: name, role, token: mintToken({ secret: SECRET, session: name, role }) }));
    });
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (!joined) {
        if (text.startsWith('{"type":"joined"')) return ((joined = true), resolve(client));
        if (text.includes('"type":"error"')) return reject(new Error(text));
        return;
      }
      if (role !== 'publisher' || !recording || !text.startsWith('{"type":"candidate"')) return;
      const [, viewer, sent] = (JSON.parse(text) as { candidate: { candidate: string } }).candidate.candidate.split(' ');
      const from = clientsByIndex.get(Number(viewer));
      (from?.instance === instance ? latencies.within : latencies.across).push(performance.now() - Number(sent));
    });
  });
}

/** Socket index → [role, session, instance]: publishers first, then the viewers of each session in turn. */
function plan(sessions: number, layoutInstances: number): [Role, number, number][] {
  const out: [Role, number, number][] = [];
  for (let s = 0; s < sessions; s++) out.push(['publisher', s, s % layoutInstances]);
  for (let i = sessions; i < total; i++) {
    const s = i % sessions;
    const k = Math.floor((i - sessions) / sessions); // the viewer's ordinal in its session
    out.push(['viewer', s, (s + k) % layoutInstances]);
  }
  return out;
}

function redisInfo(redis: RedisServer): Record<string, string> {
  const out = spawnSync('redis-cli', ['-p', String(redis.port), 'INFO'], { encoding: 'utf8' }).stdout;
  return Object.fromEntries(out.split('\r\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
}

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), p999: percentile(sorted, 99.9), max: sorted[sorted.length - 1] ?? NaN };
}

interface LayoutResult {
  layout: 'single' | 'cluster';
  round: number;
  loadavgAtStart: string;
  join: { sockets: number; seconds: number; perSecond: number };
  daemons: { sockets: number; idleRssMiB: number; heldRssMiB: number; kibPerSocket: number; afterRelayRssMiB: number; cpuPercent: number; loop: LoopReading }[];
  redis?: { usedMemoryBefore: number; usedMemoryHeld: number; bytesPerParticipant: number; cpuPercent: number; keys: number };
  relay: { offered: number; deliveredPerSecond: number; within: ReturnType<typeof summary>; across: ReturnType<typeof summary>; all: ReturnType<typeof summary> };
  generator: { cpuPercent: number; loop: LoopReading };
  closedByDaemon: number;
  profile?: ProfileSummary & { file: string };
}

async function runLayout(layout: 'single' | 'cluster', round: number, redis: RedisServer, profile: boolean): Promise<LayoutResult> {
  const loadavgAtStart = loadavg();
  const count = layout === 'single' ? 1 : instances;
  const redisPid = Number(redisInfo(redis).process_id);
  const daemons: DaemonProcess[] = [];
  for (let i = 0; i < count; i++) {
    daemons.push(await DaemonProcess.start({ secret: SECRET, options: layout === 'cluster' ? { redis: { url: redis.url, keyPrefix: `bench${round}:` } } : {} }, DAEMON_CPUS, daemonFlags));
  }
  await sleep(1000);
  const idle = daemons.map((d) => procStatus(d.pid).rssMiB);
  const redisBefore = Number(redisInfo(redis).used_memory);

  // ---- 1. sockets ----
  const sessions = Math.ceil(total / PER_SESSION);
  const steps = plan(sessions, count);
  const clients: Client[] = [];
  const t0 = performance.now();
  for (let i = 0; i < steps.length; i += HANDSHAKES_AT_ONCE) {
    const batch = steps.slice(i, i + HANDSHAKES_AT_ONCE).map(([role, s, instance], j) => open(daemons[instance]!.port, role, s, i + j, instance));
    clients.push(...(await Promise.all(batch)));
  }
  const joinSeconds = (performance.now() - t0) / 1000;
  clientsByIndex = new Map(clients.map((c) => [c.index, c]));
  await sleep(2000);
  const held = daemons.map((d) => procStatus(d.pid).rssMiB);
  const info = redisInfo(redis);
  const redisHeld = Number(info.used_memory);
  const redisKeys = Number(/keys=(\d+)/.exec(info.db0 ?? '')?.[1] ?? 0);

  // ---- 2. relay: one scheduler sends the due messages, round-robin over the viewers ----
  const viewers = clients.filter((c) => c.role === 'viewer');
  const offered = viewers.length * rate;
  const stopSending = paceCandidates(viewers, offered);
  // Profiler.start stalls the daemon for ~150 ms: started before the warm-up second, outside the window.
  const profileFile = profile ? path.join(tmpdir(), 'webrtcbin-bench-profiles', `cluster-sockets-${layout}-${new Date().toISOString().replace(/[:.]/g, '')}.cpuprofile`) : undefined;
  if (profileFile) {
    mkdirSync(path.dirname(profileFile), { recursive: true });
    await daemons[0]!.command('profile-start');
  }
  await sleep(1000);
  latencies = { within: [], across: [] };
  await Promise.all(daemons.map((d) => d.command('stats-reset')));
  generator.reset();
  const meters = [...daemons.map((d) => new CpuMeter(d.pid)), new CpuMeter(process.pid), new CpuMeter(redisPid)];
  meters.forEach((meter) => meter.start());
  recording = true;
  await sleep(seconds * 1000);
  recording = false;
  const cpu = meters.map((meter) => meter.stop());
  const loops = await Promise.all(daemons.map((d) => d.stats()));
  const generatorLoop = generator.read();
  if (profileFile) await daemons[0]!.command(`profile-stop ${profileFile}`);
  stopSending();
  await sleep(1000);
  const afterRelay = daemons.map((d) => procStatus(d.pid).rssMiB);
  const closedByDaemon = clients.filter((c) => c.ws.readyState !== WebSocket.OPEN).length;
  const perInstance = daemons.map((_, i) => clients.filter((c) => c.instance === i).length);
  const wallSeconds = cpu[0]!.seconds;
  const within = summary(latencies.within);
  const across = summary(latencies.across);
  const result: LayoutResult = {
    layout,
    round,
    loadavgAtStart,
    join: { sockets: clients.length, seconds: joinSeconds, perSecond: clients.length / joinSeconds },
    daemons: daemons.map((_, i) => ({
      sockets: perInstance[i]!,
      idleRssMiB: idle[i]!,
      heldRssMiB: held[i]!,
      kibPerSocket: ((held[i]! - idle[i]!) * 1024) / perInstance[i]!,
      afterRelayRssMiB: afterRelay[i]!,
      cpuPercent: cpu[i]!.percent,
      loop: loops[i]!,
    })),
    ...(layout === 'cluster'
      ? { redis: { usedMemoryBefore: redisBefore, usedMemoryHeld: redisHeld, bytesPerParticipant: (redisHeld - redisBefore) / clients.length, cpuPercent: cpu[count + 1]!.percent, keys: redisKeys } }
      : {}),
    relay: { offered, deliveredPerSecond: (latencies.within.length + latencies.across.length) / wallSeconds, within, across, all: summary([...latencies.within, ...latencies.across]) },
    generator: { cpuPercent: cpu[count]!.percent, loop: generatorLoop },
    closedByDaemon,
    ...(profileFile ? { profile: { file: profileFile, ...summarizeProfile(profileFile) } } : {}),
  };
  latencies = { within: [], across: [] };
  await terminateAll(clients.map((c) => c.ws));
  await Promise.all(daemons.map((d) => d.stop()));
  return result;
}

console.log(`cluster-sockets: ${total} sockets in sessions of ${PER_SESSION}, single daemon vs ${instances} instances on Redis, ${rate} msg/s per viewer for ${seconds} s, ${rounds} round(s)${pin ? ', daemons+redis on CPU 0, generator on CPU 1' : ''}${daemonFlags.length ? `, daemons run with ${daemonFlags.join(' ')}` : ''}; ${describeMachine(m)}`);
const redis = await RedisServer.start();
if (pin) spawnSync('taskset', ['-a', '-p', '-c', '0', redisInfo(redis).process_id!], { stdio: 'ignore' });
const results: LayoutResult[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    const order: ('single' | 'cluster')[] = round % 2 ? ['single', 'cluster'] : ['cluster', 'single'];
    for (const layout of order) {
      const r = await runLayout(layout, round, redis, values.profile === true && round === 1);
      results.push(r);
      console.log(`  round ${round} ${layout}: joined ${r.join.sockets} in ${fmt(r.join.seconds, 2)} s, relay p50/p99 within ${fmt(r.relay.within.p50, 2)}/${fmt(r.relay.within.p99, 1)} ms, across ${fmt(r.relay.across.p50, 2)}/${fmt(r.relay.across.p99, 1)} ms (load ${r.loadavgAtStart})`);
    }
  }
} finally {
  await redis.close();
}

// ---- report ----
const ms = (v: number) => fmt(v, v < 10 ? 2 : 1);
const loopText = (l: LoopReading) => `${ms(l.delay.p99)} / ${ms(l.delay.max)}`;
const gcText = (l: LoopReading) => `${l.gc.count} (${l.gc.major} major), ${fmt(l.gc.totalMs, 0)} ms, max ${ms(l.gc.maxMs)}`;
console.log(
  '\n' +
    table(
      ['round', 'layout', 'joined/s', 'KiB per socket (each daemon)', 'Redis B/participant', 'delivered msg/s', 'within p50 / p99 / max (ms)', 'across p50 / p99 / max (ms)'],
      results.map((r) => [
        String(r.round),
        r.layout,
        fmt(r.join.perSecond, 0),
        r.daemons.map((d) => fmt(d.kibPerSocket, 1)).join(', '),
        r.redis ? fmt(r.redis.bytesPerParticipant, 0) : '–',
        `${fmt(r.relay.deliveredPerSecond, 0)} of ${fmt(r.relay.offered, 0)}`,
        `${ms(r.relay.within.p50)} / ${ms(r.relay.within.p99)} / ${ms(r.relay.within.max)}`,
        r.relay.across.n ? `${ms(r.relay.across.p50)} / ${ms(r.relay.across.p99)} / ${ms(r.relay.across.max)}` : '–',
      ]),
    ),
);
console.log(
  '\n' +
    table(
      ['round', 'layout', 'CPU % daemons / generator / redis', 'loop delay p99 / max (ms): daemons', 'generator', 'GC in the window: daemons', 'generator'],
      results.map((r) => [
        String(r.round),
        r.layout,
        `${r.daemons.map((d) => fmt(d.cpuPercent, 0)).join('+')} / ${fmt(r.generator.cpuPercent, 0)} / ${r.redis ? fmt(r.redis.cpuPercent, 0) : '–'}`,
        r.daemons.map((d) => loopText(d.loop)).join('; '),
        loopText(r.generator.loop),
        r.daemons.map((d) => gcText(d.loop)).join('; '),
        gcText(r.generator.loop),
      ]),
    ),
);
for (const profiled of results.filter((r) => r.profile)) {
  const p = profiled.profile!;
  console.log(`\nprofile of the ${profiled.layout === 'single' ? 'single daemon' : 'first instance'}'s relay window (${p.file}): ${p.sampledMs} ms sampled, ${fmt(p.busyPercent, 0)} % busy`);
  console.log('by component (ms):', JSON.stringify(p.byComponent));
  console.log(`busy stretches ≥ ${p.tail.thresholdMs} ms: ${p.tail.stretches}, longest ${p.tail.longestMs} ms, made of (ms):`, JSON.stringify(p.tail.byComponent));
  console.log('top functions by self time (ms):', p.topFunctions.map((f) => `${f.name} ${f.ms}`).join('; '));
}
const file = writeResult('cluster-sockets', {
  bench: 'cluster-sockets',
  machine: m,
  command: `node --import tsx bench/cluster-sockets.ts ${process.argv.slice(2).join(' ')}`.trim(),
  commit: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim(),
  config: { sockets: total, instances, perSession: PER_SESSION, socketsPerAddress: SOCKETS_PER_ADDRESS, ratePerViewer: rate, seconds, rounds, pin, daemonFlags, fdLimit },
  results,
});
console.log(`results appended to ${file}`);
