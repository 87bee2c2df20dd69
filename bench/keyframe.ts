// Sharpness after a join on a still screen: how close the decoded picture is to the X screen 0, 100,
// 300 and 1000 ms after the viewer's first frame (PSNR and mean absolute error against xwd's read of
// the screen), for fixed and damage capture, with the addon before and after keyframe refinement,
// interleaved in one run. A 1280×720 Xvfb shows a full screen of small text (an xterm), the hardest
// still picture for a one-frame rate budget (issue 18's VBV): the join's keyframe is a smear until
// P-frames refine it.
// Each sample is a child process (an addon cannot be loaded twice in one process): a Streamer as
// publish() makes it, warm, and a WebRtcPeer receiver decoding RGBA; "join" is createPeer().
//   flock /tmp/webrtcbin-bench.lock node --import tsx bench/keyframe.ts [--rounds 5] [--codec h264|vp8]
//     [--before /tmp/kf-before/webrtcbin.node] (the addon without refinement; without it: no before)
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeMachine, ensureBenchLock, fmt, machine, median, sleep, table, writeResult } from './support/common.js';
import type { VideoCodec } from '../lib/types.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string' }, codec: { type: 'string' }, before: { type: 'string' }, quick: { type: 'boolean' },
    child: { type: 'boolean' }, display: { type: 'string' }, capture: { type: 'string' }, screen: { type: 'string' },
  },
});
const SIZE = { width: 1280, height: 720 };
const codec = (values.codec ?? 'h264') as VideoCodec;
const MARKS = [0, 100, 300, 1000];
const WATCH_MS = 1500;

interface Sample {
  /** join → first decoded frame, ms */
  firstFrameMs: number;
  /** [ms after the first frame, PSNR dB, mean abs error] of each decoded frame */
  frames: [number, number, number][];
  framesEncoded: number;
}

if (values.child) await child();
else await parent();

// ---- a child: one Streamer, one join, the errors of every frame in the first WATCH_MS ----
async function child(): Promise<void> {
  const { Streamer, WebRtcPeer } = await import('../lib/index.js');
  const { connectPair } = await import('../test/helpers/peers.js');
  const { frameError } = await import('../test/helpers/screen-error.js');
  const raw = readFileSync(values.screen!);
  const screen = { ...SIZE, rgb: raw };
  const capture = values.capture as 'damage' | 'fixed';
  const streamer = new Streamer({ source: { kind: 'x11', display: values.display!, capture, showPointer: false }, video: { codec, ...SIZE } });
  await sleep(1500); // warm: the prime is encoded, the capture paused, the screen still
  const frames: Sample['frames'] = [];
  let first = 0;
  const joined = performance.now();
  const sender = streamer.createPeer();
  const receiver = new WebRtcPeer({ video: { receive: true, format: 'RGBA' } });
  // KEYFRAME_DUMP=dir: the first frame at or after each mark as a PNG, to look at.
  const dump = process.env.KEYFRAME_DUMP;
  const { encodePng } = await import('../lib/input/png.js');
  const pending = [...MARKS];
  receiver.on('frame', (f) => {
    const now = performance.now();
    if (!first) first = now;
    const e = frameError(f, screen, 2);
    frames.push([Math.round(now - first), e.psnr, e.mae]);
    while (dump && pending.length && pending[0]! <= now - first) {
      const rgba = Buffer.alloc(f.width * f.height * 4);
      for (let y = 0; y < f.height; y++) f.data.copy(rgba, y * f.width * 4, y * f.stride, y * f.stride + f.width * 4);
      writeFileSync(path.join(dump, `${capture}-${pending.shift()}.png`), encodePng(rgba, f.width, f.height));
    }
  });
  await connectPair(sender, receiver);
  const deadline = performance.now() + 15_000;
  while (!first && performance.now() < deadline) await sleep(20);
  await sleep(WATCH_MS);
  const sample: Sample = { firstFrameMs: first ? Math.round(first - joined) : -1, frames, framesEncoded: streamer.stats.framesEncoded };
  await Promise.all([sender.close(), receiver.close()]);
  await streamer.close();
  process.stdout.write(JSON.stringify(sample) + '\n');
  process.exit(0);
}

function runChild(display: string, screenFile: string, capture: string, addon: string | undefined): Promise<Sample> {
  const self = fileURLToPath(import.meta.url);
  const env = { ...process.env, ...(addon ? { WEBRTCBIN_ADDON: addon } : {}) };
  const proc: ChildProcess = spawn(process.execPath, [...process.execArgv, self, '--child', '--display', display, '--capture', capture, '--screen', screenFile, '--codec', codec], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), 40_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop()!) as Sample);
      else reject(new Error(`child (${capture}, ${addon ?? 'this build'}) exited with ${code}`));
    });
  });
}

/** The picture at `ms` after the first frame: the newest frame decoded by then. */
function at(sample: Sample, ms: number): [number, number] {
  let found: [number, number] = [NaN, NaN];
  for (const [t, psnr, mae] of sample.frames) if (t <= ms) found = [psnr, mae];
  return found;
}

// ---- the parent: the screen, the variants interleaved, the table ----
async function parent(): Promise<void> {
  ensureBenchLock();
  const { startXvfb } = await import('../test/helpers/xvfb.js');
  const { readScreen, showText } = await import('../test/helpers/screen-error.js');
  const rounds = Number(values.rounds ?? (values.quick ? 2 : 5));
  const x = await startXvfb(`${SIZE.width}x${SIZE.height}x24`);
  const endText = await showText(x.display, SIZE.width, SIZE.height, 2000);
  try {
    const screen = await readScreen(x.display);
    const screenFile = path.join(tmpdir(), `keyframe-screen-${process.pid}.rgb`);
    writeFileSync(screenFile, screen.rgb);
    const variants = [
      ...(values.before ? [{ name: 'fixed, before', capture: 'fixed', addon: values.before }, { name: 'damage, before', capture: 'damage', addon: values.before }] : []),
      { name: 'fixed, after', capture: 'fixed', addon: undefined },
      { name: 'damage, after', capture: 'damage', addon: undefined },
    ];
    const m = machine();
    console.log(`keyframe sharpness, ${codec} ${SIZE.width}x${SIZE.height}, ${rounds} rounds: ${describeMachine(m)}`);
    const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
    for (let r = 0; r < rounds; r++) {
      for (const v of variants) {
        try {
          samples.get(v.name)!.push(await runChild(x.display, screenFile, v.capture, v.addon));
        } catch (error) {
          console.error(`${v.name}: ${(error as Error).message}`);
        }
      }
    }
    const rows = variants.map((v) => {
      const list = samples.get(v.name)!;
      const cells = MARKS.flatMap((ms) => {
        const psnr = median(list.map((s) => at(s, ms)[0]).filter(Number.isFinite));
        const mae = median(list.map((s) => at(s, ms)[1]).filter(Number.isFinite));
        return [`${fmt(psnr)} dB / ${fmt(mae, 2)}`];
      });
      const frames = median(list.map((s) => s.frames.length));
      return [v.name, String(list.length), fmt(median(list.map((s) => s.firstFrameMs)), 0), ...cells, fmt(frames, 0)];
    });
    console.log(table(['variant', 'n', 'join→frame ms', ...MARKS.map((ms) => `+${ms} ms PSNR / MAE`), `frames in ${WATCH_MS} ms`], rows));
    writeResult('keyframe', { machine: m, codec, size: SIZE, rounds, marks: MARKS, samples: Object.fromEntries(samples) });
  } finally {
    endText();
    await x.kill();
  }
}
