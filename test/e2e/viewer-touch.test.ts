// A person on a phone or tablet: real Chromium with touch emulation (CDP Emulation.setTouchEmulationEnabled
// + Input.dispatchTouchEvent) on a page that uses the viewer module with attachTouch(). Taps, long presses
// and two-finger drags reach the VM's X display as clicks, right clicks and wheel buttons; a pinch zooms
// the view and sends nothing; the device keyboard (IME included) and Viewer.sendKeys() reach X as keys.
import t from 'tap';
import type { CDPSession, Page } from 'playwright-core';
import { type Xev } from '../helpers/xev.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { launchChromium } from '../helpers/browser.js';
import { SECRET } from '../helpers/daemon.js';
import { serveViewerApp } from '../helpers/viewer-app.js';
import { waitFor } from '../helpers/wait.js';
import { startDesk } from '../helpers/desk.js';

// The video fills a 640×480 viewport, as the VM's 640×480 screen: page pixels are screen pixels.
const TOUCH_PAGE = `<!doctype html><meta name="viewport" content="width=device-width">
<body style="margin:0;background:#000"><div style="width:640px;height:480px;overflow:hidden;position:relative">
<video muted autoplay playsinline style="display:block;width:640px;height:480px;object-fit:contain"></video></div>
<script type="module" src="/app.js"></script></body>`;

interface Press {
  kind: 'ButtonPress' | 'ButtonRelease';
  x: number;
  y: number;
  button: number;
}

/** The button events xev printed after `from` (an earlier xev.text.length), at screen (root) coordinates. */
function buttons(xev: Xev, from: number): Press[] {
  const out: Press[] = [];
  for (const m of xev.text.slice(from).matchAll(/(ButtonPress|ButtonRelease) event[^]*?root:\((\d+),(\d+)\)[^]*?button (\d+)/g)) {
    out.push({ kind: m[1] as Press['kind'], x: Number(m[2]), y: Number(m[3]), button: Number(m[4]) });
  }
  return out;
}

/** The keysyms of xev's KeyPress (or KeyRelease) events after `from`, in order. */
function keys(xev: Xev, from: number, kind: 'KeyPress' | 'KeyRelease' = 'KeyPress'): number[] {
  return [...xev.text.slice(from).matchAll(new RegExp(`${kind} event[^]*?keysym 0x([0-9a-f]+)`, 'g'))].map((m) => parseInt(m[1]!, 16));
}

const settle = (ms = 600) => new Promise((r) => setTimeout(r, ms));

async function touchAt(cdp: CDPSession, type: 'touchStart' | 'touchMove' | 'touchEnd', points: [number, number][]): Promise<void> {
  await cdp.send('Input.dispatchTouchEvent', { type, touchPoints: points.map(([x, y], id) => ({ x, y, id })) });
}

async function openTouchPage(t: { teardown(fn: () => unknown): void }, control = true) {
  const { xev, daemon, publisher } = await startDesk(t, { session: 'touch' });
  const app = await serveViewerApp('touch.ts', TOUCH_PAGE);
  t.teardown(() => app.close());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 640, height: 480 }, hasTouch: true, isMobile: false });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 5 });
  const token = mintToken({ secret: SECRET, session: 'touch', role: 'viewer', control });
  await page.goto(`${app.url}?ws=${encodeURIComponent(daemon.url)}&session=touch&token=${token}`);
  await waitForFrames(page);
  return { xev, page, cdp, publisher };
}

async function waitForFrames(page: Page, count = 6): Promise<void> {
  await page.waitForFunction((n) => (window.probe?.viewer.stats?.framesDecoded ?? 0) >= n, count, { timeout: 30_000 });
  await page.waitForFunction(() => (window.probe.viewer as unknown as { input: RTCDataChannel | null }).input?.readyState === 'open', undefined, { timeout: 10_000 });
}

declare global {
  interface Window {
    probe: {
      viewer: import('../../lib/viewer/viewer.js').Viewer;
      touch: import('../../lib/viewer/touch.js').TouchInput;
      controls: import('../../lib/viewer/viewer.js').ControlDetail[];
      qualities: import('../../lib/viewer/viewer.js').QualityDetail[];
      zooms: number[];
      sent: unknown[];
    };
  }
}

t.test('touch: tap clicks, long press right-clicks, two fingers scroll, pinch zooms the view only', async (t) => {
  const { xev, page, cdp } = await openTouchPage(t);

  // Tap = left click where the finger landed, and the pointer dot is shown there.
  let from = xev.text.length;
  await touchAt(cdp, 'touchStart', [[100, 120]]);
  await touchAt(cdp, 'touchEnd', []);
  await waitFor('the tap at the X client', () => buttons(xev, from).length >= 2, 10_000).catch(() => {});
  const tap = buttons(xev, from);
  t.same(tap.map((b) => [b.kind, b.button]), [['ButtonPress', 1], ['ButtonRelease', 1]], 'a tap is one left click');
  t.ok(tap[0] && Math.abs(tap[0].x - 100) <= 2 && Math.abs(tap[0].y - 120) <= 2, `at (${tap[0]?.x},${tap[0]?.y}), expected (100,120)`);
  const dot = await page.evaluate(() => {
    const d = document.querySelector<HTMLElement>('.webrtcbin-touch-pointer');
    return d ? { display: d.style.display, left: d.style.left, top: d.style.top } : null;
  });
  t.same(dot, { display: 'block', left: '100px', top: '120px' }, 'the pointer dot is where the finger landed');

  // Long press = right click.
  from = xev.text.length;
  await touchAt(cdp, 'touchStart', [[200, 150]]);
  await settle(900);
  await touchAt(cdp, 'touchEnd', []);
  await waitFor('the long press', () => buttons(xev, from).length >= 2, 10_000).catch(() => {});
  await settle(300);
  const long = buttons(xev, from);
  t.same(long.map((b) => [b.kind, b.button]), [['ButtonPress', 3], ['ButtonRelease', 3]], 'a long press is one right click, and no left click');
  t.ok(long[0] && Math.abs(long[0].x - 200) <= 2 && Math.abs(long[0].y - 150) <= 2, `at (${long[0]?.x},${long[0]?.y}), expected (200,150)`);

  // Two fingers dragged up 200 px = scrolling down: wheel button 5 (natural scrolling), nothing else.
  from = xev.text.length;
  await touchAt(cdp, 'touchStart', [[300, 400], [360, 400]]);
  for (let dy = 20; dy <= 200; dy += 20) await touchAt(cdp, 'touchMove', [[300, 400 - dy], [360, 400 - dy]]);
  await touchAt(cdp, 'touchEnd', []);
  await waitFor('the scroll', () => buttons(xev, from).filter((b) => b.kind === 'ButtonPress').length >= 5, 10_000).catch(() => {});
  await settle(300);
  const scroll = buttons(xev, from).filter((b) => b.kind === 'ButtonPress');
  t.ok(scroll.length >= 4 && scroll.length <= 5, `200 px of two-finger travel is 4–5 wheel notches (got ${scroll.length})`);
  t.ok(scroll.every((b) => b.button === 5), `every notch is wheel-down, button 5 (got ${scroll.map((b) => b.button).join(',')})`);
  // And back down: wheel-up, button 4.
  from = xev.text.length;
  await touchAt(cdp, 'touchStart', [[300, 100], [360, 100]]);
  for (let dy = 20; dy <= 100; dy += 20) await touchAt(cdp, 'touchMove', [[300, 100 + dy], [360, 100 + dy]]);
  await touchAt(cdp, 'touchEnd', []);
  await waitFor('the scroll up', () => buttons(xev, from).filter((b) => b.kind === 'ButtonPress').length >= 2, 10_000).catch(() => {});
  await settle(300);
  t.same([...new Set(buttons(xev, from).map((b) => b.button))], [4], 'fingers dragged down scroll up: button 4');

  // Pinch out around the middle: the view zooms, X gets nothing.
  from = xev.text.length;
  const sentBefore = await page.evaluate(() => window.probe.sent.length);
  await touchAt(cdp, 'touchStart', [[300, 240], [340, 240]]);
  for (let d = 20; d <= 120; d += 10) await touchAt(cdp, 'touchMove', [[300 - d, 240], [340 + d, 240]]);
  await touchAt(cdp, 'touchEnd', []);
  await settle(800);
  const zoom = await page.evaluate(() => ({ zoom: window.probe.touch.zoom, transform: document.querySelector('video')!.style.transform, sent: window.probe.sent.length }));
  t.ok(zoom.zoom > 3 && zoom.zoom < 8, `the view zoomed by the fingers' spread, 40 → 280 px (zoom ${zoom.zoom})`);
  t.match(zoom.transform, /scale\(/, 'as a CSS transform of the video');
  t.equal(zoom.sent, sentBefore, 'the pinch sent no input message');
  t.equal(xev.text.slice(from).match(/ButtonPress|KeyPress/g), null, 'nothing reached the X display');

  // A tap on the zoomed view lands where the picture under the finger is: the pinch's middle stayed put.
  from = xev.text.length;
  await touchAt(cdp, 'touchStart', [[380, 240]]);
  await touchAt(cdp, 'touchEnd', []);
  await waitFor('the tap on the zoomed view', () => buttons(xev, from).length >= 2, 10_000).catch(() => {});
  const zoomedTap = buttons(xev, from)[0];
  const expected = 320 + 60 / zoom.zoom;
  t.ok(zoomedTap && Math.abs(zoomedTap.x - expected) <= 3 && Math.abs(zoomedTap.y - 240) <= 3, `a tap 60 px right of the middle at zoom ${zoom.zoom.toFixed(2)} clicks at (${zoomedTap?.x},${zoomedTap?.y}), expected (${expected.toFixed(0)},240)`);
  await page.evaluate(() => window.probe.touch.resetZoom());
  t.equal(await page.evaluate(() => document.querySelector('video')!.style.transform), '', 'resetZoom() restores the fitted view');
});

t.test('keys: the device keyboard (typing, IME composition, Enter, Backspace) and sendKeys() for special keys', async (t) => {
  const { xev, page, cdp } = await openTouchPage(t);
  // Take control with a tap first, as a person would.
  await touchAt(cdp, 'touchStart', [[20, 20]]);
  await touchAt(cdp, 'touchEnd', []);
  await waitFor('the tap', () => buttons(xev, 0).length >= 2, 10_000);

  let from = xev.text.length;
  await page.evaluate(() => window.probe.touch.showKeyboard());
  t.equal(await page.evaluate(() => document.activeElement?.className), 'webrtcbin-touch-keyboard', 'showKeyboard() focuses the hidden field (what brings the device keyboard up)');
  await page.keyboard.insertText('hé');
  // An IME: composing "にほ", then committing "日本" (CDP's IME calls, as a phone's keyboard does).
  await cdp.send('Input.imeSetComposition', { text: 'にほ', selectionStart: 2, selectionEnd: 2 });
  await cdp.send('Input.insertText', { text: '日本' });
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Enter');
  await waitFor('Return at the X client', () => keys(xev, from).includes(0xff0d), 10_000).catch(() => {});
  const typed = await page.evaluate(() => (window.probe.sent as { t: string; key?: string; down?: boolean }[]).filter((m) => m.t === 'key' && m.down).map((m) => m.key));
  t.same(typed, ['h', 'é', '日', '本', 'Backspace', 'Enter'], 'the page sent h, é, 日, 本 (the composition only once committed), Backspace, Enter');
  // Characters off the VM's keymap go through a borrowed keycode that xev may read before its remapping
  // (lib/input/injector.ts): their keysyms are checked at the page, the count and the rest at X.
  const atX = keys(xev, from);
  t.equal(atX.length, 6, 'six key presses reached X');
  t.same([atX[0], atX[4], atX[5]], [0x68, 0xff08, 0xff0d], 'h, BackSpace and Return among them, in order');
  t.equal(await page.evaluate(() => (document.activeElement as HTMLTextAreaElement).value), '', 'the field stays empty');

  from = xev.text.length;
  const sent = await page.evaluate(() => window.probe.viewer.sendKeys('ctrl+alt+Delete'));
  t.equal(sent, true, 'sendKeys() sent');
  await waitFor('Delete at the X client', () => keys(xev, from, 'KeyRelease').length >= 3, 10_000).catch(() => {});
  t.same(keys(xev, from), [0xffe3, 0xffe9, 0xffff], 'Control_L, Alt_L, Delete pressed in that order');
  t.same(keys(xev, from, 'KeyRelease'), [0xffff, 0xffe9, 0xffe3], 'and released in reverse');

  from = xev.text.length;
  for (const combo of ['F1', 'f12', 'F24', 'Super', 'Print', 'alt+F4']) await page.evaluate((c) => window.probe.viewer.sendKeys(c), combo);
  await waitFor('the F-keys', () => keys(xev, from).length >= 7, 10_000).catch(() => {});
  t.same(keys(xev, from), [0xffbe, 0xffc9, 0xffd5, 0xffeb, 0xff61, 0xffe9, 0xffc1], 'F1, F12, F24, Super_L, Print, Alt_L+F4');

  const refused = await page.evaluate(() => {
    try {
      window.probe.viewer.sendKeys('ctrl+Hyper');
      return 'sent';
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
  });
  t.match(refused, /^RangeError: sendKeys\(\): unknown key "Hyper"/, 'an unknown key name is a RangeError naming it');
});
