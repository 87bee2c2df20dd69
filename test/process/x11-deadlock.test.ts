// The X classes (input injector, clipboard, screen resizer) opened and closed hundreds of times while
// x11 Streamers capture at 60 fps with a moving pointer: the process must not hang. With Xlib
// connections of our own it did, within a few iterations; and a new capture starting beside two
// running ones did too (docs/reliability.md, "X captures and Xlib's global lock"). Each run is a child
// process, killed at its timeout.
import t from 'tap';
import { runFixture } from '../helpers/fixture.js';
import { startXvfb } from '../helpers/xvfb.js';

const cases = [
  { streamers: 1, churn: false, what: 'one x11 Streamer' },
  { streamers: 2, churn: false, what: 'two x11 Streamers (H.264 and VP8) on one display' },
  // Two captures evict each other's Xlib extension caches every frame; a third ximagesrc's own
  // XOpenDisplay (while linking and starting) then met their grabs: the start gate parks them.
  { streamers: 2, churn: true, what: 'two x11 Streamers and a third started and stopped every 10 iterations' },
];
for (const { streamers, churn, what } of cases) {
  t.test(`${what}, capturing while the JS thread opens and closes the X classes 300 times`, async (t) => {
    const xvfb = await startXvfb('320x240x24');
    t.teardown(xvfb.kill);
    const r = await runFixture('x11-deadlock', { args: [xvfb.display, String(streamers), '300', churn ? '1' : '0'], timeoutMs: 90_000 });
    const last = /iteration (\d+)\s*$/.exec(r.stdout.trimEnd())?.[1] ?? 'none';
    t.notOk(r.timedOut, `finished in ${r.ms} ms (a hang is killed at 90 s; last iteration logged: ${last})`);
    t.equal(r.code, 0, r.stderr);
    const m = /done: 300 iterations .*; frames decoded meanwhile: ([\d, ]+)/.exec(r.stdout);
    t.ok(m, 'all 300 iterations ran');
    for (const [i, n] of (m?.[1]!.split(', ') ?? []).entries()) t.ok(Number(n) > 0, `viewer ${i + 1} kept receiving captured frames (${n})`);
  });
}
