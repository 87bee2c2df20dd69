// Time to first frame: viewer join → first decoded frame in headless Chromium, with each step's share,
// for our sender (bench/baselines/node-sender.mjs: the library's Streamer, one peer per viewer, as
// publish() does) before and after the warm encoder (main's build vs this tree's), and the
// plain-webrtcbin Python baseline (bench/baselines/python-sender.py), interleaved in one run with the
// same Chromium page as the viewer for all of them.
//   cold: the first viewer of a fresh sender (ours: the Streamer was closed and, when warm, started
//         again 500 ms before the join, as a publisher started a moment before its first viewer;
//         main: the Streamer is created for this viewer; Python always builds a pipeline per viewer)
//   warm: a second viewer while the first watches (ours joins the running encoder; Python builds its own)
// "join" is when the harness asks the sender for a peer (what the daemon's peer-joined does).
//   flock /tmp/webrtcbin-bench.lock node --import tsx bench/first-frame.ts [--joins 20] [--codec vp8|h264] [--quick]
//     [--main /work/main/dist/lib/index.js] (main's build, warm too, for the before; without it: no before column)
//     [--page-offers] (also ours with the page offering and us answering: publish()'s `offers: true`)
//     [--no-python]
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../test/helpers/browser.js';
import { describeMachine, ensureBenchLock, fmt, machine, median, percentile, ratio, sleep, table, writeResult } from './support/common.js';
import { SenderProcess } from './support/senders.js';
import { ViewerPage, type ViewerMarks } from './support/viewer-page.js';
import type { VideoCodec } from '../lib/types.js';

ensureBenchLock();
const { values } = parseArgs({
  options: { joins: { type: 'string' }, codec: { type: 'string' }, quick: { type: 'boolean' }, size: { type: 'string' }, main: { type: 'string' }, python: { type: 'boolean', default: true }, 'page-offers': { type: 'boolean' } },
  allowNegative: true,
});
const joins = Number(values.joins ?? (values.quick ? 5 : 20));
const codec = (values.codec ?? 'vp8') as VideoCodec;
const [width, height] = (values.size ?? '1280x720').split('x').map(Number) as [number, number];
const source = { kind: 'test' as const, pattern: 'ball' };
const video = { codec, width, height, fps: 30 };

// ours: this tree, warm; main: another build (WEBRTCBIN_BENCH_LIB), warm too (publish()'s default since
// session 10); offers: this tree, warm, the page offering and ours answering.
type SenderKind = 'ours' | 'main' | 'offers' | 'python';

interface Sample {
  sender: SenderKind;
  mode: 'cold' | 'warm';
  marks: ViewerMarks;
}

const browser: Browser = await launchChromium();
const chromium = browser.version();
const senders: Partial<Record<SenderKind, SenderProcess<SenderKind>>> = {
  ours: new SenderProcess<SenderKind>('ours', source, video, { warm: true }),
  ...(values.main ? { main: new SenderProcess<SenderKind>('main', source, video, { warm: true, env: { WEBRTCBIN_BENCH_LIB: values.main } }) } : {}),
  ...(values['page-offers'] ? { offers: new SenderProcess<SenderKind>('offers', source, video, { warm: true }) } : {}),
  ...(values.python ? { python: new SenderProcess<SenderKind>('python', source, video) } : {}),
};
const kinds = Object.keys(senders) as SenderKind[];
await Promise.all(Object.values(senders).map((s) => s.ready()));
const startup = Object.fromEntries(Object.entries(senders).map(([k, s]) => [k, s.readyAt! - s.startedAt])) as Record<SenderKind, number>;

const samples: Sample[] = [];
const failures: { sender: SenderKind; mode: string; error: string }[] = [];
// A join that never shows a frame is recorded as a failure (with how far it got), not fatal.
async function joinOnce(sender: SenderProcess<SenderKind>, mode: 'cold' | 'warm'): Promise<ViewerPage> {
  const viewer = await ViewerPage.open(browser, sender);
  try {
    await viewer.start(sender.kind === 'offers');
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
if (values.main) console.log(`main (before): the library at ${values.main}`);
console.log(`sender process start → ready: ${kinds.map((k) => `${k} ${startup[k].toFixed(0)} ms`).join(', ')}`);
for (let i = 0; i < joins; i++) {
  // Each sender goes first as often as the others.
  const order = kinds.map((_, j) => kinds[(i + j) % kinds.length]!);
  for (const kind of order) {
    const sender = senders[kind]!;
    await sender.request({ type: 'reset' }, 'reset-done'); // a fresh sender: ours warm starts its Streamer now, main at the join
    await sleep(500);
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
  // With the page offering, "offer" is its offer made and "answer" ours applied at the page.
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

const names: Record<SenderKind, string> = { ours: 'ours (warm)', main: 'main (before)', offers: 'ours, page offers', python: 'python plain webrtcbin' };
const rows: string[][] = [];
const summary: Record<string, Record<string, number>> = {};
for (const mode of ['cold', 'warm'] as const) {
  for (const f of figures) {
    for (const [label, p] of [['p50', 50], ['p95', 95]] as const) {
      const got = kinds.map((k) => percentile(values_(k, mode, f), p));
      const row = [`${mode}: ${f.name} ${label} (ms)`, ...got.map((v) => fmt(v, 0))];
      if (senders.main) row.push(ratio(got[kinds.indexOf('ours')]!, got[kinds.indexOf('main')]!));
      rows.push(row);
      summary[`${mode} ${f.name} ${label}`] = Object.fromEntries(kinds.map((k, j) => [k, got[j]!]));
    }
  }
}
const tail = senders.main ? [''] : [];
rows.push(['joins without a frame within 15 s (cold + warm)', ...kinds.map((k) => String(failures.filter((f) => f.sender === k).length)), ...tail]);
rows.push(['sender process start → ready (ms, once)', ...kinds.map((k) => fmt(startup[k], 0)), ...tail]);
console.log(table(['figure', ...kinds.map((k) => names[k]), ...(senders.main ? ['ours ÷ main'] : [])], rows));
const rvfcMissing = samples.filter((s) => s.marks.frame === undefined).length;
if (rvfcMissing) console.log(`(${rvfcMissing} joins without a requestVideoFrameCallback mark: getStats row only)`);
for (const k of kinds) {
  console.log(`${names[k]}: join→first-frame medians, cold ${fmt(median(values_(k, 'cold', figures[5]!)), 0)} ms; warm ${fmt(median(values_(k, 'warm', figures[5]!)), 0)} ms`);
}

const file = writeResult('first-frame', {
  bench: 'first-frame',
  machine: m,
  command: `node --import tsx bench/first-frame.ts --joins ${joins} --codec ${codec} --size ${width}x${height}${values.main ? ` --main ${values.main}` : ''}${values['page-offers'] ? ' --page-offers' : ''}${values.python ? '' : ' --no-python'}`,
  library: { ours: 'dist/lib (this tree), warm', ...(values.main ? { main: `${values.main}, warm` } : {}), ...(values['page-offers'] ? { offers: 'dist/lib (this tree), warm, the page offers' } : {}) },
  config: { codec, width, height, fps: 30, source, joins },
  startupMs: startup,
  summary,
  failures,
  samples,
});
console.log(`results appended to ${file}`);
