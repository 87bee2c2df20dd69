// A React page that uses the viewer: an app bundled with esbuild (React from node_modules, no JSX),
// served by a plain HTTP server on another origin than the daemon's, opened in real Chromium: it
// connects, and the video plays (frames decoded and painted) while React renders the viewer's state.
import t from 'tap';
import { publish } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { launchChromium } from '../helpers/browser.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { serveViewerApp } from '../helpers/viewer-app.js';

const PAGE = `<!doctype html><meta charset="utf-8"><title>React viewer</title><div id="root"></div><script type="module" src="/app.js"></script>`;

t.test('a React app bundled with esbuild shows the stream', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session: 'react', token: mintToken({ secret: SECRET, session: 'react', role: 'publisher' }), source: { kind: 'test' }, video: { width: 320, height: 240 } });
  t.teardown(() => publisher.close());
  const app = await serveViewerApp('react.ts', PAGE, { development: true });
  t.teardown(() => app.close());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const token = mintToken({ secret: SECRET, session: 'react', role: 'viewer' });
  await page.goto(`${app.url}?ws=${encodeURIComponent(daemon.url)}&session=react&token=${token}`);

  await page.waitForFunction(() => document.getElementById('state')?.textContent === 'connected', undefined, { timeout: 30_000 });
  await page.waitForFunction(() => Number(document.getElementById('frames')?.textContent) >= 10, undefined, { timeout: 30_000 });
  t.pass('React rendered state "connected" and a growing frame count');
  const video = await page.evaluate(() => {
    const v = document.querySelector('video')!;
    return { width: v.videoWidth, height: v.videoHeight, paused: v.paused, time: v.currentTime };
  });
  t.same({ width: video.width, height: video.height }, { width: 320, height: 240 }, 'the video element has the stream');
  t.equal(video.paused, false, 'and plays');
  await new Promise((r) => setTimeout(r, 500));
  t.ok((await page.evaluate(() => document.querySelector('video')!.currentTime)) > video.time, 'its time advances');
  // StrictMode mounted twice: the first viewer stopped, the second one is the live one.
  t.same(await page.evaluate(() => window.viewers.map((v) => v.state)), ['stopped', 'connected'], 'the unmounted viewer stopped, the mounted one is connected');
  t.same(errors, [], 'no page errors');
});
