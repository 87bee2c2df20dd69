// <webrtcbin-viewer> in real Firefox ESR (headful on Xvfb, WebDriver BiDi): as the daemon's page it plays,
// its toolbar is there with its labels, Take control gets control, a special key from the toolbar arrives
// in the VM's X display (xev), and the live region says the state. Firefox has no Keyboard Lock API:
// the element says so instead of claiming the keyboard.
import t from 'tap';
import { publish } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { Firefox, waitForViewerFrames } from '../helpers/firefox.js';
import { startXvfb } from '../helpers/xvfb.js';
import { startXev } from '../helpers/xev.js';
import { waitFor } from '../helpers/wait.js';

t.test('Firefox: the page is the element; the toolbar takes control and sends a special key to X', async (t) => {
  const x = await startXvfb('800x600x24');
  t.teardown(() => x.kill());
  const xev = await startXev(x.display, '800x600', ['keyboard']);
  t.teardown(() => xev.kill());
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session: 'ffdesk', token: mintToken({ secret: SECRET, session: 'ffdesk', role: 'publisher' }), source: { kind: 'x11', display: x.display }, video: { width: 800, height: 600 } });
  t.teardown(() => publisher.close());
  const firefox = await Firefox.launch({ width: 800, height: 600 });
  t.teardown(() => firefox.close());
  const page = await firefox.open(`${daemon.http}/?session=ffdesk&token=${mintToken({ secret: SECRET, session: 'ffdesk', role: 'viewer', control: true })}`);
  await waitForViewerFrames(page, 6, 30_000);

  const toolbar = await page.evaluate(() => {
    const root = document.querySelector('webrtcbin-viewer')!.shadowRoot!;
    return [...root.querySelectorAll('#toolbar button')].map((b) => b.getAttribute('aria-label'));
  });
  t.ok(toolbar.includes('Take control') && toolbar.includes('Special keys') && toolbar.includes('Clipboard') && toolbar.includes('Full screen'), `labelled toolbar buttons: ${toolbar.join(', ')}`);
  await page.waitFor('the live region to say connected', 10_000, () => /connected/.test(document.querySelector('webrtcbin-viewer')!.shadowRoot!.getElementById('live')!.textContent ?? ''));
  t.pass('the live region said: connected');

  // Take control, then F2 from the special keys menu (clicked in the page: they are buttons).
  await page.evaluate(() => {
    const el = document.querySelector('webrtcbin-viewer') as unknown as { toggleToolbar(f: boolean): void; dataset: DOMStringMap; shadowRoot: ShadowRoot };
    if (el.dataset.toolbar !== 'open') el.toggleToolbar(false);
    (el.shadowRoot.getElementById('control') as HTMLButtonElement).click();
  });
  await page.waitFor('control', 10_000, () => (document.querySelector('webrtcbin-viewer') as unknown as { controlling: boolean }).controlling);
  t.pass('Take control: this viewer controls the desktop');
  await page.evaluate(() => {
    const root = document.querySelector('webrtcbin-viewer')!.shadowRoot!;
    (root.getElementById('keys') as HTMLButtonElement).click();
    (root.querySelector('[data-key="F2"]') as HTMLButtonElement).click();
  });
  await waitFor('F2 at the X client', () => /keysym 0xffbf, F2/.test(xev.text), 10_000).catch(() => {});
  t.match(xev.text, /KeyPress[^]*keysym 0xffbf, F2/, 'F2 reached the X display');

  t.equal(await page.evaluate(() => 'keyboard' in navigator && typeof (navigator as unknown as { keyboard?: { lock?: unknown } }).keyboard?.lock === 'function'), false, 'Firefox has no Keyboard Lock API');
  t.equal(await page.evaluate(() => (document.querySelector('webrtcbin-viewer') as unknown as { keyboardLocked: boolean }).keyboardLocked), false, 'and the element does not claim the keyboard');
});
