// Relay latency with the daemon as one of many instances on Redis (issue 19), beside the
// single-process daemon: daemons in child processes (bench/support/daemon-child.mjs, compiled dist/),
// one real redis-server, this process the load generator (one clock).
//   single: one daemon without Redis; publishers and viewers on it.
//   within: two instances on Redis; publishers and viewers on instance A (the relay stays local).
//   across: two instances on Redis; publishers on A, viewers on B (every relay crosses Redis pub/sub).
// Every viewer sends candidates to its publisher at --rate msg/s for --seconds; latency = send → the
// publisher's socket delivers it.
//   flock /tmp/webrtcbin-bench.lock node --import tsx bench/cluster.ts [--viewers 200] [--rate 10] [--seconds 8]
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { mintToken } from '../lib/signaling/daemon/token.js';
import { RedisServer } from '../test/helpers/redis.js';
import { BENCH_DIR, describeMachine, ensureBenchLock, fmt, machine, percentile, sleep, table, writeResult } from './support/common.js';

ensureBenchLock();
const { values } = parseArgs({ options: { viewers: { type: 'string' }, rate: { type: 'string' }, seconds: { type: 'string' } } });
const viewers = Number(values.viewers ?? 200);
const rate = Number(values.rate ?? 10);
const seconds = Number(values.seconds ?? 8);
const PER_SESSION = 20;
const SECRET = 'bench-secret-0123456789abcdef';
const m = machine();

async function startDaemon(options: Record<string, unknown>): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [path.join(BENCH_DIR, 'support/daemon-child.mjs'), JSON.stringify({ secret: SECRET, options: { maxSocketsPerIp: 0, ...options } })], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`daemon exited with ${code}`)));
  });
  return { child, port };
}

async function stop(d: { child: ChildProcess }): Promise<void> {
  const exited = new Promise<void>((resolve) => d.child.once('exit', () => resolve()));
  d.child.stdin!.end();
  const timer = setTimeout(() => d.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function join(port: number, session: string, role: 'publisher' | 'viewer', onCandidate?: (sent: number) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws`, { perMessageDeflate: false });
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ type: 'join', session, role, token: mintToken({ secret: SECRET, session, role }) })));
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text.startsWith('{"type":"joined"')) return resolve(ws);
      if (text.includes('"type":"error"')) return reject(new Error(text));
      if (onCandidate && text.startsWith('{"type":"candidate"')) {
        const message = JSON.parse(text) as { candidate: { candidate: string } };
        onCandidate(Number(message.candidate.candidate.split(' ')[1]));
      }
    });
  });
}

async function run(name: string, publisherPort: number, viewerPort: number): Promise<Record<string, number | string>> {
  const latencies: number[] = [];
  let recording = false;
  const sessions = Math.ceil(viewers / PER_SESSION);
  const sockets: WebSocket[] = [];
  const tag = Math.random().toString(36).slice(2, 8);
  for (let s = 0; s < sessions; s++) sockets.push(await join(publisherPort, `${tag}-${s}`, 'publisher', (sent) => recording && latencies.push(performance.now() - sent)));
  const viewerSockets: WebSocket[] = [];
  for (let i = 0; i < viewers; i += 50) {
    viewerSockets.push(...(await Promise.all(Array.from({ length: Math.min(50, viewers - i) }, (_, j) => join(viewerPort, `${tag}-${(i + j) % sessions}`, 'viewer')))));
  }
  await sleep(500);
  recording = true;
  const timers = viewerSockets.map((ws, i) =>
    setTimeout(() => {
      timers[i] = setInterval(() => ws.send(JSON.stringify({ type: 'candidate', candidate: { candidate: `candidate:bench ${performance.now()}`, sdpMid: '0', sdpMLineIndex: 0 } })), 1000 / rate);
    }, (i * 1000) / rate / viewers),
  );
  await sleep(seconds * 1000);
  timers.forEach((timer) => clearInterval(timer));
  await sleep(500);
  recording = false;
  for (const ws of [...sockets, ...viewerSockets]) ws.close();
  latencies.sort((a, b) => a - b);
  return { name, delivered: latencies.length, perSecond: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] ?? NaN };
}

const redis = await RedisServer.start();
const results: Record<string, number | string>[] = [];
try {
  const single = await startDaemon({});
  results.push(await run('single process', single.port, single.port));
  await stop(single);
  const a = await startDaemon({ redis: redis.url });
  const b = await startDaemon({ redis: redis.url });
  results.push(await run('cluster, within one instance', a.port, a.port));
  results.push(await run('cluster, across instances', a.port, b.port));
  await Promise.all([stop(a), stop(b)]);
} finally {
  await redis.close();
}
console.log(`\n${describeMachine(m)}\n${viewers} viewers in sessions of ${PER_SESSION}, ${rate} msg/s each (${viewers * rate} msg/s offered), ${seconds} s\n`);
console.log(
  table(
    ['', 'delivered msg/s', 'p50 (ms)', 'p99 (ms)', 'max (ms)'],
    results.map((r) => [String(r.name), fmt(r.perSecond as number, 0), fmt(r.p50 as number, 2), fmt(r.p99 as number, 1), fmt(r.max as number, 1)]),
  ),
);
writeResult('cluster', { machine: m, viewers, rate, seconds, results });
