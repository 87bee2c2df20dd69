// publish({pointer: 'channel'}) in real Chromium with <webrtcbin-viewer>: the X pointer reaches the page
// as data and the page draws it. XTest (xdotool) moves the X pointer: the overlay follows, with the
// shape an X client shows (test/fixtures/cursor-client.c); the controlling viewer's own pointer takes
// the remote shape as its CSS cursor; the video no longer has the pointer in it (a pixel check at its
// spot, which the default pointer 'video' fails); a viewer cannot send cursor messages.
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { publish, view } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { launchChromium } from '../helpers/browser.js';
import { startCursorClient } from '../helpers/cursor-client.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { startXvfb } from '../helpers/xvfb.js';
import { modulePageServer } from '../helpers/module-page.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const token = (session: string, role: 'viewer' | 'publisher', control = false) => mintToken({ secret: SECRET, session, role, control, ttlSeconds: 600 });

const daemon = await startDaemon();
t.teardown(() => daemon.app.close());
const browser = await launchChromium();
t.teardown(() => browser.close());

/** An Xvfb with the cursor client's grey window showing the test cursor, the pointer at (x, y), streamed. */
async function desk(t: Test, session: string, pointer: 'video' | 'channel', at: [number, number]) {
  const x = await startXvfb('640x480x24');
  t.teardown(() => x.kill());
  const client = await startCursorClient(x.display, '808080');
  t.teardown(() => client.kill());
  await client.show('a');
  const move = (px: number, py: number) => run('xdotool', ['mousemove', String(px), String(py)], { env: { ...process.env, DISPLAY: x.display } });
  await move(...at);
  const publisher = publish({ url: daemon.url, session, token: token(session, 'publisher'), source: { kind: 'x11', display: x.display }, video: { width: 640, height: 480, fps: 30 }, pointer });
  t.teardown(() => publisher.close());
  const url = await modulePageServer(
    t,
    `<webrtcbin-viewer id="v" url="${daemon.url}" session="${session}" token="${token(session, 'viewer', true)}" toolbar="none" style="width:640px;height:480px"></webrtcbin-viewer>` +
      `<script>window.acks = []; document.getElementById('v').addEventListener('datachannel', (e) => { window.input = e.detail; e.detail.addEventListener('message', (m) => { const d = JSON.parse(m.data); if (d.t === 'ack') window.acks.push(d); }); });</script>`,
  );
  const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  t.teardown(() => page.close());
  await page.goto(url);
  await page.waitForFunction(() => ((document.getElementById('v') as unknown as { stats: { framesDecoded: number } | null }).stats?.framesDecoded ?? 0) >= 5, undefined, { timeout: 30_000 });
  return { client, move, page, session };
}

/** The overlay image's state: shown, its box, the remote position it was placed for. */
const overlay = (page: Page) =>
  page.evaluate(() => {
    const host = document.getElementById('v') as HTMLElement & { video: HTMLVideoElement };
    const img = host.shadowRoot!.querySelector('img.webrtcbin-remote-cursor') as HTMLImageElement | null;
    if (!img) return null;
    const r = img.getBoundingClientRect();
    const v = host.video.getBoundingClientRect();
    return { shown: img.style.display !== 'none', left: r.left - v.left, top: r.top - v.top, x: img.dataset.x, y: img.dataset.y, src: img.src.slice(0, 22), natural: img.naturalWidth };
  });

/** The video's decoded pixels around the pointer's spot (the test cursor covers x-3..x+4 black, rows y-5..y+6). */
const pixels = (page: Page, x: number, y: number) =>
  page.evaluate(
    ([x, y]) => {
      const video = (document.getElementById('v') as unknown as { video: HTMLVideoElement }).video;
      const canvas = document.createElement('canvas');
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const g = canvas.getContext('2d')!;
      g.drawImage(video, 0, 0);
      return [[x - 1, y - 3], [x, y], [x + 2, y + 4]].map(([px, py]) => [...g.getImageData(px!, py!, 1, 1).data].slice(0, 3));
    },
    [x, y],
  );
const grey = (rgb: number[]) => rgb.every((c) => c >= 100 && c <= 160);

t.test("pointer 'channel': the overlay follows XTest motion with the X shape; the video has no pointer; the controller's pointer takes the shape", async (t) => {
  const { client, move, page } = await desk(t, 'pointer-channel', 'channel', [100, 200]);
  await page.waitForFunction(() => {
    const img = (document.getElementById('v') as HTMLElement).shadowRoot!.querySelector('img.webrtcbin-remote-cursor') as HTMLImageElement | null;
    return img?.style.display === 'block' && img.dataset.x === '100' && img.dataset.y === '200';
  }, undefined, { timeout: 10_000 });
  let o = (await overlay(page))!;
  t.same([o.left, o.top], [100 - 3, 200 - 5], 'the overlay at the X pointer, by its hotspot (3, 5)');
  t.equal(o.src, 'data:image/png;base64,', 'its image is the shape the publisher sent');
  await waitFor('the image decoded', async () => (await overlay(page))!.natural === 16, 5000).catch(() => {});
  t.equal((await overlay(page))!.natural, 16, 'the 16×16 test cursor');

  await move(300, 100);
  await page.waitForFunction(() => {
    const img = (document.getElementById('v') as HTMLElement).shadowRoot!.querySelector('img.webrtcbin-remote-cursor') as HTMLImageElement | null;
    return img?.dataset.x === '300' && img.dataset.y === '100';
  }, undefined, { timeout: 5000 });
  o = (await overlay(page))!;
  t.same([o.left, o.top], [297, 95], 'it follows the pointer');

  await new Promise((r) => setTimeout(r, 500)); // frames after the move
  const around = await pixels(page, 300, 100);
  t.ok(around.every(grey), `the video is the grey window at the pointer's spot, no pointer in it: ${JSON.stringify(around)}`);

  // A hidden cursor (an application hid it): the overlay goes.
  await client.show('h');
  await page.waitForFunction(() => ((document.getElementById('v') as HTMLElement).shadowRoot!.querySelector('img.webrtcbin-remote-cursor') as HTMLElement).style.display === 'none', undefined, { timeout: 5000 });
  t.pass('a transparent X cursor hides the overlay');
  await client.show('a');
  await page.waitForFunction(() => ((document.getElementById('v') as HTMLElement).shadowRoot!.querySelector('img.webrtcbin-remote-cursor') as HTMLElement).style.display === 'block', undefined, { timeout: 5000 });

  // Controlling, with the page's pointer over the video: the page's pointer is the cursor (CSS), no overlay.
  await page.mouse.click(200, 200);
  await page.waitForFunction(() => (document.getElementById('v') as unknown as { controlling: boolean }).controlling, undefined, { timeout: 10_000 });
  await page.mouse.move(220, 240);
  await page.waitForFunction(() => (document.getElementById('v') as unknown as { video: HTMLVideoElement }).video.style.cursor.startsWith('url("data:image/png;base64,'), undefined, { timeout: 5000 });
  const css = await page.evaluate(() => (document.getElementById('v') as unknown as { video: HTMLVideoElement }).video.style.cursor);
  t.match(css, /^url\("data:image\/png;base64,[A-Za-z0-9+/=]+"\) 3 5, auto$/, 'the CSS cursor is the remote shape with its hotspot');
  t.equal((await overlay(page))!.shown, false, 'and the overlay is hidden');
  // The X pointer followed the page's (XTest): it is where the page's pointer is.
  await page.waitForFunction(() => {
    const img = (document.getElementById('v') as HTMLElement).shadowRoot!.querySelector('img.webrtcbin-remote-cursor') as HTMLImageElement;
    return img.dataset.x === '220' && img.dataset.y === '240';
  }, undefined, { timeout: 5000 });
  t.pass('the remote position follows the local pointer');

  // The pointer leaves the video: the overlay shows the remote pointer again.
  await page.mouse.move(760, 560);
  await page.waitForFunction(() => ((document.getElementById('v') as HTMLElement).shadowRoot!.querySelector('img.webrtcbin-remote-cursor') as HTMLElement).style.display === 'block', undefined, { timeout: 5000 });
  t.equal(await page.evaluate(() => (document.getElementById('v') as unknown as { video: HTMLVideoElement }).video.style.cursor), '', 'the CSS cursor is back to the page\'s');

  // A hostile viewer: cursor messages are the publisher's; sent by a viewer they are refused.
  await page.evaluate(() => {
    const input = (window as unknown as { input: RTCDataChannel }).input;
    input.send(JSON.stringify({ t: 'cursor', x: 1, y: 1, width: 640, height: 480, id: 1, visible: true, seq: 41 }));
    input.send(JSON.stringify({ t: 'cursor-shape', id: 1, width: 1, height: 1, xhot: 0, yhot: 0, png: 'AAAA', seq: 42 }));
  });
  await page.waitForFunction(() => (window as unknown as { acks: unknown[] }).acks.length >= 2, undefined, { timeout: 5000 });
  const acks = await page.evaluate(() => (window as unknown as { acks: { seq: number; ok: boolean; code?: string }[] }).acks);
  t.same(acks.map((a) => [a.seq, a.ok, a.code]), [[41, false, 'invalid'], [42, false, 'invalid']], 'both refused as invalid');

  // A Node agent's view sees the pointer too (its frames have none in them).
  const agent = view({ url: daemon.url, session: 'pointer-channel', token: token('pointer-channel', 'viewer') });
  t.teardown(() => agent.close());
  await agent.ready;
  await move(50, 60);
  await waitFor('the agent hears the pointer', () => agent.cursor?.x === 50 && agent.cursor.y === 60, 10_000).catch(() => {});
  t.match(agent.cursor, { x: 50, y: 60, visible: true, shape: { width: 16, height: 16, xhot: 3, yhot: 5 } }, 'RemoteView.cursor: position and shape');
});

t.test("pointer 'video': the pointer is always in the picture, so the pixel check above can fail", async (t) => {
  const { page } = await desk(t, 'pointer-video', 'video', [300, 100]);
  await new Promise((r) => setTimeout(r, 500));
  const around = await pixels(page, 300, 100);
  t.notOk(around.every(grey), `the X pointer drawn into the video: ${JSON.stringify(around)}`);
  t.equal((await overlay(page))?.shown ?? false, false, 'no cursor messages: no overlay');
  t.equal(await page.evaluate(() => (document.getElementById('v') as unknown as { video: HTMLVideoElement }).video.style.cursor), '', 'nor a CSS cursor');
});
