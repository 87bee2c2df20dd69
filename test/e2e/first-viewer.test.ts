// A warm first viewer: publish() starts its encoder before anyone joins, learns the encoded caps from one
// prime frame and then encodes nothing while nobody watches; the first Chromium viewer's offer carries
// the codec's parameters without waiting for the encoder, its frames decode, and after the last viewer
// leaves the encoder idles again, ready for the next one.
import t from 'tap';
import { publish } from '../../lib/client.js';
import { defaultDesktopCodec } from '../../lib/native/elements.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import type { Logger } from '../../lib/signaling/client.js';
import { launchChromium, waitForViewerFrames } from '../helpers/browser.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('warm publish(): the first viewer is offered at once, nothing is encoded for nobody', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const token = (role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session: 'warm', role });
  const codec = defaultDesktopCodec();

  // What the encoder had encoded when each offer left (the publisher logs 'description sent').
  const encodedAtOffer: number[] = [];
  const noop = () => {};
  const logger: Logger = {
    info: noop, warn: noop, error: noop,
    debug: (obj, msg) => {
      if (msg === 'publisher: description sent' && (obj as { type?: string }).type === 'offer') encodedAtOffer.push(publisher.encoders.get(codec)?.stats.framesEncoded ?? -1);
    },
  };
  // A moving picture at one frame a second: after the prime the next frame is a second away, so an
  // offer that waited for the encoder would leave after it.
  const publisher = publish({ url: daemon.url, session: 'warm', token: token('publisher'), source: { kind: 'test', pattern: 'ball' }, video: { width: 320, height: 240, fps: 1 }, logger });
  t.teardown(() => publisher.close());

  t.same([...publisher.encoders.keys()], [codec], `the ${codec} encoder runs before any viewer`);
  await waitFor('the encoded caps', () => publisher.encoders.get(codec)?.stats.capsKnown === true, 10_000);
  await sleep(2500);
  t.match(publisher.encoders.get(codec)?.stats, { framesEncoded: 1, subscribers: 0, capsKnown: true }, 'warm and idle: the prime frame only, though the ball moves');

  const open = async () => {
    const page = await browser.newPage();
    await page.goto(`${daemon.http}/?session=warm&token=${token('viewer')}`);
    return page;
  };
  const first = await open();
  await waitForViewerFrames(first, 2, 30_000);
  t.same(encodedAtOffer, [1], 'the offer left before the encoder encoded anything for this viewer');
  const offer = await first.evaluate(() => (window as unknown as { __viewer: { pc: RTCPeerConnection } }).__viewer.pc.currentRemoteDescription?.sdp ?? '');
  t.match(offer, /\r\na=ssrc:\d+ /, 'the offer names its SSRC (the payloader had its caps)');
  if (codec === 'h264') t.match(offer, /a=fmtp:\d+ [^\r]*profile-level-id=42e0/, 'and the H.264 parameters');
  else t.match(offer, /a=rtpmap:\d+ VP8\/90000/, 'and VP8');
  t.equal(publisher.encoders.get(codec)?.stats.subscribers, 1, 'the viewer is fed by the warm encoder');

  await first.close();
  await waitFor('the viewer to leave', () => publisher.viewers === 0, 15_000);
  await waitFor('the encoder to lose its subscriber', () => publisher.encoders.get(codec)?.stats.subscribers === 0, 10_000);
  t.same([...publisher.encoders.keys()], [codec], 'the last viewer gone, the encoder stays (warm)');
  const idle = publisher.encoders.get(codec)!.stats.framesEncoded;
  await sleep(2500);
  t.equal(publisher.encoders.get(codec)!.stats.framesEncoded, idle, 'and encodes nothing again');

  const second = await open();
  await waitForViewerFrames(second, 2, 30_000);
  t.equal(encodedAtOffer.length, 2, 'a second first viewer');
  // The capture paused with at most one frame past the encoder, held in the sink: it is counted when
  // the capture resumes for this viewer, but it was encoded for the one before.
  t.ok(encodedAtOffer[1]! <= idle + 1, `offered before anything was encoded for it either (${encodedAtOffer[1]} at the offer, ${idle} idle)`);
  await second.close();
  await publisher.close();
  t.equal(publisher.encoders.size, 0, 'close() closes the warm encoder');
});

t.test('warm: false starts the encoder with the first viewer, as before', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session: 'cold', token: mintToken({ secret: SECRET, session: 'cold', role: 'publisher' }), source: { kind: 'test' }, video: { width: 160, height: 120 }, warm: false });
  t.teardown(() => publisher.close());
  await sleep(500);
  t.equal(publisher.encoders.size, 0, 'no encoder before a viewer');
  t.equal(publisher.encoderStats, undefined);
});
