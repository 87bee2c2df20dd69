// The viewer page and the VM's X display share a clipboard and a screen size: a controller's paste
// lands in the X CLIPBOARD (read back with xclip), text set in X by xclip appears in the page, and
// `?fit=remote` makes the Xvfb screen (and the stream) take the page's window size. A view-only viewer
// does the same and nothing moves.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { publish } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { launchChromium, waitForViewerFrames } from '../helpers/browser.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { startXvfb } from '../helpers/xvfb.js';

const run = promisify(execFile);

type PageWindow = { __viewerStats?: { framesDecoded?: number; width?: number; height?: number }; __viewerClipboard?: string; __viewerResize?: { ok: boolean; width: number; height: number } };

async function paste(page: Page, text: string): Promise<void> {
  await page.evaluate((text) => {
    const video = document.querySelector('video')!;
    video.focus();
    const data = new DataTransfer();
    data.setData('text/plain', text);
    document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, text);
}

t.test('paste reaches the X clipboard, X clipboard reaches the page, fit=remote resizes; view-only gets nothing', async (t) => {
  const x = await startXvfb('1280x720x24');
  t.teardown(() => x.kill());
  const xclip = (...args: string[]) => run('xclip', ['-selection', 'clipboard', ...args, '-display', x.display]).then((r) => r.stdout, () => '<empty>');
  const xclipSet = (text: string) =>
    new Promise<void>((resolve) => {
      const child = spawn('xclip', ['-selection', 'clipboard', '-i', '-display', x.display], { stdio: ['pipe', 'ignore', 'ignore'] });
      child.stdin.end(text);
      child.once('exit', () => resolve());
    });
  const dimensions = async () => /dimensions:\s+(\d+x\d+)/.exec((await run('xdpyinfo', ['-display', x.display])).stdout)?.[1];

  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = publish({
    url: daemon.url,
    session: 'desk',
    token: mintToken({ secret: SECRET, session: 'desk', role: 'publisher' }),
    source: { kind: 'x11', display: x.display },
    video: { width: 1280, height: 720 },
    resize: true,
  });
  t.teardown(() => publisher.close());
  const browser = await launchChromium();
  t.teardown(() => browser.close());

  const open = async (control: boolean, query = '', viewport = { width: 1000, height: 600 }) => {
    const page = await browser.newPage({ viewport });
    await page.goto(`${daemon.http}/?session=desk&token=${mintToken({ secret: SECRET, session: 'desk', role: 'viewer', control })}${query}`);
    await waitForViewerFrames(page, 6, 20_000);
    return page;
  };

  const watcher = await open(false, '&fit=remote', { width: 640, height: 480 });
  await watcher.mouse.click(200, 200);
  await paste(watcher, 'from a view-only viewer');
  await xclipSet('set in X while only a watcher looks');
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(await xclip('-o'), 'set in X while only a watcher looks', 'the view-only paste did not reach X');
  t.equal(await watcher.evaluate(() => (window as unknown as PageWindow).__viewerClipboard), undefined, 'the view-only page got no clipboard');
  t.equal(await dimensions(), '1280x720', 'its fit=remote did not resize the screen');
  await watcher.close();

  const controller = await open(true, '&fit=remote');
  await controller.waitForFunction(() => (window as unknown as PageWindow).__viewerResize !== undefined, undefined, { timeout: 10_000 });
  t.same(await controller.evaluate(() => (window as unknown as PageWindow).__viewerResize), { ok: true, width: 1000, height: 600 }, 'the page heard: resized');
  t.equal(await dimensions(), '1000x600', 'the Xvfb screen took the window size');
  await controller.waitForFunction(() => (window as unknown as PageWindow).__viewerStats?.width === 1000 && (window as unknown as PageWindow).__viewerStats?.height === 600, undefined, { timeout: 10_000 });
  t.pass('the stream followed: 1000x600 decoded in the page');

  // Taking control fetched what X had: the page already knows the last X text.
  await controller.waitForFunction(() => (window as unknown as PageWindow).__viewerClipboard !== undefined, undefined, { timeout: 5000 }).catch(() => {});
  t.equal(await controller.evaluate(() => (window as unknown as PageWindow).__viewerClipboard), 'set in X while only a watcher looks', 'the new controller got the current X clipboard');

  await controller.mouse.click(300, 300);
  await paste(controller, 'héllo ☃ from the page');
  let inX = '';
  for (let i = 0; i < 50 && inX !== 'héllo ☃ from the page'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    inX = await xclip('-o');
  }
  t.equal(inX, 'héllo ☃ from the page', 'the paste is on the X CLIPBOARD');

  await xclipSet('copied in X ✓');
  await controller.waitForFunction(() => (window as unknown as PageWindow).__viewerClipboard === 'copied in X ✓', undefined, { timeout: 10_000 });
  t.pass('text copied in X arrived in the page');

  const refused = await controller.evaluate(async () => {
    await new Promise((r) => setTimeout(r, 1100)); // past the one-a-second limit
    const w = window as unknown as PageWindow & { __viewerExtras: { requestResize(w: number, h: number): boolean } };
    w.__viewerResize = undefined;
    w.__viewerExtras.requestResize(1920, 1080);
    for (let i = 0; i < 50 && !w.__viewerResize; i++) await new Promise((r) => setTimeout(r, 100));
    return w.__viewerResize;
  });
  t.match(refused, { ok: false, code: 'out-of-range', width: 1000, height: 600 }, 'a size beyond Xvfb\'s is refused with the reason');
});
