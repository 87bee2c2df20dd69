// The damage capture (source.capture 'damage', src-native/x11/damage_src.cc) on a real Xvfb: one frame
// at start and none on a still screen, a frame as soon as the screen changes (showing the change), the
// refresh, max-fps coalescing a storm of changes, a region, the pointer, a dying X server, and a stop
// that does not wait for damage.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { Streamer, WebRtcPeer, XDisplayLostError } from '../../lib/index.js';
import type { SourceOptions } from '../../lib/types.js';
import { connectPair } from '../helpers/peers.js';
import { once, waitFor } from '../helpers/wait.js';
import { startXvfb, type Xvfb } from '../helpers/xvfb.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Frame {
  width: number;
  height: number;
  stride: number;
  data: Buffer;
}

/** The root window's colour (xsetroot paints it and clears it: one damage event). */
const paint = (x: Xvfb, colour: string) => run('xsetroot', ['-display', x.display, '-solid', colour]);

const pixel = (f: Frame, px: number, py: number) => {
  const i = py * f.stride + px * 4;
  return [f.data[i]!, f.data[i + 1]!, f.data[i + 2]!];
};

async function stream(t: Test, x: Xvfb, source: Partial<Extract<SourceOptions, { kind: 'x11' }>>, size = { width: 320, height: 240 }) {
  const sender = new WebRtcPeer({ source: { kind: 'x11', display: x.display, capture: 'damage', showPointer: false, ...source }, video: { ...size } });
  const receiver = new WebRtcPeer({ video: { receive: true, format: 'RGBA' } });
  t.teardown(() => Promise.all([sender.close(), receiver.close()]));
  const seen = { count: 0, last: undefined as Frame | undefined };
  receiver.on('frame', (f: Frame) => {
    seen.count++;
    seen.last = f;
  });
  await connectPair(sender, receiver);
  return { sender, receiver, seen };
}

t.test('a still screen sends one frame and then nothing; a change is sent at once and shows', async (t) => {
  const x = await startXvfb('640x480x24');
  t.teardown(() => x.kill());
  const { receiver, seen } = await stream(t, x, { refreshMs: 0 });
  await waitFor('the first frame', () => receiver.framesDecoded >= 1, 15_000);
  await sleep(500); // the connection settles (a keyframe request may repeat the first frame)
  const settled = receiver.framesDecoded;
  await sleep(2000);
  t.equal(receiver.framesDecoded, settled, `no frame in 2 s of a still screen (${settled} in all)`);

  const started = performance.now();
  await paint(x, '#ff0000');
  await waitFor('the red frame', () => seen.last !== undefined && pixel(seen.last, 160, 120)[0]! > 200, 5000);
  const took = performance.now() - started;
  const [r, g, b] = pixel(seen.last!, 160, 120);
  t.ok(r > 200 && g < 40 && b < 40, `the frame shows the change: rgb(${r},${g},${b})`);
  // Generous on a loaded 2-core machine; the figures are in docs/benchmarks.md.
  t.ok(took < 1000, `a frame ${Math.round(took)} ms after a change on a screen still for 2 s`);
  t.ok(receiver.framesDecoded - settled <= 3, `${receiver.framesDecoded - settled} frames for one change`);
  // Still again, then a change: its first packet comes seconds after the last one. The receiver's
  // jitter buffer once declared it lost in advance and dropped it, and decoded nothing after it.
  for (const [colour, channel] of [['#0000ff', 2], ['#00ff00', 1]] as const) {
    await sleep(2000);
    await paint(x, colour);
    await waitFor(`the ${colour} frame`, () => seen.last !== undefined && pixel(seen.last, 160, 120)[channel]! > 200, 5000).catch(() => {});
    t.ok(seen.last && pixel(seen.last, 160, 120)[channel]! > 200, `after 2 s still, the change to ${colour} is decoded: rgb(${seen.last && pixel(seen.last, 160, 120).join(',')})`);
  }
});

// Our own encoder (no shared encoder): the first frame left while DTLS was being set up, and a still
// screen sends no other. The connection's keyframe request asks the capture for a fresh frame, so a
// viewer that missed the first (a loaded machine: CI once saw no frame in 15 s) is not left black.
t.test('a direct peer on a still screen: the connection coming up brings a second, fresh frame', async (t) => {
  const x = await startXvfb('320x240x24');
  t.teardown(() => x.kill());
  const { receiver } = await stream(t, x, { refreshMs: 0 });
  await waitFor('two frames of a still screen', () => receiver.framesDecoded >= 2, 10_000).catch(() => {});
  t.ok(receiver.framesDecoded >= 2, `the first frame and the one the connection asked for (${receiver.framesDecoded})`);
  const settled = receiver.framesDecoded;
  await sleep(1500);
  t.equal(receiver.framesDecoded, settled, 'and then nothing: one request, once');
});

t.test('a viewer joining a shared encoder on a still screen gets a frame at once (no refresh, no change)', async (t) => {
  const x = await startXvfb('320x240x24');
  t.teardown(() => x.kill());
  const streamer = new Streamer({ source: { kind: 'x11', display: x.display, capture: 'damage', refreshMs: 0, showPointer: false }, video: { width: 320, height: 240 } });
  t.teardown(() => streamer.close());
  await sleep(1500); // the capture's first frame went nowhere: nobody watched
  const sender = streamer.createPeer();
  const receiver = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => Promise.all([sender.close(), receiver.close()]));
  const started = performance.now();
  await connectPair(sender, receiver);
  // The keyframe request of the join asks the capture for a frame (kFrameNowEvent).
  await waitFor('a first frame', () => receiver.framesDecoded >= 1, 5000);
  t.pass(`a frame ${Math.round(performance.now() - started)} ms after the join began`);
});

// A keyframe under the one-frame rate budget (issue 18) is a smear on a detailed screen; the shared
// encoder's refinement (src-native/encoder/shared_encoder.h) sends P-frames of the still screen after it.
// Without refinement the picture 500 ms after the first frame was the keyframe's (H.264 PSNR
// against the screen here, 12–18 dB; docs/benchmarks.md "Keyframe refinement"), with it 26–30 dB.
const SHARP_DB = 23;

t.test('a viewer joining a still, detailed screen sees it sharp within 500 ms of its first frame', async (t) => {
  const { readScreen, showText, frameError } = await import('../helpers/screen-error.js');
  const size = { width: 1280, height: 720 };
  const x = await startXvfb(`${size.width}x${size.height}x24`);
  t.teardown(() => x.kill());
  const endText = await showText(x.display, size.width, size.height);
  t.teardown(endText);
  const screen = await readScreen(x.display);
  const streamer = new Streamer({ source: { kind: 'x11', display: x.display, capture: 'damage', showPointer: false }, video: { ...size, codec: 'h264' } });
  t.teardown(() => streamer.close());
  await sleep(1000); // warm and idle: the prime went nowhere
  const sender = streamer.createPeer();
  const receiver = new WebRtcPeer({ video: { receive: true, format: 'RGBA' } });
  t.teardown(() => Promise.all([sender.close(), receiver.close()]));
  let first: { at: number; frame: Frame } | undefined;
  let last: Frame | undefined;
  receiver.on('frame', (f: Frame) => {
    first ??= { at: performance.now(), frame: f };
    last = f;
  });
  await connectPair(sender, receiver);
  await waitFor('the first frame', () => first !== undefined, 15_000);
  await sleep(500 - (performance.now() - first!.at));
  const before = frameError(first!.frame, screen, 2);
  const after = frameError(last!, screen, 2);
  t.ok(after.psnr >= SHARP_DB, `500 ms after the first frame: ${after.psnr.toFixed(1)} dB (mean error ${after.mae.toFixed(1)}), the first frame ${before.psnr.toFixed(1)} dB; sharp from ${SHARP_DB} dB`);
});

t.test('refreshMs repeats the last frame on a still screen', async (t) => {
  const x = await startXvfb('320x240x24');
  t.teardown(() => x.kill());
  const { receiver } = await stream(t, x, { refreshMs: 200 });
  await waitFor('the first frame', () => receiver.framesDecoded >= 1, 15_000);
  const from = receiver.framesDecoded;
  await sleep(2000);
  const n = receiver.framesDecoded - from;
  t.ok(n >= 5 && n <= 14, `${n} frames in 2 s at one every 200 ms`);
});

// xterm printing `yes` damages the screen without pause: the frame rate is maxFps's, not the storm's.
async function stormFrames(t: Test, maxFps: number): Promise<number> {
  const { spawn } = await import('node:child_process');
  const x = await startXvfb('320x240x24');
  t.teardown(() => x.kill());
  const { receiver } = await stream(t, x, { refreshMs: 0, maxFps });
  await waitFor('the first frame', () => receiver.framesDecoded >= 1, 15_000);
  const storm = spawn('xterm', ['-display', x.display, '-geometry', '40x12+0+0', '-e', 'yes'], { stdio: 'ignore' });
  t.teardown(() => storm.kill('SIGKILL'));
  await waitFor('the storm to begin', () => receiver.framesDecoded >= 3, 15_000);
  const from = receiver.framesDecoded;
  await sleep(2000);
  return receiver.framesDecoded - from;
}

t.test('maxFps coalesces a storm of changes', async (t) => {
  let slow = 0;
  await t.test('at maxFps 4', async (t) => {
    slow = await stormFrames(t, 4);
    t.ok(slow >= 4 && slow <= 10, `${slow} frames in 2 s of constant change at maxFps 4`);
  });
  await t.test('at maxFps 20', async (t) => {
    const fast = await stormFrames(t, 20);
    // The storm (xterm under load) may itself run below 20 changes a second: more frames is the point.
    t.ok(fast >= 1.5 * slow, `${fast} frames in 2 s at maxFps 20 against ${slow} at 4: the limit, not the storm, set the slow rate`);
  });
});

t.test('a region: only that rectangle, at its own size', async (t) => {
  const { startPainter } = await import('../helpers/painter.js');
  const x = await startXvfb('800x600x24');
  t.teardown(() => x.kill());
  // 2×2 cells of 400×300: red, green / blue, white. The region sits inside the blue cell.
  const painter = await startPainter(x.display, 2, 2, ['ff0000', '00ff00', '0000ff', 'ffffff']);
  t.teardown(() => painter.kill());
  const { seen } = await stream(t, x, { region: { x: 40, y: 340, width: 320, height: 240 } });
  await waitFor('a frame', () => seen.last !== undefined, 15_000);
  await sleep(300);
  const f = seen.last!;
  t.same([f.width, f.height], [320, 240], 'the region size');
  for (const [px, py] of [[10, 10], [160, 120], [310, 230]] as const) {
    const [r, g, b] = pixel(f, px, py);
    t.ok(r < 40 && g < 40 && b > 200, `blue at ${px},${py}: rgb(${r},${g},${b})`);
  }
});

t.test('showPointer draws the pointer, and a pointer move alone makes a frame', async (t) => {
  const { InputInjector } = await import('../../lib/input/injector.js');
  const x = await startXvfb('320x240x24');
  t.teardown(() => x.kill());
  // The injector's connection first: Xvfb resets (the root's colour too) when its last client leaves.
  const injector = new InputInjector(x.display);
  t.teardown(() => injector.close());
  await paint(x, '#ffffff');
  injector.apply({ t: 'move', x: 0.25, y: 0.25 });
  const { receiver, seen } = await stream(t, x, { showPointer: true, refreshMs: 0 });
  await waitFor('the first frame', () => receiver.framesDecoded >= 1, 15_000);
  await sleep(500);
  const darkNear = (f: Frame, cx: number, cy: number) => {
    let dark = 0;
    for (let dy = -8; dy <= 8; dy++) for (let dx = -8; dx <= 8; dx++) if (pixel(f, cx + dx, cy + dy)[0]! < 100) dark++;
    return dark;
  };
  t.ok(darkNear(seen.last!, 80, 60) > 5, `the pointer is drawn at 80,60 (${darkNear(seen.last!, 80, 60)} dark pixels on white)`);
  const before = receiver.framesDecoded;
  injector.apply({ t: 'move', x: 0.75, y: 0.75 });
  await waitFor('a frame after the pointer moved', () => receiver.framesDecoded > before && darkNear(seen.last!, 240, 180) > 5, 5000);
  t.equal(darkNear(seen.last!, 80, 60), 0, 'and no longer where it was');
});

t.test('a pointer moved by another X client (not our input) is still drawn', async (t) => {
  // xdotool is an X client of its own: no nudge from NativeXInput, so the slow poll finds the move.
  const x = await startXvfb('320x240x24');
  t.teardown(() => x.kill());
  const xdotool = (...args: string[]) => run('xdotool', args, { env: { ...process.env, DISPLAY: x.display } });
  // The capture's connection first: Xvfb resets (the root's colour too) when its last client leaves.
  const { receiver, seen } = await stream(t, x, { showPointer: true, refreshMs: 0 });
  await waitFor('the first frame', () => receiver.framesDecoded >= 1, 15_000);
  await paint(x, '#ffffff');
  const dark = (f: Frame, cx: number, cy: number) => {
    let n = 0;
    for (let dy = -8; dy <= 8; dy++) for (let dx = -8; dx <= 8; dx++) if (pixel(f, cx + dx, cy + dy)[0]! < 100) n++;
    return n;
  };
  await xdotool('mousemove', '80', '60');
  await waitFor('a frame with the pointer at 80,60', () => dark(seen.last!, 80, 60) > 5, 5000);
  await sleep(1500); // past the fast poll that followed that move: the pointer has been still
  const before = receiver.framesDecoded;
  await xdotool('mousemove', '240', '180');
  await waitFor('a frame with the pointer at 240,180', () => receiver.framesDecoded > before && dark(seen.last!, 240, 180) > 5, 5000);
  t.equal(dark(seen.last!, 80, 60), 0, 'and no longer at 80,60');
});

t.test('a screen size change (RandR): the capture follows it at once', async (t) => {
  const { loadBinding } = await import('../../lib/native/binding.js');
  const x = await startXvfb('640x480x24');
  t.teardown(() => x.kill());
  const screen = new (loadBinding().NativeXScreen)(x.display);
  t.teardown(() => screen.close());
  const sender = new WebRtcPeer({ source: { kind: 'x11', display: x.display, capture: 'damage', showPointer: false, refreshMs: 0 }, video: { width: 1280, height: 720, scale: 'fit' } });
  const receiver = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => Promise.all([sender.close(), receiver.close()]));
  let last: Frame | undefined;
  receiver.on('frame', (f: Frame) => (last = f));
  await connectPair(sender, receiver);
  await waitFor('a frame', () => last !== undefined, 15_000);
  t.same([last!.width, last!.height], [640, 480], 'the screen size');
  // Xvfb grows no larger than it started: smaller.
  const size = screen.setSize(320, 240);
  t.same([size.width, size.height], [320, 240], 'resized');
  await waitFor('a frame of the new size', () => last!.width === 320 && last!.height === 240, 5000);
  t.pass('frames of 320×240 follow');
});

t.test('an X server that dies: XDisplayLostError naming the element, and a close that returns', async (t) => {
  const x = await startXvfb('320x240x24');
  const { sender, receiver } = await stream(t, x, { refreshMs: 0 });
  await waitFor('a frame', () => receiver.framesDecoded >= 1, 15_000);
  const lost = once<Error>(sender, 'error', 10_000);
  await x.kill();
  const error = await lost;
  t.ok(error instanceof XDisplayLostError, `a typed error: ${error.constructor.name}`);
  t.match((error as XDisplayLostError).element, /^webrtcbinxdamagesrc/, 'names our capture element');
  t.match(error.message, /is gone/);
  const started = performance.now();
  await sender.close();
  t.ok(performance.now() - started < 3000, 'closed promptly');
});

t.test('stop while waiting for damage returns at once', async (t) => {
  const x = await startXvfb('320x240x24');
  t.teardown(() => x.kill());
  const { sender, receiver } = await stream(t, x, { refreshMs: 0 });
  await waitFor('a frame', () => receiver.framesDecoded >= 1, 15_000);
  await sleep(500); // now blocked in poll() for an X event that never comes
  const started = performance.now();
  await sender.close();
  const took = performance.now() - started;
  t.ok(took < 1500, `closed in ${Math.round(took)} ms`);
});

t.test('a display that cannot be opened: ERR_X_DISPLAY, as for ximagesrc', async (t) => {
  t.throws(() => new WebRtcPeer({ source: { kind: 'x11', display: ':4242', capture: 'damage' }, video: {} }), { code: 'ERR_X_DISPLAY' });
});

t.test('the element is built into the addon: always present, no package to name', async (t) => {
  const { elementsPresent } = await import('../../lib/native/elements.js');
  const { packageFor } = await import('../../lib/native/packages.js');
  t.equal(elementsPresent(['webrtcbinxdamagesrc']).get('webrtcbinxdamagesrc'), true, 'registered at load');
  t.equal(packageFor('webrtcbinxdamagesrc'), undefined, 'no Debian package provides it');
});

t.test('the options are checked', async (t) => {
  const x11 = (extra: object) => () => new WebRtcPeer({ source: { kind: 'x11', display: ':1', ...extra } as SourceOptions });
  t.throws(x11({ capture: 'sometimes' }), /source\.capture must be "damage" or "fixed"/);
  t.throws(x11({ capture: 'damage', maxFps: 0 }), /source\.maxFps/);
  t.throws(x11({ capture: 'damage', refreshMs: -1 }), /source\.refreshMs/);
  t.throws(x11({ capture: 'fixed', maxFps: 30 }), /apply to capture "damage" only/);
  t.throws(x11({ capture: 'damage', maxfps: 30 }), /unknown option 'source\.maxfps'/);
});
