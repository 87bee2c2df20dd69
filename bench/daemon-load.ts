// Signaling daemon load on loopback: the daemon (lib/signaling, standalone Fastify server) runs in a
// child process; this process is the load generator (ws clients, one event loop).
//   1. sockets: N sockets (sessions of 1 publisher + 19 viewers, signed tokens, default limits; 50 sockets
//      per loopback source address, under the default 64 per IP) opened and joined; time to join them all, daemon RSS before/after → RSS per connection.
//   2. paced relay at the documented limits (default daemon: 50 msg/s, burst 100 per viewer socket):
//      every viewer sends candidate messages to its publisher at --rate msg/s (default 10); delivered
//      messages/s and relay latency p50/p99 (send → the publisher's socket delivers it; one clock).
//   3. flood: a second daemon started with the per-socket rate limit raised to 1e6 msg/s (only so one
//      socket may exceed 50/s; nothing else changes), every viewer keeps --window messages in flight;
//      relay throughput (messages/s) and latency under saturation.
//   flock /tmp/webrtcbin-bench.lock node --import tsx bench/daemon-load.ts [--sockets 2000] [--seconds 10] [--rate 10] [--window 4] [--quick]
//   --against DIST [--rounds N]: instead of the bare relay, another build of ours (DIST: its compiled
//   dist/, e.g. of the commit before a change), alternating with this tree's N times (this, that; that,
//   this; …) so both see the same machine: a before/after comparison.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { mintToken } from '../lib/signaling/daemon/token.js';
import { BENCH_DIR, CpuMeter, describeMachine, ensureBenchLock, fmt, machine, percentile, procStatus, sleep, table, writeResult } from './support/common.js';
import { SOCKETS_PER_ADDRESS, sourceAddress, terminateAll } from './support/sockets.js';

ensureBenchLock();
const { values } = parseArgs({
  options: { sockets: { type: 'string' }, seconds: { type: 'string' }, rate: { type: 'string' }, window: { type: 'string' }, quick: { type: 'boolean' }, against: { type: 'string' }, rounds: { type: 'string' } },
});
const against = values.against ? path.resolve(values.against) : undefined;
const rounds = Number(values.rounds ?? 1);
const quick = values.quick === true;
const total = Number(values.sockets ?? 2000);
const seconds = Number(values.seconds ?? (quick ? 5 : 10));
const pacedRate = Number(values.rate ?? 10);
const windowSize = Number(values.window ?? 4);
const PER_SESSION = 20;
const SECRET = 'bench-secret-0123456789abcdef';
const m = machine();

interface Daemon {
  child: ChildProcess;
  port: number;
}

type Kind = 'ours' | 'bare' | 'against';
async function startDaemon(kind: Kind, rate?: { perSecond: number; burst: number }): Promise<Daemon> {
  const args =
    kind === 'bare'
      ? [path.join(BENCH_DIR, 'baselines/ws-relay.mjs')]
      : [path.join(BENCH_DIR, 'support/daemon-child.mjs'), JSON.stringify({ secret: SECRET, rate, ...(kind === 'against' ? { dist: against } : {}) })];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`daemon exited with ${code}`)));
  });
  return { child, port };
}

async function stopDaemon(d: Daemon): Promise<void> {
  const exited = new Promise<void>((resolve) => d.child.once('exit', () => resolve()));
  d.child.stdin!.end();
  const timer = setTimeout(() => d.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

interface Client {
  ws: WebSocket;
  role: 'publisher' | 'viewer';
  index: number;
  session: number;
  inFlight: number;
}

// Relay bookkeeping, shared by both relay phases.
let delivered = 0;
let latencies: number[] = [];
let recording = false;
let onDelivered: ((viewerIndex: number) => void) | undefined;

function open(port: number, role: 'publisher' | 'viewer', session: number, index: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    // The daemon allows 64 WebSockets per address by default (429 over it): spread over loopback addresses.
    const localAddress = sourceAddress(index);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws`, { perMessageDeflate: false, localAddress });
    const client: Client = { ws, role, index, session, inFlight: 0 };
    ws.once('error', reject);
    ws.once('open', () => {
      const name = `s${session}`;
      ws.send(JSON.stringify({ type: 'join', session: name, role, token: mintToken({ secret: SECRET, session: name, role }) }));
    });
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (!client.inFlight && text.startsWith('{"type":"joined"')) return resolve(client);
      if (role !== 'publisher' || !text.startsWith('{"type":"candidate"')) {
        if (text.includes('"type":"error"')) reject(new Error(text));
        return;
      }
      const message = JSON.parse(text) as { candidate: { candidate: string } };
      const [, viewer, sent] = message.candidate.candidate.split(' ');
      delivered++;
      if (recording) latencies.push(performance.now() - Number(sent));
      onDelivered?.(Number(viewer));
    });
  });
}

async function openAll(port: number): Promise<{ clients: Client[]; seconds: number }> {
  const clients: Client[] = [];
  const t0 = performance.now();
  const sessions = Math.ceil(total / PER_SESSION);
  // Publishers first (one per session), then viewers, 200 handshakes at a time.
  const plan: [('publisher' | 'viewer'), number][] = [];
  for (let s = 0; s < sessions; s++) plan.push(['publisher', s]);
  for (let i = sessions; i < total; i++) plan.push(['viewer', i % sessions]);
  for (let i = 0; i < plan.length; i += 200) {
    const batch = plan.slice(i, i + 200).map(([role, s], j) => open(port, role, s, i + j));
    clients.push(...(await Promise.all(batch)));
  }
  return { clients, seconds: (performance.now() - t0) / 1000 };
}

/** Write syscalls (write and writev) the process has made: a socket write per relayed message shows here, whatever the load. */
function writeSyscalls(pid: number): number {
  return Number(/syscw: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1]);
}

function candidate(viewer: Client): string {
  return JSON.stringify({ type: 'candidate', candidate: { candidate: `candidate:bench ${viewer.index} ${performance.now()}`, sdpMid: '0', sdpMLineIndex: 0 } });
}

console.log(`daemon load: ${total} sockets in sessions of ${PER_SESSION} (1 publisher + ${PER_SESSION - 1} viewers), loopback; ${describeMachine(m)}`);

async function run(kind: Kind) {
  onDelivered = undefined;
  // ---- 1 + 2: the default daemon ----
  const daemon = await startDaemon(kind);
  await sleep(500);
  const idle = procStatus(daemon.child.pid!);
  const opened = await openAll(daemon.port);
  await sleep(1000);
  const held = procStatus(daemon.child.pid!);
  const viewers = opened.clients.filter((c) => c.role === 'viewer');

  // Paced: each viewer at pacedRate msg/s, spread evenly.
  delivered = 0;
  latencies = [];
  const interval = 1000 / pacedRate;
  const timers: NodeJS.Timeout[] = [];
  viewers.forEach((v, i) => {
    const start = setTimeout(() => {
      timers.push(setInterval(() => v.ws.send(candidate(v)), interval));
    }, (i / viewers.length) * interval);
    timers.push(start);
  });
  await sleep(1000);
  recording = true;
  const pacedDelivered0 = delivered;
  const daemonCpu = new CpuMeter(daemon.child.pid!);
  const selfCpu = new CpuMeter(process.pid);
  const pacedWrites0 = writeSyscalls(daemon.child.pid!);
  daemonCpu.start();
  selfCpu.start();
  await sleep(seconds * 1000);
  const pacedDaemonCpu = daemonCpu.stop();
  const pacedSelfCpu = selfCpu.stop();
  const pacedWrites = (writeSyscalls(daemon.child.pid!) - pacedWrites0) / (delivered - pacedDelivered0);
  const paced = { perSecond: (delivered - pacedDelivered0) / pacedDaemonCpu.seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.reduce((a, b) => Math.max(a, b), 0), writesPerMessage: pacedWrites };
  recording = false;
  for (const t of timers) clearInterval(t);
  await sleep(500);
  const pacedRss = procStatus(daemon.child.pid!);
  const closedCount = opened.clients.filter((c) => c.ws.readyState !== WebSocket.OPEN).length;
  await terminateAll(opened.clients.map((c) => c.ws));
  await stopDaemon(daemon);

  // ---- 3: flood, on a daemon with the per-socket rate limit raised ----
  const fast = await startDaemon(kind, { perSecond: 1_000_000, burst: 1_000_000 });
  await sleep(500);
  const flooded = await openAll(fast.port);
  const floodViewers = flooded.clients.filter((c) => c.role === 'viewer');
  const byIndex = new Map(floodViewers.map((v) => [v.index, v]));
  let running = true;
  onDelivered = (index) => {
    const v = byIndex.get(index);
    if (!v) return;
    v.inFlight--;
    if (running) {
      v.inFlight++;
      v.ws.send(candidate(v));
    }
  };
  delivered = 0;
  latencies = [];
  for (const v of floodViewers) {
    for (let k = 0; k < windowSize; k++) {
      v.inFlight++;
      v.ws.send(candidate(v));
    }
  }
  await sleep(1000);
  recording = true;
  const floodDelivered0 = delivered;
  const fastCpu = new CpuMeter(fast.child.pid!);
  const floodWrites0 = writeSyscalls(fast.child.pid!);
  fastCpu.start();
  selfCpu.start();
  await sleep(seconds * 1000);
  const floodDaemonCpu = fastCpu.stop();
  const floodSelfCpu = selfCpu.stop();
  const floodWrites = (writeSyscalls(fast.child.pid!) - floodWrites0) / (delivered - floodDelivered0);
  const flood = { perSecond: (delivered - floodDelivered0) / floodDaemonCpu.seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.reduce((a, b) => Math.max(a, b), 0), writesPerMessage: floodWrites };
  recording = false;
  running = false;
  const floodRss = procStatus(fast.child.pid!);
  await sleep(500);
  await terminateAll(flooded.clients.map((c) => c.ws));
  await stopDaemon(fast);

  return {
    open: { sockets: opened.clients.length, seconds: opened.seconds, idleRssMiB: idle.rssMiB, heldRssMiB: held.rssMiB, rssKiBPerConnection: ((held.rssMiB - idle.rssMiB) * 1024) / opened.clients.length },
    paced: { ...paced, viewers: viewers.length, daemonCpuPercent: pacedDaemonCpu.percent, generatorCpuPercent: pacedSelfCpu.percent, closedByDaemon: closedCount, rssMiB: pacedRss.rssMiB },
    flood: { ...flood, viewers: floodViewers.length, daemonCpuPercent: floodDaemonCpu.percent, generatorCpuPercent: floodSelfCpu.percent, rssMiB: floodRss.rssMiB },
  };
}

type Run = Awaited<ReturnType<typeof run>>;
const other: Kind = against ? 'against' : 'bare';
const runs: { ours: Run; other: Run }[] = [];
for (let n = 0; n < rounds; n++) {
  // Alternating, so that neither build always runs on the fresher machine.
  if (n % 2 === 0) runs.push({ ours: await run('ours'), other: await run(other) });
  else {
    const first = await run(other);
    runs.push({ ours: await run('ours'), other: first });
  }
}
for (const [n, { ours, other: bare }] of runs.entries()) report(n, ours, bare);

function report(n: number, ours: Run, bare: Run): void {
  console.log(`\nround ${n + 1} of ${rounds}${n % 2 ? ` (${other} first)` : ''}`);
  const r = (a: number, b: number) => (b ? `${(a / b).toFixed(2)}×` : '–');
  const rows = [
    ['sockets opened and joined (s)', `${fmt(ours.open.seconds, 2)} (${ours.open.sockets})`, `${fmt(bare.open.seconds, 2)} (${bare.open.sockets})`, r(ours.open.seconds, bare.open.seconds)],
    ['daemon RSS idle (MiB)', fmt(ours.open.idleRssMiB, 0), fmt(bare.open.idleRssMiB, 0), r(ours.open.idleRssMiB, bare.open.idleRssMiB)],
    ['daemon RSS holding them (MiB)', fmt(ours.open.heldRssMiB, 0), fmt(bare.open.heldRssMiB, 0), r(ours.open.heldRssMiB, bare.open.heldRssMiB)],
    ['RSS per connection (KiB)', fmt(ours.open.rssKiBPerConnection, 1), fmt(bare.open.rssKiBPerConnection, 1), r(ours.open.rssKiBPerConnection, bare.open.rssKiBPerConnection)],
    [`paced: delivered (msg/s; ${ours.paced.viewers} viewers × ${pacedRate}/s, default limits)`, fmt(ours.paced.perSecond, 0), fmt(bare.paced.perSecond, 0), r(ours.paced.perSecond, bare.paced.perSecond)],
    ['paced: relay latency p50 (ms)', fmt(ours.paced.p50, 2), fmt(bare.paced.p50, 2), r(ours.paced.p50, bare.paced.p50)],
    ['paced: relay latency p99 (ms)', fmt(ours.paced.p99, 2), fmt(bare.paced.p99, 2), r(ours.paced.p99, bare.paced.p99)],
    ['paced: daemon CPU (% of one core)', fmt(ours.paced.daemonCpuPercent), fmt(bare.paced.daemonCpuPercent), r(ours.paced.daemonCpuPercent, bare.paced.daemonCpuPercent)],
    ['paced: sockets closed by the daemon', String(ours.paced.closedByDaemon), String(bare.paced.closedByDaemon), ''],
    [`flood: relay throughput (msg/s; window ${windowSize}/viewer, rate limit raised)`, fmt(ours.flood.perSecond, 0), fmt(bare.flood.perSecond, 0), r(ours.flood.perSecond, bare.flood.perSecond)],
    ['flood: relay latency p50 (ms)', fmt(ours.flood.p50, 1), fmt(bare.flood.p50, 1), r(ours.flood.p50, bare.flood.p50)],
    ['flood: relay latency p99 (ms)', fmt(ours.flood.p99, 1), fmt(bare.flood.p99, 1), r(ours.flood.p99, bare.flood.p99)],
    ['flood: CPU daemon / load generator (%)', `${fmt(ours.flood.daemonCpuPercent)} / ${fmt(ours.flood.generatorCpuPercent)}`, `${fmt(bare.flood.daemonCpuPercent)} / ${fmt(bare.flood.generatorCpuPercent)}`, r(ours.flood.daemonCpuPercent, bare.flood.daemonCpuPercent)],
    ['flood: daemon RSS (MiB)', fmt(ours.flood.rssMiB, 0), fmt(bare.flood.rssMiB, 0), r(ours.flood.rssMiB, bare.flood.rssMiB)],
    ['paced: daemon CPU per delivered message (µs)', fmt((ours.paced.daemonCpuPercent * 1e4) / ours.paced.perSecond, 1), fmt((bare.paced.daemonCpuPercent * 1e4) / bare.paced.perSecond, 1), r(ours.paced.daemonCpuPercent / ours.paced.perSecond, bare.paced.daemonCpuPercent / bare.paced.perSecond)],
    ['paced: daemon write syscalls per delivered message', fmt(ours.paced.writesPerMessage, 3), fmt(bare.paced.writesPerMessage, 3), r(ours.paced.writesPerMessage, bare.paced.writesPerMessage)],
    ['flood: daemon write syscalls per delivered message', fmt(ours.flood.writesPerMessage, 3), fmt(bare.flood.writesPerMessage, 3), r(ours.flood.writesPerMessage, bare.flood.writesPerMessage)],
    ['flood: daemon CPU per delivered message (µs)', fmt((ours.flood.daemonCpuPercent * 1e4) / ours.flood.perSecond, 1), fmt((bare.flood.daemonCpuPercent * 1e4) / bare.flood.perSecond, 1), r(ours.flood.daemonCpuPercent / ours.flood.perSecond, bare.flood.daemonCpuPercent / bare.flood.perSecond)],
  ];
  console.log(table(['figure', 'ours (this tree)', against ? `ours (${against})` : 'bare ws relay', against ? 'this ÷ that' : 'ours ÷ bare'], rows));
}
console.log(`(both daemons run as plain compiled JS in their own process; the load generator is this process, ${SOCKETS_PER_ADDRESS} sockets per loopback address)`);
const file = writeResult('daemon-load', {
  bench: 'daemon-load',
  machine: m,
  command: `node --import tsx bench/daemon-load.ts ${process.argv.slice(2).join(' ')}`.trim(),
  config: { sockets: total, perSession: PER_SESSION, socketsPerAddress: SOCKETS_PER_ADDRESS, seconds, pacedRate, window: windowSize, floodRateLimit: 1_000_000, against, rounds },
  results: runs.length === 1 && !against ? { ours: runs[0]!.ours, bare: runs[0]!.other } : runs,
});
console.log(`results appended to ${file}`);
