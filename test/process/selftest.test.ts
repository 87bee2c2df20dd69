// `webrtcbin selftest` and `webrtcbin stream` as an installed package runs them: the compiled cli.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'lib', 'cli', 'cli.ts'), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, WEBRTCBIN_URL: '', WEBRTCBIN_SESSION: '', ...env },
  });

t.test('selftest negotiates, decodes and echoes on a data channel', async (t) => {
  const r = cli(['selftest', '--codec', 'vp8', '--seconds', '1', '--signaling']);
  t.equal(r.status, 0, r.stdout + r.stderr);
  t.match(r.stdout, /^ok {4}loopback vp8: VP8, \d+ frames decoded .*connection connected, data channel echo ok$/m);
  t.match(r.stdout, /^ok {4}signaling: daemon \+ publish\(\) \+ viewer: \d+ frames decoded/m);
  t.match(r.stdout, /^selftest: all 4 checks passed$/m);
});

t.test('selftest rejects an unknown codec', async (t) => {
  const r = cli(['selftest', '--codec', 'av1', '--seconds', '1']);
  t.equal(r.status, 1);
  t.match(r.stderr, /--codec must be one of vp8, vp9, h264, not 'av1'/);
});

t.test('stream without a daemon URL exits 2 and names the variables', async (t) => {
  const r = cli(['stream']);
  t.equal(r.status, 2);
  t.match(r.stderr, /--url \(WEBRTCBIN_URL\) and --session \(WEBRTCBIN_SESSION\) are required/);
  const noDisplay = cli(['stream', '--url', 'ws://127.0.0.1:9/v1/ws', '--session', 'x'], { DISPLAY: '', WEBRTCBIN_XVFB: '' });
  t.equal(noDisplay.status, 2);
  t.match(noDisplay.stderr, /no X display/);
});
