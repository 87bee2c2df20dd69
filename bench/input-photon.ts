// Input → photon in the browser (issue 17's own benchmark): a key pressed in a Chromium page → the X
// application flips the whole screen black/white (bench/support/flip-window.c) → the first frame the page
// shows with the flip. Ours: <webrtcbin-viewer> in control, the key sent on the input channel by the
// element's own key handler, the flip seen by requestVideoFrameCallback on its <video>; one `webrtcbin
// stream` publisher per capture configuration (fixed@30, fixed@60, damage: the defaults), all streaming
// the same Xvfb at once. noVNC: x11vnc + websockify + vnc_lite.html on the same display, the key into
// its canvas, the flip seen on its canvas. Trials go round-robin over every (peer, network) pair, so
// loopback and the WAN link (a second Chromium inside a wan-link namespace, 50 ms RTT) interleave too.
// Every time is the page's own clock (performance.now(), same machine): the key is stamped by a
// capture-phase keydown listener registered before the page's own (its send follows synchronously).
//   node --import tsx bench/run.ts input-photon [--quick] [--trials N] [--configs fixed@30,fixed@60,damage]
//     [--no-novnc] [--no-wan] [--wan-rtt 50] [--wan-loss 0] [--size 1280x720] [--codec h264]
//     [--stages] (our publishers and the pages' keys on one time line: see bench/lib/latency-stages.ts)
//     [--before DIR]: configs named NAME-before (e.g. damage-before) run DIR's publisher (DIR/lib/cli/cli.ts
//       with DIR's addon, e.g. a main checkout), interleaved with this tree's
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Browser, Page } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' }, trials: { type: 'string' }, configs: { type: 'string' }, 'no-novnc': { type: 'boolean' }, 'no-wan': { type: 'boolean' },
    before: { type: 'string' }, 'wan-rtt': { type: 'string' }, 'wan-loss': { type: 'string' }, size: { type: 'string' }, codec: { type: 'string' }, stages: { type: 'boolean' },
  },
});
const trials = Number(values.trials ?? (values.quick ? 6 : 30));
const [width, height] = (values.size ?? '1280x720').split('x').map(Number) as [number, number];
const configs = (values.configs ?? 'fixed@30,fixed@60,damage').split(',').map((c) => {
  const [kind, fps] = c.split('@');
  const before = kind!.endsWith('-before');
  const capture = kind!.replace(/-before$/, '');
  if (capture !== 'fixed' && capture !== 'damage') throw new Error(`--configs: ${c} is neither fixed@FPS nor damage (with -before for --before's tree)`);
  if (before && !values.before) throw new Error(`--configs: ${c} needs --before DIR`);
  return { name: c, capture, fps: fps === undefined ? undefined : Number(fps), root: before ? path.resolve(values.before!) : path.join(here, '..') };
});
const withNoVnc = values['no-novnc'] !== true;
const withWan = values['no-wan'] !== true;
const wanRtt = Number(values['wan-rtt'] ?? 50);
const wanLoss = Number(values['wan-loss'] ?? 0);
const EFFECT_MS = 5000;
// The flip is read a quarter of the way in, away from the pointer drawn at the centre.
const sx = Math.floor(width / 4);
const sy = Math.floor(height / 4);

const { startDaemon, SECRET } = await import('../test/helpers/daemon.js');
const { startXvfb } = await import('../test/helpers/xvfb.js');
const { buildXClient } = await import('../test/helpers/x-client.js');
const { launchChromium, CHROMIUM_FLAGS } = await import('../test/helpers/browser.js');
const { chromium } = await import('playwright-core');
const { mintToken } = await import('../lib/signaling/daemon/token.js');
const { start, stop, sleep } = await import('./lib/processes.js');
const { startNoVnc } = await import('./lib/novnc.js');
const { startWanLink, HOST_ADDRESS } = await import('./lib/wan.js');
const { ensureBenchPackages } = await import('./lib/packages.js');
const { appendResult, describeMachine, machineFacts } = await import('./lib/results.js');
const { summarize } = await import('./lib/stats.js');
const { formatTable } = await import('./lib/table.js');
const { chainTrial, readTrace, stageRows, SHOWN_LABEL } = await import('./lib/latency-stages.js');
const { bundleViewerScript } = (await import('../scripts/build-viewer.mjs')) as { bundleViewerScript(o: { entry: 'index.ts' }): Promise<string> };

ensureBenchPackages();
const facts = machineFacts();
const loadAtStart = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`input-photon: ${describeMachine(facts)}; load ${loadAtStart}; ${new Date().toISOString()}; ${width}x${height}, ${trials} trials per peer and network`);

const cleanups: (() => unknown)[] = [];
const cleanup = async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve().then(c).catch(() => {});
};
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

// What every page runs first: the key's time on the page clock, before any handler of the page's own.
const KEY_STAMP = `(() => {
  window.__bench = { white: undefined, want: undefined, keyAt: undefined, shown: undefined };
  addEventListener('keydown', () => {
    const b = window.__bench;
    if (b.want !== undefined && b.keyAt === undefined) b.keyAt = performance.now();
  }, true);
})();`;

// Ours: every frame the <video> presents, the flip spot read (1×1 draw of the frame).
function installVideoDetector(page: Page, x: number, y: number): Promise<void> {
  return page.evaluate(([x, y]) => {
    const host = document.getElementById('v') as HTMLElement & { video: HTMLVideoElement };
    const canvas = document.createElement('canvas');
    canvas.width = 1;
    canvas.height = 1;
    const g = canvas.getContext('2d', { willReadFrequently: true })!;
    type Bench = { white?: boolean; want?: boolean; keyAt?: number; shown?: Record<string, number>; after?: number[] };
    const b = (window as unknown as { __bench: Bench }).__bench;
    const onFrame = (now: number, meta: VideoFrameCallbackMetadata) => {
      g.drawImage(host.video, x, y, 1, 1, 0, 0, 1, 1);
      const value = g.getImageData(0, 0, 1, 1).data[0]!;
      const white = value > 128;
      b.white = white;
      if (b.keyAt !== undefined && b.shown === undefined) {
        // The spot's value in each frame after the key: a flip that comes in two passes shows here.
        (b.after ??= []).push(value);
        if (b.want === white) b.shown = { now, presentation: meta.presentationTime, expected: meta.expectedDisplayTime, received: meta.receiveTime ?? NaN };
      }
      host.video.requestVideoFrameCallback(onFrame);
    };
    host.video.requestVideoFrameCallback(onFrame);
  }, [x, y] as [number, number]);
}

// noVNC: its canvas read every animation frame (the frame that composites a canvas change).
function installCanvasDetector(page: Page, x: number, y: number): Promise<void> {
  return page.evaluate(([x, y]) => {
    const canvas = document.querySelector('canvas')!;
    const g = canvas.getContext('2d')!;
    type Bench = { white?: boolean; want?: boolean; keyAt?: number; shown?: Record<string, number> };
    const b = (window as unknown as { __bench: Bench }).__bench;
    const onFrame = (now: number) => {
      if (canvas.width > x && canvas.height > y) {
        const white = g.getImageData(x, y, 1, 1).data[0]! > 128;
        b.white = white;
        if (b.want === white && b.keyAt !== undefined && b.shown === undefined) b.shown = { now };
      }
      requestAnimationFrame(onFrame);
    };
    requestAnimationFrame(onFrame);
  }, [x, y] as [number, number]);
}

interface Target {
  name: string; // fixed@30, damage, noVNC
  network: 'loopback' | 'wan';
  page: Page;
  /** Before its key: makes the page the one whose keys reach the X display. */
  prepare(): Promise<void>;
  samples: { now: number; expected?: number; presentation?: number; after?: number[] }[];
  codec?: string;
  failed: number;
  session?: string;
  /** Monotonic µs of each trial's key and shown (for --stages). */
  keys: { keyUs: number; shownUs: number }[];
}

const traceDir = values.stages ? mkdtempSync(path.join(tmpdir(), 'bench-input-photon-trace-')) : undefined;

// ---- the desktop: one Xvfb, the flip window, our publishers, noVNC ----
const x = await startXvfb(`${width}x${height}x24`);
cleanups.push(() => x.kill());
const env = { ...process.env, DISPLAY: x.display };
const app = start(await buildXClient(path.join(here, 'support', 'flip-window.c')), [], { env, stdio: ['ignore', 'pipe', 'inherit'] });
cleanups.push(() => stop(app));
await new Promise<void>((resolve, reject) => {
  app.stdout!.on('data', (d: Buffer) => /ready/.test(String(d)) && resolve());
  app.once('exit', (code) => reject(new Error(`flip-window exited with ${code}`)));
});

// The WAN link first: our publishers' ICE gathers on its address only if it exists when a viewer joins.
const link = withWan ? await startWanLink({ delayMs: wanRtt / 2, lossPercent: wanLoss, rateMbit: 10 }) : undefined;
if (link) cleanups.push(() => link.close());
const daemon = await startDaemon({ host: '0.0.0.0' });
cleanups.push(() => daemon.app.close());
const wsUrl = (host: string) => `ws://${host}:${daemon.port}/v1/ws`;
const tokenDir = mkdtempSync(path.join(tmpdir(), 'bench-input-photon-'));
const publishers = configs.map((c) => {
  const session = `photon-${c.name.replace(/\W/g, '-')}`;
  const tokenFile = path.join(tokenDir, session);
  writeFileSync(tokenFile, mintToken({ secret: SECRET, session, role: 'publisher', ttlSeconds: 7200 }), { mode: 0o600 });
  const args = ['--url', wsUrl('127.0.0.1'), '--session', session, '--token-file', tokenFile, '--display', x.display, '--width', String(width), '--height', String(height), '--capture', c.capture];
  if (c.fps !== undefined) args.push('--fps', String(c.fps));
  if (values.codec) args.push('--codec', values.codec);
  const agent = start(process.execPath, ['--import', 'tsx', path.join(c.root, 'lib', 'cli', 'cli.ts'), 'stream', ...args], {
    cwd: c.root,
    env: { ...env, ...(traceDir ? { WEBRTCBIN_LATENCY_TRACE: path.join(traceDir, `${session}.trace`) } : {}) },
    stdio: 'ignore',
  });
  cleanups.push(() => stop(agent));
  return { ...c, session, agent };
});
const vncPorts = { webPort: 6080 + (process.pid % 500), vncPort: 5900 + (process.pid % 500) };
const novnc = withNoVnc ? await startNoVnc(x.display, vncPorts) : undefined;
if (novnc) cleanups.push(() => novnc.close());

// The viewer page: our element, at 1:1, no toolbar; the bundle served beside it.
const bundle = await bundleViewerScript({ entry: 'index.ts' });
const server = http.createServer((req, res) => {
  if (req.url === '/module.js') {
    res.setHeader('content-type', 'text/javascript');
    return void res.end(bundle);
  }
  const q = new URL(req.url ?? '/', 'http://x').searchParams;
  res.setHeader('content-type', 'text/html');
  res.end(`<!doctype html><html><head><script type="module" src="/module.js"></script></head><body style="margin:0">` +
    `<webrtcbin-viewer id="v" url="${q.get('u')}" session="${q.get('s')}" token="${q.get('t')}" toolbar="none" style="width:${width}px;height:${height}px"></webrtcbin-viewer></body></html>`);
});
await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
cleanups.push(() => server.close());
const pagePort = (server.address() as AddressInfo).port;

const browsers: { network: 'loopback' | 'wan'; host: string; browser: Browser }[] = [];
const local = await launchChromium();
cleanups.push(() => local.close());
browsers.push({ network: 'loopback', host: '127.0.0.1', browser: local });
if (link) {
  const far = await chromium.launch({ executablePath: link.chromiumWrapper, args: CHROMIUM_FLAGS, headless: true });
  cleanups.push(() => far.close());
  browsers.push({ network: 'wan', host: HOST_ADDRESS, browser: far });
}

const targets: Target[] = [];
for (const { network, host, browser } of browsers) {
  for (const p of publishers) {
    const page = await browser.newPage({ viewport: { width, height } });
    await page.addInitScript(KEY_STAMP);
    const token = mintToken({ secret: SECRET, session: p.session, role: 'viewer', control: true });
    await page.goto(`http://${host}:${pagePort}/?u=${encodeURIComponent(wsUrl(host))}&s=${p.session}&t=${token}`);
    await page.waitForFunction(() => ((document.getElementById('v') as unknown as { stats: { framesDecoded: number } | null }).stats?.framesDecoded ?? 0) >= 5, undefined, { timeout: 60_000 });
    await page.evaluate('window.__name = (f) => f'); // tsx's keepNames helper
    await installVideoDetector(page, sx, sy);
    const prepare = () => page.evaluate(() => {
      const host = document.getElementById('v') as HTMLElement & { video: HTMLVideoElement; takeControl(): boolean };
      host.takeControl();
      host.video.focus();
    });
    targets.push({ name: p.name, network, page, prepare, samples: [], failed: 0, session: p.session, keys: [] });
  }
  if (novnc) {
    const page = await browser.newPage({ viewport: { width, height: height + 40 } });
    await page.addInitScript(KEY_STAMP);
    await page.goto(novnc.urlFor(host));
    await page.waitForFunction(() => (document.querySelector('canvas')?.width ?? 0) > 0, undefined, { timeout: 30_000 });
    await page.evaluate('window.__name = (f) => f');
    await installCanvasDetector(page, sx, sy);
    const prepare = () => page.evaluate(() => document.querySelector('canvas')!.focus());
    targets.push({ name: 'noVNC', network, page, prepare, samples: [], failed: 0, keys: [] });
  }
}
for (const t of targets) {
  if (t.session) t.codec = (await t.page.evaluate(() => (document.getElementById('v') as unknown as { stats: { codec: string | null } | null }).stats?.codec)) ?? undefined;
  console.log(`  ${t.network} ${t.name}: page ${await t.page.evaluate(() => document.visibilityState)}${t.codec ? `, ${t.codec}` : ''}`);
}
await sleep(2000);

// ---- trials: round-robin over every page; the screen flips at each key, whichever page sent it ----
type Bench = { white?: boolean; want?: boolean; keyAt?: number; shown?: Record<string, number>; after?: number[] };
let white = false; // flip-window starts black
let resyncs = 0;
const monoOffsetUs = () => Number(process.hrtime.bigint() / 1000n) - (performance.timeOrigin + performance.now()) * 1000;
for (let i = 0; i < trials; i++) {
  const order = i % 2 ? [...targets].reverse() : targets;
  for (const t of order) {
    process.stdout.write(`trial ${i + 1}/${trials} ${t.network} ${t.name}        \r`);
    await t.prepare();
    // The page shows the screen as it is now (a late frame of the last flip would count as this one's).
    const settled = await t.page
      .waitForFunction((w) => (window as unknown as { __bench: Bench }).__bench.white === w, white, { timeout: EFFECT_MS, polling: 10 })
      .then(() => true, () => false);
    if (!settled) {
      resyncs++;
      white = (await t.page.evaluate(() => (window as unknown as { __bench: Bench }).__bench.white)) ?? white;
    }
    await sleep(100 + Math.random() * 100); // a fixed-rate capture's phase differs from key to key
    await t.page.evaluate((want) => Object.assign((window as unknown as { __bench: Bench }).__bench, { want, keyAt: undefined, shown: undefined, after: undefined }), !white);
    await t.page.keyboard.press('a');
    white = !white;
    const result = await t.page
      .waitForFunction(() => {
        const b = (window as unknown as { __bench: Bench }).__bench;
        return b.shown && b.keyAt !== undefined ? { keyAt: b.keyAt, origin: performance.timeOrigin, after: b.after ?? [], ...b.shown } : null;
      }, undefined, { timeout: EFFECT_MS, polling: 10 })
      .then((h) => h.jsonValue() as Promise<{ keyAt: number; origin: number; now: number; expected?: number; presentation?: number; after: number[] }>, () => null);
    await t.page.evaluate(() => Object.assign((window as unknown as { __bench: Bench }).__bench, { want: undefined }));
    if (!result) {
      t.failed++;
      continue;
    }
    t.samples.push({ now: result.now - result.keyAt, expected: result.expected === undefined ? undefined : result.expected - result.keyAt, presentation: result.presentation === undefined ? undefined : result.presentation - result.keyAt, after: result.after.length ? result.after : undefined });
    // The page's wall clock onto this process's monotonic one (same machine): for the stage trace.
    const offset = monoOffsetUs();
    t.keys.push({ keyUs: (result.origin + result.keyAt) * 1000 + offset, shownUs: (result.origin + result.now) * 1000 + offset });
  }
}
process.stdout.write('\n');

// ---- report ----
const ms = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(1));
const rows = targets.map((t) => {
  const now = summarize(t.samples.map((s) => s.now));
  const exp = summarize(t.samples.flatMap((s) => (s.expected === undefined ? [] : [s.expected])));
  const pres = summarize(t.samples.flatMap((s) => (s.presentation === undefined ? [] : [s.presentation])));
  return { t, now, exp, pres };
});
const table = formatTable(
  ['network', 'peer', 'key → composited p50', 'p95', 'max', 'key → presentationTime p50', 'p95', 'n', 'failed', 'shown in 2+ frames'],
  rows.map(({ t, now, pres }) => [t.network, t.codec ? `${t.name} (${t.codec})` : t.name, ms(now.p50), ms(now.p95), ms(now.max), ms(pres.p50), ms(pres.p95), String(now.n), String(t.failed), t.session ? String(t.samples.filter((s) => (s.after?.length ?? 0) > 1).length) : '–']),
);
console.log(`\nkey pressed in the page → the first frame it shows with the flip, ms (page clock). composited: the rVFC / rAF callback's now\n${table}`);
if (resyncs) console.log(`(${resyncs} trials found the screen not as expected before the key and re-read it)`);
const stageTables: Record<string, string> = {};
if (traceDir) {
  for (const t of targets) {
    if (!t.session) continue;
    const pub = readTrace(path.join(traceDir, `${t.session}.trace`));
    const stagesOf = t.keys.map((k) => chainTrial(pub, new Map(), new Set(), k.keyUs, k.shownUs));
    // No receiver trace here (the browser): the last step runs from the packet sent to the page's frame.
    const rows = stageRows(stagesOf)
      .filter((r) => r[3] !== '0')
      .map((r) => (r[0] === SHOWN_LABEL ? ['sent → composited in the page (network, Chromium)', ...r.slice(1)] : r));
    stageTables[`${t.network} ${t.name}`] = formatTable(['step', 'p50 ms', 'p95 ms', 'n'], rows);
    console.log(`\n${t.network} ${t.name}, the publisher's stages (the page's key on the same clock):\n${stageTables[`${t.network} ${t.name}`]}`);
  }
}
appendResult('input-photon', {
  width, height, trials, loadAtStart, loadAtEnd: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  wan: withWan ? { rttMs: wanRtt, lossPercent: wanLoss, rateMbit: 10 } : null,
  runs: rows.map(({ t, now, exp, pres }) => ({ network: t.network, peer: t.name, codec: t.codec, composited: now, expectedDisplay: exp, presentation: pres, failed: t.failed, samples: t.samples })),
  resyncs, table, stageTables, traceDir,
});
await cleanup();
process.exit(0);
