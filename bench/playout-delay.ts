// The playout-delay header extension's variants, per browser: publish() with each {minMs, maxMs} (or the
// extension off) to the daemon's viewer page in headless Chromium and in Firefox ESR (headful on Xvfb),
// interleaved. Per variant: frames presented per second (requestVideoFrameCallback), frames decoded per
// second, distinct pictures read back from a canvas, and the receiver's jitter-buffer time per frame
// (ΔjitterBufferDelay / ΔjitterBufferEmittedCount) over the window. lib/media/playout-delay.ts picks
// each browser's values from these figures (docs/benchmarks.md, "Playout delay per browser").
//   flock /tmp/webrtcbin-bench.lock node --import tsx bench/playout-delay.ts [--rounds 2] [--codec vp8|h264] [--size 640x480] [--window 4000]
//     [--variants off,0/0,0/10] [--browsers chromium]   (Chromium also reports the page's glass-to-glass probe)
// H.264 in Firefox uses its platform decoder (Debian's libavcodec, media.webrtc.hw.h264.enabled): the
// tests' Firefox has no OpenH264 plugin.
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { publish } from '../lib/client.js';
import { loadBinding } from '../lib/native/binding.js';
import { mintToken } from '../lib/signaling/daemon/token.js';
import type { PlayoutDelay, VideoCodec } from '../lib/types.js';
import { launchChromium, waitForViewerFrames as waitChromium } from '../test/helpers/browser.js';
import { SECRET, startDaemon } from '../test/helpers/daemon.js';
import { Firefox, measurePainting, paintingProbeExpression, waitForViewerFrames as waitFirefox, type Painting } from '../test/helpers/firefox.js';
import { describeMachine, ensureBenchLock, fmt, machine, median, sleep, table, writeResult } from './support/common.js';

ensureBenchLock();
const { values } = parseArgs({ options: { rounds: { type: 'string' }, codec: { type: 'string' }, size: { type: 'string' }, window: { type: 'string' }, variants: { type: 'string' }, browsers: { type: 'string' } } });
const rounds = Number(values.rounds ?? 2);
const codec = (values.codec ?? 'vp8') as VideoCodec;
const [width, height] = (values.size ?? '640x480').split('x').map(Number) as [number, number];
const windowMs = Number(values.window ?? 4000);

// What each browser does with the values as sent: the library's own choice per browser (playoutDelayFor
// raises Firefox's minimum) is bypassed by writing `raw` in the native call itself.
let raw: PlayoutDelay | false = false;
const binding = loadBinding();
const Native = binding.NativePeer;
binding.NativePeer = class extends Native {
  override enablePlayoutDelay(id: number): boolean {
    return raw ? super.enablePlayoutDelay(id, raw.minMs, raw.maxMs) : false;
  }
};
const ALL_VARIANTS: [label: string, delay: PlayoutDelay | false][] = [
  ['off', false],
  ['0/0', { minMs: 0, maxMs: 0 }],
  ['0/10', { minMs: 0, maxMs: 10 }],
  ['0/100', { minMs: 0, maxMs: 100 }],
  ['1/1', { minMs: 1, maxMs: 1 }],
  ['10/10', { minMs: 10, maxMs: 10 }],
];
// --variants off,0/0,0/10 measures only those; --browsers chromium only that browser.
const wanted = values.variants?.split(',');
const VARIANTS = wanted ? ALL_VARIANTS.filter(([label]) => wanted.includes(label)) : ALL_VARIANTS;
type BrowserName = 'chromium' | 'firefox';
const BROWSERS = (values.browsers?.split(',') ?? ['chromium', 'firefox']) as BrowserName[];
interface Sample extends Painting {
  browser: BrowserName;
  variant: string;
  round: number;
  /** The page's own glass-to-glass probe (abs-capture-time; Chromium only), median of readings after the window. */
  glassToGlassMs: number | null;
}

// The viewer element's glass-to-glass figure, read every 250 ms for 2 s after the painting window.
async function readGlassToGlass(page: { evaluate: (expression: string) => Promise<unknown> }): Promise<number | null> {
  const readings: number[] = [];
  for (let i = 0; i < 8; i++) {
    const value = await page.evaluate(`document.querySelector('webrtcbin-viewer')?.stats?.glassToGlassMs ?? null`);
    if (typeof value === 'number') readings.push(value);
    await sleep(250);
  }
  return readings.length ? median(readings) : null;
}

const daemon = await startDaemon();
const chromium: Browser = await launchChromium();
const firefox = BROWSERS.includes('firefox') ? await Firefox.launch({ prefs: { 'media.webrtc.hw.h264.enabled': true } }) : undefined;
const m = machine({ chromium: chromium.version() });
console.log(`playout delay per browser: ${codec} ${width}x${height}@30 videotestsrc ball, ${rounds} rounds, ${windowMs} ms windows; ${describeMachine(m)}, Firefox ESR (firefox-esr)`);

const samples: Sample[] = [];
const failures: { browser: BrowserName; variant: string; error: string }[] = [];
let n = 0;
async function measure(browser: BrowserName, variant: string, delay: PlayoutDelay | false, round: number): Promise<void> {
  const session = `pd${n++}`;
  raw = delay;
  // input: the input channel carries the page's clock exchange, without which it shows no glass-to-glass figure.
  const publisher = publish({ url: daemon.url, session, token: mintToken({ secret: SECRET, session, role: 'publisher' }), source: { kind: 'test', pattern: 'ball' }, video: { codec, width, height, fps: 30 }, playoutDelay: delay, input: true });
  publisher.on('error', () => {});
  const url = `${daemon.http}/?session=${session}&token=${mintToken({ secret: SECRET, session, role: 'viewer' })}`;
  try {
    let painting: Painting;
    let glassToGlassMs: number | null = null;
    if (browser === 'chromium') {
      const page = await chromium.newPage();
      try {
        await page.goto(url);
        await waitChromium(page, 30, 20_000);
        await sleep(1000);
        painting = (await page.evaluate(paintingProbeExpression(windowMs))) as Painting;
        glassToGlassMs = await readGlassToGlass(page);
      } finally {
        await page.close();
      }
    } else {
      const page = await firefox!.open(url);
      try {
        await waitFirefox(page, 30, 20_000);
        await sleep(1000);
        painting = await measurePainting(page, windowMs);
      } finally {
        await page.close();
      }
    }
    samples.push({ browser, variant, round, ...painting, glassToGlassMs });
    process.stdout.write(`${browser} ${variant}: ${fmt(painting.fps)} fps painted, ${fmt(painting.decodedFps)} decoded, ${painting.distinctPictures} pictures, jb ${fmt(painting.jitterBufferMs ?? undefined, 2)} ms, glass-to-glass ${fmt(glassToGlassMs ?? undefined)} ms\n`);
  } catch (error) {
    failures.push({ browser, variant, error: error instanceof Error ? error.message : String(error) });
    process.stderr.write(`${browser} ${variant} failed: ${failures.at(-1)!.error}\n`);
  } finally {
    await publisher.close();
  }
}

try {
  for (let round = 0; round < rounds; round++) {
    // Alternate who goes first, round by round.
    const order: BrowserName[] = round % 2 ? [...BROWSERS].reverse() : BROWSERS;
    for (const [variant, delay] of VARIANTS) for (const browser of order) await measure(browser, variant, delay, round);
  }
} finally {
  await Promise.all([chromium.close(), firefox?.close()]);
  await daemon.app.close();
}

const rows: string[][] = [];
for (const browser of BROWSERS) {
  for (const [variant] of VARIANTS) {
    const own = samples.filter((s) => s.browser === browser && s.variant === variant);
    if (!own.length) {
      rows.push([browser, variant, 'failed', '', '', '', '']);
      continue;
    }
    const med = (f: (s: Sample) => number | null) => median(own.map(f).filter((v): v is number => v !== null));
    rows.push([browser, variant, fmt(med((s) => s.fps)), fmt(med((s) => s.decodedFps)), fmt(med((s) => s.distinctPictures), 0), fmt(med((s) => s.jitterBufferMs), 2), fmt(med((s) => s.glassToGlassMs))]);
  }
}
console.log(`\n${table(['browser', 'min/max ms', 'painted fps', 'decoded fps', `pictures / ${windowMs / 100}`, 'jitter buffer ms/frame', 'glass-to-glass ms (probe)'], rows)}`);
if (failures.length) console.log(`failures: ${failures.map((f) => `${f.browser} ${f.variant}: ${f.error}`).join('; ')}`);
const file = writeResult('playout-delay', { machine: m, command: process.argv.slice(1).join(' '), codec, width, height, windowMs, rounds, samples, failures });
console.log(`results appended to ${file}`);
