// Transport-wide congestion control negotiated with real browsers: Chromium and Firefox ESR watching
// publish() through the daemon (we offer), and Chromium offering to a WebRtcPeer (we answer, with the
// extmap id its offer chose). Each time: the SDP both sides hold has the extension and the feedback,
// and TWCC feedback arrives (the publisher's viewer runs the TWCC controller with an estimate; the
// peer emits `twcc` with packets that were received).
import t, { type Test } from 'tap';
import type { Page } from 'playwright-core';
import { publish, type Publisher } from '../../lib/client.js';
import { WebRtcPeer } from '../../lib/index.js';
import { TWCC_URI, twccExtmapId, twccNegotiated } from '../../lib/media/twcc.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { BrowserPeer, launchChromium, waitForViewerFrames } from '../helpers/browser.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { Firefox, waitForViewerFrames as waitForFirefoxFrames } from '../helpers/firefox.js';
import { browserOffersToNode } from '../helpers/peers.js';
import { waitFor } from '../helpers/wait.js';

const daemon = await startDaemon();
t.teardown(() => daemon.app.close());
const chromium = await launchChromium();
t.teardown(() => chromium.close());

let sessions = 0;
function startPublisher(t: Test): { session: string; publisher: Publisher } {
  const session = `twcc${sessions++}`;
  const publisher = publish({ url: daemon.url, session, token: mintToken({ secret: SECRET, session, role: 'publisher' }), source: { kind: 'test', pattern: 'ball' }, video: { width: 640, height: 360 } });
  t.teardown(() => publisher.close());
  return { session, publisher };
}
const viewerUrl = (session: string) => `${daemon.http}/?session=${session}&token=${mintToken({ secret: SECRET, session, role: 'viewer' })}`;

// Both descriptions as the viewer page holds them.
const pageSdp = () => {
  const pc = (window as unknown as { __viewer?: { peerConnection: RTCPeerConnection | null } }).__viewer?.peerConnection;
  return { local: pc?.currentLocalDescription?.sdp ?? '', remote: pc?.currentRemoteDescription?.sdp ?? '' };
};

async function assertTwccViewer(t: Test, publisher: Publisher, sdp: { local: string; remote: string }, who: string): Promise<void> {
  t.ok(twccNegotiated(sdp.remote), `${who}: our offer has ${TWCC_URI} and a=rtcp-fb transport-cc`);
  t.ok(twccNegotiated(sdp.local), `${who}: its answer keeps both`);
  t.equal(twccExtmapId(sdp.local), 3, `${who}: with our id`);
  const find = () => [...publisher.congestion().values()].find((c) => c.controller === 'twcc' && c.estimate);
  await waitFor(`${who}: TWCC feedback reaching the publisher's estimator`, () => find() !== undefined, 20_000);
  const viewer = find()!;
  t.ok(viewer, `${who}: the viewer runs the TWCC controller on feedback`);
  t.ok((viewer.estimate!.ackedKbps ?? 0) >= 0 && viewer.estimate!.lossFraction <= 1);
  t.comment(`${who}: target ${viewer.target} kbit/s, received ${viewer.estimate!.ackedKbps?.toFixed(0)} kbit/s, queue ${viewer.estimate!.queueDelayMs?.toFixed(1)} ms, loss ${(viewer.estimate!.lossFraction * 100).toFixed(1)}%`);
}

t.test('Chromium viewer (we offer): transport-cc negotiated, feedback drives the estimator', async (t) => {
  const { session, publisher } = startPublisher(t);
  const page: Page = await chromium.newPage();
  t.teardown(() => page.close());
  await page.goto(viewerUrl(session));
  await waitForViewerFrames(page, 10, 30_000);
  await assertTwccViewer(t, publisher, await page.evaluate(pageSdp), 'Chromium');
});

t.test('Firefox viewer (we offer): transport-cc negotiated, feedback drives the estimator', async (t) => {
  const firefox = await Firefox.launch({ width: 640, height: 480 });
  t.teardown(() => firefox.close());
  const { session, publisher } = startPublisher(t);
  const page = await firefox.open(viewerUrl(session));
  t.teardown(() => page.close());
  await waitForFirefoxFrames(page, 10, 30_000);
  await assertTwccViewer(t, publisher, await page.evaluate(pageSdp), 'Firefox');
});

t.test("Chromium offers (we answer): the offer's extmap id is used, feedback arrives", async (t) => {
  const peer = new WebRtcPeer({ source: { kind: 'test', pattern: 'ball' }, video: { width: 640, height: 360 } });
  t.teardown(() => peer.close());
  let received = 0;
  peer.on('twcc', (packets) => {
    for (let i = 2; i < packets.length; i += 4) if (!Number.isNaN(packets[i]!)) received++;
  });
  const page = await BrowserPeer.open(chromium);
  t.teardown(() => page.close());
  await browserOffersToNode(peer, page);
  await page.waitForFrames(10);
  const offered = twccExtmapId(peer.remoteDescription!.sdp);
  t.ok(offered !== undefined, `Chromium offers transport-cc (id ${offered})`);
  t.equal(twccExtmapId(peer.localDescription!.sdp), offered, 'our answer uses the id the offer gave it');
  t.ok(twccNegotiated(peer.localDescription!.sdp));
  await waitFor('TWCC feedback on 20 received packets', () => received >= 20, 20_000);
  t.ok(received >= 20, `${received} packets reported received`);
});
