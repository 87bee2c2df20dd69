// The doctor against the real registry, and against one where webrtcbin's plugin was taken away.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkEnvironment } from '../../lib/index.js';
import { runFixture } from '../helpers/fixture.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'dist', 'lib', 'cli', 'cli.js');
const PLUGIN_DIR = '/usr/lib/x86_64-linux-gnu/gstreamer-1.0';

// A plugin directory with every system plugin but the one that provides webrtcbin, and a fresh
// registry cache so GStreamer really rescans.
function withoutWebrtcPlugin(): { env: NodeJS.ProcessEnv; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'webrtcbin-plugins-'));
  for (const file of readdirSync(PLUGIN_DIR)) {
    if (file.endsWith('.so') && file !== 'libgstwebrtc.so') symlinkSync(path.join(PLUGIN_DIR, file), path.join(dir, file));
  }
  return {
    env: { GST_PLUGIN_SYSTEM_PATH_1_0: dir, GST_PLUGIN_PATH_1_0: '', GST_REGISTRY_1_0: path.join(dir, 'registry.bin') },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

t.test('checkEnvironment() on this machine: everything required is there', async (t) => {
  const report = checkEnvironment();
  t.ok(report.ok, `missing: ${report.missingRequired.map((e) => e.element).join(', ') || 'none'}`);
  t.match(report.gstreamer, /GStreamer 1\./);
  const webrtcbin = report.elements.find((e) => e.element === 'webrtcbin')!;
  t.same([webrtcbin.present, webrtcbin.plugin, webrtcbin.debianPackage], [true, 'webrtc', 'gstreamer1.0-plugins-bad']);
});

t.test('`webrtcbin doctor` prints a table and exits 0 here', async (t) => {
  const r = spawnSync(process.execPath, [cli, 'doctor'], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /ok\s+webrtcbin\s+WebRTC peer\s+gstreamer1\.0-plugins-bad/);
  t.match(r.stdout, /All required elements are present/);
});

t.test('with webrtcbin made unavailable', async (t) => {
  const { env, cleanup } = withoutWebrtcPlugin();
  t.teardown(cleanup);
  const r = spawnSync(process.execPath, [cli, 'doctor'], { encoding: 'utf8', env: { ...process.env, ...env } });
  t.equal(r.status, 1, 'the doctor exits non-zero');
  t.match(r.stdout, /MISSING\s+webrtcbin\s+WebRTC peer\s+gstreamer1\.0-plugins-bad/, 'names the element and the package');
  t.match(r.stdout, /apt-get install gstreamer1\.0-plugins-bad/, 'and the command that fixes it');
  t.notMatch(r.stdout, /MISSING\s+nicesrc/, 'elements still present are not reported missing');

  const json = spawnSync(process.execPath, [cli, 'doctor', '--json'], { encoding: 'utf8', env: { ...process.env, ...env } });
  const report = JSON.parse(json.stdout) as { ok: boolean; missingRequired: { element: string }[] };
  t.equal(report.ok, false);
  t.same(report.missingRequired.map((e) => e.element), ['webrtcbin']);

  const peer = await runFixture('construct-peer', { env });
  const result = JSON.parse(peer.stdout.trim()) as { ok: boolean; name: string; element: string; debianPackage: string; message: string };
  t.same([result.ok, result.name, result.element, result.debianPackage], [false, 'MissingPluginError', 'webrtcbin', 'gstreamer1.0-plugins-bad']);
  t.match(result.message, /apt-get install gstreamer1\.0-plugins-bad/);
});

t.test('unknown commands and --help', async (t) => {
  const bad = spawnSync(process.execPath, [cli, 'frobnicate'], { encoding: 'utf8' });
  t.equal(bad.status, 2);
  t.match(bad.stderr, /unknown command 'frobnicate'/);
  const help = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
  t.equal(help.status, 0);
  t.match(help.stdout, /doctor/);
});
