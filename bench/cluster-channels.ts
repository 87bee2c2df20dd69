// A channel per instance or a channel per session on the cluster's bus (issue 19), measured side by
// side. Three daemon instances on one redis-server (daemons in child processes; the load generator is
// this process, one clock). Per shape, both variants run alternately (instance, session; then session,
// instance in the next round), each on fresh daemons and a fresh key prefix, so both see the same machine.
// The daemon has a channel per instance (docs/protocol.md, "Cluster", says why); the per-session
// variant was built and measured at commit 5924c03 (`redis: {channels: 'session'}`) and removed after:
// --session-dist names a compiled dist/ of that commit, which runs the session variant:
//   git archive 5924c03 | tar -x -C /tmp/per-session && cd /tmp/per-session && ln -s /path/to/this/checkout/node_modules . && npx tsc -p tsconfig.json
//   relay shapes `PxS`: S sessions of P participants (1 publisher + P−1 viewers); session s's publisher
//     on instance s % 3, its k-th viewer on (s + k) % 3 (sessions of 2: every relay crosses instances;
//     of 20: 7 of 19 viewers within, 12 across). Every viewer sends a `candidate` to its publisher so
//     that --offered msg/s are offered in all; latency = send → the publisher's socket delivers it.
//     CPU of each instance, of Redis and of this generator over the window.
//   churn: 200 sessions of 2 with the publisher on instance A; a viewer joins every 1000/--joins ms on
//     B or C (alternating), waits for `joined`, and leaves (closes): per session, an instance gains its
//     first participant and loses its last at every join, so with a channel per session every join is
//     a SUBSCRIBE and every leave an UNSUBSCRIBE. Join latency = join sent → joined; CPU as above.
//   flock /tmp/webrtcbin-bench.lock node --import tsx bench/cluster-channels.ts --session-dist /tmp/per-session/dist
//     [--shapes 2x200,2x2000,20x200,churn] [--offered 2000] [--joins 100] [--seconds 8] [--rounds 2]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { mintToken } from '../lib/signaling/daemon/token.js';
import { RedisServer } from '../test/helpers/redis.js';
import { CpuMeter, describeMachine, ensureBenchLock, fmt, loadavg, machine, percentile, sleep, table, writeResult } from './support/common.js';
import { paceCandidates, terminateAll } from './support/sockets.js';
import { DaemonProcess } from './support/daemon-process.js';

ensureBenchLock();
const { values } = parseArgs({
  options: { shapes: { type: 'string' }, offered: { type: 'string' }, joins: { type: 'string' }, seconds: { type: 'string' }, rounds: { type: 'string' }, 'session-dist': { type: 'string' } },
});
if (!values['session-dist'] || !existsSync(path.join(values['session-dist'], 'lib/signaling/cluster/cluster.js'))) {
  console.error('cluster-channels: --session-dist must name a compiled dist/ of commit 5924c03 (the per-session variant); see the comment at the top of bench/cluster-channels.ts');
  process.exit(2);
}
const sessionDist = path.resolve(values['session-dist']);
const shapes = (values.shapes ?? '2x200,2x2000,20x200,churn').split(',');
const offered = Number(values.offered ?? 2000);
const joinsPerSecond = Number(values.joins ?? 100);
const seconds = Number(values.seconds ?? 8);
const rounds = Number(values.rounds ?? 2);
const INSTANCES = 3;
const HANDSHAKES_AT_ONCE = 200;
const SECRET = 'bench-secret-0123456789abcdef';
type Channels = 'instance' | 'session';
type Role = 'publisher' | 'viewer';
const m = machine();

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN };
}

function redisPid(redis: RedisServer): number {
  const info = spawnSync('redis-cli', ['-p', String(redis.port), 'INFO', 'server'], { encoding: 'utf8' }).stdout;
  return Number(/process_id:(\d+)/.exec(info)?.[1]);
}

interface Client {
  ws: WebSocket;
  index: number;
  instance: number;
}

/** Opens a socket on `port` and joins; resolves at `joined` with the join latency (join sent → joined). */
function join(port: number, session: string, role: Role, onMessage?: (text: string) => void): Promise<{ ws: WebSocket; joinMs: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws`, { perMessageDeflate: false });
    let sent = 0;
    let joined = false;
    ws.once('error', reject);
    ws.once('open', () => {
      sent = performance.now();
      ws.send(JSON.stringify({ type: 'join', session, role, token: mintToken({ secret: SECRET, session, role }) }));
    });
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (!joined) {
        if (text.startsWith('{"type":"joined"')) return ((joined = true), resolve({ ws, joinMs: performance.now() - sent }));
        if (text.includes('"type":"error"')) return reject(new Error(text));
        return;
      }
      onMessage?.(text);
    });
  });
}

/** Redis's own counters: bytes it wrote (mostly pub/sub deliveries to the instances) and read, commands. */
function redisCounters(redis: RedisServer): { out: number; in: number; commands: number } {
  const info = spawnSync('redis-cli', ['-p', String(redis.port), 'INFO', 'stats'], { encoding: 'utf8' }).stdout;
  const field = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(info)?.[1]);
  return { out: field('total_net_output_bytes'), in: field('total_net_input_bytes'), commands: field('total_commands_processed') };
}

interface Meters {
  cpu: { instances: number[]; redis: number; generator: number };
  /** Per second over the window: what Redis wrote and read, and the commands it ran (independent of the machine's load). */
  redisPerSecond: { outBytes: number; inBytes: number; commands: number };
}

function startMeters(daemons: DaemonProcess[], redis: RedisServer): () => Meters {
  const meters = [...daemons.map((d) => new CpuMeter(d.pid)), new CpuMeter(redisPid(redis)), new CpuMeter(process.pid)];
  const before = redisCounters(redis);
  const t0 = performance.now();
  meters.forEach((meter) => meter.start());
  return () => {
    const cpu = meters.map((meter) => meter.stop().percent);
    const after = redisCounters(redis);
    const wall = (performance.now() - t0) / 1000;
    return {
      cpu: { instances: cpu.slice(0, daemons.length), redis: cpu[daemons.length]!, generator: cpu[daemons.length + 1]! },
      redisPerSecond: { outBytes: (after.out - before.out) / wall, inBytes: (after.in - before.in) / wall, commands: (after.commands - before.commands) / wall },
    };
  };
}

async function startInstances(redis: RedisServer, channels: Channels, prefix: string): Promise<DaemonProcess[]> {
  const variant = channels === 'session' ? { dist: sessionDist, options: { maxSocketsPerIp: 0, redis: { url: redis.url, keyPrefix: prefix, channels } } } : { options: { maxSocketsPerIp: 0, redis: { url: redis.url, keyPrefix: prefix } } };
  return Promise.all(Array.from({ length: INSTANCES }, () => DaemonProcess.start({ secret: SECRET, ...variant })));
}

interface RelayResult extends Meters {
  shape: string;
  channels: Channels;
  round: number;
  loadavgAtStart: string;
  sockets: number;
  deliveredPerSecond: number;
  within: ReturnType<typeof summary>;
  across: ReturnType<typeof summary>;
}

async function relay(shape: string, channels: Channels, round: number, redis: RedisServer): Promise<RelayResult> {
  const [perSession, sessions] = shape.split('x').map(Number) as [number, number];
  const loadavgAtStart = loadavg();
  const daemons = await startInstances(redis, channels, `bench-${shape}-${channels}-${round}:`);
  const latencies = { within: [] as number[], across: [] as number[] };
  let recording = false;
  const viewerInstance = new Map<number, number>();
  const publishers: Client[] = [];
  const viewers: Client[] = [];
  // Publishers first, then viewers, HANDSHAKES_AT_ONCE at a time.
  const steps: [Role, number, number][] = [];
  for (let s = 0; s < sessions; s++) steps.push(['publisher', s, s % INSTANCES]);
  for (let k = 1; k < perSession; k++) for (let s = 0; s < sessions; s++) steps.push(['viewer', s, (s + k) % INSTANCES]);
  for (let i = 0; i < steps.length; i += HANDSHAKES_AT_ONCE) {
    await Promise.all(
      steps.slice(i, i + HANDSHAKES_AT_ONCE).map(async ([role, s, instance], j) => {
        const index = i + j;
        const onMessage =
          role === 'publisher'
            ? (text: string) => {
                if (!recording || !text.startsWith('{"type":"candidate"')) return;
                const [, viewer, sent] = (JSON.parse(text) as { candidate: { candidate: string } }).candidate.candidate.split(' ');
                (viewerInstance.get(Number(viewer)) === instance ? latencies.within : latencies.across).push(performance.now() - Number(sent));
              }
            : undefined;
        const { ws } = await join(daemons[instance]!.port, `s${s}`, role, onMessage);
        (role === 'publisher' ? publishers : viewers).push({ ws, index, instance });
        if (role === 'viewer') viewerInstance.set(index, instance);
      }),
    );
  }
  await sleep(1000);
  const stopSending = paceCandidates(viewers, offered);
  const { wall, meters } = await measuredWindow(daemons, redis, (on) => (recording = on));
  stopSending();
  await sleep(500);
  await terminateAll([...publishers, ...viewers].map((c) => c.ws));
  await Promise.all(daemons.map((d) => d.stop()));
  return {
    shape,
    channels,
    round,
    loadavgAtStart,
    sockets: publishers.length + viewers.length,
    deliveredPerSecond: (latencies.within.length + latencies.across.length) / wall,
    within: summary(latencies.within),
    across: summary(latencies.across),
    ...meters,
  };
}

// A second of warm-up, then `seconds` with the meters running and `record(true)`: the window's wall time
// and the instances' and Redis's meters over it.
async function measuredWindow(daemons: Parameters<typeof startMeters>[0], redis: RedisServer, record: (on: boolean) => void): Promise<{ wall: number; meters: Meters }> {
  await sleep(1000);
  const stop = startMeters(daemons, redis);
  record(true);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  record(false);
  const wall = (performance.now() - t0) / 1000;
  return { wall, meters: stop() };
}

interface ChurnResult extends Meters {
  shape: 'churn';
  channels: Channels;
  round: number;
  loadavgAtStart: string;
  joinsPerSecond: number;
  failed: number;
  join: ReturnType<typeof summary>;
  peerJoinedAtPublisher: number;
}

async function churn(channels: Channels, round: number, redis: RedisServer): Promise<ChurnResult> {
  const sessions = 200;
  const loadavgAtStart = loadavg();
  const daemons = await startInstances(redis, channels, `bench-churn-${channels}-${round}:`);
  let heard = 0;
  let recording = false;
  const publishers = await Promise.all(
    Array.from({ length: sessions }, (_, s) => join(daemons[0]!.port, `s${s}`, 'publisher', (text) => recording && text.startsWith('{"type":"peer-joined"') && heard++)),
  );
  await sleep(1000);
  const joinMs: number[] = [];
  let failed = 0;
  let n = 0;
  const inFlight = new Set<Promise<void>>();
  const scheduler = setInterval(() => {
    const k = n++;
    const work = join(daemons[1 + (k % 2)]!.port, `s${k % sessions}`, 'viewer')
      .then(({ ws, joinMs: ms }) => {
        if (recording) joinMs.push(ms);
        ws.close();
      })
      .catch(() => void (recording && failed++));
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  }, 1000 / joinsPerSecond);
  const { wall, meters } = await measuredWindow(daemons, redis, (on) => (recording = on));
  clearInterval(scheduler);
  await Promise.all([...inFlight]);
  await sleep(500);
  await terminateAll(publishers.map((p) => p.ws));
  await Promise.all(daemons.map((d) => d.stop()));
  return { shape: 'churn', channels, round, loadavgAtStart, joinsPerSecond: joinMs.length / wall, failed, join: summary(joinMs), peerJoinedAtPublisher: heard / wall, ...meters };
}

console.log(`cluster-channels: ${INSTANCES} instances on one Redis, a channel per instance vs per session; shapes ${shapes.join(', ')}; ${offered} msg/s offered in relay shapes, ${joinsPerSecond} joins/s in churn; ${seconds} s windows, ${rounds} round(s); ${describeMachine(m)}`);
const redis = await RedisServer.start();
const results: (RelayResult | ChurnResult)[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    for (const shape of shapes) {
      const order: Channels[] = round % 2 ? ['instance', 'session'] : ['session', 'instance'];
      for (const channels of order) {
        const r = shape === 'churn' ? await churn(channels, round, redis) : await relay(shape, channels, round, redis);
        results.push(r);
        const cpu = `CPU instances ${r.cpu.instances.map((c) => fmt(c, 0)).join('+')} %, redis ${fmt(r.cpu.redis, 0)} %`;
        if (r.shape === 'churn') {
          const c = r as ChurnResult;
          console.log(`  round ${round} churn ${channels}: ${fmt(c.joinsPerSecond, 0)} joins/s, join p50/p99 ${fmt(c.join.p50, 2)}/${fmt(c.join.p99, 1)} ms, ${cpu} (load ${r.loadavgAtStart})`);
        } else {
          const x = r as RelayResult;
          console.log(`  round ${round} ${shape} ${channels}: ${fmt(x.deliveredPerSecond, 0)} msg/s, across p50/p99 ${fmt(x.across.p50, 2)}/${fmt(x.across.p99, 1)} ms, within ${fmt(x.within.p50, 2)}/${fmt(x.within.p99, 1)} ms, ${cpu} (load ${r.loadavgAtStart})`);
        }
      }
    }
  }
} finally {
  await redis.close();
}

const ms = (v: number) => fmt(v, v < 10 ? 2 : 1);
const relays = results.filter((r): r is RelayResult => r.shape !== 'churn');
if (relays.length) {
  console.log(
    '\n' +
      table(
        ['round', 'shape (participants × sessions)', 'channel per', 'delivered msg/s', 'across p50 / p99 / max (ms)', 'within p50 / p99 (ms)', 'CPU % instances (sum)', 'CPU % Redis', 'Redis out B per delivered msg'],
        relays.map((r) => [
          String(r.round),
          r.shape,
          r.channels,
          fmt(r.deliveredPerSecond, 0),
          `${ms(r.across.p50)} / ${ms(r.across.p99)} / ${ms(r.across.max)}`,
          r.within.n ? `${ms(r.within.p50)} / ${ms(r.within.p99)}` : '–',
          `${r.cpu.instances.map((c) => fmt(c, 0)).join('+')} (${fmt(r.cpu.instances.reduce((a, b) => a + b, 0), 0)})`,
          fmt(r.cpu.redis, 1),
          fmt(r.redisPerSecond.outBytes / r.deliveredPerSecond, 0),
        ]),
      ),
  );
}
const churns = results.filter((r): r is ChurnResult => r.shape === 'churn');
if (churns.length) {
  console.log(
    '\n' +
      table(
        ['round', 'channel per', 'joins/s (failed)', 'join p50 / p99 / max (ms)', 'peer-joined/s at publishers', 'CPU % instances A+B+C', 'CPU % Redis', 'Redis commands per join'],
        churns.map((r) => [String(r.round), r.channels, `${fmt(r.joinsPerSecond, 0)} (${r.failed})`, `${ms(r.join.p50)} / ${ms(r.join.p99)} / ${ms(r.join.max)}`, fmt(r.peerJoinedAtPublisher, 0), r.cpu.instances.map((c) => fmt(c, 0)).join('+'), fmt(r.cpu.redis, 1), fmt(r.redisPerSecond.commands / r.joinsPerSecond, 1)]),
      ),
  );
}
const file = writeResult('cluster-channels', {
  bench: 'cluster-channels',
  machine: m,
  command: `node --import tsx bench/cluster-channels.ts ${process.argv.slice(2).join(' ')}`.trim(),
  commit: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim(),
  config: { instances: INSTANCES, shapes, offered, joinsPerSecond, seconds, rounds, sessionDist },
  results,
});
console.log(`results appended to ${file}`);
