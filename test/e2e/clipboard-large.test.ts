// Clipboard text past one data channel message (64 KiB), both ways with real Chromium: a paste of
// MAX_CLIPBOARD_CHARS characters of three-byte UTF-8 (192 KiB on the wire) lands whole on the X
// CLIPBOARD, and as much copied in X arrives whole in the page. Before the text travelled in parts,
// the page's send threw (over the channel's max-message-size) and the paste was dropped.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { publish } from '../../lib/client.js';
import { MAX_CLIPBOARD_CHARS } from '../../lib/input/limits.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { launchChromium, waitForViewerFrames } from '../helpers/browser.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { startXvfb } from '../helpers/xvfb.js';

const run = promisify(execFile);
t.setTimeout(180_000);
type PageWindow = { __viewerClipboard?: string };

/** MAX_CLIPBOARD_CHARS characters: snowmen, some ASCII, and emoji (surrogate pairs) on part boundaries. */
function bigText(seed: string): string {
  let text = `${seed}\n`;
  while (text.length < MAX_CLIPBOARD_CHARS - 2) text += text.length % 997 === 0 ? '🙂' : text.length % 61 === 0 ? '\n' : '☃';
  return text.slice(0, MAX_CLIPBOARD_CHARS - (/[\ud800-\udbff]$/.test(text.slice(0, MAX_CLIPBOARD_CHARS)) ? 1 : 0));
}

t.test(`${MAX_CLIPBOARD_CHARS} characters of clipboard each way between Chromium and X`, async (t) => {
  const x = await startXvfb('1280x720x24');
  t.teardown(() => x.kill());
  const xclipOut = () => run('xclip', ['-selection', 'clipboard', '-o', '-display', x.display], { maxBuffer: 16 << 20 }).then((r) => r.stdout, () => '<empty>');
  const xclipSet = (text: string) =>
    new Promise<void>((resolve) => {
      const child = spawn('xclip', ['-selection', 'clipboard', '-i', '-display', x.display], { stdio: ['pipe', 'ignore', 'ignore'] });
      child.stdin.end(text);
      child.once('exit', () => resolve());
    });

  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = publish({
    url: daemon.url,
    session: 'big',
    token: mintToken({ secret: SECRET, session: 'big', role: 'publisher' }),
    source: { kind: 'x11', display: x.display },
    video: { width: 640, height: 360 },
  });
  t.teardown(() => publisher.close());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 800, height: 500 } });
  await page.goto(`${daemon.http}/?session=big&token=${mintToken({ secret: SECRET, session: 'big', role: 'viewer', control: true })}`);
  await waitForViewerFrames(page, 6, 30_000);
  await page.mouse.click(300, 300); // takes control

  const toX = bigText('from the page');
  t.ok(Buffer.byteLength(JSON.stringify({ t: 'clipboard', text: toX })) > 65_536, `the text is ${Buffer.byteLength(toX)} bytes of UTF-8, over one message`);
  const sent = await page.evaluate((text) => {
    const video = document.querySelector('video')!;
    video.focus();
    const data = new DataTransfer();
    data.setData('text/plain', text);
    const event = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true });
    document.dispatchEvent(event);
    return event.defaultPrevented;
  }, toX);
  t.ok(sent, 'the page took the paste');
  let inX = '';
  for (let i = 0; i < 100 && inX !== toX; i++) {
    await new Promise((r) => setTimeout(r, 150));
    inX = await xclipOut();
  }
  t.equal(inX.length, toX.length, 'X has the whole text');
  t.ok(inX === toX, 'the paste is on the X CLIPBOARD, character for character');

  const fromX = bigText('copied in X');
  await xclipSet(fromX);
  await page.waitForFunction((n) => (window as unknown as PageWindow).__viewerClipboard?.length === n, fromX.length, { timeout: 20_000 }).catch(() => {});
  const inPage = await page.evaluate(() => (window as unknown as PageWindow).__viewerClipboard);
  t.equal(inPage?.length, fromX.length, 'the page got the whole text');
  t.ok(inPage === fromX, 'text copied in X arrived in the page, character for character');
});
