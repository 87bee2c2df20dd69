// Watch through Janus, control through the daemon (docs/sfu.md, "Input and clipboard"): the viewer page
// in its Janus mode (?janus=…&room=…) decodes the VM's screen from a real Janus VideoRoom, while its
// daemon join asks for the input data channel only (join.media 'data'). Keys typed in Chromium reach xev
// on the VM's Xvfb; the publisher builds no video peer for that viewer (its encoder feeds the relay
// only); a view-only token's input is refused as for any viewer; and without a relay a data-only join
// still controls (no video).
import t from 'tap';
import type { Page } from 'playwright-core';
import { assertClickAndTyping } from '../helpers/xev.js';
import { launchChromium, waitForViewerFrames } from '../helpers/browser.js';
import { startDesk } from '../helpers/desk.js';
import { startJanus } from '../helpers/janus.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { InvalidArgumentError } from '../../lib/errors.js';
import { waitFor } from '../helpers/wait.js';

const janus = await startJanus();
t.teardown(() => janus.stop());
const browser = await launchChromium();
t.teardown(() => browser.close());

interface Sides {
  /** The daemon peer's remote SDP (the publisher's offer) and Janus's subscription's. */
  daemonSdp: string;
  janusSdp: string;
  janusState: string;
}

async function sides(page: Page): Promise<Sides> {
  return page.evaluate(() => {
    type V = { peerConnection: RTCPeerConnection | null; janusConnection: RTCPeerConnection | null };
    const viewer = (window as unknown as { __viewerElement: { viewer: V } }).__viewerElement.viewer;
    return {
      daemonSdp: viewer.peerConnection?.remoteDescription?.sdp ?? '',
      janusSdp: viewer.janusConnection?.remoteDescription?.sdp ?? '',
      janusState: viewer.janusConnection?.connectionState ?? 'none',
    };
  });
}

const fingerprint = (sdp: string) => /a=fingerprint:\S+ (\S+)/.exec(sdp)?.[1] ?? '';
const mLines = (sdp: string) => (sdp.match(/^m=\w+/gm) ?? []).map((m) => m.slice(2));

t.test('a page watching through Janus types into the VM through the daemon; the VM sends one stream', async (t) => {
  const room = 5005;
  const desk = await startDesk(t, {
    session: 'jc',
    daemon: { viewerJanus: [janus.url] },
    publish: { video: { codec: 'h264', width: 640, height: 480 }, sfu: { janus: janus.url, room } },
  });
  await new Promise((resolve) => desk.publisher.once('sfu-published', resolve));
  const open = async (control: boolean) => {
    const page = await browser.newPage({ viewport: { width: 640, height: 480 } });
    t.teardown(() => page.close());
    const query = new URLSearchParams({ session: 'jc', token: desk.viewerToken(control), janus: janus.url, room: String(room) });
    await page.goto(`${desk.daemon.http}/?${query}`);
    await waitForViewerFrames(page, 6, 30_000);
    await page.waitForFunction(() => (window as unknown as { __viewerState?: string }).__viewerState === 'connected', undefined, { timeout: 20_000 });
    return page;
  };

  // View only first: its video comes from Janus, its gestures reach nothing.
  const watcher = await open(false);
  const w = await sides(watcher);
  t.same(mLines(w.daemonSdp), ['application'], "the publisher's offer to a data-only viewer is one m=application line");
  t.ok(mLines(w.janusSdp).includes('video'), "the page's video is Janus's offer");
  t.not(fingerprint(w.janusSdp), fingerprint(w.daemonSdp), "the video's DTLS peer is Janus, not our publisher");
  t.equal(desk.publisher.viewers, 1, 'the data-only viewer is one of the publisher viewers');
  t.equal(desk.publisher.viewerCodecs.size, 0, 'no video codec for it');
  t.equal(desk.publisher.encoderStats?.subscribers, 1, "the shared encoder feeds the relay only");
  await watcher.mouse.click(200, 200);
  await watcher.keyboard.type('no');
  await new Promise((r) => setTimeout(r, 800));
  t.notMatch(desk.xev.text, /ButtonPress|KeyPress/, 'view-only in Janus mode: nothing reached the display');
  await watcher.close();
  await waitFor('the view-only viewer gone from the publisher', () => desk.publisher.viewers === 0, 10_000);

  const controller = await open(true);
  const c = await sides(controller);
  t.same(mLines(c.daemonSdp), ['application']);
  t.equal(c.janusState, 'connected');
  t.equal(desk.publisher.encoderStats?.subscribers, 1, "still the relay's only");
  await controller.mouse.click(100, 120);
  await controller.keyboard.type('hi');
  await controller.keyboard.press('Enter');
  await assertClickAndTyping(t, desk.xev, 100, 120);

  // Leaving is cleaned up like any viewer's: peer-left closes its peer.
  await controller.close();
  await waitFor('the controller gone from the publisher', () => desk.publisher.viewers === 0, 10_000);
});

t.test('without a relay, a data-only join still controls (no video: documented)', async (t) => {
  const desk = await startDesk(t, { session: 'jd', daemon: { viewerJanus: [janus.url] } });
  const page = await browser.newPage({ viewport: { width: 640, height: 480 } });
  t.teardown(() => page.close());
  // A room nobody publishes in: the page waits for a feed, its input channel works meanwhile.
  const query = new URLSearchParams({ session: 'jd', token: desk.viewerToken(true), janus: janus.url, room: '5999' });
  await page.goto(`${desk.daemon.http}/?${query}`);
  await page.waitForFunction(() => (window as unknown as { __viewerState?: string }).__viewerState === 'connected', undefined, { timeout: 20_000 });
  t.same(mLines((await sides(page)).daemonSdp), ['application']);
  t.equal(desk.publisher.viewerCodecs.size, 0, 'no video peer');
  t.equal(desk.publisher.encoderStats?.subscribers ?? 0, 0, 'nothing subscribes to the encoder');
  // No picture to point at: the keyboard (the Viewer API, the toolbar's keys) still drives the VM.
  await page.waitForFunction(() => Boolean((window as unknown as { __viewerExtras?: unknown }).__viewerExtras), undefined, { timeout: 10_000 });
  const sent = await page.evaluate(() => {
    type V = { takeControl(): boolean; sendInput(m: unknown): boolean };
    const viewer = (window as unknown as { __viewerElement: { viewer: V } }).__viewerElement.viewer;
    const keys: [string, string][] = [['h', 'KeyH'], ['i', 'KeyI'], ['Enter', 'Enter']];
    let ok = viewer.takeControl();
    for (const [key, code] of keys) ok = viewer.sendInput({ t: 'key', key, code, down: true }) && viewer.sendInput({ t: 'key', key, code, down: false }) && ok;
    return ok;
  });
  t.ok(sent, 'the input channel took the messages');
  await waitFor('the keys at the X client', () => /keysym 0xff0d, Return/.test(desk.xev.text), 10_000).catch(() => {});
  t.match(desk.xev.text, /keysym 0x68, h\)[^]*keysym 0x69, i\)[^]*keysym 0xff0d, Return/, '"hi" and Enter reached the display');
});

t.test("the daemon's page reaches only the Janus its viewerJanus names (CSP), and says so", async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const csp = (await fetch(`${daemon.http}/`)).headers.get('content-security-policy') ?? '';
  t.notMatch(csp, janus.url, 'no Janus in connect-src by default');
  const page = await browser.newPage();
  t.teardown(() => page.close());
  const query = new URLSearchParams({ session: 'jx', token: mintToken({ secret: SECRET, session: 'jx', role: 'viewer' }), janus: janus.url, room: '1' });
  await page.goto(`${daemon.http}/?${query}`);
  await page.waitForFunction(() => (window as unknown as { __viewerJanus?: { state: string } }).__viewerJanus?.state === 'failed', undefined, { timeout: 15_000 });
  const detail = await page.evaluate(() => (window as unknown as { __viewerJanus: { reason: string } }).__viewerJanus);
  t.match(detail.reason, /--viewer-janus/, 'the page says what to configure');

  const allowed = await startDaemon({ viewerJanus: [janus.url] });
  t.teardown(() => allowed.app.close());
  t.match((await fetch(`${allowed.http}/`)).headers.get('content-security-policy'), new RegExp(`connect-src 'self'[^;]* ${janus.url.replace(/[.]/g, '\\.')}(;| )`));
  for (const bad of [['http://janus:8188'], ['ws://janus:8188; script-src *'], ['ws://*']]) {
    await t.rejects(startDaemon({ viewerJanus: bad }), InvalidArgumentError, `refused: ${JSON.stringify(bad)}`);
  }
});
