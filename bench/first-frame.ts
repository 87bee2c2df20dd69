// Time to first frame: viewer join → first decoded frame in headless Chromium, for our sender
// (bench/baselines/node-sender.mjs: the library's Streamer, one peer per viewer, as publish() does)
// and the plain-webrtcbin Python baseline (bench/baselines/python-sender.py), interleaved in one run
// with the same Chromium page as the viewer for both.
//   cold: no pipeline yet (our Streamer is created for this viewer; Python always builds one per viewer)
//   warm: another viewer is already watching (ours joins the running encoder; Python builds its own)
// "join" is when the harness asks the sender for a peer (what the daemon's peer-joined does).
//   flock /tmp/webrtcbin-bench.lock node --import tsx bench/first-frame.ts [--joins 20] [--codec vp8|h264] [--quick]
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../test/helpers/browser.js';
import { describeMachine, ensureBenchLock, fmt, machine, median, percentile, ratio, sleep, table, writeResult } from './support/common.js';
import { SenderProcess, type SenderKind } from './support/senders.js';
import { ViewerPage, type ViewerMarks } from './support/viewer-page.js';
import type { VideoCodec } from '../lib/types.js';

ensureBenchLock();
const { values } = parseArgs({
  options: { joins: { type: 'string' }, codec: { type: 'string' }, quick: { type: 'boolean' }, size: { type: 'string' } },
});
const joins = Number(values.joins ?? (values.quick ? 5 : 20));
const codec = (values.codec ?? 'vp8') as VideoCodec;
const [width, height] = (values.size ?? '1280x720').split('x').map(Number) as [number, number];
const source = { kind: 'test' as const, pattern: 'ball' };
const video = { codec, width, height, fps: 30 };

interface Sample {
  sender: SenderKind;
  mode: 'cold' | 'warm';
  marks: ViewerMarks;
}

const browser: Browser = await launchChromium();
const chromium = browser.version();
const senders: Record<SenderKind, SenderProcess> = {
  ours: new SenderProcess('ours', source, video),
  python: new SenderProcess('python', source, video),
};
await Promise.all(Object.values(senders).map((s) => s.ready()));
const startup = Object.fromEntries(Object.entries(senders).map(([k, s]) => [k, s.readyAt! - s.startedAt])) as Record<SenderKind, number>;

const samples: Sample[] = [];
const failures: { sender: SenderKind; mode: string; error: string }[] = [];
// A join that never shows a frame is recorded as a failure (with how far it got), not fatal.
async function joinOnce(sender: SenderProcess, mode: 'cold' | 'warm'): Promise<ViewerPage> {
  const viewer = await ViewerPage.open(browser, sender);
  try {
    await viewer.start();
    const marks = await viewer.firstFrame();
    samples.push({ sender: sender.kind, mode, marks });
  } catch (error) {
    failures.push({ sender: sender.kind, mode, error: error instanceof Error ? error.message : String(error) });
    process.stderr.write(`\n${sender.kind} ${mode} join failed: ${failures.at(-1)!.error}\n`);
  }
  return viewer;
}

const m = machine({ chromium });
console.log(`time to first frame: ${codec} ${width}x${height}@30 videotestsrc ball, ${joins} cold + ${joins} warm joins per sender; ${describeMachine(m)}`);
if (process.env.WEBRTCBIN_BENCH_LIB) console.log(`ours: the library at ${process.env.WEBRTCBIN_BENCH_LIB}`);
console.log(`sender process start → ready: ours ${startup.ours.toFixed(0)} ms, python ${startup.python.toFixed(0)} ms`);
for (let i = 0; i < joins; i++) {
  const order: SenderKind[] = i % 2 === 0 ? ['ours', 'python'] : ['python', 'ours'];
  for (const kind of order) {
    const sender = senders[kind];
    await sender.request({ type: 'reset' }, 'reset-done'); // ours: the Streamer is closed, the next join builds it
    await sleep(300);
    const first = await joinOnce(sender, 'cold');
    await sleep(700); // the first viewer is streaming
    const second = await joinOnce(sender, 'warm');
    await second.close();
    await first.close();
  }
  process.stderr.write(`\r${i + 1}/${joins}`);
}
process.stderr.write('\n');
await Promise.all(Object.values(senders).map((s) => s.quit()));
await browser.close();

// ---- report ----
type Figure = { name: string; of: (m: ViewerMarks) => number | undefined };
const d = (a: keyof ViewerMarks, b: keyof ViewerMarks) => (m: ViewerMarks) => (m[a] !== undefined && m[b] !== undefined ? m[b]! - m[a]! : undefined);
const figures: Figure[] = [
  { name: 'join → offer at the page', of: d('join', 'offer') },
  { name: 'offer → answer made (Chromium)', of: d('offer', 'answer') },
  { name: 'answer → ICE connected', of: d('answer', 'ice') },
  { name: 'ICE → DTLS connected', of: d('ice', 'connected') },
  { name: 'connected → first frame (rVFC)', of: d('connected', 'frame') },
  { name: 'join → first frame (rVFC)', of: d('join', 'frame') },
  { name: 'join → framesDecoded > 0 (getStats)', of: d('join', 'decoded') },
];
const values_ = (sender: SenderKind, mode: 'cold' | 'warm', f: Figure) =>
  samples.filter((s) => s.sender === sender && s.mode === mode).map((s) => f.of(s.marks)).filter((v): v is number => v !== undefined);

const rows: string[][] = [];
const summary: Record<string, Record<string, number>> = {};
for (const mode of ['cold', 'warm'] as const) {
  for (const f of figures) {
    const ours = values_('ours', mode, f);
    const py = values_('python', mode, f);
    const isTotal = f.name.startsWith('join → first frame');
    const stats = isTotal ? ([['p50', 50], ['p95', 95]] as const) : ([['p50', 50]] as const);
    for (const [label, p] of stats) {
      const o = percentile(ours, p);
      const q = percentile(py, p);
      rows.push([`${mode}: ${f.name} ${label} (ms)`, fmt(o, 0), fmt(q, 0), ratio(o, q)]);
      summary[`${mode} ${f.name} ${label}`] = { ours: o, python: q };
    }
  }
}
rows.push(['joins without a frame within 15 s (cold + warm)', ...(['ours', 'python'] as const).map((k) => String(failures.filter((f) => f.sender === k).length)), '']);
rows.push(['sender process start → ready (ms, once)', fmt(startup.ours, 0), fmt(startup.python, 0), ratio(startup.ours, startup.python)]);
console.log(table(['figure', 'ours (Node, Streamer)', 'python plain webrtcbin', 'ours ÷ python'], rows));
const rvfcMissing = samples.filter((s) => s.marks.frame === undefined).length;
if (rvfcMissing) console.log(`(${rvfcMissing} joins without a requestVideoFrameCallback mark: getStats row only)`);
console.log(`join→first-frame medians, cold: ours ${fmt(median(values_('ours', 'cold', figures[5]!)), 0)} ms; warm: ours ${fmt(median(values_('ours', 'warm', figures[5]!)), 0)} ms`);

const file = writeResult('first-frame', {
  bench: 'first-frame',
  machine: m,
  command: `${process.env.WEBRTCBIN_BENCH_LIB ? `WEBRTCBIN_BENCH_LIB=${process.env.WEBRTCBIN_BENCH_LIB} ` : ''}node --import tsx bench/first-frame.ts --joins ${joins} --codec ${codec} --size ${width}x${height}`,
  library: process.env.WEBRTCBIN_BENCH_LIB ?? 'dist/lib (this tree)',
  config: { codec, width, height, fps: 30, source, joins },
  startupMs: startup,
  summary,
  failures,
  samples,
});
console.log(`results appended to ${file}`);
