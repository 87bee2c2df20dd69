// Runs benchmarks one after another, each in its own process, holding /tmp/webrtcbin-bench.lock so
// two benchmarks never measure at the same time on this 2-core machine (other engineers' too).
//   node --import tsx bench/run.ts NAME [args…]   runs bench/NAME.ts
//   node --import tsx bench/run.ts all            runs every benchmark in ALL, in order (npm run bench)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The default set for `npm run bench`, each with the arguments that keep it to a few minutes.
// A benchmark not yet in the tree is skipped with a note, so helpers can add theirs independently.
const ALL: [name: string, args: string[]][] = [
  ['fanout', []],
  ['first-frame', []],
  ['cpu', []],
  ['latency', ['--quick']],
  ['daemon-load', []],
  ['churn', []],
  ['werift', ['--quick']], // needs npm install --prefix bench/peers/werift
  ['agent-action', ['--quick']],
  ['congestion', ['--rounds', '1']], // root only (the WAN link)
  ['pointer', ['--quick']],
  ['keyframe', ['--quick']],
  ['sfu', []], // Janus (Debian janus) started by the bench
  ['cluster-sockets', ['--rounds', '1']], // 10,000 sockets: needs an fd hard limit ≥ 11,000
  ['input-photon', ['--quick']], // root (the WAN link); Chromium, x11vnc + websockify
];

const LOCK = '/tmp/webrtcbin-bench.lock';
const here = dirname(fileURLToPath(import.meta.url));
const [name, ...args] = process.argv.slice(2);

function runOne(bench: string, benchArgs: string[]): number {
  const file = join(here, `${bench}.ts`);
  if (!/^[\w-]+$/.test(bench) || !existsSync(file)) {
    console.error(`bench: no benchmark bench/${bench}.ts`);
    return 2;
  }
  const node = [process.execPath, '--import', 'tsx', file, ...benchArgs];
  // Already under the lock (a nested run, or the caller used flock itself): don't wait on ourselves.
  const command = process.env.WEBRTCBIN_BENCH_LOCKED ? node : ['flock', LOCK, ...node];
  console.log(`\n== ${bench} ${benchArgs.join(' ')}`);
  const result = spawnSync(command[0]!, command.slice(1), { stdio: 'inherit', env: { ...process.env, WEBRTCBIN_BENCH_LOCKED: '1' } });
  return result.status ?? 1;
}

if (!name) {
  console.error('usage: node --import tsx bench/run.ts NAME|all [args…]');
  process.exit(2);
}
if (name === 'all') {
  let failed = 0;
  for (const [bench, benchArgs] of ALL) {
    if (!existsSync(join(here, `${bench}.ts`))) {
      console.log(`\n== ${bench}: not in this tree, skipped`);
      continue;
    }
    if (runOne(bench, [...benchArgs, ...args]) !== 0) failed++;
  }
  process.exit(failed ? 1 : 0);
}
process.exit(runOne(name, args));
