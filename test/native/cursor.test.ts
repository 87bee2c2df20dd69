// The X pointer as data, on a fresh Xvfb, driven by independent X clients: a test client shows cursors
// of known pixels and hotspot (test/fixtures/cursor-client.c), xdotool moves the pointer (XTest). The watcher must report the
// shape exactly, positions while watched, no X request while not, and survive the server's death.
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { XCursorWatcher, type CursorPosition, type CursorShape } from '../../lib/input/cursor.js';
import { startCursorClient } from '../helpers/cursor-client.js';
import { decodePng } from '../helpers/png.js';
import { once } from '../helpers/wait.js';
import { startXvfb } from '../helpers/xvfb.js';

const run = promisify(execFile);

t.test('a cursor another client shows arrives with its size, hotspot and pixels; the PNG decodes to them', async (t) => {
  const x = await startXvfb('640x480x24');
  t.teardown(() => x.kill());
  const watcher = new XCursorWatcher(x.display);
  t.teardown(() => watcher.close());
  await once(watcher, 'shape', 5000); // the cursor showing at start
  const client = await startCursorClient(x.display);
  t.teardown(() => client.kill());

  const next = once<CursorShape>(watcher, 'shape', 5000, (s) => s.xhot === 3 && s.yhot === 5);
  await client.show('a');
  const shape = await next;
  t.same([shape.width, shape.height, shape.xhot, shape.yhot], [16, 16, 3, 5], 'size and hotspot');
  t.ok(shape.visible, 'a cursor with opaque pixels is visible');
  const png = decodePng(Buffer.from(shape.png, 'base64'));
  t.same([png.width, png.height, png.channels], [16, 16, 4], 'an RGBA PNG of the same size');
  const at = (px: number, py: number) => [...png.pixels.subarray((py * 16 + px) * 4, (py * 16 + px) * 4 + 4)];
  t.same(at(2, 2), [0, 0, 0, 255], 'foreground: opaque black');
  t.same(at(12, 2), [255, 255, 255, 255], 'background: opaque white');
  t.same(at(5, 14)[3], 0, 'outside the mask: transparent');
  t.equal(watcher.shape, shape, 'the current shape');

  const watch = once<CursorShape>(watcher, 'shape', 5000, (s) => s.id !== shape.id);
  await client.show('w');
  t.not((await watch).id, shape.id, 'another cursor has another id');
  // Shown again: the same XFixes serial, the cached shape (its PNG made once).
  const again = once<CursorShape>(watcher, 'shape', 5000, (s) => s.id === shape.id);
  await client.show('a');
  t.equal(await again, shape, 'a shape seen before is the cached object');

  const hidden = once<CursorShape>(watcher, 'shape', 5000, (s) => s.id !== shape.id);
  await client.show('h');
  t.equal((await hidden).visible, false, 'a transparent cursor is not visible');
});

t.test('XTest motion: positions while watched, on change only; unwatched: no polling at all', async (t) => {
  const x = await startXvfb('640x480x24');
  t.teardown(() => x.kill());
  const watcher = new XCursorWatcher(x.display);
  t.teardown(() => watcher.close());
  await new Promise((r) => setTimeout(r, 300));
  t.equal(watcher.stats.polls, 0, 'never watched: no QueryPointer');
  t.equal(watcher.position, undefined, 'no position');

  watcher.watch(100);
  await once(watcher, 'position', 5000);
  const moved = once<CursorPosition>(watcher, 'position', 5000, (p) => p.x === 123 && p.y === 321);
  await run('xdotool', ['mousemove', '123', '321'], { env: { ...process.env, DISPLAY: x.display } });
  const position = await moved;
  t.same(position, { x: 123, y: 321, onScreen: true, screenWidth: 640, screenHeight: 480 }, 'the position xdotool set, with the screen size');

  // Standing still: polls go on, events do not.
  let events = 0;
  watcher.on('position', () => events++);
  const before = watcher.stats.polls;
  await new Promise((r) => setTimeout(r, 500));
  t.ok(watcher.stats.polls - before >= 10, `polled while watched (${watcher.stats.polls - before} in 500 ms at 100 Hz)`);
  t.equal(events, 0, 'no event while the pointer stands still');

  watcher.unwatch();
  await new Promise((r) => setTimeout(r, 100)); // the X thread hears it at its next wake-up
  const stopped = watcher.stats.polls;
  await run('xdotool', ['mousemove', '10', '10'], { env: { ...process.env, DISPLAY: x.display } });
  await new Promise((r) => setTimeout(r, 400));
  t.equal(watcher.stats.polls, stopped, 'unwatched: not one QueryPointer more');
  t.equal(events, 0, 'and no position event');
  t.throws(() => watcher.watch(0), RangeError, 'a rate of 0 is refused (unwatch() stops)');
});

t.test('the X server dies: a typed error, the watcher closes, the process goes on', async (t) => {
  const x = await startXvfb('640x480x24');
  const watcher = new XCursorWatcher(x.display);
  watcher.watch();
  const failed = once<{ code: string; message: string }>(watcher, 'error', 10_000);
  await x.kill();
  const error = await failed;
  t.equal(error.code, 'ERR_X_DISPLAY_LOST', error.message);
  await watcher.close();
  await watcher.close();
  t.pass('close() after the loss, twice, resolves');
});

t.test('a display that cannot be opened throws ERR_X_DISPLAY', async (t) => {
  t.throws(() => new XCursorWatcher(':4999'), { code: 'ERR_X_DISPLAY' });
});
