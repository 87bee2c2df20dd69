// The viewer page's overlay in Chromium: 's' toggles the stats line only; every state but 'connected'
// stays on screen whatever 's' says, so when the desktop goes away the page says so instead of
// showing a black picture without a word; and a publisher whose pipeline breaks says why in its bye,
// which the page shows.
import t from 'tap';
import type { Page } from 'playwright-core';
import { publish } from '../../lib/publish/publisher.js';
import { SignalingClient } from '../../lib/signaling/client.js';
import { WebRtcPeer } from '../../lib/index.js';
import { once } from '../helpers/wait.js';
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
  await page.waitForFunction(() => (document.querySelector('webrtcbin-viewer')?.shadowRoot?.getElementById('stats')?.textContent ?? '') !== '');
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

// A source that fails at run time, after 20 buffers (identity error-after), in each viewer's own pipeline.
const BREAKING = 'videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=30/1 ! identity name=breaker error-after=20';

t.test("a publisher that breaks later: the viewer's bye carries its reason, and the page shows it", async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session: 'brk', token: token('brk', 'publisher'), source: { kind: 'pipeline', description: BREAKING }, video: { codec: 'vp8', width: 160, height: 120 }, shareEncoder: false });
  publisher.on('error', () => {}); // expected: the pipeline breaks
  t.teardown(() => publisher.close());

  // On the wire: a plain protocol client as the viewer gets bye {from, message}.
  const raw = new SignalingClient({ url: daemon.url, session: 'brk', role: 'viewer', token: token('brk', 'viewer') });
  const peer = new WebRtcPeer({ video: { receive: true } });
  t.teardown(async () => {
    await raw.close();
    await peer.close();
  });
  raw.on('offer', (m) => {
    void (async () => {
      await peer.setRemoteDescription({ type: 'offer', sdp: m.sdp });
      const answer = await peer.createAnswer();
      await peer.setLocalDescription(answer);
      raw.send({ type: 'answer', to: m.from, sdp: answer.sdp! });
    })().catch(() => {});
  });
  peer.on('icecandidate', (e) => {
    if (e.candidate?.candidate) raw.send({ type: 'candidate', candidate: { candidate: e.candidate.candidate, sdpMLineIndex: e.candidate.sdpMLineIndex ?? 0 } });
  });
  raw.on('candidate', (m) => m.candidate && void peer.addIceCandidate(m.candidate).catch(() => {}));
  const bye = once<{ from?: string; message?: string }>(raw, 'bye', 30_000, (m) => m.from !== undefined);
  raw.connect();
  const said = await bye;
  t.match(said.message, /media pipeline error failed: .*breaker/, `bye.message: ${said.message}`);
  await raw.close();

  // On the page: the reason is on screen while it is not connected, not a word about firewalls.
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${daemon.http}/?session=brk&token=${token('brk', 'viewer')}`);
  await page.waitForFunction(() => /the publisher ended this connection: media pipeline error failed/.test(document.querySelector('webrtcbin-viewer')?.shadowRoot?.getElementById('detail')?.textContent ?? ''), undefined, { timeout: 30_000 });
  t.ok(await visible(page, '#detail'), 'the reason is visible');
  t.notMatch(await page.textContent('#message'), /firewall/, 'the page does not blame the firewall');
});
