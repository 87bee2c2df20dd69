// Established media survives the daemon (issue 15): a publisher streaming an X display and a Chromium
// viewer page are connected; the daemon is closed (bye shutting-down to everyone) and a new one starts
// on the same port with the same secret. Frames keep arriving throughout (counted with
// requestVideoFrameCallback), the page's RTCPeerConnection is the same one and never renegotiates,
// its state stays 'connected', both rejoin with their ids, and afterwards a new viewer can join and
// the old one still controls the desktop. A viewer that leaves during the outage is cleaned up after
// the publisher's resume grace.
import t from 'tap';
import type { Page } from 'playwright-core';
import { publish } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { launchChromium, waitForViewerFrames } from '../helpers/browser.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { startXvfb } from '../helpers/xvfb.js';
import { startXev } from '../helpers/xev.js';
import { waitFor } from '../helpers/wait.js';
import { spawn, spawnSync } from 'node:child_process';

type Win = {
  __viewer: { peerConnection: RTCPeerConnection | null; state: string; addEventListener(type: string, fn: (e: CustomEvent) => void): void };
  __rvfc: number;
  __states: string[];
  __signalingChanges: number;
  __pc0: RTCPeerConnection | null;
};

// Counts every frame the <video> presents, and records every viewer state and every offer/answer round.
async function instrument(page: Page): Promise<void> {
  // A string: tsx would wrap named functions of a callback in a helper the page does not have.
  await page.evaluate(`(() => {
    const w = window;
    const video = document.querySelector('video');
    w.__rvfc = 0;
    const tick = () => { w.__rvfc++; video.requestVideoFrameCallback(tick); };
    video.requestVideoFrameCallback(tick);
    w.__states = [];
    w.__viewer.addEventListener('state', (e) => w.__states.push(e.detail));
    w.__pc0 = w.__viewer.peerConnection;
    w.__signalingChanges = 0;
    if (w.__pc0) w.__pc0.addEventListener('signalingstatechange', () => w.__signalingChanges++);
  })()`);
}
const rvfc = (page: Page) => page.evaluate(() => (window as unknown as Win).__rvfc);

t.test('a daemon restart: the page keeps its stream, rejoins, and still controls; new viewers join', async (t) => {
  const x = await startXvfb('640x480x24');
  t.teardown(() => x.kill());
  const xev = await startXev(x.display, '640x480', ['keyboard']);
  t.teardown(() => xev.kill());
  // Something that moves, above xev's top-left quarter: a static desktop sends (and presents) no frames.
  const ball = spawn('gst-launch-1.0', ['-q', 'videotestsrc', 'pattern=ball', 'is-live=true', '!', 'video/x-raw,width=320,height=240,framerate=30/1', '!', 'ximagesink', `display=${x.display}`], { stdio: 'ignore' });
  t.teardown(() => ball.kill());
  await waitFor('the ball window on the display', () => {
    const tree = spawnSync('xwininfo', ['-display', x.display, '-root', '-tree'], { encoding: 'utf8' }).stdout ?? '';
    return /320x240\+/.test(tree);
  }, 15_000);
  let daemon = await startDaemon();
  const port = daemon.port;
  t.teardown(() => daemon.app.close());
  const publisher = publish({
    url: daemon.url,
    session: 'survive',
    token: mintToken({ secret: SECRET, session: 'survive', role: 'publisher' }),
    source: { kind: 'x11', display: x.display },
    video: { width: 640, height: 480 },
    backoff: { initialMs: 100, maxMs: 500 },
  });
  t.teardown(() => publisher.close());
  publisher.on('error', (e) => t.comment(`publisher error: ${e.message}`));
  const left: string[] = [];
  const connected: string[] = [];
  publisher.on('viewer-left', (id, why) => left.push(`${id}: ${why}`));
  publisher.on('viewer-connected', (id) => connected.push(id));
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const viewerUrl = () => `${daemon.http}/?session=survive&token=${mintToken({ secret: SECRET, session: 'survive', role: 'viewer', control: true })}`;

  const page = await browser.newPage({ viewport: { width: 640, height: 480 } });
  await page.goto(viewerUrl());
  await waitForViewerFrames(page, 10, 30_000);
  await instrument(page);
  const start = await rvfc(page);
  await new Promise((r) => setTimeout(r, 1000));
  const perSecond = (await rvfc(page)) - start;
  t.ok(perSecond >= 10, `before: ${perSecond} frames presented a second`);
  const publisherId = publisher.client.peerId;
  t.equal(connected.length, 1, 'one viewer connected');

  // The outage: the daemon says bye (shutting-down) and closes every socket.
  await daemon.app.close();
  await waitFor('the publisher to notice', () => publisher.client.state !== 'joined', 5000);
  const atDrop = await rvfc(page);
  await new Promise((r) => setTimeout(r, 3000));
  const duringOutage = (await rvfc(page)) - atDrop;
  t.ok(duringOutage >= 20, `frames kept arriving while no daemon ran: ${duringOutage} in 3 s`);
  t.equal(publisher.viewers, 1, 'the publisher kept the connected viewer');
  t.equal(await page.evaluate(() => (window as unknown as Win).__viewer.state), 'connected', 'the page still says connected');

  daemon = await startDaemon({ port });
  await waitFor('the publisher to rejoin', () => publisher.client.state === 'joined', 10_000);
  t.equal(publisher.client.peerId, publisherId, 'the publisher rejoined with its id');
  await waitFor('the page to rejoin', () => daemon.app.signalingRegistry.peerCount('viewer') === 1, 15_000);
  const afterRejoin = await rvfc(page);
  await new Promise((r) => setTimeout(r, 1000));
  t.ok((await rvfc(page)) - afterRejoin >= 5, 'frames keep arriving after the rejoin');

  const seen = await page.evaluate(() => {
    const w = window as unknown as Win;
    return { same: w.__viewer.peerConnection === w.__pc0, states: w.__states, signalingChanges: w.__signalingChanges, pc: w.__viewer.peerConnection?.connectionState };
  });
  t.ok(seen.same, 'the same RTCPeerConnection');
  t.equal(seen.signalingChanges, 0, 'no renegotiation (no offer/answer round on it)');
  t.same(seen.states, [], `the state never left 'connected' (${seen.states.join(', ') || 'no changes'})`);
  t.equal(seen.pc, 'connected');
  t.same(left, [], 'the publisher dropped no viewer');
  t.equal(connected.length, 1, 'and connected none anew');

  // A new viewer joins through the new daemon; the old page still controls the desktop.
  const second = await browser.newPage({ viewport: { width: 640, height: 480 } });
  await second.goto(viewerUrl());
  await waitForViewerFrames(second, 10, 30_000);
  t.equal(publisher.viewers, 2, 'a new viewer joined after the restart');
  await page.mouse.click(480, 360); // on xev's window (X focus follows the pointer), not the ball's
  await page.keyboard.type('ok');
  await waitFor('the keys at the X client', () => /keysym 0x6b, k\)/.test(xev.text), 10_000).catch(() => {});
  t.match(xev.text, /keysym 0x6f, o\)[^]*keysym 0x6b, k\)/, 'the old viewer still sends input after the restart');
  await second.close();
  await page.close();
});

t.test('a viewer that leaves during the outage is closed after the grace; one that stays is kept', async (t) => {
  let daemon = await startDaemon();
  const port = daemon.port;
  t.teardown(() => daemon.app.close());
  const publisher = publish({
    url: daemon.url,
    session: 'grace',
    token: mintToken({ secret: SECRET, session: 'grace', role: 'publisher' }),
    source: { kind: 'test', pattern: 'ball' },
    video: { width: 320, height: 240 },
    backoff: { initialMs: 100, maxMs: 500 },
    resumeGraceMs: 3000,
  });
  t.teardown(() => publisher.close());
  publisher.on('error', () => {});
  const left: { id: string; why: string; at: number }[] = [];
  publisher.on('viewer-left', (id, why) => left.push({ id, why, at: Date.now() }));
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const url = `${daemon.http}/?session=grace&token=${mintToken({ secret: SECRET, session: 'grace', role: 'viewer' })}`;
  const stays = await browser.newPage();
  const leaves = await browser.newPage();
  await Promise.all([stays.goto(url), leaves.goto(url)]);
  await Promise.all([waitForViewerFrames(stays, 10, 30_000), waitForViewerFrames(leaves, 10, 30_000)]);
  await instrument(stays);
  await waitFor('two viewers', () => publisher.viewers === 2, 10_000);
  const ids = new Set(publisher.viewerCodecs.keys());

  await daemon.app.close();
  await waitFor('the publisher to notice', () => publisher.client.state !== 'joined', 5000);
  await leaves.close(); // the person closes the tab while the daemon is down: nobody tells the publisher
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(publisher.viewers, 2, 'nothing is closed during the outage');
  daemon = await startDaemon({ port });
  const rejoined = Date.now();
  await waitFor('the publisher to rejoin', () => publisher.client.state === 'joined', 10_000);
  await waitFor('the staying page to rejoin', () => daemon.app.signalingRegistry.peerCount('viewer') === 1, 15_000);
  await waitFor('the vanished viewer to be closed', () => left.length === 1, 20_000);
  const gone = left[0]!;
  t.ok(ids.has(gone.id), `the vanished viewer was closed: ${gone.why}`);
  t.ok(gone.at - rejoined >= 2500 || /connection (failed|closed)/.test(gone.why), `after the grace, or when its connection ended (${gone.at - rejoined} ms after the restart)`);
  t.equal(publisher.viewers, 1, 'the staying viewer is kept');
  const before = await rvfc(stays);
  await new Promise((r) => setTimeout(r, 2000));
  const status = await stays.evaluate(() => {
    const w = window as unknown as Win;
    return `${w.__viewer.state}, peer ${w.__viewer.peerConnection?.connectionState}, same peer ${w.__viewer.peerConnection === w.__pc0}`;
  });
  t.ok((await rvfc(stays)) >= before + 10, `the staying viewer keeps presenting frames (${(await rvfc(stays)) - before} in 2 s; ${status})`);
  await stays.close();
});
