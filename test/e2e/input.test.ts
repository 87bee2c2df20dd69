// A person at the browser clicks and types in the viewer page; the X client on the VM's display gets
// it at the right place. With a view-only token the same gestures do nothing.
import t from 'tap';
import { assertClickAndTyping } from '../helpers/xev.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { launchChromium, waitForViewerFrames } from '../helpers/browser.js';
import { SECRET } from '../helpers/daemon.js';
import { startDesk } from '../helpers/desk.js';

t.test('clicks and keys from the viewer page reach the VM display; view-only tokens do not', async (t) => {
  const { xev, daemon } = await startDesk(t, { session: 'desk' });
  const browser = await launchChromium();
  t.teardown(() => browser.close());

  const open = async (control: boolean) => {
    const page = await browser.newPage({ viewport: { width: 640, height: 480 } });
    await page.goto(`${daemon.http}/?session=desk&token=${mintToken({ secret: SECRET, session: 'desk', role: 'viewer', control })}`);
    await waitForViewerFrames(page, 6, 20_000);
    return page;
  };

  const watcher = await open(false);
  await watcher.mouse.click(200, 200);
  await watcher.keyboard.type('no');
  await new Promise((r) => setTimeout(r, 800));
  t.notMatch(xev.text, /ButtonPress|KeyPress/, 'view-only: nothing reached the display');
  await watcher.close();

  const controller = await open(true);
  await controller.mouse.click(100, 120);
  await controller.keyboard.type('hi');
  await controller.keyboard.press('Enter');
  await assertClickAndTyping(t, xev, 100, 120);
});
