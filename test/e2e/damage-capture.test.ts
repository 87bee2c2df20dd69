// A Chromium viewer of a damage-captured X display (source.capture 'damage'): it decodes the first
// frame of a still screen, then sees each change as it happens, for H.264 and VP8. The keyframe
// interval is far longer than the test and the refresh is off, so a change can only show if the viewer
// decodes the delta frame the change produced: no waiting for an IDR (what ximagesrc use-damage=true
// is reported to need, docs/reliability.md).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { publish } from '../../lib/client.js';
import type { VideoCodec } from '../../lib/types.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { launchChromium, waitForViewerFrames } from '../helpers/browser.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { startXvfb } from '../helpers/xvfb.js';

const run = promisify(execFile);
const COLOURS: [string, [number, number, number]][] = [
  ['#ff0000', [255, 0, 0]],
  ['#00ff00', [0, 255, 0]],
  ['#0000ff', [0, 0, 255]],
  ['#ffffff', [255, 255, 255]],
];

t.test('a Chromium viewer of a damage capture sees each change without waiting for a keyframe', async (t) => {
  const x = await startXvfb('640x360x24');
  t.teardown(() => x.kill());
  // Another client stays connected: Xvfb resets when its last client leaves, and a capture that
  // connects during the reset loses its display.
  const { loadBinding } = await import('../../lib/native/binding.js');
  const holder = new (loadBinding().NativeXScreen)(x.display);
  t.teardown(() => holder.close());
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const browser = await launchChromium();
  t.teardown(() => browser.close());

  for (const codec of ['h264', 'vp8'] as VideoCodec[]) {
    await t.test(codec, async (t) => {
      const session = `damage-${codec}`;
      const publisher = publish({
        url: daemon.url,
        session,
        token: mintToken({ secret: SECRET, session, role: 'publisher' }),
        source: { kind: 'x11', display: x.display, showPointer: false, capture: 'damage', refreshMs: 0 },
        // fps 240: a keyframe every 480 frames (key-int-max = 2 × fps), never reached here.
        video: { codec, width: 640, height: 360, fps: 240 },
        input: false,
      });
      t.teardown(() => publisher.close());
      const page = await browser.newPage({ viewport: { width: 640, height: 360 } });
      t.teardown(() => page.close());
      await page.goto(`${daemon.http}/?session=${session}&token=${mintToken({ secret: SECRET, session, role: 'viewer' })}`);
      await waitForViewerFrames(page, 1, 20_000);
      const centre = () =>
        page.evaluate(() => {
          const video = document.getElementById('video') as HTMLVideoElement;
          const canvas = document.createElement('canvas');
          canvas.width = video.videoWidth;
          canvas.height = video.videoHeight;
          const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
          ctx.drawImage(video, 0, 0);
          return [...ctx.getImageData(video.videoWidth >> 1, video.videoHeight >> 1, 1, 1).data.slice(0, 3)];
        });
      const keyframes = () =>
        page.evaluate(async () => {
          const pc = (window as unknown as { __viewer?: { pc: RTCPeerConnection } }).__viewer?.pc;
          if (!pc) return undefined;
          for (const s of (await pc.getStats()).values()) if (s.type === 'inbound-rtp' && s.kind === 'video') return s.keyFramesDecoded as number;
          return undefined;
        });
      const keyframesBefore = await keyframes();
      for (const [hex, want] of COLOURS) {
        const started = Date.now();
        await run('xsetroot', ['-display', x.display, '-solid', hex]);
        let got: number[] = [];
        while (Date.now() - started < 5000) {
          got = await centre();
          if (got.every((v, i) => Math.abs(v - want[i]!) < 40)) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        t.ok(got.every((v, i) => Math.abs(v - want[i]!) < 40), `${hex} shown after ${Date.now() - started} ms: rgb(${got.join(',')})`);
      }
      const keyframesAfter = await keyframes();
      if (keyframesBefore !== undefined && keyframesAfter !== undefined) {
        t.equal(keyframesAfter, keyframesBefore, `no keyframe was needed for the changes (${keyframesAfter} decoded in all)`);
      } else t.comment('the page exposes no RTCPeerConnection: keyframe count not checked');
    });
  }
});
