// The touch and special-key parts of issue 20 in Firefox (firefox-esr, headful on its own Xvfb, over
// WebDriver BiDi): touch pointer actions (Firefox dispatches them as touch events) tap and long-press
// on the page's video and reach the VM's X display as a left and a right click; sendKeys() arrives as
// keysyms; setMaxBitrate() is answered by the publisher.
import t from 'tap';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { Firefox } from '../helpers/firefox.js';
import { SECRET } from '../helpers/daemon.js';
import { serveViewerApp } from '../helpers/viewer-app.js';
import { waitFor } from '../helpers/wait.js';
import { startDesk } from '../helpers/desk.js';

const PAGE = `<!doctype html><body style="margin:0;background:#000"><div style="width:640px;height:480px;overflow:hidden">
<video muted autoplay playsinline style="display:block;width:640px;height:480px;object-fit:contain"></video></div>
<script type="module" src="/app.js"></script></body>`;

const buttons = (text: string) => [...text.matchAll(/ButtonPress event[^]*?root:\((\d+),(\d+)\)[^]*?button (\d+)/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]), button: Number(m[3]) }));
const keys = (text: string) => [...text.matchAll(/KeyPress event[^]*?keysym 0x([0-9a-f]+)/g)].map((m) => parseInt(m[1]!, 16));

interface Probe {
  viewer: { stats: { framesDecoded: number } | null; sendKeys(c: string): boolean; setMaxBitrate(b: number): void };
  qualities: { ok: boolean; maxBitrate?: number }[];
  sent: { t: string }[];
}

t.test('Firefox: touch taps and long presses click in X, sendKeys() types, setMaxBitrate() is answered', async (t) => {
  const { xev, daemon, publisher } = await startDesk(t, { session: 'fx' });
  const app = await serveViewerApp('touch.ts', PAGE);
  t.teardown(() => app.close());
  const firefox = await Firefox.launch({ width: 800, height: 600, prefs: { 'dom.w3c_touch_events.enabled': 1 } });
  t.teardown(() => firefox.close());
  const token = mintToken({ secret: SECRET, session: 'fx', role: 'viewer', control: true });
  const page = await firefox.open(`${app.url}?ws=${encodeURIComponent(daemon.url)}&session=fx&token=${token}`);
  await page.setViewport(640, 480);
  await page.waitFor('decoded frames', 30_000, () => ((window as unknown as { probe?: Probe }).probe?.viewer.stats?.framesDecoded ?? 0) >= 6);
  await page.waitFor('the input channel', 10_000, () => (window as unknown as { probe: { viewer: { input: RTCDataChannel | null } } }).probe.viewer.input?.readyState === 'open');

  const touch = (x: number, y: number, holdMs: number) => ({
    type: 'pointer', id: 'finger', parameters: { pointerType: 'touch' },
    actions: [{ type: 'pointerMove', x, y }, { type: 'pointerDown', button: 0 }, { type: 'pause', duration: holdMs }, { type: 'pointerUp', button: 0 }],
  });
  await page.performActions([touch(100, 120, 50)]);
  await waitFor('the tap at the X client', () => buttons(xev.text).length >= 1, 10_000).catch(() => {});
  await page.performActions([touch(200, 150, 900)]);
  await waitFor('the long press at the X client', () => buttons(xev.text).length >= 2, 10_000).catch(() => {});
  await new Promise((r) => setTimeout(r, 300));
  const pressed = buttons(xev.text);
  t.equal(pressed.length, 2, `a tap and a long press: two clicks (got ${JSON.stringify(pressed)})`);
  t.ok(pressed[0] && pressed[0].button === 1 && Math.abs(pressed[0].x - 100) <= 2 && Math.abs(pressed[0].y - 120) <= 2, `the tap: left click at (100,120) (got ${JSON.stringify(pressed[0])})`);
  t.ok(pressed[1] && pressed[1].button === 3 && Math.abs(pressed[1].x - 200) <= 2 && Math.abs(pressed[1].y - 150) <= 2, `the long press: right click at (200,150) (got ${JSON.stringify(pressed[1])})`);

  const from = xev.text.length;
  await page.evaluate(() => {
    const v = (window as unknown as { probe: Probe }).probe.viewer;
    v.sendKeys('ctrl+alt+Delete');
    v.sendKeys('F11');
  });
  await waitFor('the keys at the X client', () => keys(xev.text.slice(from)).length >= 4, 10_000).catch(() => {});
  t.same(keys(xev.text.slice(from)), [0xffe3, 0xffe9, 0xffff, 0xffc8], 'Control_L, Alt_L, Delete, then F11');

  await page.evaluate(() => (window as unknown as { probe: Probe }).probe.viewer.setMaxBitrate(700_000));
  const answer = await page.waitFor('the quality answer', 10_000, () => (window as unknown as { probe: Probe }).probe.qualities.at(-1) ?? null);
  t.same(answer, { ok: true, maxBitrate: 700_000 }, 'the publisher answers with the ceiling in force');
  await waitFor('the encoder at 700 kbit/s', () => publisher.videoBitrate === 700, 5000).catch(() => {});
  t.equal(publisher.videoBitrate, 700, 'and the encoder runs at it');
});
