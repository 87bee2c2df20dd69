// Screenshots of <webrtcbin-viewer> for docs/viewer.md: each state (connecting, connected with the
// toolbar, view-only, failed, reconnecting) at phone, tablet and desktop sizes, in headless Chromium,
// against a real daemon and a real publisher of an Xvfb desktop (xsetroot, xterm, xclock on it).
// `node --import tsx scripts/viewer-screenshots.mjs [outdir]` (default docs/images/viewer/).
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { publish } from '../lib/client.js';
import { mintToken } from '../lib/signaling/daemon/token.js';
import { startDaemon, SECRET } from '../test/helpers/daemon.js';
import { launchChromium } from '../test/helpers/browser.js';
import { startXvfb } from '../test/helpers/xvfb.js';
import { bundleViewerScript } from './build-viewer.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.resolve(process.argv[2] ?? path.join(root, 'docs', 'images', 'viewer'));
const SIZES = { phone: [390, 844], tablet: [820, 1180], desktop: [1280, 800] };

await mkdir(outdir, { recursive: true });
const x = await startXvfb('1280x800x24');
const clients = [
  spawn('xsetroot', ['-display', x.display, '-solid', '#2f5d8a']),
  spawn('xterm', ['-display', x.display, '-geometry', '80x24+60+60', '-fa', 'DejaVu Sans Mono', '-fs', '12', '-e', 'sh', '-c', 'echo "a desktop inside a VM, streamed by node-webrtcbin"; echo; printf "%s\\n" "$ uptime" " 10:42:07 up 3 days,  2:11,  1 user,  load average: 0.08, 0.12, 0.10" "$ "; exec sleep 600']),
  spawn('xclock', ['-display', x.display, '-geometry', '180x180+900+80']),
];
const daemon = await startDaemon();
const publisher = publish({ url: daemon.url, session: 'desk', token: mintToken({ secret: SECRET, session: 'desk', role: 'publisher' }), source: { kind: 'x11', display: x.display }, video: { width: 1280, height: 800 } });
publisher.on('error', () => {});

// A signaling server that accepts and never answers: the element stays `connecting`.
const silent = new WebSocketServer({ host: '127.0.0.1', port: 0 });
await new Promise((r) => silent.once('listening', r));
const silentUrl = `ws://127.0.0.1:${silent.address().port}/v1/ws`;
// A port nothing listens on: the element keeps `reconnecting`.
const closed = http.createServer();
await new Promise((r) => closed.listen(0, '127.0.0.1', r));
const deadUrl = `ws://127.0.0.1:${closed.address().port}/v1/ws`;
closed.close();

// The element in a plain page that fills the window (as the daemon's page does).
const module = await bundleViewerScript({ entry: 'index.ts' });
const pages = http.createServer((req, res) => {
  if (req.url === '/module.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(module);
  const q = new URL(req.url ?? '/', 'http://x').searchParams;
  const attrs = ['url', 'session', 'token'].map((k) => (q.get(k) ? ` ${k}="${q.get(k)}"` : '')).join('');
  res.writeHead(200, { 'content-type': 'text/html' }).end(
    `<!doctype html><html><head><meta name="viewport" content="width=device-width, initial-scale=1"><script type="module" src="/module.js"></script>` +
      `<style>html,body{margin:0;height:100%;background:#000}webrtcbin-viewer{position:fixed;inset:0;width:100%;height:100%;aspect-ratio:auto}</style></head>` +
      `<body><webrtcbin-viewer${attrs}></webrtcbin-viewer></body></html>`,
  );
});
await new Promise((r) => pages.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${pages.address().port}/`;
const link = (params) => `${base}?${new URLSearchParams(params)}`;
const viewerToken = (control) => mintToken({ secret: SECRET, session: 'desk', role: 'viewer', control, ttlSeconds: 3600 });

const STATES = {
  connecting: { url: link({ url: silentUrl, session: 'desk' }), wait: (el) => el.state === 'connecting', toolbar: false },
  connected: { url: link({ url: daemon.url, session: 'desk', token: viewerToken(true) }), wait: (el) => el.state === 'connected' && (el.stats?.framesDecoded ?? 0) > 10, toolbar: true, control: true },
  'view-only': { url: link({ url: daemon.url, session: 'desk', token: viewerToken(false) }), wait: (el) => el.state === 'connected' && (el.stats?.framesDecoded ?? 0) > 10, toolbar: true },
  failed: { url: link({ url: daemon.url, session: 'desk', token: 'not-a-valid-token' }), wait: (el) => el.state === 'failed', toolbar: false },
  reconnecting: { url: link({ url: deadUrl, session: 'desk' }), wait: (el) => el.state === 'reconnecting' && el.viewer?.reason, toolbar: false },
};

const browser = await launchChromium();
try {
  for (const [name, [width, height]] of Object.entries(SIZES)) {
    for (const [state, plan] of Object.entries(STATES)) {
      const page = await browser.newPage({ viewport: { width, height } });
      await page.goto(plan.url);
      await page.waitForFunction(`(${plan.wait.toString()})(document.querySelector('webrtcbin-viewer'))`, undefined, { timeout: 30_000 });
      if (plan.control) {
        await page.evaluate(() => document.querySelector('webrtcbin-viewer').takeControl());
        await page.waitForFunction(() => document.querySelector('webrtcbin-viewer').controlling, undefined, { timeout: 10_000 });
      }
      if (plan.toolbar) {
        await page.evaluate(() => {
          const el = document.querySelector('webrtcbin-viewer');
          if (el.dataset.toolbar === 'open') el.toggleToolbar(false); // closes the introduction
          el.toggleToolbar(false); // opens it pinned
        });
      }
      await page.waitForTimeout(plan.toolbar ? 600 : 300);
      const file = path.join(outdir, `${state}-${name}.png`);
      await page.screenshot({ path: file });
      console.log(`wrote ${path.relative(root, file)}`);
      await page.close();
    }
  }
} finally {
  await browser.close();
  await publisher.close();
  await daemon.app.close();
  silent.close();
  pages.close();
  for (const c of clients) c.kill();
  await x.kill();
}
