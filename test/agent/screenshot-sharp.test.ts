// A screenshot right after joining (what `webrtcbin shot` does: view(), ready, screenshot()) of a still,
// detailed screen under damage capture is the screen, not the join's keyframe smeared by the one-frame
// rate budget: the publisher refines its keyframe, and screenshot() waits for that within half a second
// of the first frame. Measured against xwd's read of the X screen (test/helpers/screen-error.ts).
import t from 'tap';
import { publish, view } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { frameError, readScreen, showText } from '../helpers/screen-error.js';
import { startXvfb } from '../helpers/xvfb.js';

// Without refinement: 16 dB (the keyframe, or the 1 s refresh's one P-frame over it); with refinement but
// without the wait, 16 dB too (the first refinement frame); with both 26–30 dB (docs/benchmarks.md,
// "Keyframe refinement").
const SHARP_DB = 23;

t.test('a screenshot taken as soon as the view is ready is sharp (damage capture, still screen of text)', async (t) => {
  const size = { width: 1280, height: 720 };
  const x = await startXvfb(`${size.width}x${size.height}x24`);
  t.teardown(() => x.kill());
  t.teardown(await showText(x.display, size.width, size.height));
  const screen = await readScreen(x.display);
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const session = 'sharp-shot';
  const publisher = publish({
    url: daemon.url,
    session,
    token: mintToken({ secret: SECRET, session, role: 'publisher' }),
    source: { kind: 'x11', display: x.display, capture: 'damage', showPointer: false },
    video: size,
  });
  t.teardown(() => publisher.close());
  await new Promise((r) => setTimeout(r, 1500)); // warm and idle: the screen still, nothing encoded

  const v = view({ url: daemon.url, session, token: mintToken({ secret: SECRET, session, role: 'viewer' }) });
  t.teardown(() => v.close());
  await v.ready;
  const started = performance.now();
  const raw = await v.screenshot({ format: 'raw' });
  const took = performance.now() - started;
  const e = frameError({ width: v.width, height: v.height, stride: v.width * 4, data: raw }, screen, 2);
  t.ok(e.psnr >= SHARP_DB, `the screenshot against the screen: ${e.psnr.toFixed(1)} dB (mean error ${e.mae.toFixed(1)}); sharp from ${SHARP_DB} dB`);
  t.ok(took < 1500, `taken in ${Math.round(took)} ms (the wait for refinement is bounded by 500 ms after the first frame)`);
});
