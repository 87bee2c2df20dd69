// Real headless Chromium receives the peer's stream: the VM offering, the VM answering, every codec.
import t from 'tap';
import { WebRtcPeer, checkEnvironment, type VideoCodec } from '../../lib/index.js';
import { BrowserPeer, launchChromium } from '../helpers/browser.js';
import { browserOffersToNode, nodeOffersToBrowser } from '../helpers/peers.js';

const browser = await launchChromium();
t.teardown(() => browser.close());

t.test('Chromium decodes frames when the VM offers (VP8 default)', async (t) => {
  const started = Date.now();
  const peer = new WebRtcPeer({ source: { kind: 'test' } });
  t.teardown(() => peer.close());
  const page = await BrowserPeer.open(browser);
  t.teardown(() => page.close());
  let connectedAt = 0;
  peer.on('connectionstatechange', (s) => {
    if (s === 'connected' && !connectedAt) connectedAt = Date.now();
  });
  await nodeOffersToBrowser(peer, page);
  const answeredAt = Date.now();
  const first = await page.waitForFrames(1);
  const firstFrameAt = Date.now();
  const later = await page.waitForFrames(first.framesDecoded + 20);
  t.ok(later.framesDecoded > first.framesDecoded, `framesDecoded rises (${first.framesDecoded} → ${later.framesDecoded})`);
  t.equal(later.codec, 'video/VP8');
  t.equal(later.frameWidth, 1280);
  t.equal(later.frameHeight, 720);
  t.equal(peer.connectionState, 'connected');
  t.comment(
    `timing: negotiation (offer → answer applied, incl. page round trips) ${answeredAt - started} ms; ` +
      `connected ${connectedAt - answeredAt} ms and first frame ${firstFrameAt - answeredAt} ms after the answer; ` +
      `${firstFrameAt - started} ms from construction to first decoded frame`,
  );
});

t.test('Chromium decodes frames when the browser offers (recvonly) and the VM answers', async (t) => {
  const peer = new WebRtcPeer({ source: { kind: 'test', pattern: 'ball' } });
  t.teardown(() => peer.close());
  const page = await BrowserPeer.open(browser);
  t.teardown(() => page.close());
  await browserOffersToNode(peer, page);
  const first = await page.waitForFrames(1);
  const later = await page.waitForFrames(first.framesDecoded + 20);
  t.ok(later.framesDecoded > first.framesDecoded, `framesDecoded rises (${first.framesDecoded} → ${later.framesDecoded})`);
  t.equal(peer.signalingState, 'stable');
});

const report = checkEnvironment();
const installed = (name: string) => report.elements.find((e) => e.element === name)?.present === true;
const codecs: [VideoCodec, string, string | undefined][] = [
  ['vp8', 'video/VP8', undefined],
  ['vp9', 'video/VP9', undefined],
  ['h264', 'video/H264', 'x264enc'],
  ['h264', 'video/H264', 'openh264enc'],
];
for (const [codec, mime, encoder] of codecs) {
  const needed = encoder ?? `${codec}enc`;
  t.test(`${codec}${encoder ? ` (${encoder})` : ''} streams to Chromium, both offer directions`, { skip: installed(needed) ? false : `${needed} is not installed` }, async (t) => {
    for (const direction of ['node-offers', 'browser-offers'] as const) {
      const peer = new WebRtcPeer({ source: { kind: 'test' }, video: { codec, encoder: encoder as 'x264enc' | undefined, width: 640, height: 360 } });
      const page = await BrowserPeer.open(browser);
      try {
        if (direction === 'node-offers') await nodeOffersToBrowser(peer, page);
        else await browserOffersToNode(peer, page);
        const stats = await page.waitForFrames(10);
        t.equal(stats.codec, mime, `${direction}: negotiated ${mime}`);
        t.equal(stats.frameWidth, 640, `${direction}: 640 px wide`);
      } finally {
        await peer.close();
        await page.close();
      }
    }
  });
}

t.test('the VM follows the payload type a browser offers (VP8 moved to 120)', async (t) => {
  const peer = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 640, height: 360 } });
  t.teardown(() => peer.close());
  const page = await BrowserPeer.open(browser);
  t.teardown(() => page.close());
  peer.on('icecandidate', (c) => void page.addCandidate(c && { candidate: c.candidate!, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex }).catch(() => {}));
  page.onCandidate((c) => void peer.addIceCandidate(c).catch(() => {}));
  const offer = await page.page.evaluate(async () => {
    const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
    pc.addTransceiver('video', { direction: 'recvonly' });
    const o = await pc.createOffer();
    // Swap payload types 96 and 120 so VP8 is no longer where this peer puts it by default: only in
    // the lines that carry payload types (a fingerprint or ufrag may contain "96" too).
    const swap = (pt: string) => (pt === '96' ? '120' : pt === '120' ? '96' : pt);
    const sdp = o.sdp!
      .split('\r\n')
      .map((line) => {
        if (line.startsWith('m=video')) return line.split(' ').map((f, i) => (i > 2 ? swap(f) : f)).join(' ');
        const m = /^(a=(?:rtpmap|fmtp|rtcp-fb):)(\d+)( .*)$/.exec(line);
        if (!m) return line;
        return `${m[1]}${swap(m[2]!)}${m[3]!.replace(/apt=(\d+)/, (_, p: string) => `apt=${swap(p)}`)}`;
      })
      .join('\r\n');
    await pc.setLocalDescription({ type: 'offer', sdp });
    return { type: 'offer' as const, sdp: pc.localDescription!.sdp };
  });
  t.match(offer.sdp, /a=rtpmap:120 VP8\/90000/, 'the browser offers VP8 as 120');
  await peer.setRemoteDescription(offer);
  const answer = await peer.createAnswer();
  t.match(answer.sdp, /a=rtpmap:120 VP8\/90000/, 'the answer keeps 120');
  await peer.setLocalDescription(answer);
  await page.setRemote(answer);
  const stats = await page.waitForFrames(10);
  t.equal(stats.codec, 'video/VP8');
});
