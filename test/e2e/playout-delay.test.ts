// publish() asks viewers to render each frame as soon as it is decoded (the playout-delay header
// extension) unless it also sends audio: Chromium accepts the extension in its answer (the time its
// jitter buffer then holds a frame is a benchmark figure, printed here).
import t from 'tap';
import { publish } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { launchChromium, waitForViewerFrames } from '../helpers/browser.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';

const URI = 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay';

t.test('playout-delay: on by default without audio, off with audio', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const token = (session: string, role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session, role });

  const watch = async (session: string, audio: boolean) => {
    const publisher = publish({ url: daemon.url, session, token: token(session, 'publisher'), source: { kind: 'test', pattern: 'ball' }, video: { width: 320, height: 240 }, ...(audio ? { audio: { source: 'test' as const } } : {}) });
    t.teardown(() => publisher.close());
    const page = await browser.newPage();
    await page.goto(`${daemon.http}/?session=${session}&token=${token(session, 'viewer')}`);
    await waitForViewerFrames(page, 61, 30_000);
    const result = await page.evaluate(async (uri) => {
      const pc = (window as unknown as { __viewer: { pc: RTCPeerConnection } }).__viewer.pc;
      const answer = pc.currentLocalDescription?.sdp ?? '';
      const video = answer.split(/\r\n(?=m=)/).find((s) => s.startsWith('m=video')) ?? '';
      let perFrameMs = -1;
      (await pc.getStats()).forEach((s: Record<string, unknown>) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') perFrameMs = (1000 * (s.jitterBufferDelay as number)) / (s.jitterBufferEmittedCount as number);
      });
      return { accepted: video.includes(uri), perFrameMs };
    }, URI);
    await page.close();
    await publisher.close();
    return result;
  };

  const lean = await watch('lean', false);
  t.ok(lean.accepted, 'without audio the viewer accepted playout-delay');
  // How long Chromium then holds a frame is a figure, not a behaviour: it follows the host's load (1–10 ms
  // seen on 2 busy cores, ~5.5 without the extension) and is measured in bench/, interleaved; here it is printed.
  t.comment(`Chromium's jitter buffer held a frame ${lean.perFrameMs.toFixed(2)} ms on average`);
  t.ok(lean.perFrameMs >= 0, 'the viewer decoded through its jitter buffer');
  const withAudio = await watch('av', true);
  t.notOk(withAudio.accepted, 'with audio it is not offered (lip sync keeps the buffer)');
  t.throws(() => publish({ url: daemon.url, session: 'x', token: token('x', 'publisher'), source: { kind: 'test' }, playoutDelay: { minMs: 5, maxMs: 1 } }), /playoutDelay must be/);
});
