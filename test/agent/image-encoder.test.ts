// NativeImageEncoder on real GStreamer: PNG, JPEG and raw conversions of a known frame, typed failures
// (a missing element, a description that outputs nothing), close() with work queued, and a process
// that exits by itself with an idle, unclosed encoder.
import t from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBinding } from '../../lib/native/binding.js';
import { decodePng } from '../helpers/png.js';
import { decodeJpeg } from '../helpers/jpeg.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const W = 64;
const H = 48;
const CAPS = `video/x-raw,format=RGBA,width=${W},height=${H},framerate=0/1`;

// Left half red, right half blue.
function frame(): Buffer {
  const data = Buffer.alloc(W * H * 4);
  for (let i = 0; i < W * H; i++) data.set((i % W) < W / 2 ? [255, 0, 0, 255] : [0, 0, 255, 255], i * 4);
  return data;
}

t.test('PNG, JPEG and a scaled BGR conversion of a known frame', async (t) => {
  const encoder = new (loadBinding().NativeImageEncoder)();
  t.teardown(() => encoder.close());
  const png = decodePng(await encoder.encode(frame(), CAPS, 'videoconvert ! video/x-raw,format=RGB ! pngenc'));
  t.same([png.width, png.height, png.channels], [W, H, 3], 'an RGB PNG of the frame size');
  t.same([...png.pixels.subarray(0, 3)], [255, 0, 0], 'red on the left, lossless');
  t.same([...png.pixels.subarray((W - 1) * 3, W * 3)], [0, 0, 255], 'blue on the right');

  const jpeg = await decodeJpeg(await encoder.encode(frame(), CAPS, 'videoconvert ! jpegenc quality=95'));
  t.same([jpeg.width, jpeg.height], [W, H], 'a JPEG of the frame size');
  t.ok(jpeg.pixels[(10 * W + 4) * 4]! > 200 && jpeg.pixels[(10 * W + 4) * 4 + 2]! < 60, 'red on the left');

  const bgr = await encoder.encode(frame(), CAPS, 'videoscale ! videoconvert ! video/x-raw,format=BGR,width=32,height=24');
  t.equal(bgr.length, 32 * 3 * 24, 'BGR rows of 96 bytes (already 4-aligned) at the new size');
  t.same([...bgr.subarray(0, 3)], [0, 0, 255], 'BGR order: red is 0,0,255');
});

t.test('failures are typed: a missing element, a description that outputs nothing', async (t) => {
  const encoder = new (loadBinding().NativeImageEncoder)();
  t.teardown(() => encoder.close());
  await t.rejects(encoder.encode(frame(), CAPS, 'videoconvert ! no-such-encoder'), { code: 'ERR_MISSING_PLUGIN', element: 'no-such-encoder' });
  await t.rejects(encoder.encode(frame(), CAPS, 'identity drop-probability=1.0'), { code: 'ERR_PIPELINE', message: /produced nothing/ });
  t.ok((await encoder.encode(frame(), CAPS, 'videoconvert ! pngenc')).length > 0, 'the encoder still works after both');
});

t.test('close() with work queued settles every encode; it is idempotent; encode after it rejects', async (t) => {
  const encoder = new (loadBinding().NativeImageEncoder)();
  const jobs = Array.from({ length: 6 }, () => encoder.encode(frame(), CAPS, 'videoconvert ! pngenc compression-level=9'));
  const first = encoder.close();
  t.equal(encoder.close(), first, 'every close() returns the one promise');
  await first;
  const settled = await Promise.allSettled(jobs);
  t.equal(settled.length, 6, 'every encode settled');
  const rejected = settled.filter((s) => s.status === 'rejected') as PromiseRejectedResult[];
  t.ok(rejected.every((r) => (r.reason as { code?: string }).code === 'ERR_INVALID_STATE'), `${rejected.length} queued ones rejected as closed`);
  await t.rejects(encoder.encode(frame(), CAPS, 'videoconvert ! pngenc'), { code: 'ERR_INVALID_STATE' });
});

t.test('an idle encoder never closed, and one garbage-collected unclosed, do not keep the process alive', async (t) => {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(HERE, 'encoder-idle.ts')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, 30_000);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  t.equal(code, 0, `exited by itself: ${out}`);
  t.match(out, /encoded \d+/);
});

t.test('a worker that exits with an encode in progress: its cleanup closes the encoder', async (t) => {
  const { Worker } = await import('node:worker_threads');
  const addon = path.join(HERE, '..', '..', 'build', 'Release', 'webrtcbin.node');
  const source = `
    const { parentPort } = require('node:worker_threads');
    const b = require(${JSON.stringify(addon)});
    const e = new b.NativeImageEncoder();
    const frame = Buffer.alloc(1920 * 1080 * 4, 77);
    for (let i = 0; i < 4; i++) e.encode(frame, 'video/x-raw,format=RGBA,width=1920,height=1080,framerate=0/1', 'videoconvert ! pngenc compression-level=9');
    parentPort.postMessage('queued');
    setTimeout(() => process.exit(0), 20);
  `;
  const worker = new Worker(source, { eval: true });
  const said = await new Promise((resolve) => worker.once('message', resolve));
  t.equal(said, 'queued');
  const code = await new Promise<number>((resolve) => worker.once('exit', resolve));
  t.equal(code, 0, 'the worker ended while encoding, without a crash or a hang');
});
