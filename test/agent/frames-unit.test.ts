// The pure parts of the view: the latest-frame iterator never queues, and the change test's threshold
// sits between a codec's noise and one typed character.
import t from 'tap';
import { LatestFrame } from '../../lib/agent/latest-frame.js';
import { BLOCK, LUMA_THRESHOLD, changedBlocks, signatureOf } from '../../lib/agent/frame-diff.js';
import type { Frame } from '../../lib/types.js';

const W = 320;
const H = 240;

function grey(level: number): Frame {
  return { data: Buffer.alloc(W * H * 4, level), width: W, height: H, format: 'RGBA', stride: W * 4, timestamp: 0, dropped: 0 };
}

t.test('LatestFrame: the newest frame, the skipped ones counted, nothing queued', async (t) => {
  const latest = new LatestFrame();
  for (let i = 0; i < 5; i++) latest.push({ ...grey(i), timestamp: i });
  const first = await latest.next();
  t.equal(first.value!.timestamp, 4, 'the newest of five');
  t.equal(first.value!.dropped, 4, 'four replaced before they were taken');
  const waiting = latest.next();
  latest.push({ ...grey(9), timestamp: 9 });
  t.equal((await waiting).value!.timestamp, 9, 'a waiting next() gets the next frame');
  latest.end();
  t.same(await latest.next(), { value: undefined, done: true }, 'ended');
});

t.test('a change: a typed character counts, codec noise does not, a region limits it', async (t) => {
  const base = grey(230);
  const noisy = grey(230);
  // ±2 on every pixel, as a re-encoded still screen comes back.
  for (let i = 0; i < noisy.data.length; i++) noisy.data[i] = 230 + ((i * 7919) % 5) - 2;
  t.equal(changedBlocks(signatureOf(base), signatureOf(noisy)), 0, 'codec noise is no change');

  // An 8×16 glyph at (100, 50), a fifth of it dark ink.
  const typed = grey(230);
  for (let y = 50; y < 66; y++) {
    for (let x = 100; x < 108; x++) if ((x + y) % 5 === 0) typed.data.fill(20, (y * W + x) * 4, (y * W + x) * 4 + 3);
  }
  const changed = changedBlocks(signatureOf(base), signatureOf(typed));
  t.ok(changed >= 1, `one typed character changes ${changed} square(s) of ${BLOCK} px (threshold ${LUMA_THRESHOLD})`);
  t.equal(changedBlocks(signatureOf(base), signatureOf(typed), { x: 200, y: 100, width: 100, height: 100 }), 0, 'not in a region elsewhere');
  t.ok(changedBlocks(signatureOf(base), signatureOf(typed), { x: 96, y: 48, width: 16, height: 16 }) >= 1, 'in the region around it');
  t.ok(changedBlocks(signatureOf(base), signatureOf({ ...grey(230), width: 160, height: 120, stride: 640 })) > 0, 'a new size is a change');
});
