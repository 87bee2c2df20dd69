// The relay into a real Janus VideoRoom: one publisher (a test pattern, no X needed) pushes its stream
// once; a headless Chromium and our own receiving peer subscribe through Janus and decode frames.
import t from 'tap';
import { WebRtcPeer } from '../../lib/index.js';
import { relay } from '../../lib/sfu/relay.js';
import { JanusRelay } from '../../lib/sfu/janus-relay.js';
import type { JanusRelayError } from '../../lib/sfu/relay-error.js';
import { BrowserPeer, launchChromium } from '../helpers/browser.js';
import { peerAnswerer, startJanus, subscribe } from '../helpers/janus.js';
import { waitFor } from '../helpers/wait.js';

const janus = await startJanus();
t.teardown(() => janus.stop());

async function published(r: ReturnType<typeof relay>, timeoutMs = 20_000): Promise<number | string> {
  if (r.janus.feed !== undefined) return r.janus.feed;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not published within ${timeoutMs} ms; Janus log: ${janus.log().slice(-2000)}`)), timeoutMs);
    r.once('published', ({ feed }) => {
      clearTimeout(timer);
      resolve(feed);
    });
  });
}

t.test('Chromium and our own peer decode the relayed stream through Janus (H.264)', async (t) => {
  const r = relay({ janus: janus.url, room: 1001, source: { kind: 'test' }, video: { width: 320, height: 240, fps: 30 } });
  const errors: Error[] = [];
  r.on('error', (e) => errors.push(e));
  t.teardown(() => r.close());
  const feed = await published(r);

  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await BrowserPeer.open(browser);
  const viaBrowser = await subscribe(janus.url, 1001, feed, {
    answer: (offer) => page.answer(offer),
    onCandidate: (listener) => page.onCandidate(listener),
    addCandidate: (c) => page.addCandidate(c),
  });
  t.teardown(() => viaBrowser.close());
  const inbound = await page.waitForFrames(20, 20_000);
  t.ok(inbound.framesDecoded >= 20, `Chromium decoded ${inbound.framesDecoded} frames through Janus`);
  t.match(inbound.codec ?? '', /H264/i, 'as H.264');
  t.equal(inbound.frameWidth, 320);

  const receiver = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => receiver.close());
  let frames = 0;
  receiver.on('frame', () => frames++);
  const viaNode = await subscribe(janus.url, 1001, feed, peerAnswerer(receiver));
  t.teardown(() => viaNode.close());
  // A subscriber that joins late decodes only after a keyframe: Janus forwards its PLI, our shared
  // encoder answers it (the room asks no keyframes of its own: fir_freq 0).
  await waitFor("20 frames at our peer", () => frames >= 20, 20_000);
  t.ok(frames >= 20, `our own peer decoded ${frames} frames through Janus`);
  let pli = 0;
  for (const stat of (await r.janus.peer!.getStats()).values()) if (stat.type === 'outbound-rtp') pli += Number(stat.pliCount ?? 0);
  t.ok(pli >= 1, `Janus forwarded its subscribers' keyframe requests to the relay (${pli} PLI)`);
  t.same(errors, [], 'no relay error');
});

t.test('VP8 when chosen: the room is created for VP8 and our peer decodes it through Janus', async (t) => {
  const r = relay({ janus: janus.url, room: 1002, source: { kind: 'test' }, video: { codec: 'vp8', width: 320, height: 240, fps: 30 } });
  t.teardown(() => r.close());
  const feed = await published(r);
  t.match(r.janus.peer!.localDescription!.sdp, /a=rtpmap:\d+ VP8\/90000/, 'the relay offered VP8');
  const receiver = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => receiver.close());
  let frames = 0;
  receiver.on('frame', () => frames++);
  const sub = await subscribe(janus.url, 1002, feed, peerAnswerer(receiver));
  t.teardown(() => sub.close());
  await waitFor('20 VP8 frames at our peer', () => frames >= 20, 20_000);
  t.match(receiver.remoteDescription!.sdp, /a=rtpmap:\d+ VP8\/90000/, 'Janus offered its subscriber VP8');
  await r.close();
  await r.close(); // idempotent
  t.equal(r.janus.published, false, 'no longer published after close()');
});

t.test('a publication Janus gets no video from is not "published": reported and started over', async (t) => {
  // A peer with a data channel only: ICE and DTLS come up (webrtcup), but no video ever reaches Janus.
  const peers: WebRtcPeer[] = [];
  const r = new JanusRelay({
    janus: janus.url,
    room: 1003,
    codec: 'h264',
    backoff: { initialMs: 60_000 },
    createPeer: () => {
      const peer = new WebRtcPeer({});
      peer.createDataChannel('nothing');
      peers.push(peer);
      return peer;
    },
  });
  t.teardown(() => r.close());
  let published = false;
  r.on('published', () => (published = true));
  const error = await new Promise<JanusRelayError>((resolve) => r.once('error', resolve));
  t.equal(error.reason, 'media-failed');
  t.match(error.message, /no video/);
  t.ok(error.retryInMs !== undefined && error.retryInMs > 0, 'and it will try again');
  t.notOk(published, 'never reported as published');
  t.equal(peers[0]!.closed, true, 'the silent peer was closed');
});
