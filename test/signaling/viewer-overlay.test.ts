// The viewer page's overlay in Chromium: 's' toggles the stats line only; every state but 'connected'
// stays on screen whatever 's' says, so when the desktop goes away the page says so instead of
// showing a black picture without a word.
import t from 'tap';
import type { Page } from 'playwright-core';
import { publish } from '../../lib/publish/publisher.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { launchChromium, waitForViewerFrames } from '../helpers/browser.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';

const token = (session: string, role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session, role, ttlSeconds: 600 });
const visible = (page: Page, selector: string) => page.isVisible(selector);

t.test("'s' hides the stats only; a later outage is always shown", async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session: 'ov', token: token('ov', 'publisher'), source: { kind: 'test', pattern: 'ball' }, video: { codec: 'vp8', width: 320, height: 240 } });
  let closed = false;
  t.teardown(() => (closed ? undefined : publisher.close()));
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${daemon.http}/?session=ov&token=${token('ov', 'viewer')}`);
  await waitForViewerFrames(page, 5);
  await page.waitForFunction(() => (document.getElementById('stats')?.textContent ?? '') !== '');
  t.ok(await visible(page, '#state'), 'connected: the state line');
  t.ok(await visible(page, '#stats'), 'and the stats line');

  await page.keyboard.press('s');
  t.notOk(await visible(page, '#stats'), "'s': the stats line goes");
  await page.keyboard.press('s');
  t.ok(await visible(page, '#stats'), "'s' again: it is back");
  await page.keyboard.press('s');
  t.notOk(await visible(page, '#stats'), 'hidden once more');

  // The desktop goes away while the stats are hidden: the state must still be said.
  closed = true;
  await publisher.close();
  await page.waitForFunction(() => {
    const state = (window as unknown as { __viewerState?: string }).__viewerState;
    return state !== undefined && state !== 'connected';
  }, undefined, { timeout: 20_000 });
  t.ok(await visible(page, '#state'), 'not connected: the state line is on screen although the stats are hidden');
  const text = await page.textContent('#state');
  t.match(text, /waiting for the desktop|reconnecting|connecting|negotiating/, `it says: ${text}`);
  t.notOk(await visible(page, '#stats'), 'the stats stay as the user left them');
});
