// CPU and memory per stream, side by side in one run: our sender (bench/baselines/node-sender.mjs: the
// compiled library, one shared encoder), the plain-webrtcbin Python sender with the same capture and
// encoder settings (lib/media/send.ts planSend()), and gst-launch-1.0 with the same source, conversion and
// encoder into fakesink (the encoder floor: no RTP, no SRTP, no WebRTC).
// Capture is ximagesrc on Xvfb at the output size (no scaling), showing either a moving picture
// (videotestsrc pattern=ball played full-screen by a separate gst-launch … ximagesink client) or a
// still one (a static colour grid). Viewers are headless Chromium pages (their decode runs on the same
// two cores but is not counted); sender CPU is /proc/PID/stat utime+stime (every thread) over the window.
//   flock /tmp/webrtcbin-bench.lock node --import tsx bench/cpu.ts [--seconds 6] [--quick]
//     [--codecs vp8,h264] [--sizes 1280x720,1920x1080] [--viewers 1,2,4,8] [--python-viewers 1,2,4] [--no-static-threshold]
//     [--parts streams,viewers,static-threshold,warm-idle]
// A point that fails (no offer answered, no frame) is reported as failed and the run goes on.
import { spawn, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../test/helpers/browser.js';
import { startPainter, type Painter } from '../test/helpers/painter.js';
import { startXvfb, type Xvfb } from '../test/helpers/xvfb.js';
import type { SendVideoOptions, SourceOptions, VideoCodec } from '../lib/types.js';
import { planSend } from '../lib/media/send.js';
import { CpuMeter, describeMachine, ensureBenchLock, fmt, machine, procStatus, ratio, sleep, table, writeResult } from './support/common.js';
import { SenderProcess, encoderFloorDescription, startGstLaunch, stopChild, type SenderKind } from './support/senders.js';
import { ViewerPage } from './support/viewer-page.js';

ensureBenchLock();
const { values } = parseArgs({
  options: {
    seconds: { type: 'string' },
    quick: { type: 'boolean' },
    codecs: { type: 'string' },
    sizes: { type: 'string' },
    viewers: { type: 'string' },
    'python-viewers': { type: 'string' },
    'no-static-threshold': { type: 'boolean' },
    parts: { type: 'string' },
  },
});
const quick = values.quick === true;
const seconds = Number(values.seconds ?? (quick ? 3 : 6));
const settleMs = quick ? 1500 : 2500;
const codecs = (values.codecs ?? 'vp8,h264').split(',') as VideoCodec[];
const sizes = (values.sizes ?? '1280x720,1920x1080').split(',').map((s) => s.split('x').map(Number) as [number, number]);
const viewerCounts = (values.viewers ?? (quick ? '1,4' : '1,2,4,8')).split(',').map(Number);
const pythonViewerCounts = (values['python-viewers'] ?? (quick ? '1' : '1,2,4')).split(',').map(Number);
// Which parts to run (default all): streams (ours vs python vs floor, one viewer), viewers, static-threshold,
// warm-idle (what publish()'s warm encoder costs while nobody watches).
const parts = new Set((values.parts ?? 'streams,viewers,static-threshold,warm-idle').split(','));
type Content = 'moving' | 'still';

interface Point {
  cpuPercent: number;
  rssMiB: number;
  fpsPerViewer?: number;
  framesEncodedPerSecond?: number;
  framesUnchangedPerSecond?: number;
}

const browser: Browser = await launchChromium(['--autoplay-policy=no-user-gesture-required']);
const m = machine({ chromium: browser.version() });

// ---- the desktop ----
let xvfb: Xvfb | undefined;
let content: { kind: Content; stop: () => Promise<void> } | undefined;
async function desktop(width: number, height: number, kind: Content): Promise<string> {
  if (!xvfb || !xvfb.display.endsWith(`#${width}x${height}`)) {
    await content?.stop();
    content = undefined;
    await xvfb?.kill();
    const x = await startXvfb(`${width}x${height}x24`);
    xvfb = { ...x, display: `${x.display}#${width}x${height}` };
  }
  const display = xvfb.display.split('#')[0]!;
  if (content?.kind !== kind) {
    await content?.stop();
    if (kind === 'moving') {
      const player: ChildProcess = spawn(
        'gst-launch-1.0',
        ['-q', 'videotestsrc', 'is-live=true', 'pattern=ball', '!', `video/x-raw,width=${width},height=${height},framerate=30/1`, '!', 'videoconvert', '!', 'ximagesink', `display=${display}`, 'sync=false'],
        { stdio: 'ignore' },
      );
      content = { kind, stop: () => stopChild(player) };
    } else {
      const colours = ['203040', 'e0e0e0', '3070c0', 'f0f0f0', '208040', 'c04020', 'ffffff', '101010', '808080', 'd0c040', '6040a0', 'f8f8f8'];
      const painter: Painter = await startPainter(display, 4, 3, colours);
      content = { kind, stop: () => painter.kill() };
    }
    await sleep(800);
  }
  return display;
}

// ---- one measurement ----
async function withViewers(sender: SenderProcess, viewers: number): Promise<Point> {
  await sender.ready();
  const pages: ViewerPage[] = [];
  try {
    for (let i = 0; i < viewers; i++) {
      const page = await ViewerPage.open(browser, sender);
      await page.start();
      await page.firstFrame(20_000).catch(() => {}); // counted below as fps
      pages.push(page);
    }
    await sleep(settleMs);
    const frames0 = await Promise.all(pages.map((p) => p.framesDecoded()));
    const enc0 = sender.kind === 'ours' ? ((await sender.request({ type: 'stats' }, 'stats')).encoder as { framesEncoded: number; framesUnchanged: number }) : undefined;
    const meter = new CpuMeter(sender.pid);
    meter.start();
    await sleep(seconds * 1000);
    const cpu = meter.stop();
    const frames1 = await Promise.all(pages.map((p) => p.framesDecoded()));
    const enc1 = sender.kind === 'ours' ? ((await sender.request({ type: 'stats' }, 'stats')).encoder as { framesEncoded: number; framesUnchanged: number }) : undefined;
    const rss = procStatus(sender.pid).rssMiB;
    const fps = frames1.reduce((n, f, i) => n + f - frames0[i]!, 0) / cpu.seconds / viewers;
    return {
      cpuPercent: cpu.percent,
      rssMiB: rss,
      fpsPerViewer: fps,
      ...(enc0 && enc1
        ? { framesEncodedPerSecond: (enc1.framesEncoded - enc0.framesEncoded) / cpu.seconds, framesUnchangedPerSecond: (enc1.framesUnchanged - enc0.framesUnchanged) / cpu.seconds }
        : {}),
    };
  } finally {
    for (const p of pages.reverse()) await p.close();
  }
}

async function measureSender(kind: SenderKind, source: SourceOptions, video: SendVideoOptions, viewers: number, pythonDescription?: string): Promise<Point> {
  const sender = new SenderProcess(kind, source, video, { pythonDescription });
  try {
    return await withViewers(sender, viewers);
  } finally {
    await sender.quit();
  }
}

async function measureFloor(source: SourceOptions, video: SendVideoOptions, extra = ''): Promise<Point> {
  const gst = startGstLaunch(encoderFloorDescription(source, video, extra));
  const child = gst.child;
  try {
    await sleep(settleMs);
    const meter = new CpuMeter(child.pid!);
    const f0 = gst.rendered();
    meter.start();
    await sleep(seconds * 1000);
    const cpu = meter.stop();
    await sleep(600); // the sink reports every 500 ms: both readings lag alike
    const fps = (gst.rendered() - f0) / cpu.seconds;
    return { cpuPercent: cpu.percent, rssMiB: procStatus(child.pid!).rssMiB, framesEncodedPerSecond: fps };
  } finally {
    await stopChild(child);
  }
}

console.log(`load average at start: ${m.loadavg} (these cores also run other work: read ratios, not absolutes)`);
console.log(`CPU and memory per stream (% of one core, all threads; RSS MiB), ${seconds} s windows; ${describeMachine(m)}`);
const records: Record<string, unknown>[] = [];
// CPU milliseconds per frame that went through the encoder (ours: the encoder's count; Python: frames
// the viewer decoded; floor: frames that reached the sink): comparable even when a starved core drops frames.
const perFrame = (p: Point | undefined) => {
  const fps = p?.framesEncodedPerSecond ?? p?.fpsPerViewer;
  return p && fps ? (p.cpuPercent * 10) / fps : undefined;
};
const cell = (p: Point | undefined) => (p ? `${fmt(p.cpuPercent)} % / ${fmt(p.rssMiB, 0)} MiB${p.fpsPerViewer !== undefined ? ` / ${fmt(p.fpsPerViewer)} fps` : ''}` : '–');

// 1. Per codec, size and content: ours vs python vs floor, one viewer each.
const rows1: string[][] = [];
let turn = 0;
for (const [width, height] of parts.has('streams') ? sizes : []) {
  for (const kind of ['moving', 'still'] as Content[]) {
    const display = await desktop(width, height, kind);
    const source: SourceOptions = { kind: 'x11', display };
    for (const codec of codecs) {
      const video: SendVideoOptions = { codec, width, height, fps: 30 };
      const points: Partial<Record<'ours' | 'python' | 'floor', Point>> = {};
      const order = (['ours', 'python', 'floor'] as const).map((_, i, a) => a[(i + turn) % 3]!);
      turn++;
      for (const who of order) {
        points[who] = who === 'floor' ? await measureFloor(source, video) : await measureSender(who, source, video, 1);
      }
      const label = `${codec} ${width}x${height} ${kind}`;
      rows1.push([
        label,
        cell(points.ours),
        cell(points.python),
        cell(points.floor),
        ratio(points.ours?.cpuPercent, points.python?.cpuPercent),
        ratio(points.ours?.cpuPercent, points.floor?.cpuPercent),
        `${fmt(points.ours?.framesEncodedPerSecond)} / ${fmt(points.floor?.framesEncodedPerSecond)}`,
        kind === 'moving' ? `${fmt(perFrame(points.ours), 2)} / ${fmt(perFrame(points.python), 2)} / ${fmt(perFrame(points.floor), 2)}` : '',
      ]);
      records.push({ part: 'per-stream', codec, width, height, content: kind, viewers: 1, ...points });
      process.stderr.write(`  ${label}: ours ${fmt(points.ours?.cpuPercent)} python ${fmt(points.python?.cpuPercent)} floor ${fmt(points.floor?.cpuPercent)}\n`);
    }
  }
}
if (rows1.length) console.log('\nOne viewer (Chromium). Cells: sender CPU % of one core / RSS / fps decoded by the viewer.');
if (rows1.length) console.log(table(['stream', 'ours (Node, Streamer)', 'python plain webrtcbin', 'gst-launch encoder floor', 'ours ÷ python', 'ours ÷ floor', 'frames encoded/s: ours / floor', 'CPU ms per frame: ours / python / floor'], rows1));

// 1b. Warm and idle: ours with its Streamer started before any viewer (publish()'s default) vs without
// one (warm: false), no viewer, on a still and a moving desktop: the capture runs, the encoder gets
// nothing but the prime frame.
const rowsWarm: string[][] = [];
for (const kind of parts.has('warm-idle') ? (['still', 'moving'] as Content[]) : []) {
  const [width, height] = sizes[0]!;
  const display = await desktop(width, height, kind);
  for (const codec of codecs) {
    const video: SendVideoOptions = { codec, width, height, fps: 30 };
    const got: Partial<Record<'warm' | 'cold', Point>> = {};
    for (const warm of turn++ % 2 === 0 ? [true, false] : [false, true]) {
      const sender = new SenderProcess('ours', { kind: 'x11', display }, video, { warm });
      try {
        await sender.ready();
        await sleep(settleMs);
        const enc0 = (await sender.request({ type: 'stats' }, 'stats')).encoder as { framesEncoded: number } | null;
        const meter = new CpuMeter(sender.pid);
        meter.start();
        await sleep(seconds * 1000);
        const cpu = meter.stop();
        const enc1 = (await sender.request({ type: 'stats' }, 'stats')).encoder as { framesEncoded: number } | null;
        got[warm ? 'warm' : 'cold'] = {
          cpuPercent: cpu.percent,
          rssMiB: procStatus(sender.pid).rssMiB,
          ...(enc0 && enc1 ? { framesEncodedPerSecond: (enc1.framesEncoded - enc0.framesEncoded) / cpu.seconds } : {}),
        };
      } finally {
        await sender.quit();
      }
    }
    const label = `${codec} ${width}x${height} ${kind}, no viewer`;
    rowsWarm.push([label, cell(got.warm), cell(got.cold), fmt((got.warm?.cpuPercent ?? NaN) - (got.cold?.cpuPercent ?? NaN)), fmt(got.warm?.framesEncodedPerSecond)]);
    records.push({ part: 'warm-idle', codec, width, height, content: kind, viewers: 0, ...got });
    process.stderr.write(`  ${label}: warm ${fmt(got.warm?.cpuPercent)} cold ${fmt(got.cold?.cpuPercent)}\n`);
  }
}
if (rowsWarm.length) console.log('\nWarm and idle (publish() before its first viewer). Cells: sender CPU % of one core / RSS.');
if (rowsWarm.length) console.log(table(['sender', 'warm (Streamer running)', 'warm: false (none)', 'warm costs (points of a core)', 'frames encoded/s while warm'], rowsWarm));

// 2. Viewers: ours (one shared encoder) vs Python (a pipeline per viewer), VP8 720p moving.
const [w0, h0] = sizes[0]!;
const video0: SendVideoOptions = { codec: codecs[0], width: w0, height: h0, fps: 30 };
const rows2: string[][] = [];
const failures: { part: string; sender: string; viewers: number; error: string }[] = [];
async function attempt(part: string, who: string, viewers: number, measure: () => Promise<Point>): Promise<Point | undefined> {
  try {
    return await measure();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    failures.push({ part, sender: who, viewers, error: message });
    process.stderr.write(`  ${part} ${who} ${viewers} viewers FAILED: ${message}\n`);
    return undefined;
  }
}
const failedCell = (p: Point | undefined, tried: boolean) => (p ? cell(p) : tried ? 'failed' : '–');
for (const n of parts.has('viewers') ? viewerCounts : []) {
  const display0 = await desktop(w0, h0, 'moving');
  const source0: SourceOptions = { kind: 'x11', display: display0 };
  // Alternate which sender goes first, as the per-stream part does.
  const pythonToo = pythonViewerCounts.includes(n);
  let ours: Point | undefined;
  let python: Point | undefined;
  const runOurs = async () => (ours = await attempt('viewers', 'ours', n, () => measureSender('ours', source0, video0, n)));
  const runPython = async () => (python = pythonToo ? await attempt('viewers', 'python', n, () => measureSender('python', source0, video0, n)) : undefined);
  if (n % 2) {
    await runOurs();
    await runPython();
  } else {
    await runPython();
    await runOurs();
  }
  rows2.push([String(n), failedCell(ours, true), failedCell(python, pythonToo), ratio(ours?.cpuPercent, python?.cpuPercent), fmt(ours?.framesEncodedPerSecond)]);
  records.push({ part: 'viewers', codec: codecs[0], width: w0, height: h0, content: 'moving', viewers: n, ours, python });
  process.stderr.write(`  ${n} viewers: ours ${fmt(ours?.cpuPercent)} python ${fmt(python?.cpuPercent)}\n`);
}
if (rows2.length) console.log(`\nViewers (Chromium pages), ${codecs[0]} ${w0}x${h0} moving. Python builds a pipeline (capture + encoder) per viewer, ours shares one.`);
if (rows2.length) console.log(table(['viewers', 'ours: CPU / RSS / fps per viewer', 'python: CPU / RSS / fps per viewer', 'ours ÷ python', 'ours: frames encoded/s'], rows2));

// 3. vp8enc static-threshold=100 (not a default of ours): encoder floor and the Python sender, before/after.
if (!values['no-static-threshold'] && parts.has('static-threshold') && codecs.includes('vp8')) {
  const rows3: string[][] = [];
  for (const [width, height] of sizes) {
    for (const kind of ['moving', 'still'] as Content[]) {
      const display = await desktop(width, height, kind);
      const source: SourceOptions = { kind: 'x11', display };
      const video: SendVideoOptions = { codec: 'vp8', width, height, fps: 30 };
      const floorBefore = await measureFloor(source, video);
      const floorAfter = await measureFloor(source, video, 'static-threshold=100');
      const description = planSend(source, video).description.replace('vp8enc ', 'vp8enc static-threshold=100 ');
      const pyAfter = await attempt('static-threshold', 'python after', 1, () => measureSender('python', source, video, 1, description));
      const pyBefore = await attempt('static-threshold', 'python before', 1, () => measureSender('python', source, video, 1));
      rows3.push([
        `vp8 ${width}x${height} ${kind}`,
        `${fmt(floorBefore.cpuPercent)} (${fmt(floorBefore.framesEncodedPerSecond)} fps)`,
        `${fmt(floorAfter.cpuPercent)} (${fmt(floorAfter.framesEncodedPerSecond)} fps)`,
        ratio(floorAfter.cpuPercent, floorBefore.cpuPercent),
        pyBefore ? `${fmt(pyBefore.cpuPercent)} (${fmt(pyBefore.fpsPerViewer)} fps)` : 'failed',
        pyAfter ? `${fmt(pyAfter.cpuPercent)} (${fmt(pyAfter.fpsPerViewer)} fps)` : 'failed',
        ratio(pyAfter?.cpuPercent, pyBefore?.cpuPercent),
      ]);
      records.push({ part: 'static-threshold', codec: 'vp8', width, height, content: kind, floorBefore, floorAfter, pythonBefore: pyBefore, pythonAfter: pyAfter });
    }
  }
  console.log('\nvp8enc static-threshold=100, before/after (CPU % of one core): encoder floor (gst-launch) and the plain Python sender with 1 viewer.');
  console.log(table(['stream', 'floor: default', 'floor: static-threshold=100', 'after ÷ before', 'python: default', 'python: static-threshold=100', 'after ÷ before'], rows3));
}

await content?.stop();
await xvfb?.kill();
await browser.close();
const file = writeResult('cpu', {
  bench: 'cpu',
  machine: m,
  command: `node --import tsx bench/cpu.ts ${process.argv.slice(2).join(' ')}`.trim(),
  config: { seconds, settleMs, codecs, sizes, viewerCounts, pythonViewerCounts, parts: [...parts], receivers: 'headless Chromium pages' },
  records,
  failures,
});
console.log(`results appended to ${file}`);
