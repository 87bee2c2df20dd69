// How often does a `webrtcbin relay` start publish on its first attempt? Starts the CLI relay N times
// in a row (K at a time) against one Janus that logs verbosely to a file, and counts the starts whose
// first publication Janus never reported receiving video for (the relay then says "no video … retrying"
// and publishes again). For each start, the SSRCs Janus learnt from our offer ("Peer video SSRC") and
// the ones it dropped RTP for ("Unknown SSRC") come from Janus's log, by its handle id.
//   node --import tsx bench/relay-starts.ts [--starts 20] [--parallel 1] [--size 1280x720]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startJanus } from '../test/helpers/janus.js';
import { describeMachine, ensureBenchLock, machine, writeResult, ROOT } from './support/common.js';

ensureBenchLock();
const { values } = parseArgs({ options: { starts: { type: 'string' }, parallel: { type: 'string' }, size: { type: 'string' } } });
const starts = Number(values.starts ?? 20);
const parallel = Number(values.parallel ?? 1);
const [width, height] = (values.size ?? '1280x720').split('x');
const m = machine();
console.log(`relay-starts: ${starts} CLI relay starts, ${parallel} at a time, ${width}x${height}; ${describeMachine(m)}`);

const logFile = path.join(mkdtempSync(path.join(tmpdir(), 'relay-starts-')), 'janus.log');
const janus = await startJanus({ debugLevel: 5, logFile });
const CLI = path.join(ROOT, 'lib/cli/cli.ts');

interface Start {
  room: number;
  firstAttempt: boolean;
  attempts: number;
  publishedMs?: number;
  errors: string[];
  load1: number;
}

function once(room: number): Promise<Start> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'relay', '--janus', janus.url, '--room', String(room), '--test', '--width', width!, '--height', height!], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const result: Start = { room, firstAttempt: false, attempts: 1, errors: [], load1: loadavg()[0]! };
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      child.kill('SIGTERM');
      child.once('exit', () => resolve(result));
    };
    const timer = setTimeout(finish, 60_000);
    const read = (d: Buffer) => {
      out += d.toString();
      for (const line of out.split('\n').slice(0, -1)) {
        if (/^error:/.test(line) && !result.errors.includes(line)) {
          result.errors.push(line);
          result.attempts++;
        }
        if (/published into/.test(line) && result.publishedMs === undefined) {
          result.publishedMs = Date.now() - started;
          result.firstAttempt = result.errors.length === 0;
          finish();
        }
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
  });
}

const results: Start[] = [];
let next = 0;
await Promise.all(
  Array.from({ length: parallel }, async () => {
    while (next < starts) {
      const room = 7000 + next++;
      const r = await once(room);
      results.push(r);
      console.log(`  room ${room}: ${r.publishedMs === undefined ? 'never published' : `published in ${r.publishedMs} ms`}, ${r.firstAttempt ? 'first attempt' : `after ${r.attempts} attempts`} (load ${r.load1.toFixed(1)})${r.errors.length ? `\n    ${r.errors.join('\n    ')}` : ''}`);
    }
  }),
);
await janus.stop().catch(() => {});

// Janus's view, per handle: what our offer said and what our RTP carried.
const log = readFileSync(logFile, 'utf8');
const handles = new Map<string, { offered: string[]; rtx: string[]; unknown: Map<string, number> }>();
const of = (h: string) => handles.get(h) ?? handles.set(h, { offered: [], rtx: [], unknown: new Map() }).get(h)!;
for (const line of log.split('\n')) {
  let x = /\[(\d+)\] Peer video SSRC: (\d+)/.exec(line);
  if (x) of(x[1]!).offered.push(x[2]!);
  x = /\[(\d+)\] Peer video SSRC \(rtx\): (\d+)/.exec(line);
  if (x) of(x[1]!).rtx.push(x[2]!);
  x = /\[(\d+)\] Unknown SSRC, dropping packet \(SSRC (\d+)\)/.exec(line);
  if (x) of(x[1]!).unknown.set(x[2]!, (of(x[1]!).unknown.get(x[2]!) ?? 0) + 1);
}
const dropping = [...handles].filter(([, h]) => h.unknown.size > 0);
for (const [id, h] of dropping) {
  console.log(`  handle ${id}: offer said video ${h.offered.join(',') || 'none'} rtx ${h.rtx.join(',') || 'none'}; dropped ${[...h.unknown].map(([s, n]) => `${n}× SSRC ${s}`).join(', ')}`);
}
const firstOk = results.filter((r) => r.firstAttempt).length;
console.log(`${firstOk} of ${results.length} starts published on the first attempt; ${dropping.length} publisher handles had RTP dropped as "Unknown SSRC"; Janus log: ${logFile}`);
console.log(`results: ${writeResult('relay-starts', { machine: m, starts, parallel, width, height, firstAttempt: firstOk, unknownSsrcHandles: dropping.length, results, dropping: dropping.map(([id, h]) => ({ handle: id, offered: h.offered, rtx: h.rtx, unknown: Object.fromEntries(h.unknown) })) })}`);
process.exit(0);
