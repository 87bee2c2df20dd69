// The damage source reads and converts only what changed (src-native/x11/frame_store.h): its raw I420
// frames, written to files by a tee beside the send pipeline, checked against the X server's own
// pixels converted by videoconvert (the converter the pipelines used before, whole frame). A small
// change reads and converts only its band and the picture is still right everywhere; the pointer,
// drawn on a copy of its band, leaves no trail; a resize still gives whole, right frames.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { waitFor } from '../helpers/wait.js';
import { startXvfb, type Xvfb } from '../helpers/xvfb.js';
import { buildXClient } from '../helpers/x-client.js';
import { readScreen } from '../helpers/screen-error.js';

// The source logs what each frame read and converted; set before GStreamer starts (the import below).
const work = mkdtempSync(path.join(os.tmpdir(), 'webrtcbin-bands-'));
const LOG = path.join(work, 'gst.log');
process.env.GST_DEBUG = 'webrtcbinxdamagesrc:6';
process.env.GST_DEBUG_FILE = LOG;
process.env.GST_DEBUG_NO_COLOR = '1';
t.teardown(() => rmSync(work, { recursive: true, force: true }));

const { WebRtcPeer } = await import('../../lib/index.js');
const { loadBinding } = await import('../../lib/native/binding.js');
const { connectPair } = await import('../helpers/peers.js');

const PAINTER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'paint-rects.c');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The paint-rects client on `display`: send() a command and wait for its "ok". */
async function startPainter(t: Test, display: string) {
  const child = spawn(await buildXClient(PAINTER), [], { env: { ...process.env, DISPLAY: display }, stdio: ['pipe', 'pipe', 'ignore'] });
  t.teardown(() => child.kill('SIGKILL'));
  let acks = 0;
  child.stdout!.on('data', (d: Buffer) => (acks += d.toString().split('ok').length - 1));
  return async (command: string) => {
    const want = acks + 1;
    child.stdin!.write(`${command}\n`);
    await waitFor(`"${command}" drawn`, () => acks >= want, 5000);
  };
}

/** I420 planes of a width × height frame (GStreamer's default strides: rows rounded up to 4 bytes). */
function planes(width: number, height: number) {
  const ys = (width + 3) & ~3;
  const cs = ((width >> 1) + 3) & ~3;
  const ch = height >> 1;
  return { size: ys * height + 2 * cs * ch, ys, cs, ch, u: ys * height, v: ys * height + cs * ch };
}

/** videoconvert's I420 (BT.601, as the send pipelines asked for it) of the X screen as it is now. */
async function reference(display: string): Promise<{ width: number; height: number; i420: Buffer }> {
  const screen = await readScreen(display);
  const bgrx = Buffer.alloc(screen.width * screen.height * 4);
  for (let i = 0; i < screen.width * screen.height; i++) {
    bgrx[i * 4] = screen.rgb[i * 3 + 2]!;
    bgrx[i * 4 + 1] = screen.rgb[i * 3 + 1]!;
    bgrx[i * 4 + 2] = screen.rgb[i * 3]!;
  }
  const encoder = new (loadBinding().NativeImageEncoder)();
  try {
    const caps = `video/x-raw,format=BGRx,width=${screen.width},height=${screen.height},framerate=0/1,pixel-aspect-ratio=1/1`;
    const i420 = await encoder.encode(bgrx, caps, 'videoconvert ! video/x-raw,format=I420,colorimetry=bt601');
    return { width: screen.width, height: screen.height, i420 };
  } finally {
    await encoder.close();
  }
}

/** The largest byte difference between two I420 frames, and where (plane, x, y) it is. */
function compare(a: Buffer, b: Buffer, width: number, height: number) {
  const p = planes(width, height);
  let worst = { diff: 0, where: '' };
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const diff = Math.abs(a[i]! - b[i]!);
    if (diff <= worst.diff) continue;
    const [plane, at, stride] = i < p.u ? ['Y', i, p.ys] : i < p.v ? ['U', i - p.u, p.cs] : ['V', i - p.v, p.cs];
    worst = { diff, where: `${plane} x=${(at as number) % (stride as number)} y=${Math.floor((at as number) / (stride as number))}` };
  }
  return worst;
}

/** The largest Y difference inside a box of the frame (luma only: the pointer's mark). */
function lumaDiffIn(a: Buffer, b: Buffer, width: number, box: { x: number; y: number; w: number; h: number }) {
  const ys = (width + 3) & ~3;
  let worst = 0;
  for (let y = box.y; y < box.y + box.h; y++) {
    for (let x = box.x; x < box.x + box.w; x++) worst = Math.max(worst, Math.abs(a[y * ys + x]! - b[y * ys + x]!));
  }
  return worst;
}

/** A sender whose capture also writes every raw frame it pushes into a folder of its own. */
async function capture(t: Test, x: Xvfb, props: string, size = { width: 320, height: 240 }) {
  const dir = mkdtempSync(path.join(work, 'frames-'));
  const description =
    `webrtcbinxdamagesrc display-name=${x.display} max-fps=60 ${props} ! tee name=t ` +
    `t. ! queue ! multifilesink location=${dir}/f%06d.yuv t. ! queue`;
  const sender = new WebRtcPeer({ source: { kind: 'pipeline', description }, video: { ...size, scale: 'fit' } });
  const receiver = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => Promise.all([sender.close(), receiver.close()]));
  await connectPair(sender, receiver);
  const files = () => readdirSync(dir).filter((f) => f.endsWith('.yuv')).sort();
  return {
    count: () => files().length,
    /** The newest complete frame of `bytes` bytes (multifilesink may be writing the one after). */
    latest: (bytes: number) => {
      for (const f of files().reverse()) {
        const file = path.join(dir, f);
        if (statSync(file).size === bytes) return readFileSync(file);
      }
      return undefined;
    },
  };
}

/** The source's log lines about frames since `from` (bytes into the log). */
function frameLines(from: number): string[] {
  const text = readFileSync(LOG, 'utf8').slice(from);
  return text.split('\n').filter((l) => / frame at .* rows read, .* converted/.test(l));
}
const logSize = () => statSync(LOG).size;

/** Waits until the newest frame matches the screen (videoconvert's conversion of it) within 1. */
async function matchesScreen(t: Test, x: Xvfb, frames: Awaited<ReturnType<typeof capture>>, what: string) {
  const ref = await reference(x.display);
  const p = planes(ref.width, ref.height);
  let worst = { diff: 255, where: 'no frame' };
  await waitFor(what, () => {
    const frame = frames.latest(p.size);
    if (frame) worst = compare(frame, ref.i420, ref.width, ref.height);
    return worst.diff <= 1;
  }, 5000).catch(() => {});
  t.ok(worst.diff <= 1, `${what}: the frame is videoconvert's picture of the screen within 1 (worst ${worst.diff} at ${worst.where})`);
  return ref;
}

t.test('a small change reads and converts only its band, and the picture stays right', async (t) => {
  const x = await startXvfb('320x240x24');
  t.teardown(() => x.kill());
  const paint = await startPainter(t, x.display);
  await paint('grad');
  const frames = await capture(t, x, 'show-pointer=false refresh-ms=0');
  await waitFor('the first frame', () => frames.count() >= 1, 15_000);
  await matchesScreen(t, x, frames, 'the first frame (whole screen converted)');

  // Rows 37-41 (an odd top and height: the bands are 2-row aligned, 36-42).
  const from = logSize();
  await paint('fill 50 37 20 5 ff2010');
  await waitFor('a frame for the change', () => frameLines(from).some((l) => l.includes('change frame')), 5000);
  const line = frameLines(from).find((l) => l.includes('change frame'))!;
  const [, read, converted] = / (\d+) rows read, (\d+) converted/.exec(line)!;
  t.ok(Number(read) > 0 && Number(read) <= 8, `rows read for a 5-row change: ${read} (of 240)`);
  t.ok(Number(converted) > 0 && Number(converted) <= 16, `rows converted (whole 16-row chunks): ${converted} (of 240)`);
  await matchesScreen(t, x, frames, 'after a 20×5 change');

  // Two changes far apart: two bands, the rows between them neither read nor converted.
  const from2 = logSize();
  await paint('fill 10 3 300 4 00ff00');
  await paint('fill 200 200 30 30 0000ff');
  await waitFor('frames for both', () => {
    const rows = frameLines(from2)
      .filter((l) => l.includes('change frame'))
      .map((l) => Number(/ (\d+) converted/.exec(l)![1]));
    return rows.reduce((a, b) => a + b, 0) >= 34;
  }, 5000).catch(() => {});
  const converted2 = frameLines(from2)
    .filter((l) => l.includes('change frame'))
    .map((l) => Number(/ (\d+) converted/.exec(l)![1]));
  const total = converted2.reduce((a, b) => a + b, 0);
  t.ok(total >= 34 && total <= 64, `two changes, ${total} rows converted in ${converted2.length} frame(s) (4 + 30 changed)`);
  await matchesScreen(t, x, frames, 'after two changes far apart');
});

t.test('the pointer is drawn on a copy of its band: moving it leaves no trail', async (t) => {
  const x = await startXvfb('320x240x24');
  t.teardown(() => x.kill());
  const paint = await startPainter(t, x.display);
  await paint('grad');
  await paint('warp 100 100');
  const frames = await capture(t, x, 'show-pointer=true refresh-ms=200');
  await waitFor('the first frame', () => frames.count() >= 1, 15_000);
  const p = planes(320, 240);
  const at = (cx: number, cy: number) => ({ x: Math.max(0, cx - 16), y: Math.max(0, cy - 16), w: 40, h: 40 });
  let ref = await reference(x.display);
  let frame: Buffer | undefined;
  await waitFor('the pointer at 100,100', () => {
    frame = frames.latest(p.size);
    return frame !== undefined && lumaDiffIn(frame, ref.i420, 320, at(100, 100)) > 40;
  }, 5000).catch(() => {});
  t.ok(frame && lumaDiffIn(frame, ref.i420, 320, at(100, 100)) > 40, 'the pointer is drawn at 100,100');

  await paint('warp 250 190');
  ref = await reference(x.display);
  await waitFor('the pointer at 250,190', () => {
    frame = frames.latest(p.size);
    return frame !== undefined && lumaDiffIn(frame, ref.i420, 320, at(250, 190)) > 40;
  }, 5000).catch(() => {});
  t.ok(frame && lumaDiffIn(frame, ref.i420, 320, at(250, 190)) > 40, 'then drawn at 250,190');
  t.ok(frame && lumaDiffIn(frame, ref.i420, 320, at(100, 100)) <= 1, `and 100,100 is the screen again (worst luma difference ${frame && lumaDiffIn(frame, ref.i420, 320, at(100, 100))})`);
  // Everywhere but the pointer's box, the frame is the screen.
  const masked = Buffer.from(frame!);
  for (let y = 174; y < 240; y++) for (let x = 234; x < 320; x++) masked[y * p.ys + x] = ref.i420[y * p.ys + x]!;
  for (let i = p.u; i < p.size; i++) masked[i] = ref.i420[i]!; // chroma: the pointer's box only, checked as luma above
  t.ok(compare(masked, ref.i420, 320, 240).diff <= 1, 'no trail anywhere else');
});

t.test('a screen size change: whole frames of the new size, right', async (t) => {
  const x = await startXvfb('320x240x24');
  t.teardown(() => x.kill());
  const paint = await startPainter(t, x.display);
  await paint('grad');
  const screen = new (loadBinding().NativeXScreen)(x.display);
  t.teardown(() => screen.close());
  const frames = await capture(t, x, 'show-pointer=false refresh-ms=0');
  await waitFor('the first frame', () => frames.count() >= 1, 15_000);
  await matchesScreen(t, x, frames, 'before');
  screen.setSize(256, 192);
  await sleep(200);
  await paint('grad'); // the root is cleared by the resize: paint it again at the new size
  await paint('fill 5 5 20 20 ffffff');
  await matchesScreen(t, x, frames, 'after the resize to 256×192');
});

// show-pointer set while playing (the page drawing the pointer itself turns it off, s11-pointer-auto's
// NativeEncoder.setShowPointer): the next frame shows or hides it, its band converted again, no restart.
t.test('show-pointer set while playing: the next frame shows it, then hides it, leaving the screen as it is', async (t) => {
  const { Streamer } = await import('../../lib/index.js');
  const x = await startXvfb('320x240x24');
  t.teardown(() => x.kill());
  const paint = await startPainter(t, x.display);
  await paint('grad');
  await paint('warp 120 80');
  const dir = mkdtempSync(path.join(work, 'frames-'));
  const description =
    `webrtcbinxdamagesrc display-name=${x.display} max-fps=60 show-pointer=false refresh-ms=200 ! tee name=t ` +
    `t. ! queue ! multifilesink location=${dir}/f%06d.yuv t. ! queue`;
  const streamer = new Streamer({ source: { kind: 'pipeline', description }, video: { width: 320, height: 240, scale: 'fit' } });
  t.teardown(() => streamer.close());
  const native = streamer.native;
  const sender = streamer.createPeer();
  const receiver = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => Promise.all([sender.close(), receiver.close()]));
  await connectPair(sender, receiver);
  const p = planes(320, 240);
  const latest = () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.yuv')).sort().reverse();
    for (const f of files) if (statSync(path.join(dir, f)).size === p.size) return readFileSync(path.join(dir, f));
    return undefined;
  };
  const box = { x: 104, y: 64, w: 40, h: 40 };
  const ref = await reference(x.display);
  let frame: Buffer | undefined;
  await waitFor('frames without the pointer', () => (frame = latest()) !== undefined && compare(frame, ref.i420, 320, 240).diff <= 1, 15_000).catch(() => {});
  t.ok(frame && compare(frame, ref.i420, 320, 240).diff <= 1, 'show-pointer=false: the screen alone');

  t.equal(native.setShowPointer(true), true, 'the source has show-pointer');
  await waitFor('the pointer drawn', () => (frame = latest()) !== undefined && lumaDiffIn(frame, ref.i420, 320, box) > 40, 5000).catch(() => {});
  t.ok(frame && lumaDiffIn(frame, ref.i420, 320, box) > 40, 'turned on while playing: the pointer is drawn at 120,80');

  native.setShowPointer(false);
  await waitFor('the pointer gone', () => (frame = latest()) !== undefined && compare(frame, ref.i420, 320, 240).diff <= 1, 5000).catch(() => {});
  t.ok(frame && compare(frame, ref.i420, 320, 240).diff <= 1, 'turned off again: the screen alone, no trace of it');
});
