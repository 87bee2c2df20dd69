// publish() with the default pointer 'auto' in real Firefox ESR (the daemon's page): the page alone draws
// the pointer as an overlay (the picture has none); a viewer that cannot draw it joins (a view() with
// pointer: 'picture') → the page is told the picture has it and hides its overlay, while that viewer's
// frames show the pointer; it leaves → the overlay is back.
import t from 'tap';
import { publish, view, type RemoteView } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { loadBinding } from '../../lib/native/binding.js';
import { startCursorClient } from '../helpers/cursor-client.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { Firefox, waitForViewerFrames } from '../helpers/firefox.js';
import { startXvfb } from '../helpers/xvfb.js';

/** The view's frames at (x, y): the black test cursor there. */
async function viewHasPointer(v: RemoteView, x: number, y: number): Promise<boolean> {
  const raw = await v.screenshot({ format: 'raw' });
  const at = (px: number, py: number) => [...raw.subarray((py * v.width! + px) * 4, (py * v.width! + px) * 4 + 3)];
  return [at(x - 1, y - 3), at(x, y), at(x + 2, y + 4)].every((rgb) => rgb.every((c) => c < 60));
}

t.test("Firefox: pointer 'auto' draws the pointer on the page alone, hides it while a viewer that cannot draw it watches", async (t) => {
  const x = await startXvfb('640x480x24');
  t.teardown(() => x.kill());
  const client = await startCursorClient(x.display, '808080');
  t.teardown(() => client.kill());
  await client.show('a');
  const input = new (loadBinding().NativeXInput)(x.display);
  t.teardown(() => input.close());
  input.move(200, 150);
  input.sync();
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const session = 'ffpointer-auto';
  const token = (role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session, role });
  const publisher = publish({ url: daemon.url, session, token: token('publisher'), source: { kind: 'x11', display: x.display, capture: 'fixed' }, video: { width: 640, height: 480 } });
  t.teardown(() => publisher.close());
  const firefox = await Firefox.launch({ width: 800, height: 600 });
  t.teardown(() => firefox.close());
  const page = await firefox.open(`${daemon.http}/?session=${session}&token=${token('viewer')}`);
  await waitForViewerFrames(page, 5, 30_000);

  const drawn = await page.waitFor('the overlay drawn, the picture without the pointer', 10_000, () => {
    const img = document.querySelector('webrtcbin-viewer')!.shadowRoot!.querySelector('img.webrtcbin-remote-cursor') as HTMLImageElement | null;
    return img?.style.display === 'block' && img.dataset.inPicture === 'false' && img.dataset.x === '200';
  });
  t.ok(drawn, 'a page alone: the overlay at the X pointer, the picture without it');

  const needy = view({ url: daemon.url, session, token: token('viewer'), pointer: 'picture' });
  t.teardown(() => needy.close());
  await needy.ready;
  const hidden = await page.waitFor('the overlay hidden, the picture with the pointer', 10_000, () => {
    const img = document.querySelector('webrtcbin-viewer')!.shadowRoot!.querySelector('img.webrtcbin-remote-cursor') as HTMLImageElement;
    return img.style.display === 'none' && img.dataset.inPicture === 'true';
  });
  t.ok(hidden, 'a viewer that cannot draw it joined: the page draws none');
  let seen = false;
  for (let i = 0; i < 100 && !seen; i++) {
    seen = await viewHasPointer(needy, 200, 150);
    if (!seen) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(seen, "and that viewer's frames have the pointer");

  await needy.close();
  const back = await page.waitFor('the overlay back', 10_000, () => {
    const img = document.querySelector('webrtcbin-viewer')!.shadowRoot!.querySelector('img.webrtcbin-remote-cursor') as HTMLImageElement;
    return img.style.display === 'block' && img.dataset.inPicture === 'false';
  });
  t.ok(back, 'it left: the page draws the pointer again');
});
