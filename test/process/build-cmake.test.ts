// CMakeLists.txt builds the same addon as binding.gyp (cmake-js), and the result loads and works.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

t.test('cmake-js builds a loadable webrtcbin.node', async (t) => {
  const out = mkdtempSync(path.join(tmpdir(), 'webrtcbin-cmake-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const build = spawnSync('npx', ['cmake-js', 'compile', '--out', out], { cwd: root, encoding: 'utf8', timeout: 600_000 });
  t.equal(build.status, 0, build.stderr.slice(-2000));
  const addon = path.join(out, 'Release', 'webrtcbin.node');
  const check = spawnSync(
    process.execPath,
    ['-e', `const b = require(${JSON.stringify(addon)}); console.log(typeof b.NativePeer, b.gstVersion(), b.findElements(['webrtcbin'])[0].present)`],
    { encoding: 'utf8' },
  );
  t.equal(check.status, 0, check.stderr);
  t.match(check.stdout, /^function GStreamer 1\.\d+\.\d+ true/);
});
