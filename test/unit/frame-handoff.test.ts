// lib/peer/frames.ts: the JS side of the frame hand-off keeps no frame. It tells the native side when
// frames are wanted and gives each crossing frame to a waiting iterator (test/native/frames.test.ts
// checks the policy itself on real streams).
import t from 'tap';
import { FrameHandOff } from '../../lib/peer/frames.js';
import type { Frame } from '../../lib/types.js';

const frame = (n: number, dropped = 0): Frame => ({ data: Buffer.alloc(0), width: 2, height: 2, format: 'RGBA', stride: 8, timestamp: n, dropped });

function setup() {
  const calls: [boolean, boolean][] = [];
  let listeners = 0;
  const handOff = new FrameHandOff((listening, waiting) => calls.push([listening, waiting]), () => listeners > 0);
  return { handOff, calls, setListeners: (n: number) => (listeners = n) };
}

t.test('an iterator asks for one frame at a time', async (t) => {
  const { handOff, calls } = setup();
  const iterator = handOff.iterate();
  const next = iterator.next();
  t.same(calls, [[false, true]], 'waiting: the native side sends what waits');
  handOff.deliver(frame(1, 3));
  handOff.update();
  t.same(calls.at(-1), [false, false], 'taken: nothing more wanted');
  t.same((await next).value, frame(1, 3), 'the native dropped count passes through');
});

t.test("'frame' listeners: frames cross as they arrive; the ones a busy iterator misses count as dropped for it", async (t) => {
  const { handOff, calls, setListeners } = setup();
  handOff.update(true);
  setListeners(1);
  t.same(calls, [[true, false]]);
  handOff.deliver(frame(1)); // no iterator yet: nothing counted
  const iterator = handOff.iterate();
  handOff.deliver(frame(2));
  handOff.deliver(frame(3));
  const next = iterator.next();
  t.same(calls.at(-1), [true, true]);
  handOff.deliver(frame(4, 1));
  t.same((await next).value, frame(4, 3), '1 dropped natively + 2 missed');
  setListeners(0);
  handOff.update();
  t.same(calls.at(-1), [false, false]);
  t.equal(calls.length, 3, 'the native side is told only of changes');
});

t.test('end(): a waiting iterator finishes, later calls are done, nothing more is asked', async (t) => {
  const { handOff, calls } = setup();
  const iterator = handOff.iterate();
  const next = iterator.next();
  handOff.end();
  t.same(await next, { value: undefined, done: true });
  t.same(await iterator.next(), { value: undefined, done: true });
  handOff.update(true);
  handOff.deliver(frame(1));
  t.equal(calls.length, 1);
});
