// The pointer at input speed (issue 17): XTest moves the X pointer → the page shows it there, with the
// pointer drawn into the video (pointer 'video', the capture's cursor) against sent as data and drawn by
// the page (pointer 'channel'), and the default 'auto' with its page alone (so as data, out of the picture),
// the three publishers running side by side, trials interleaved one by one;
// then the publisher's CPU while the pointer circles over a still desktop, per mode, interleaved windows.
// The desktop: test/fixtures/cursor-client.c (a grey full-screen window, a 16×16 cursor, hotspot 3,5).
// Viewer: headless Chromium, <webrtcbin-viewer> at 1:1. "Shown" is the frame that first has it: for
// 'video' the requestVideoFrameCallback whose frame has the cursor's black at the spot, for 'channel' and
// 'auto' the requestAnimationFrame in which the overlay stands there; both timed by that callback's `now`
// (the same wall clock as this process: performance.timeOrigin + now).
//   node --import tsx bench/run.ts pointer [--quick] [--trials N] [--fps 30] [--size 1280x720] [--cpu-seconds 5]
import { parseArgs } from 'node:util';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

type Mode = 'video' | 'channel' | 'auto';
const MODES: Mode[] = ['video', 'channel', 'auto'];

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, trials: { type: 'string' }, fps: { type: 'string' }, size: { type: 'string' }, 'cpu-seconds': { type: 'string' } } });
const trials = Number(values.trials ?? (values.quick ? 20 : 60));
const fps = Number(values.fps ?? 30);
const cpuSeconds = Number(values['cpu-seconds'] ?? (values.quick ? 3 : 6));
const [width, height] = (values.size ?? '1280x720').split('x').map(Number) as [number, number];

const { startDaemon, SECRET } = await import('../test/helpers/daemon.js');
const { startXvfb } = await import('../test/helpers/xvfb.js');
const { startCursorClient } = await import('../test/helpers/cursor-client.js');
const { launchChromium } = await import('../test/helpers/browser.js');
const { mintToken } = await import('../lib/signaling/daemon/token.js');
const { publish } = await import('../lib/publish/publisher.js');
const { loadBinding } = await import('../lib/native/binding.js');
const { appendResult, describeMachine, machineFacts } = await import('./lib/results.js');
const { summarize } = await import('./lib/stats.js');
const { formatTable } = await import('./lib/table.js');
const { sleep } = await import('./lib/processes.js');
const { bundleViewerScript } = (await import('../scripts/build-viewer.mjs')) as { bundleViewerScript(o: { entry: 'index.ts' }): Promise<string> };

const facts = machineFacts();
console.log(`pointer: ${describeMachine(facts)}; ${width}x${height} at ${fps} fps, ${trials} moves per mode`);

const cleanups: (() => unknown)[] = [];
const daemon = await startDaemon();
cleanups.push(() => daemon.app.close());
const module = await bundleViewerScript({ entry: 'index.ts' });
const server = http.createServer((req, res) => {
  if (req.url === '/module.js') {
    res.setHeader('content-type', 'text/javascript');
    return void res.end(module);
  }
  const url = new URL(req.url ?? '/', 'http://x');
  res.setHeader('content-type', 'text/html');
  res.end(`<!doctype html><html><head><script type="module" src="/module.js"></script></head><body style="margin:0">` +
    `<webrtcbin-viewer id="v" url="${daemon.url}" session="${url.searchParams.get('s')}" token="${url.searchParams.get('t')}" toolbar="none" style="width:${width}px;height:${height}px"></webrtcbin-viewer></body></html>`);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
cleanups.push(() => server.close());
const browser = await launchChromium();
cleanups.push(() => browser.close());

interface Desk {
  mode: Mode;
  page: import('playwright-core').Page;
  x: import('../lib/native/binding.js').NativeXInput;
  publisher: ReturnType<typeof publish>;
}

async function desk(mode: Mode): Promise<Desk> {
  const xvfb = await startXvfb(`${width}x${height}x24`);
  cleanups.push(() => xvfb.kill());
  const client = await startCursorClient(xvfb.display, '808080');
  cleanups.push(() => client.kill());
  await client.show('a');
  const x = new (loadBinding().NativeXInput)(xvfb.display);
  cleanups.push(() => x.close());
  const session = `pointer-${mode}`;
  const publisher = publish({ url: daemon.url, session, token: mintToken({ secret: SECRET, session, role: 'publisher' }), source: { kind: 'x11', display: xvfb.display }, video: { width, height, fps }, pointer: mode });
  cleanups.push(() => publisher.close());
  const page = await browser.newPage({ viewport: { width, height } });
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/?s=${session}&t=${mintToken({ secret: SECRET, session, role: 'viewer' })}`);
  await page.waitForFunction(() => ((document.getElementById('v') as unknown as { stats: { framesDecoded: number } | null }).stats?.framesDecoded ?? 0) >= 10, undefined, { timeout: 30_000 });
  // tsx (esbuild keepNames) wraps nested functions in __name(); the page has no such helper.
  await page.evaluate('window.__name = (f) => f');
  // The detector: armed for a spot, it records the callback time of the first frame that shows the pointer there.
  await page.evaluate((mode) => {
    const host = document.getElementById('v') as HTMLElement & { video: HTMLVideoElement };
    const canvas = document.createElement('canvas');
    canvas.width = 8;
    canvas.height = 8;
    const g = canvas.getContext('2d', { willReadFrequently: true })!;
    const w = window as unknown as { arm(x: number, y: number): void; shown: number | null; maxDark?: number };
    let target: [number, number] | null = null;
    w.arm = (x, y) => {
      target = [x, y];
      w.shown = null;
    };
    const hit = (now: number) => {
      if (target && w.shown === null) w.shown = performance.timeOrigin + now;
      target = null;
    };
    if (mode === 'video') {
      const onFrame = (now: number) => {
        if (target) {
          // The cursor's black block: 8×12 px from (x-3, y-5); read its middle 8×8.
          g.drawImage(host.video, target[0] - 3, target[1] - 4, 8, 8, 0, 0, 8, 8);
          const d = g.getImageData(0, 0, 8, 8).data;
          let dark = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i]! < 70 && d[i + 1]! < 70 && d[i + 2]! < 70) dark++;
          w.maxDark = Math.max(w.maxDark ?? 0, dark);
          if (dark >= 40) hit(now);
        }
        host.video.requestVideoFrameCallback(onFrame);
      };
      host.video.requestVideoFrameCallback(onFrame);
    } else {
      const onFrame = (now: number) => {
        const img = host.shadowRoot!.querySelector('img.webrtcbin-remote-cursor') as HTMLImageElement | null;
        // 'auto': only while the publisher keeps the pointer out of the picture (the overlay is the pointer).
        if (target && img && img.style.display === 'block' && img.dataset.inPicture !== 'true' && img.dataset.x === String(target[0]) && img.dataset.y === String(target[1])) hit(now);
        requestAnimationFrame(onFrame);
      };
      requestAnimationFrame(onFrame);
    }
  }, mode);
  return { mode, page, x, publisher };
}

const desks = [await desk('video'), await desk('channel'), await desk('auto')];
const spots: [number, number][] = [[Math.round(width * 0.2), Math.round(height * 0.3)], [Math.round(width * 0.75), Math.round(height * 0.7)]];
for (const d of desks) {
  d.x.move(spots[1]![0], spots[1]![1]);
  d.x.sync();
}
await sleep(1500);

// ---- motion → shown, interleaved trial by trial (who goes first alternates) ----
const samples: Record<Mode, number[]> = { video: [], channel: [], auto: [] };
const missed: Record<Mode, number> = { video: 0, channel: 0, auto: 0 };
for (let i = 0; i < trials; i++) {
  const [sx, sy] = spots[i % 2]!;
  // Who goes first rotates every two trials.
  const shift = Math.floor(i / 2) % desks.length;
  const order = [...desks.slice(shift), ...desks.slice(0, shift)];
  for (const d of order) {
    await d.page.evaluate(([x, y]) => (window as unknown as { arm(x: number, y: number): void }).arm(x, y), [sx, sy] as [number, number]);
    const t0 = performance.timeOrigin + performance.now();
    d.x.move(sx, sy); // screen pixels
    d.x.sync();
    const shown = await d.page
      .waitForFunction(() => (window as unknown as { shown: number | null }).shown, undefined, { timeout: 3000, polling: 5 })
      .then((h) => h.jsonValue() as Promise<number>, () => null);
    if (shown === null) {
      missed[d.mode]++;
      if (process.env.DEBUG_POINTER) {
        console.log(d.mode, 'missed', [sx, sy], await d.page.evaluate(() => {
          const img = document.getElementById('v')!.shadowRoot!.querySelector('img.webrtcbin-remote-cursor') as HTMLImageElement | null;
          return { maxDark: (window as unknown as { maxDark?: number }).maxDark, img: img && [img.style.display, img.dataset.x, img.dataset.y], hidden: document.visibilityState };
        }));
      }
    }
    else samples[d.mode].push(shown - t0);
    await sleep(150 + Math.random() * 100);
  }
}

// ---- CPU of the publisher process while the pointer circles over a still desktop ----
// One mode's pointer moves at 60 Hz while the other desk stands still; both publishers are in this
// process, so a still window per mode is measured too and the difference is the motion's cost.
const cpu: Record<Mode, { moving: number[]; still: number[] }> = { video: { moving: [], still: [] }, channel: { moving: [], still: [] }, auto: { moving: [], still: [] } };
const windowMs = cpuSeconds * 1000;
async function measure(d: Desk | undefined): Promise<number> {
  const start = process.cpuUsage();
  const t0 = performance.now();
  let angle = 0;
  while (performance.now() - t0 < windowMs) {
    if (d) {
      angle += 0.15;
      d.x.move(Math.round(width / 2 + 0.3 * height * Math.cos(angle)), Math.round(height / 2 + 0.3 * height * Math.sin(angle)));
    }
    await sleep(1000 / 60);
  }
  const used = process.cpuUsage(start);
  return ((used.user + used.system) / 1000 / (performance.now() - t0)) * 100;
}
const rounds = values.quick ? 2 : 3;
for (let r = 0; r < rounds; r++) {
  for (const d of [...desks.slice(r % desks.length), ...desks.slice(0, r % desks.length)]) {
    cpu[d.mode].moving.push(await measure(d));
    cpu[d.mode].still.push(await measure(undefined));
  }
}

const rows = MODES.map((mode) => {
  const s = summarize(samples[mode]);
  const moving = summarize(cpu[mode].moving).p50;
  const still = summarize(cpu[mode].still).p50;
  return [mode, s.n, missed[mode], s.p50.toFixed(1), s.p95.toFixed(1), s.max.toFixed(1), moving.toFixed(1), still.toFixed(1), (moving - still).toFixed(1)];
});
console.log(formatTable(['pointer', 'n', 'missed', 'p50 ms', 'p95 ms', 'max ms', 'CPU moving %', 'CPU still %', 'motion costs %'], rows));
appendResult('pointer', { width, height, fps, trials, samples, missed, cpu, load1After: machineFacts().load1 });

for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
process.exit(0);
