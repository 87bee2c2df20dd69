// A React page that uses the viewer: apps bundled with esbuild (React from node_modules, no JSX),
// served by a plain HTTP server on another origin than the daemon's, opened in real Chromium: one owns
// a Viewer, the other renders <webrtcbin-viewer>; each connects and plays while React renders the state,
// and a tap on the element (Chromium's touch emulation) clicks in the VM; its toolbar's Keyboard button
// brings up the device keyboard, whose typing reaches the VM.
import t from 'tap';
import { publish } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { launchChromium } from '../helpers/browser.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { serveViewerApp } from '../helpers/viewer-app.js';
import { waitFor } from '../helpers/wait.js';
import { startDesk } from '../helpers/desk.js';

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

t.test('React renders <webrtcbin-viewer>: it connects, plays, and a tap on it (touch emulation) clicks in the VM', async (t) => {
  const { xev, daemon } = await startDesk(t, { session: 'react-el' });
  const app = await serveViewerApp('react-element.ts', `<!doctype html><meta charset="utf-8"><body style="margin:0"><div id="root"></div><script type="module" src="/app.js"></script></body>`, { development: true });
  t.teardown(() => app.close());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 640, height: 560 }, hasTouch: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const token = mintToken({ secret: SECRET, session: 'react-el', role: 'viewer', control: true });
  await page.goto(`${app.url}?ws=${encodeURIComponent(daemon.url)}&session=react-el&token=${token}`);

  await page.waitForFunction(() => document.getElementById('state')?.textContent === 'connected', undefined, { timeout: 30_000 });
  t.pass("React's state followed the element's state events: connected");
  type El = HTMLElement & { viewer: { stats: { framesDecoded: number } | null } | null; video: HTMLVideoElement; touch?: unknown };
  await page.waitForFunction(() => (document.querySelector<El>('webrtcbin-viewer')?.viewer?.stats?.framesDecoded ?? 0) >= 6, undefined, { timeout: 30_000 });
  const video = await page.evaluate(() => {
    const v = document.querySelector<El>('webrtcbin-viewer')!.video;
    return { width: v.videoWidth, height: v.videoHeight, paused: v.paused };
  });
  t.same(video, { width: 640, height: 480, paused: false }, "the element's video plays the stream");

  // A tap where the picture shows (640, 480) → X; the element has touch input once the input channel is open.
  await page.waitForFunction(() => document.querySelector<El>('webrtcbin-viewer')?.touch !== undefined, undefined, { timeout: 10_000 });
  const box = await page.evaluate(() => {
    const r = document.querySelector<El>('webrtcbin-viewer')!.video.getBoundingClientRect();
    return { left: r.left, top: r.top, width: r.width, height: r.height };
  });
  const scale = Math.min(box.width / 640, box.height / 480);
  const at = { x: box.left + (box.width - 640 * scale) / 2 + 200 * scale, y: box.top + (box.height - 480 * scale) / 2 + 100 * scale };
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 5 });
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: at.x, y: at.y }] });
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await waitFor('the tap at the X client', () => /ButtonRelease/.test(xev.text), 10_000).catch(() => {});
  const press = /ButtonPress event[^]*?root:\((\d+),(\d+)\)[^]*?button (\d+)/.exec(xev.text);
  t.ok(press && press[3] === '1' && Math.abs(Number(press[1]) - 200) <= 3 && Math.abs(Number(press[2]) - 100) <= 3, `a left click at (200,100) on the VM (got ${press ? `button ${press[3]} at (${press[1]},${press[2]})` : 'none'})`);
  t.equal((xev.text.match(/ButtonPress/g) ?? []).length, 1, 'exactly one click (the touch did not also arrive as a mouse click)');

  // The toolbar's Keyboard button (Special keys panel) brings up the device keyboard; its typing reaches X.
  await page.evaluate(() => (document.querySelector('webrtcbin-viewer') as unknown as { toggleToolbar(focus: boolean): void }).toggleToolbar(false));
  await page.locator('webrtcbin-viewer #keys').click();
  await page.locator('webrtcbin-viewer [data-key="keyboard"]').click();
  t.equal(await page.evaluate(() => document.querySelector('webrtcbin-viewer')!.shadowRoot!.activeElement?.className), 'webrtcbin-touch-keyboard', 'Keyboard focused the hidden field that brings the device keyboard up');
  await page.keyboard.insertText('ok');
  await waitFor('the typing at the X client', () => /keysym 0x6b, k\)/.test(xev.text), 10_000).catch(() => {});
  t.match(xev.text, /KeyPress event[^]*?keysym 0x6f, o\)[^]*?KeyPress event[^]*?keysym 0x6b, k\)/, '"ok" typed on the device keyboard reached X');
  t.same(errors, [], 'no page errors');
});
