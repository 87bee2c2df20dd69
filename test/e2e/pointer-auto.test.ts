// publish() with the default pointer 'auto', in real Chromium with <webrtcbin-viewer>: a page alone draws
// the pointer from data and the video has none; a viewer that cannot draw it joins (a view() that wants
// the pointer in its frames, pointer: 'picture') → the pointer is in the picture, in that viewer's frames
// too, and the page's overlay is hidden (never two pointers); it leaves → out of the picture and the
// overlay back. A view({pointer: 'data'}) that draws it joins without flipping anything. The pixel checks
// read the decoded video at the pointer's spot (the test cursor is black on the grey window). A WHEP
// player (Chromium's RTCPeerConnection, no input channel at all) flips it the same way.
// With the fixed capture (ximagesrc, its show-pointer changed while playing) the flips are exact; the
// damage capture is checked for the invariant that holds whether or not it can change its pointer
// while playing: exactly one pointer on the page (in the video, or the overlay).
import t, { type Test } from 'tap';
import type { Page } from 'playwright-core';
import { publish, view, type RemoteView } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { loadBinding } from '../../lib/native/binding.js';
import { launchChromium } from '../helpers/browser.js';
import { startCursorClient } from '../helpers/cursor-client.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { startXvfb } from '../helpers/xvfb.js';
import { modulePageServer } from '../helpers/module-page.js';
import { waitFor } from '../helpers/wait.js';

const token = (session: string, role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session, role, ttlSeconds: 600 });
const AT: [number, number] = [300, 100];

const daemon = await startDaemon();
t.teardown(() => daemon.app.close());
const browser = await launchChromium();
t.teardown(() => browser.close());

/** An Xvfb with the cursor client's grey window and its test cursor at AT, published with the default pointer; one page watching. */
async function desk(t: Test, session: string, capture: 'fixed' | 'damage') {
  const x = await startXvfb('640x480x24');
  t.teardown(() => x.kill());
  const client = await startCursorClient(x.display, '808080');
  t.teardown(() => client.kill());
  await client.show('a');
  const input = new (loadBinding().NativeXInput)(x.display);
  t.teardown(() => input.close());
  input.move(...AT);
  input.sync();
  const publisher = publish({ url: daemon.url, session, token: token(session, 'publisher'), source: { kind: 'x11', display: x.display, capture }, video: { width: 640, height: 480, fps: 30 } });
  t.teardown(() => publisher.close());
  const url = await modulePageServer(t, `<webrtcbin-viewer id="v" url="${daemon.url}" session="${session}" token="${token(session, 'viewer')}" toolbar="none" style="width:640px;height:480px"></webrtcbin-viewer>`);
  const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  t.teardown(() => page.close());
  await page.goto(url);
  await page.waitForFunction(() => ((document.getElementById('v') as unknown as { stats: { framesDecoded: number } | null }).stats?.framesDecoded ?? 0) >= 5, undefined, { timeout: 30_000 });
  return { page, session, publisher };
}

/** In the page: the overlay's state, and whether the decoded video has the black test cursor at (x, y). */
const look = (page: Page) =>
  page.evaluate(([x, y]) => {
    const host = document.getElementById('v') as HTMLElement & { video: HTMLVideoElement };
    const img = host.shadowRoot!.querySelector('img.webrtcbin-remote-cursor') as HTMLImageElement | null;
    const video = host.video;
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const g = canvas.getContext('2d')!;
    g.drawImage(video, 0, 0);
    // The cursor's black covers x-3..x+4, y-5..y+6: three spots inside it.
    const dark = [[x - 1, y - 3], [x, y], [x + 2, y + 4]].map(([px, py]) => [...g.getImageData(px!, py!, 1, 1).data].slice(0, 3)).filter((rgb) => rgb.every((c) => c < 60)).length;
    return { overlay: img?.style.display === 'block', inPicture: img?.dataset.inPicture, x: img?.dataset.x, y: img?.dataset.y, videoHasPointer: dark === 3, videoIsGrey: dark === 0 };
  }, AT);

type Look = Awaited<ReturnType<typeof look>>;

/** Polls an async check until it holds or `ms` pass; the last value either way (the assertion after it says). */
async function poll<T>(read: () => Promise<T>, ok: (value: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const until = (page: Page, ok: (l: Look) => boolean): Promise<Look> => poll(() => look(page), ok);

/** The view's frames at AT: the black cursor there (true), the grey window (false). */
async function viewHasPointer(v: RemoteView): Promise<boolean> {
  const raw = await v.screenshot({ format: 'raw' });
  const [x, y] = AT;
  const at = (px: number, py: number) => [...raw.subarray((py * v.width! + px) * 4, (py * v.width! + px) * 4 + 3)];
  return [at(x - 1, y - 3), at(x, y), at(x + 2, y + 4)].every((rgb) => rgb.every((c) => c < 60));
}

t.test("pointer 'auto' (the default), fixed capture: drawn by the page alone; in the picture while a viewer that cannot draw it watches; out again when it leaves", async (t) => {
  const { page, session } = await desk(t, 'pointer-auto-fixed', 'fixed');
  let l = await until(page, (l) => l.overlay && l.inPicture === 'false' && l.x === '300' && l.y === '100' && l.videoIsGrey);
  t.match(l, { overlay: true, inPicture: 'false', x: '300', y: '100', videoIsGrey: true }, 'a page alone: the overlay at the X pointer, no pointer in the video');

  // A view that draws the pointer itself (pointer 'data') joins: once it gets the pointer as data it has
  // said it draws it, and nothing flips.
  const drawer = view({ url: daemon.url, session, token: token(session, 'viewer'), pointer: 'data' });
  t.teardown(() => drawer.close());
  await drawer.ready;
  await waitFor('the drawing view gets the pointer', () => drawer.cursor?.x === 300, 10_000).catch(() => {});
  t.match(drawer.cursor, { x: 300, y: 100, visible: true, inPicture: false }, 'RemoteView.cursor, and the picture has no pointer');
  t.equal(await viewHasPointer(drawer), false, "the view's frames have no pointer either");
  l = await look(page);
  t.match(l, { overlay: true, inPicture: 'false' }, 'the page still draws it');

  // A viewer that cannot draw it: the pointer goes into the picture, the page's overlay goes.
  const needy = view({ url: daemon.url, session, token: token(session, 'viewer'), pointer: 'picture' });
  t.teardown(() => needy.close());
  await needy.ready;
  l = await until(page, (l) => !l.overlay && l.inPicture === 'true' && l.videoHasPointer);
  t.match(l, { overlay: false, inPicture: 'true', videoHasPointer: true }, "a viewer that cannot draw it joined: the pointer in the video, the page's overlay hidden");
  t.equal(await poll(() => viewHasPointer(needy), Boolean), true, 'the viewer that cannot draw it sees the pointer in its frames');
  await waitFor('the drawing view hears it', () => drawer.cursor?.inPicture === true, 5000).catch(() => {});
  t.equal(drawer.cursor?.inPicture, true, 'the drawing view is told the picture has it');

  // It leaves: out of the picture, the overlay back.
  await needy.close();
  l = await until(page, (l) => l.overlay && l.inPicture === 'false' && l.videoIsGrey);
  t.match(l, { overlay: true, inPicture: 'false', videoIsGrey: true }, 'it left: the page draws the pointer again and the video has none');
  await waitFor('the drawing view hears it', () => drawer.cursor?.inPicture === false, 5000).catch(() => {});
  t.equal(drawer.cursor?.inPicture, false, 'and the drawing view is told');
});

t.test("pointer 'auto', damage capture: exactly one pointer on the page, alone and with a viewer that cannot draw it", async (t) => {
  const { page, session } = await desk(t, 'pointer-auto-damage', 'damage');
  const one = (l: Look) => (l.overlay && l.inPicture === 'false' && l.videoIsGrey) || (!l.overlay && l.inPicture === 'true' && l.videoHasPointer);
  let l = await until(page, (l) => l.inPicture !== undefined && one(l));
  t.ok(one(l), `a page alone: one pointer (${l.overlay ? 'the overlay' : 'in the video'}): ${JSON.stringify(l)}`);
  const needy = view({ url: daemon.url, session, token: token(session, 'viewer'), pointer: 'picture' });
  t.teardown(() => needy.close());
  await needy.ready;
  l = await until(page, (l) => !l.overlay && l.inPicture === 'true' && l.videoHasPointer);
  t.match(l, { overlay: false, inPicture: 'true', videoHasPointer: true }, 'with a viewer that cannot draw it: in the video, no overlay');
  t.equal(await poll(() => viewHasPointer(needy), Boolean), true, 'and in that viewer\'s frames');
});

t.test("pointer 'auto': a WHEP player (no input channel) puts the pointer into the picture and sees it; its DELETE takes it out", async (t) => {
  const { page, session, publisher } = await desk(t, 'pointer-auto-whep', 'fixed');
  let l = await until(page, (l) => l.overlay && l.inPicture === 'false' && l.videoIsGrey);
  t.match(l, { overlay: true, inPicture: 'false', videoIsGrey: true }, 'a page alone: the overlay, no pointer in the video');

  const player = await browser.newPage();
  t.teardown(() => player.close());
  await player.goto(`${daemon.http}/healthz`);
  const started = await player.evaluate(async (bearer) => {
    const pc = new RTCPeerConnection();
    const tr = pc.addTransceiver('video', { direction: 'recvonly' });
    const video = document.createElement('video');
    video.muted = true;
    video.srcObject = new MediaStream([tr.receiver.track]);
    document.body.appendChild(video);
    void video.play();
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') resolve();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
      setTimeout(resolve, 2000);
    });
    const response = await fetch(`/whep/${bearer.session}`, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${bearer.token}` }, body: pc.localDescription!.sdp });
    const body = await response.text();
    if (response.status !== 201) return { status: response.status, body };
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    Object.assign(window, { pc, video, resource: new URL(response.headers.get('location')!, location.href).href, bearer: bearer.token });
    return { status: 201, body: '' };
  }, { session, token: token(session, 'viewer') });
  t.equal(started.status, 201, `the WHEP offer answered ${started.body}`);

  l = await until(page, (l) => !l.overlay && l.inPicture === 'true' && l.videoHasPointer);
  t.match(l, { overlay: false, inPicture: 'true', videoHasPointer: true }, "the WHEP player watches: the pointer in the video, the page's overlay hidden");
  const playerSees = () =>
    player.evaluate(([x, y]) => {
      const video = (window as unknown as { video: HTMLVideoElement }).video;
      if (!video.videoWidth) return false;
      const canvas = document.createElement('canvas');
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const g = canvas.getContext('2d')!;
      g.drawImage(video, 0, 0);
      return [[x - 1, y - 3], [x, y], [x + 2, y + 4]].every(([px, py]) => [...g.getImageData(px!, py!, 1, 1).data].slice(0, 3).every((c) => c < 60));
    }, AT);
  t.equal(await poll(playerSees, Boolean), true, 'and the WHEP player sees the pointer in its picture');

  const deleted = await player.evaluate(async () => {
    const w = window as unknown as { pc: RTCPeerConnection; resource: string; bearer: string };
    const response = await fetch(w.resource, { method: 'DELETE', headers: { authorization: `Bearer ${w.bearer}` } });
    w.pc.close();
    return response.status;
  });
  t.ok(deleted >= 200 && deleted < 300, `the WHEP resource deleted (${deleted})`);
  await waitFor('the publisher lets the WHEP viewer go', () => publisher.viewers === 1, 10_000).catch(() => {});
  l = await until(page, (l) => l.overlay && l.inPicture === 'false' && l.videoIsGrey);
  t.match(l, { overlay: true, inPicture: 'false', videoIsGrey: true }, 'it left: the page draws the pointer again, none in the video');
});
