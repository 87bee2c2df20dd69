// Audio sent next to the video reaches a real Chromium: Opus packets arrive and are decoded (not
// concealed), whichever side offers.
import t from 'tap';
import { WebRtcPeer } from '../../lib/index.js';
import { publish } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { BrowserPeer, launchChromium, type InboundAudio, waitForViewerFrames } from '../helpers/browser.js';
import { browserOffersToNode, nodeOffersToBrowser } from '../helpers/peers.js';

async function waitForAudio(browser: BrowserPeer, timeoutMs = 20_000): Promise<InboundAudio> {
  const deadline = Date.now() + timeoutMs;
  let last: InboundAudio | undefined;
  while (Date.now() < deadline) {
    last = await browser.inboundAudio();
    // 50 packets of 10 ms and half a second of samples decoded, nearly none of them concealed.
    // (Headless Chromium plays nothing out, so its energy counters stay 0; the tone itself is
    // checked by the Node receiver in test/native.)
    if (last && last.packetsReceived >= 50 && last.totalSamplesReceived >= 24_000 && last.concealedSamples < last.totalSamplesReceived * 0.1) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no decoded audio in Chromium within ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

t.test('audio and video from the VM when it offers', async (t) => {
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await BrowserPeer.open(browser);
  const peer = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 320, height: 240 }, audio: { source: 'test' } });
  t.teardown(() => peer.close());
  await nodeOffersToBrowser(peer, page);
  const audio = await waitForAudio(page);
  t.equal(audio.codec?.toLowerCase(), 'audio/opus', `Opus (${audio.codec})`);
  t.ok(audio.totalSamplesReceived >= 24_000, `${audio.totalSamplesReceived} samples decoded, ${audio.concealedSamples} concealed, ${audio.packetsReceived} packets`);
  await page.waitForFrames(10);
  t.pass('video decodes beside it');
});

t.test('audio and video when the browser offers to receive both', async (t) => {
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await BrowserPeer.open(browser);
  const peer = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 320, height: 240 }, audio: { source: 'test', bitrate: 32 } });
  t.teardown(() => peer.close());
  await browserOffersToNode(peer, page, { audio: true });
  const audio = await waitForAudio(page);
  t.ok(audio.packetsReceived >= 50, `${audio.packetsReceived} audio packets`);
  await page.waitForFrames(10);
  t.pass('video decodes beside it');
});

t.test('an offer without audio leaves the audio unsent and the video playing', async (t) => {
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await BrowserPeer.open(browser);
  const peer = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 320, height: 240 }, audio: { source: 'test' } });
  t.teardown(() => peer.close());
  await browserOffersToNode(peer, page);
  await page.waitForFrames(10);
  t.equal(await page.inboundAudio(), undefined, 'no audio stream');
});

t.test('bad audio options are refused with a clear error', async (t) => {
  t.throws(() => new WebRtcPeer({ source: { kind: 'test' }, audio: { source: 'mic' as never } }), /audio\.source must be "test", "pulse" or \{pipeline/);
  t.throws(() => new WebRtcPeer({ source: { kind: 'test' }, audio: { source: 'test', bitrate: 2 } }), /audio\.bitrate must be a whole number/);
  t.throws(() => new WebRtcPeer({ source: { kind: 'test' }, audio: { source: 'pulse', device: 'x; rm' } }), /not a PulseAudio source name/);
  t.throws(() => new WebRtcPeer({ source: { kind: 'test' }, audio: { source: { pipeline: 'audiotestsrc !' } } }), /must not end with "!"/);
  t.throws(() => new WebRtcPeer({ source: { kind: 'test' }, audio: { source: { pipeline: 'nosuchaudiosrc' } } }), /nosuchaudiosrc/);
});

t.test('publish({audio}) through the daemon: the viewer page gets sound next to the shared video', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const token = (role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session: 'sound', role });
  const publisher = publish({ url: daemon.url, session: 'sound', token: token('publisher'), source: { kind: 'test' }, video: { width: 320, height: 240 }, audio: { source: 'test' } });
  t.teardown(() => publisher.close());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${daemon.http}/?session=sound&token=${token('viewer')}`);
  await waitForViewerFrames(page, 6, 20_000);
  await page.waitForFunction(() => (window as unknown as { __viewerAudio?: boolean }).__viewerAudio === true, undefined, { timeout: 10_000 });
  t.ok(await page.isVisible('#sound'), 'the page offers to turn the sound on');
  const tracks = await page.evaluate(() => {
    const stream = (document.querySelector('video') as HTMLVideoElement).srcObject as MediaStream;
    return stream.getTracks().map((track) => track.kind).sort();
  });
  t.same(tracks, ['audio', 'video'], 'one element plays both tracks');
  await page.click('#sound');
  t.equal(await page.evaluate(() => (document.querySelector('video') as HTMLVideoElement).muted), false, 'unmuted by the click');
  t.equal(publisher.encoderStats?.subscribers, 1, 'the video still comes from the shared encoder');
  t.throws(() => publish({ url: daemon.url, session: 'x', token: token('publisher'), source: { kind: 'test' }, audio: { source: 'radio' as never } }), /audio\.source must be/, 'bad audio options fail at publish()');
});
