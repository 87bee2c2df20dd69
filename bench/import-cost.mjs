// What `import 'node-webrtcbin'` costs: fresh processes importing a tree's compiled root (dist/lib/index.js),
// trees interleaved run by run so load drifts hit all alike. Per tree: the median wall time of the whole
// process, the median time of the import itself (measured inside), and the modules and packages it
// loaded (one extra run with load hooks). `node -e 0` is timed too, as the floor.
//   node bench/import-cost.mjs [--runs 9] DIR [DIR…]     (each DIR a package tree with dist/ built)
// e.g. a tree of an older commit: git archive <commit> | tar -x -C /tmp/before, link node_modules, tsc.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = path.join(here, '..', 'test', 'process', 'fixtures', 'import-graph.mjs');
const { values, positionals } = parseArgs({ options: { runs: { type: 'string', default: '9' } }, allowPositionals: true });
const runs = Number(values.runs);
const trees = positionals.length > 0 ? positionals.map((d) => path.resolve(d)) : [path.resolve(here, '..')];

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
function once(args) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return { wallMs: Number(process.hrtime.bigint() - started) / 1e6, out: r.stdout };
}
const entry = (dir) => pathToFileURL(path.join(dir, 'dist', 'lib', 'index.js')).href;

const loadBefore = loadavg()[0];
const samples = new Map(trees.map((t) => [t, { wall: [], inside: [] }]));
const floor = [];
for (let i = 0; i < runs; i++) {
  for (const tree of trees) {
    const { wallMs, out } = once([fixture, entry(tree)]);
    samples.get(tree).wall.push(wallMs);
    samples.get(tree).inside.push(JSON.parse(out).ms);
  }
  floor.push(once(['-e', '0']).wallMs);
}
console.log(`${runs} runs each, load average ${loadBefore.toFixed(1)} → ${loadavg()[0].toFixed(1)}; node -e 0: ${median(floor).toFixed(0)} ms`);
for (const tree of trees) {
  const graph = JSON.parse(once([fixture, entry(tree), '--hooks']).out);
  const s = samples.get(tree);
  console.log(
    `${tree}: wall ${median(s.wall).toFixed(0)} ms, import ${median(s.inside).toFixed(0)} ms, ${graph.modules} modules, ${graph.packages.length} packages${graph.packages.length ? ` (${graph.packages.join(', ')})` : ''}`,
  );
}
