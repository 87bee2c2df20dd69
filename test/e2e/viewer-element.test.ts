// <webrtcbin-viewer> in real Chromium: in a plain page of another origin (the package's module, nothing
// copied), as the daemon's page, and its toolbar reaching the VM's X display: take control, special
// keys (xev), the clipboard panel (xclip), scaling (the video's CSS size; the X screen following the
// element), full screen with the Keyboard Lock API, the ARIA live region, and a hidden toolbar that
// takes no clicks.
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { publish } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { launchChromium, waitForViewerFrames } from '../helpers/browser.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { startXvfb } from '../helpers/xvfb.js';
import { modulePageServer } from '../helpers/module-page.js';
import { startXev } from '../helpers/xev.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const token = (session: string, role: 'viewer' | 'publisher', control = false) => mintToken({ secret: SECRET, session, role, control, ttlSeconds: 600 });

/** A button or field inside the element's shadow root, by id. */
const shadow = (id: string) => `webrtcbin-viewer >> #${id}`;

const daemon = await startDaemon();
t.teardown(() => daemon.app.close());
const browser = await launchChromium();
t.teardown(() => browser.close());

t.test('in a plain page: plays, re-dispatches the Viewer events, reconnects on attribute changes, stops when removed', async (t) => {
  for (const session of ['plain-a', 'plain-b']) {
    const p = publish({ url: daemon.url, session, token: token(session, 'publisher'), source: { kind: 'test', pattern: 'ball' }, video: { width: 320, height: 240 } });
    t.teardown(() => p.close());
  }
  const url = await modulePageServer(t, `<webrtcbin-viewer id="v" url="${daemon.url}" session="plain-a" token="${token('plain-a', 'viewer')}" style="width:640px;height:360px"></webrtcbin-viewer>` +
      // A classic script runs before the (deferred) module defines the tag: every event is heard.
      `<script>window.events = []; for (const type of ['state', 'stats']) document.getElementById('v').addEventListener(type, (e) => events.push(type + ':' + (type === 'state' ? e.detail : '')));</script>`,
  );
  const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  t.teardown(() => page.close());
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(url);
  const frames = () => page.evaluate(() => ((document.getElementById('v') as unknown as { stats: { framesDecoded: number } | null }).stats?.framesDecoded ?? 0));
  await waitFor('frames in the element', async () => (await frames()) > 5, 20_000);
  t.ok(await page.evaluate(() => customElements.get('webrtcbin-viewer') !== undefined), 'importing the module defined the tag');
  await page.waitForFunction(() => (document.getElementById('v') as unknown as { state: string }).state === 'connected', undefined, { timeout: 20_000 });
  const events = await page.evaluate(() => (window as unknown as { events: string[] }).events);
  t.ok(events.includes('state:connecting') && events.includes('state:connected'), `state events from the element: ${events.filter((e) => e.startsWith('state')).join(', ')}`);
  // Stats are polled once a second: the first may be on its way while the state is already 'connected'.
  const statsHeard = await page
    .waitForFunction(() => (window as unknown as { events: string[] }).events.includes('stats:'), undefined, { timeout: 5000 })
    .then(() => true, () => false);
  t.ok(statsHeard, `stats events from the element${pageErrors.length ? ` (page errors: ${pageErrors.join('; ')})` : ''}`);
  const size = await page.evaluate(() => {
    const r = (document.getElementById('v') as unknown as { video: HTMLVideoElement }).video.getBoundingClientRect();
    return [r.width, r.height];
  });
  t.same(size, [640, 360], 'its own video fills the element');

  // Another session and token: one reconnect, to the new session.
  const before = await page.evaluate(() => (document.getElementById('v') as unknown as { viewer: object }).viewer);
  await page.evaluate((tok) => {
    const v = document.getElementById('v')!;
    v.setAttribute('session', 'plain-b');
    v.setAttribute('token', tok);
  }, token('plain-b', 'viewer'));
  await page.waitForFunction(() => (document.getElementById('v') as unknown as { viewer: { options: { session: string }; state: string } }).viewer?.options.session === 'plain-b', undefined, { timeout: 5000 });
  await page.waitForFunction(() => (document.getElementById('v') as unknown as { state: string }).state === 'connected', undefined, { timeout: 20_000 });
  t.ok(before, 'a viewer before');
  t.pass('the attribute change reconnected to the new session');
  const joins = await page.evaluate(() => (window as unknown as { events: string[] }).events.filter((e) => e === 'state:connecting').length);
  t.equal(joins, 2, 'two attribute changes in a row made one new connection');

  // Removed: the viewer stops (bye); put back, it starts again.
  const stopped = await page.evaluate(() => {
    const v = document.getElementById('v') as unknown as HTMLElement & { viewer: unknown; state: string };
    const old = v.viewer as { state: string };
    (window as unknown as { removed: HTMLElement }).removed = v;
    v.remove();
    return [v.viewer === null, old.state];
  });
  t.same(stopped, [true, 'stopped'], 'disconnectedCallback stopped the viewer');
  const restarted = await page.evaluate(() => {
    const v = (window as unknown as { removed: HTMLElement & { viewer: { state: string } | null } }).removed;
    document.body.append(v);
    return v.viewer?.state;
  });
  t.equal(restarted, 'connecting', 'put back, connectedCallback started it again');
});

t.test('as the daemon page, with an X desktop: the toolbar reaches the VM', async (t) => {
  const x = await startXvfb('1024x768x24');
  t.teardown(() => x.kill());
  const xev = await startXev(x.display, '1024x768', ['keyboard']);
  t.teardown(() => xev.kill());
  const publisher = publish({ url: daemon.url, session: 'desk', token: token('desk', 'publisher'), source: { kind: 'x11', display: x.display }, video: { width: 1024, height: 768 }, resize: true });
  t.teardown(() => publisher.close());
  const xclip = () => run('xclip', ['-selection', 'clipboard', '-o', '-display', x.display]).then((r) => r.stdout, () => '<empty>');
  const dimensions = async () => /dimensions:\s+(\d+x\d+)/.exec((await run('xdpyinfo', ['-display', x.display])).stdout)?.[1];

  const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
  t.teardown(() => page.close());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${daemon.http}/?session=desk&token=${token('desk', 'viewer', true)}`);
  await waitForViewerFrames(page, 6, 20_000);
  // 'connected' can come after the first frames on a loaded machine; the toolbar's introduction with it.
  await page.waitForFunction(() => (window as unknown as { __viewerState?: string }).__viewerState === 'connected', undefined, { timeout: 10_000 });
  t.equal(await page.evaluate(() => document.querySelector('webrtcbin-viewer')?.shadowRoot?.querySelector('#toolbar')?.getAttribute('role')), 'toolbar', 'the page is the element, with its toolbar');
  const live = () => page.evaluate(() => document.querySelector('webrtcbin-viewer')!.shadowRoot!.getElementById('live')!.textContent);
  t.match(await live(), /connected/, 'the live region said: connected');

  // Hidden, the toolbar takes no clicks: the video is under every point, the top edge included.
  await page.evaluate(() => (document.querySelector('webrtcbin-viewer') as unknown as { toggleToolbar(f: boolean): void; dataset: DOMStringMap }).dataset.toolbar === 'open' && (document.querySelector('webrtcbin-viewer') as unknown as { toggleToolbar(f: boolean): void }).toggleToolbar(false));
  await page.waitForTimeout(300);
  const hits = await page.evaluate(() =>
    [[450, 2], [450, 30], [10, 10], [450, 300], [890, 590]].map(([x, y]) => {
      const root = document.querySelector('webrtcbin-viewer')!.shadowRoot!;
      const top = root.elementFromPoint(x!, y!);
      return top?.tagName === 'VIDEO' || top?.tagName === 'SLOT' || (top?.id === 'overlay' ? 'overlay' : top?.id ?? top?.tagName);
    }),
  );
  t.same(hits.filter((h) => h !== true && h !== 'overlay'), [], `hidden toolbar: the video takes the clicks (${JSON.stringify(hits)})`);
  t.equal(await page.evaluate(() => getComputedStyle(document.querySelector('webrtcbin-viewer')!.shadowRoot!.getElementById('overlay')!).pointerEvents), 'none', 'the status line takes no clicks either');

  // The mouse at the top edge opens it; Take control gets control.
  await page.mouse.move(450, 1);
  await page.waitForFunction(() => (document.querySelector('webrtcbin-viewer') as HTMLElement).dataset.toolbar === 'open', undefined, { timeout: 3000 });
  t.pass('the top edge opened the toolbar');
  await page.click(shadow('control'));
  await page.waitForFunction(() => (window as unknown as { __viewerControl?: boolean }).__viewerControl === true, undefined, { timeout: 5000 });
  t.equal(await page.getAttribute(shadow('control'), 'aria-label'), 'Release control', 'the button now offers to release');
  t.match(await live(), /You control the desktop/, 'the live region said so');

  // Special keys: F5 and Ctrl+Alt+Del arrive in X.
  await page.click(shadow('keys'));
  await page.click(`webrtcbin-viewer >> [data-key="F5"]`);
  await waitFor('F5 at the X client', () => /keysym 0xffc2, F5/.test(xev.text), 5000).catch(() => {});
  t.match(xev.text, /KeyPress[^]*keysym 0xffc2, F5/, 'F5 reached the X display');
  await page.click(`webrtcbin-viewer >> [data-key="Ctrl+Alt+Del"]`);
  await waitFor('Delete at the X client', () => /keysym 0xffff, Delete/.test(xev.text), 5000).catch(() => {});
  t.match(xev.text, /keysym 0xffe3, Control_L[^]*keysym 0xffe9, Alt_L[^]*KeyPress[^]*state 0xc[^]*keysym 0xffff, Delete/, 'Ctrl+Alt+Del: Delete pressed with Control and Alt held');

  // The clipboard panel: text sent lands on the X CLIPBOARD.
  await page.click(shadow('clipboard'));
  await page.fill(shadow('clip-out'), 'from the clipboard panel ✓');
  await page.click(shadow('clip-send'));
  let inX = '';
  for (let i = 0; i < 50 && inX !== 'from the clipboard panel ✓'; i++) {
    await page.waitForTimeout(100);
    inX = await xclip();
  }
  t.equal(inX, 'from the clipboard panel ✓', 'the panel text is on the X CLIPBOARD');

  // Scaling: 1:1 sizes the video to the stream's pixels; Follow window resizes the X screen.
  const videoSize = () => page.evaluate(() => {
    const v = document.querySelector('video')!;
    const r = v.getBoundingClientRect();
    return [Math.round(r.width), Math.round(r.height), v.videoWidth, v.videoHeight];
  });
  t.same(await videoSize(), [900, 600, 1024, 768], 'fit: the video fills the window');
  await page.click(shadow('scale'));
  await page.click(`webrtcbin-viewer >> [data-scale="actual"]`);
  await page.waitForFunction(() => document.querySelector('video')!.getBoundingClientRect().width === 1024, undefined, { timeout: 3000 });
  t.same(await videoSize(), [1024, 768, 1024, 768], '1:1: one stream pixel per CSS pixel (scrolls)');
  await page.click(shadow('scale'));
  await page.click(`webrtcbin-viewer >> [data-scale="remote"]`);
  type ResizeWindow = { __viewerResize?: { ok: boolean; width: number; height: number } };
  const answer = () => page.waitForFunction(() => (window as unknown as ResizeWindow).__viewerResize, undefined, { timeout: 10_000 }).then((h) => h.jsonValue());
  t.match(await answer(), { ok: true, width: 900, height: 600 }, 'Follow window: the VM answered with the element size');
  t.equal(await dimensions(), '900x600', 'and the X screen took it');
  await page.evaluate(() => delete (window as unknown as ResizeWindow).__viewerResize);
  await page.setViewportSize({ width: 800, height: 560 });
  t.match(await answer(), { ok: true, width: 800, height: 560 }, 'a window resize: asked again (debounced)');
  t.equal(await dimensions(), '800x560', 'and the X screen followed');

  // Quality: the ceiling goes through the Viewer's setMaxBitrate where the module has it.
  const hasQuality = await page.evaluate(() => typeof (window as unknown as { __viewer?: { setMaxBitrate?: unknown } }).__viewer?.setMaxBitrate === 'function');
  if (hasQuality) {
    await page.click(shadow('quality'));
    await page.click(`webrtcbin-viewer >> [data-bps="1000000"]`);
    t.equal(await page.evaluate(() => (document.querySelector('webrtcbin-viewer') as unknown as { maxBitrate: number | null }).maxBitrate), 1_000_000, 'the ceiling was asked');
  } else {
    t.equal(await page.evaluate(() => document.querySelector('webrtcbin-viewer')!.shadowRoot!.getElementById('quality')!.hasAttribute('disabled')), true, 'without setMaxBitrate in the Viewer the quality button is disabled');
  }

  // Full screen with the keyboard locked (a real click is the user gesture both need).
  await page.keyboard.press('Escape');
  await page.evaluate(() => (document.querySelector('webrtcbin-viewer') as unknown as { toggleToolbar(f: boolean): void; dataset: DOMStringMap }).dataset.toolbar === 'open' || (document.querySelector('webrtcbin-viewer') as unknown as { toggleToolbar(f: boolean): void }).toggleToolbar(false));
  await page.click(shadow('fullscreen'));
  await page.waitForFunction(() => document.fullscreenElement?.tagName === 'WEBRTCBIN-VIEWER', undefined, { timeout: 5000 });
  t.pass('the element is full screen');
  const lock = await page.waitForFunction(() => {
    const hint = document.querySelector('webrtcbin-viewer')!.shadowRoot!.getElementById('hint')!;
    return hint.hidden ? null : { locked: (document.querySelector('webrtcbin-viewer') as unknown as { keyboardLocked: boolean }).keyboardLocked, hint: hint.textContent };
  }, undefined, { timeout: 5000 }).then((h) => h.jsonValue());
  t.equal(lock?.locked, true, 'navigator.keyboard.lock() engaged');
  t.match(lock?.hint, /Hold Esc to leave full screen/, `the way out is shown: ${lock?.hint}`);
  t.match(await live(), /Full screen\. Hold Escape to leave/, 'and announced');
  await page.keyboard.down('Escape');
  await page.waitForTimeout(1400);
  await page.keyboard.up('Escape');
  await page.waitForFunction(() => document.fullscreenElement === null, undefined, { timeout: 5000 });
  t.pass('holding Esc left full screen');

  // Keyboard: Ctrl+Alt+Shift opens the toolbar with focus on its first button; arrows move along it.
  await page.evaluate(() => document.querySelector('video')!.focus());
  await page.keyboard.down('Control');
  await page.keyboard.down('Alt');
  await page.keyboard.down('Shift');
  await page.keyboard.up('Shift');
  await page.keyboard.up('Alt');
  await page.keyboard.up('Control');
  const focused = () => page.evaluate(() => document.querySelector('webrtcbin-viewer')!.shadowRoot!.activeElement?.getAttribute('aria-label'));
  t.equal(await focused(), 'Release control', 'Ctrl+Alt+Shift: the toolbar opened with focus on its first button');
  await page.keyboard.press('ArrowRight');
  t.equal(await focused(), 'Special keys', 'ArrowRight: the next button');
  await page.keyboard.press('Escape');
  t.notOk(await page.evaluate(() => (document.querySelector('webrtcbin-viewer') as HTMLElement).dataset.toolbar), 'Escape closed it');
  t.same(errors, [], 'no page errors');
});

t.test('the live region follows the state: waiting for the desktop, failed with the reason', async (t) => {
  const page = await browser.newPage({ viewport: { width: 640, height: 480 } });
  t.teardown(() => page.close());
  await page.goto(`${daemon.http}/?session=lonely&token=${token('lonely', 'viewer')}`);
  await page.waitForFunction(() => /waiting for the desktop/.test(document.querySelector('webrtcbin-viewer')!.shadowRoot!.getElementById('live')!.textContent ?? ''), undefined, { timeout: 10_000 });
  t.pass('waiting for the desktop, announced');
  const failed = await browser.newPage();
  t.teardown(() => failed.close());
  await failed.goto(`${daemon.http}/?session=lonely&token=not-a-token`);
  await failed.waitForFunction(() => /failed/.test(document.querySelector('webrtcbin-viewer')!.shadowRoot!.getElementById('live')!.textContent ?? ''), undefined, { timeout: 10_000 });
  t.match(await failed.evaluate(() => document.querySelector('webrtcbin-viewer')!.shadowRoot!.getElementById('live')!.textContent), /failed: .*token/, 'failed, with the reason');
});


t.test('by touch (a phone): a tap shows the handle, a tap on the handle opens the toolbar', async (t) => {
  const p = publish({ url: daemon.url, session: 'phone', token: token('phone', 'publisher'), source: { kind: 'test', pattern: 'ball' }, video: { width: 320, height: 240 } });
  t.teardown(() => p.close());
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  t.teardown(() => context.close());
  const page = await context.newPage();
  await page.goto(`${daemon.http}/?session=phone&token=${token('phone', 'viewer')}`);
  await waitForViewerFrames(page, 6, 20_000);
  const host = () => page.evaluate(() => ({ ...(document.querySelector('webrtcbin-viewer') as HTMLElement).dataset }));
  // Past the introduction: the toolbar is hidden and so is the handle.
  await page.evaluate(() => {
    const el = document.querySelector('webrtcbin-viewer') as unknown as { toggleToolbar(f: boolean): void; dataset: DOMStringMap };
    if (el.dataset.toolbar === 'open') el.toggleToolbar(false);
  });
  t.notOk((await host()).peek !== undefined, 'no handle before a touch');
  const handleClickable = () => page.evaluate(() => getComputedStyle(document.querySelector('webrtcbin-viewer')!.shadowRoot!.getElementById('handle')!).pointerEvents);
  t.equal(await handleClickable(), 'none', 'the hidden handle takes no touches');
  await page.touchscreen.tap(200, 500);
  t.ok((await host()).peek !== undefined, 'a tap on the picture showed the handle');
  t.equal(await handleClickable(), 'auto', 'which now takes a tap');
  await page.tap(shadow('handle'));
  t.equal((await host()).toolbar, 'open', 'a tap on the handle opened the toolbar');
  t.equal(await page.evaluate(() => document.querySelector('webrtcbin-viewer')!.shadowRoot!.querySelector('#toolbar .label') && getComputedStyle(document.querySelector('webrtcbin-viewer')!.shadowRoot!.querySelector('#toolbar #keys .label')!).display), 'none', 'phone width: icons only (labels stay as aria-label)');
  const box = await page.evaluate(() => {
    const r = document.querySelector('webrtcbin-viewer')!.shadowRoot!.getElementById('toolbar')!.getBoundingClientRect();
    return { left: r.left, right: r.right };
  });
  t.ok(box.left >= 0 && box.right <= 390, `the toolbar fits the phone's width (${Math.round(box.left)}–${Math.round(box.right)})`);
  await page.touchscreen.tap(200, 600);
  t.notOk((await host()).toolbar, 'a tap on the picture closed it');
});
