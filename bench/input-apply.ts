// What one unacknowledged input event costs the publisher's event loop: InputInjector.apply() of a
// pointer move with the round trip to X after it (as every event had before) and without (what a page's
// messages get now, no `seq`), interleaved in blocks, on an Xvfb kept busy by a 720p capture at 60 fps
// (ximagesrc, as a publisher's fixed capture reads it) beside a client repainting under the pointer.
//   node --import tsx bench/run.ts input-apply [--moves 2000]
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

const { values } = parseArgs({ options: { moves: { type: 'string' } } });
const moves = Number(values.moves ?? 2000);
const { startXvfb } = await import('../test/helpers/xvfb.js');
const { InputInjector } = await import('../lib/input/injector.js');
const { start, stop, sleep } = await import('./lib/processes.js');
const { appendResult, describeMachine, machineFacts } = await import('./lib/results.js');
const { summarize } = await import('./lib/stats.js');
const { formatTable } = await import('./lib/table.js');

console.log(`input-apply: ${describeMachine(machineFacts())}; ${moves} moves per variant`);
const x = await startXvfb('1280x720x24');
const capture = start('gst-launch-1.0', ['-q', 'ximagesrc', `display-name=${x.display}`, 'use-damage=false', '!', 'video/x-raw,framerate=60/1', '!', 'fakesink', 'sync=true'], { stdio: 'ignore' });
await sleep(1500);
const injector = new InputInjector(x.display);
const us: Record<'with round trip' | 'flush only', number[]> = { 'with round trip': [], 'flush only': [] };
for (let i = 0; i < moves; i += 100) {
  for (const [name, confirm] of (i / 100) % 2 ? ([['flush only', false], ['with round trip', true]] as const) : ([['with round trip', true], ['flush only', false]] as const)) {
    for (let j = 0; j < 100; j++) {
      const t0 = performance.now();
      injector.apply({ t: 'move', x: Math.random(), y: Math.random() }, confirm);
      us[name].push((performance.now() - t0) * 1000);
      await sleep(8); // a page's moves: at most one per 8 ms
    }
  }
}
const rows = Object.entries(us).map(([name, list]) => {
  const s = summarize(list);
  return [name, s.p50.toFixed(0), s.p95.toFixed(0), s.max.toFixed(0), s.mean.toFixed(0), String(s.n)];
});
const table = formatTable(['apply(move)', 'p50 µs', 'p95 µs', 'max µs', 'mean µs', 'n'], rows);
console.log(table);
appendResult('input-apply', { moves, load1After: machineFacts().load1, table, summaries: Object.fromEntries(Object.entries(us).map(([k, v]) => [k, summarize(v)])) });
injector.close();
await stop(capture);
await x.kill();
process.exit(0);
