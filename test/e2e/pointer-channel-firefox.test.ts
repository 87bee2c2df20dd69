// publish({pointer: 'channel'}) in real Firefox ESR (the daemon's page): the remote pointer is drawn by
// the page as an overlay that follows XTest motion with the X client's cursor shape.
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { publish } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { startCursorClient } from '../helpers/cursor-client.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { Firefox, waitForViewerFrames } from '../helpers/firefox.js';
import { startXvfb } from '../helpers/xvfb.js';

const run = promisify(execFile);

t.test("Firefox: pointer 'channel' draws the X pointer over the video and follows it", async (t) => {
  const x = await startXvfb('640x480x24');
  t.teardown(() => x.kill());
  const client = await startCursorClient(x.display, '808080');
  t.teardown(() => client.kill());
  await client.show('a');
  const move = (px: number, py: number) => run('xdotool', ['mousemove', String(px), String(py)], { env: { ...process.env, DISPLAY: x.display } });
  await move(100, 200);
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const session = 'ffpointer';
  const publisher = publish({ url: daemon.url, session, token: mintToken({ secret: SECRET, session, role: 'publisher' }), source: { kind: 'x11', display: x.display }, video: { width: 640, height: 480 }, pointer: 'channel' });
  t.teardown(() => publisher.close());
  const firefox = await Firefox.launch({ width: 800, height: 600 });
  t.teardown(() => firefox.close());
  const page = await firefox.open(`${daemon.http}/?session=${session}&token=${mintToken({ secret: SECRET, session, role: 'viewer' })}`);
  await waitForViewerFrames(page, 5, 30_000);

  // Where the overlay's hotspot falls in the picture's pixels (the page scales the picture to its window).
  const placed = () =>
    page.evaluate(() => {
      const host = document.querySelector('webrtcbin-viewer') as HTMLElement & { video: HTMLVideoElement };
      const img = host.shadowRoot!.querySelector('img.webrtcbin-remote-cursor') as HTMLImageElement | null;
      if (!img || img.style.display !== 'block') return null;
      const v = host.video;
      const r = v.getBoundingClientRect();
      const scale = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
      const left = r.left + (r.width - v.videoWidth * scale) / 2;
      const top = r.top + (r.height - v.videoHeight * scale) / 2;
      const i = img.getBoundingClientRect();
      return { x: Math.round((i.left + 3 - left) / scale), y: Math.round((i.top + 5 - top) / scale), at: [img.dataset.x, img.dataset.y], natural: img.naturalWidth };
    });
  const first = await page.waitFor('the overlay at (100, 200)', 10_000, () => {
    const img = document.querySelector('webrtcbin-viewer')!.shadowRoot!.querySelector('img.webrtcbin-remote-cursor') as HTMLImageElement | null;
    return img?.style.display === 'block' && img.dataset.x === '100' && img.naturalWidth === 16;
  });
  t.ok(first, 'the overlay shows the 16×16 X cursor');
  let p = (await placed())!;
  t.ok(Math.abs(p.x - 100) <= 2 && Math.abs(p.y - 200) <= 2, `its hotspot over the X pointer's spot in the picture (${p.x}, ${p.y})`);
  await move(400, 300);
  await page.waitFor('the overlay at (400, 300)', 5000, () => {
    const img = document.querySelector('webrtcbin-viewer')!.shadowRoot!.querySelector('img.webrtcbin-remote-cursor') as HTMLImageElement;
    return img.dataset.x === '400' && img.dataset.y === '300';
  });
  p = (await placed())!;
  t.ok(Math.abs(p.x - 400) <= 2 && Math.abs(p.y - 300) <= 2, `it follows the pointer (${p.x}, ${p.y})`);
});
