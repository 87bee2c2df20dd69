// Side by side in one run, interleaved: ours (bench/baselines/node-sender.mjs: the compiled library, one
// shared Streamer, a webrtcbin peer per viewer) vs werift, the pure-TypeScript WebRTC stack from npm
// (bench/peers/werift/sender.mjs: gst-launch-1.0 with planSend()'s exact source and encoder settings →
// RTP over UDP on 127.0.0.1 → werift MediaStreamTrack.writeRtp → ICE/DTLS/SRTP in JS). Same headless
// Chromium viewer page (bench/support/viewer-page.ts) for both. VP8 1280x720@30, videotestsrc ball.
//   1. time to first frame: every join cold (a fresh sender process, no encoder yet), then a warm join
//      (a second viewer 0.7 s later: the encoder runs); p50/p95 over --joins per sender
//   2. cost while one viewer watches --seconds of moving content: CPU (% of one core, every thread of
//      the sender's process tree, gst-launch included for werift) and RSS, and the fps the viewer decoded
// werift is installed apart: npm install --prefix bench/peers/werift (not a dependency of this package).
//   flock /tmp/webrtcbin-bench.lock node --import tsx bench/werift.ts [--joins 12] [--seconds 20] [--rounds 2]
//     [--pli restart|ignore] [--mdns resolve|drop] [--quick]
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../test/helpers/browser.js';
import { planSend } from '../lib/media/send.js';
import { appendResult, describeMachine, machineFacts } from './lib/results.js';
import { ROOT, ensureBenchLock, fmt, loadavg, nowMs, percentile, ratio, sleep, table } from './support/common.js';
import { SenderProcess } from './support/senders.js';
import { ViewerPage, type ViewerMarks } from './support/viewer-page.js';

ensureBenchLock();
const { values } = parseArgs({
  options: {
    joins: { type: 'string' },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
    pli: { type: 'string' },
    mdns: { type: 'string' },
    quick: { type: 'boolean' },
  },
});
const quick = values.quick === true;
const joins = Number(values.joins ?? (quick ? 4 : 12));
const seconds = Number(values.seconds ?? (quick ? 6 : 20));
const rounds = Number(values.rounds ?? (quick ? 1 : 2));
const pli = (values.pli ?? 'restart') as 'restart' | 'ignore';
// Chromium's host candidates are mDNS names (….local); werift resolves them itself (up to 10 s, then drops
// them). "drop": the werift sender does not pass them to werift (peer-reflexive candidates still connect).
const mdns = (values.mdns ?? 'resolve') as 'resolve' | 'drop';
const settleMs = 3000;

const WERIFT_DIR = path.join(ROOT, 'bench/peers/werift');
if (!existsSync(path.join(WERIFT_DIR, 'node_modules/werift'))) {
  console.error('bench/werift: werift is not installed; run: npm install --prefix bench/peers/werift');
  process.exit(2);
}
const weriftVersion = (JSON.parse(readFileSync(path.join(WERIFT_DIR, 'node_modules/werift/package.json'), 'utf8')) as { version: string }).version;

const source = { kind: 'test' as const, pattern: 'ball' };
const video = { codec: 'vp8' as const, width: 1280, height: 720, fps: 30 };
// planSend(): <source> ! … ! vp8enc … ! rtpvp8pay … ! capsfilter name=rtpcaps … — werift's sender sends the
// payloader's output to udpsink; the capsfilter only serves webrtcbin's negotiation.
const plan = planSend(source, video).description;
const gstDescription = plan.slice(0, plan.indexOf(' ! capsfilter name=rtpcaps'));

type Kind = 'ours' | 'werift';
const KINDS: Kind[] = ['ours', 'werift'];

/** Ours through node-sender.mjs; werift through its own sender, which speaks the same protocol. */
function newSender(kind: Kind): SenderProcess<Kind> {
  if (kind === 'ours') return new SenderProcess<Kind>('ours', source, video, { shared: true });
  const args = [path.join(WERIFT_DIR, 'sender.mjs'), JSON.stringify({ description: gstDescription, pli, mdns })];
  return new SenderProcess<Kind>('werift', source, video, { spawn: { command: process.execPath, args } });
}

// ---- /proc: a process tree's CPU and memory ----
function children(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const list = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (list) out.push(...list.split(/\s+/).map(Number));
    }
  } catch {
    /* exited */
  }
  return out;
}
function tree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...children(all[i]!));
  return all;
}
/** CPU seconds used so far by a process tree: every live process's utime + stime, plus cutime + cstime
 * (children that exited and were waited for, e.g. a restarted gst-launch), so the sum only grows. */
function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of tree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      /* exited between listing and reading */
    }
  }
  return ticks / 100; // CLK_TCK
}
function treeMemory(pid: number): { rssMiB: number; pssMiB: number; processes: { pid: number; name: string; rssMiB: number; pssMiB: number }[] } {
  const processes = tree(pid).flatMap((p) => {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const rollup = readFileSync(`/proc/${p}/smaps_rollup`, 'utf8');
      return [
        {
          pid: p,
          name: /Name:\s+(\S+)/.exec(status)?.[1] ?? '?',
          rssMiB: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024,
          pssMiB: Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0) / 1024,
        },
      ];
    } catch {
      return [];
    }
  });
  return { rssMiB: processes.reduce((n, p) => n + p.rssMiB, 0), pssMiB: processes.reduce((n, p) => n + p.pssMiB, 0), processes };
}

// ---- the run ----
const browser: Browser = await launchChromium();
const chromium = browser.version();
const facts = machineFacts();
const load0 = loadavg();
console.log(`ours vs werift ${weriftVersion} (PLI → ${pli === 'restart' ? 'restart gst-launch' : 'ignored'}; browser mDNS candidates: ${mdns === 'drop' ? 'dropped' : 'resolved by werift'}): vp8 1280x720@30 videotestsrc ball`);
console.log(`${describeMachine(facts)}, Chromium ${chromium} (page), load average at start ${load0}`);
console.log(`werift's gst-launch: ${gstDescription} ! udpsink host=127.0.0.1 port=N sync=false async=false`);

interface JoinSample {
  sender: Kind;
  mode: 'cold' | 'warm';
  marks: ViewerMarks;
}
const samples: JoinSample[] = [];
const startups: Record<Kind, number[]> = { ours: [], werift: [] };
const failures: { sender: Kind; part: string; error: string }[] = [];
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function join(sender: SenderProcess<Kind>, mode: 'cold' | 'warm'): Promise<ViewerPage> {
  const viewer = await ViewerPage.open(browser, sender);
  try {
    await viewer.start();
    samples.push({ sender: sender.kind, mode, marks: await viewer.firstFrame() });
  } catch (error) {
    failures.push({ sender: sender.kind, part: `${mode} join`, error: message(error) });
    process.stderr.write(`\n${sender.kind} ${mode} join failed: ${message(error)}\n`);
  }
  return viewer;
}

// 1. Joins: a fresh sender process for every cold join (its encoder starts with this viewer).
for (let i = 0; i < joins; i++) {
  for (const kind of i % 2 === 0 ? KINDS : [...KINDS].reverse()) {
    const sender = newSender(kind);
    try {
      await sender.ready();
      startups[kind].push(sender.readyAt! - sender.startedAt);
      await sleep(300); // the process is idle (its imports done) before the join, as a daemon's would be
      const first = await join(sender, 'cold');
      await sleep(700); // the first viewer is streaming
      const second = await join(sender, 'warm');
      await second.close();
      await first.close();
    } catch (error) {
      failures.push({ sender: kind, part: 'join round', error: message(error) });
    } finally {
      await sender.quit();
    }
  }
  process.stderr.write(`\rjoins ${i + 1}/${joins}`);
}
process.stderr.write('\n');

// 2. Cost with one viewer watching, ABBA order over rounds.
interface CostPoint {
  sender: Kind;
  round: number;
  cpuPercent: number;
  seconds: number;
  rssMiB: number;
  pssMiB: number;
  fps: number;
  processes: { pid: number; name: string; rssMiB: number; pssMiB: number }[];
  senderStats?: unknown;
}
const costs: CostPoint[] = [];
for (let r = 0; r < rounds; r++) {
  for (const kind of r % 2 === 0 ? KINDS : [...KINDS].reverse()) {
    const sender = newSender(kind);
    let viewer: ViewerPage | undefined;
    try {
      await sender.ready();
      viewer = await ViewerPage.open(browser, sender);
      await viewer.start();
      await viewer.firstFrame(20_000);
      await sleep(settleMs);
      const before = await sender.request({ type: 'stats' }, 'stats');
      const f0 = await viewer.framesDecoded();
      const c0 = treeCpuSeconds(sender.pid);
      const t0 = nowMs();
      await sleep(seconds * 1000);
      const c1 = treeCpuSeconds(sender.pid);
      const elapsed = (nowMs() - t0) / 1000;
      const f1 = await viewer.framesDecoded();
      const memory = treeMemory(sender.pid);
      const after = await sender.request({ type: 'stats' }, 'stats');
      costs.push({
        sender: kind,
        round: r,
        cpuPercent: ((c1 - c0) / elapsed) * 100,
        seconds: elapsed,
        ...memory,
        fps: (f1 - f0) / elapsed,
        senderStats: { before, after },
      });
      process.stderr.write(`  cost round ${r + 1} ${kind}: ${fmt(costs.at(-1)!.cpuPercent)} % CPU, ${fmt(memory.rssMiB, 0)} MiB, ${fmt(costs.at(-1)!.fps)} fps\n`);
    } catch (error) {
      failures.push({ sender: kind, part: `cost round ${r + 1}`, error: message(error) });
      process.stderr.write(`  cost round ${r + 1} ${kind} FAILED: ${message(error)}\n`);
    } finally {
      await viewer?.close();
      await sender.quit();
    }
  }
}
await browser.close();
const load1 = loadavg();

// ---- report ----
const d = (a: keyof ViewerMarks, b: keyof ViewerMarks) => (m: ViewerMarks) => (m[a] !== undefined && m[b] !== undefined ? m[b]! - m[a]! : undefined);
const of = (kind: Kind, mode: 'cold' | 'warm', f: (m: ViewerMarks) => number | undefined) =>
  samples.filter((s) => s.sender === kind && s.mode === mode).map((s) => f(s.marks)).filter((v): v is number => v !== undefined);
const rows: string[][] = [];
const summary: Record<string, Record<Kind, number>> = {};
const row = (name: string, ours: number, werift: number, digits: number) => {
  rows.push([name, fmt(ours, digits), fmt(werift, digits), ratio(ours, werift)]);
  summary[name] = { ours, werift };
};
for (const mode of ['cold', 'warm'] as const) {
  const total = d('join', 'frame');
  row(`${mode}: join → first frame (rVFC) p50 (ms)`, percentile(of('ours', mode, total), 50), percentile(of('werift', mode, total), 50), 0);
  row(`${mode}: join → first frame (rVFC) p95 (ms)`, percentile(of('ours', mode, total), 95), percentile(of('werift', mode, total), 95), 0);
  for (const [name, f] of [
    ['join → offer at the page', d('join', 'offer')],
    ['answer → ICE connected', d('answer', 'ice')],
    ['ICE → DTLS connected', d('ice', 'connected')],
    ['connected → first frame (rVFC)', d('connected', 'frame')],
  ] as const) {
    row(`${mode}: ${name} p50 (ms)`, percentile(of('ours', mode, f), 50), percentile(of('werift', mode, f), 50), 0);
  }
}
rows.push([
  'joins without a frame within 15 s (cold + warm)',
  ...KINDS.map((k) => `${failures.filter((f) => f.sender === k && f.part.endsWith('join')).length} of ${2 * joins}`),
  '',
]);
row('sender process start → ready p50 (ms)', percentile(startups.ours, 50), percentile(startups.werift, 50), 0);
const costOf = (kind: Kind, key: 'cpuPercent' | 'rssMiB' | 'pssMiB' | 'fps') => {
  const v = costs.filter((c) => c.sender === kind).map((c) => c[key]);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
};
row(`CPU, 1 viewer, ${seconds} s moving (% of one core, process tree)`, costOf('ours', 'cpuPercent'), costOf('werift', 'cpuPercent'), 1);
row('RSS at the end (MiB, process tree sum)', costOf('ours', 'rssMiB'), costOf('werift', 'rssMiB'), 0);
row('PSS at the end (MiB, process tree sum)', costOf('ours', 'pssMiB'), costOf('werift', 'pssMiB'), 0);
row('fps decoded by the viewer', costOf('ours', 'fps'), costOf('werift', 'fps'), 1);
row('CPU ms per delivered frame', (costOf('ours', 'cpuPercent') * 10) / costOf('ours', 'fps'), (costOf('werift', 'cpuPercent') * 10) / costOf('werift', 'fps'), 2);

console.log(`\n${joins} cold + ${joins} warm joins per sender; cost: mean of ${rounds} round(s) of ${seconds} s. Load average: ${load0} at start, ${load1} at the end.`);
console.log(table(['figure', 'ours (Node, Streamer)', `werift ${weriftVersion} + gst-launch`, 'ours ÷ werift'], rows));
if (failures.length) console.log(`failures:\n${failures.map((f) => `  ${f.sender} ${f.part}: ${f.error}`).join('\n')}`);
const rvfcMissing = samples.filter((s) => s.marks.frame === undefined).length;
if (rvfcMissing) console.log(`(${rvfcMissing} joins without a requestVideoFrameCallback mark)`);

appendResult('werift', {
  command: `node --import tsx bench/werift.ts ${process.argv.slice(2).join(' ')}`.trim(),
  chromiumPage: chromium,
  loadavg: { start: load0, end: load1 },
  versions: { werift: weriftVersion },
  config: { codec: 'vp8', width: 1280, height: 720, fps: 30, source, joins, seconds, rounds, pli, mdns, settleMs, gstDescription },
  summary,
  startupMs: startups,
  costs,
  failures,
  samples,
});
console.log('results appended to bench/results/werift.jsonl');
