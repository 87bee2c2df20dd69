// The package as npm delivers it: `npm pack` carries the prebuild (prepack makes it when missing or
// stale), the examples the README links and source maps with their sources; the tarball installs and
// loads with no compiler, with and without install scripts; `webrtcbin doctor` runs when the addon
// cannot load; and the dependency tree asks for no Node newer than the one `engines` promises.
import t from 'tap';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs script without types
import { nodeBinary } from '../../scripts/node-lts.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const npmCli = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
// A clean clone compiles the prebuild first (minutes on a busy machine), then installs twice.
t.setTimeout(1_500_000);
const scratch = mkdtempSync(path.join(tmpdir(), 'webrtcbin-pack-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

// No compiler: any attempt to build the addon fails loudly.
const NO_COMPILER = { CC: '/bin/false', CXX: '/bin/false', npm_config_node_gyp: '/bin/false', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

function npm(args: string[], options: SpawnSyncOptions & { compiler?: boolean } = {}) {
  const env = { ...process.env, ...(options.compiler ? {} : NO_COMPILER) };
  const r = spawnSync(process.execPath, [npmCli, ...args], { encoding: 'utf8', timeout: 600_000, ...options, env });
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

let tarball = '';
t.before(() => {
  // prepack (prebuildify when needed) and prepare (tsc, the viewer) run as for `npm publish`.
  const r = npm(['pack', '--json', '--pack-destination', scratch], { cwd: root, compiler: true });
  if (r.status !== 0) throw new Error(`npm pack failed: ${r.stderr.slice(-2000)}`);
  const [info] = JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as { filename: string }[];
  tarball = path.join(scratch, info!.filename);
});

function files(): string[] {
  return spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
}

t.test('the tarball carries the prebuild, the linked examples and maps with their sources', async (t) => {
  const list = files();
  t.ok(list.some((f) => /^prebuilds\/linux-x64\/[^/]+\.node$/.test(f)), 'prebuilds/linux-x64/*.node');
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const linked = [...readme.matchAll(/\]\(((?:examples|docs)\/[^)#]+)/g)].map((m) => m[1]!);
  t.ok(linked.some((l) => l.startsWith('examples/')), 'the README links examples');
  for (const link of linked) t.ok(list.includes(link), `README's link ${link} is shipped`);

  const maps = list.filter((f) => f.endsWith('.js.map'));
  const dir = path.join(scratch, 'unpacked');
  spawnSync('mkdir', ['-p', dir]);
  spawnSync('tar', ['-xzf', tarball, '-C', dir]);
  let without = 0;
  for (const map of maps) {
    const json = JSON.parse(readFileSync(path.join(dir, 'package', map), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
    const shipped = json.sources.every((s) => list.includes(path.posix.join(path.posix.dirname(map), s).replace(/^\.\//, '')));
    if (!shipped && !(json.sourcesContent?.length === json.sources.length && json.sourcesContent.every((c) => typeof c === 'string'))) without++;
  }
  t.equal(without, 0, `every one of ${maps.length} source maps carries its sources or points at shipped ones`);
});

/** A fresh app that installs the tarball (with `node` first on PATH when given); npm's output kept. */
function install(name: string, extra: string[], node = process.execPath): { app: string; output: string } {
  const app = path.join(scratch, name);
  spawnSync('mkdir', ['-p', app]);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  const env = { ...process.env, PATH: `${path.dirname(node)}:${process.env.PATH}` };
  const r = npm(['install', '--no-save', '--prefer-offline', ...extra, tarball], { cwd: app, env });
  if (r.status !== 0) throw new Error(`npm install ${extra.join(' ')} failed: ${r.stderr.slice(-2000)}`);
  return { app, output: r.stdout + r.stderr };
}

const LOAD = "import('node-webrtcbin').then((m) => { const r = m.checkEnvironment(); console.log(JSON.stringify({ ok: r.ok, gst: r.gstreamer })); })";

t.test('installs and loads with no compiler, with --ignore-scripts and with scripts', async (t) => {
  for (const [name, extra] of [['ignore-scripts', ['--ignore-scripts']], ['with-scripts', []]] as const) {
    const { app, output } = install(`app-${name}`, [...extra]);
    t.notMatch(output, /EBADENGINE/, `${name}: npm warns of no unsupported engine on Node ${process.versions.node}`);
    t.notOk(existsSync(path.join(app, 'node_modules', 'node-webrtcbin', 'build')), `${name}: nothing was compiled (no build/)`);
    const load = spawnSync(process.execPath, ['-e', LOAD], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    t.equal(load.status, 0, `${name}: loads (${load.stderr.slice(-500)})`);
    t.match(load.stdout, /"ok":true,"gst":"GStreamer 1\./, `${name}: the prebuilt addon runs`);
  }
});

t.test("a user's install of the tarball on Node 22 and 24 warns of no unsupported engine", async (t) => {
  // Node 20 is this process's (above). The tarball's own dependencies decide what a user gets: the
  // repository's `overrides` do not travel, so light-my-request is pinned where it still uses cookie@1.
  for (const major of ['22', '24']) {
    const got = nodeBinary(major) as { node?: string; unreachable?: string; error?: string };
    if (!got.node) {
      t.skip(`Node ${major}: ${got.unreachable ?? got.error}`);
      continue;
    }
    // npm runs under the Node a user has: process.version and the engines check are that Node's.
    const npmUnder = (args: string[], cwd: string) => {
      const r = spawnSync(got.node!, [npmCli, ...args], { cwd, encoding: 'utf8', timeout: 600_000, env: { ...process.env, ...NO_COMPILER, PATH: `${path.dirname(got.node!)}:${process.env.PATH}` } });
      return { status: r.status, output: String(r.stdout) + String(r.stderr) };
    };
    // npm checks engines while it resolves the tree: --package-lock-only resolves without fetching
    // or unpacking (loading under 22 and 24 is node-lts.test.ts's `webrtcbin selftest`).
    const app = path.join(scratch, `app-node${major}`);
    spawnSync('mkdir', ['-p', app]);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: `app-node${major}`, private: true, type: 'module', dependencies: { 'node-webrtcbin': `file:${tarball}` } }));
    const r = npmUnder(['install', '--package-lock-only', '--prefer-offline', '--ignore-scripts'], app);
    t.equal(r.status, 0, `Node ${major}: npm install --package-lock-only (${r.output.slice(-500)})`);
    t.notMatch(r.output, /EBADENGINE/, `Node ${major}: npm warns of no unsupported engine`);
    const lock = readFileSync(path.join(app, 'package-lock.json'), 'utf8');
    t.match(lock, /"node_modules\/light-my-request"/, `Node ${major}: the tree has Fastify's light-my-request (the check saw it)`);
  }
});

t.test('`webrtcbin doctor` runs when the addon cannot load', async (t) => {
  const app = path.join(scratch, 'app-ignore-scripts');
  rmSync(path.join(app, 'node_modules', 'node-webrtcbin', 'prebuilds'), { recursive: true, force: true });
  const r = spawnSync(path.join(app, 'node_modules', '.bin', 'webrtcbin'), ['doctor'], { cwd: app, encoding: 'utf8', timeout: 120_000 });
  t.equal(r.status, 1, 'exits 1');
  t.match(r.stdout, /could not load its native addon/, 'says the addon cannot load, with the remedies');
  t.match(r.stdout, /npm rebuild node-webrtcbin/);
  t.match(r.stdout, /ok\s+webrtcbin\s+WebRTC peer\s+gstreamer1\.0-plugins-bad/, 'and still probes the elements');
  const json = spawnSync(path.join(app, 'node_modules', '.bin', 'webrtcbin'), ['doctor', '--json'], { cwd: app, encoding: 'utf8', timeout: 120_000 });
  t.match(JSON.parse(json.stdout), { ok: false, addon: 'cannot load', addonError: /could not load/ });
});

t.test('a clean install of the project asks for no newer Node than engines: only devDependencies may', async (t) => {
  const dir = path.join(scratch, 'clean');
  spawnSync('mkdir', ['-p', dir]);
  for (const f of ['package.json', 'package-lock.json']) copyFileSync(path.join(root, f), path.join(dir, f));
  const r = npm(['install', '--package-lock-only', '--ignore-scripts', '--prefer-offline'], { cwd: dir });
  t.equal(r.status, 0, r.status === 0 ? 'npm install --package-lock-only' : r.stderr.slice(-1000));
  const lock = JSON.parse(readFileSync(path.join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; dev?: boolean; engines?: { node?: string } }> };
  const semver = createRequire(path.join(root, 'package.json'))('semver') as { satisfies(v: string, range: string): boolean; minVersion(r: string): { version: string } };
  const ours = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
  const oldest = semver.minVersion(ours).version;
  const tooNew = Object.entries(lock.packages)
    .filter(([where, p]) => where !== '' && !p.dev && p.engines?.node && !semver.satisfies(oldest, p.engines.node))
    .map(([where, p]) => `${where}@${p.version} (node ${p.engines!.node})`);
  t.same(tooNew, [], `no runtime dependency refuses Node ${oldest}`);
  const warned = [...r.stderr.matchAll(/package: '([^']+)'/g)].map((m) => m[1]!);
  const dev = (spec: string) => Object.entries(lock.packages).some(([where, p]) => where.endsWith(`node_modules/${spec.slice(0, spec.lastIndexOf('@'))}`) && p.dev);
  t.same(warned.filter((w) => !dev(w)), [], 'npm warns EBADENGINE for no runtime dependency (e.g. cookie@2 through light-my-request)');
});

