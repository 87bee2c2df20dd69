// `webrtcbin start` with no DISPLAY: when Xvfb, twm and xterm are installed its test source is an Xvfb
// desktop with a terminal window (not a pattern), the URL still comes at once, and SIGTERM takes the
// desktop down with it; without them, the clock-and-time-code pattern as before.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TEST_DESKTOP_PROGRAMS, startTestDesktop } from '../../lib/cli/start.js';
import { freePort } from '../helpers/coturn.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);
const missing = TEST_DESKTOP_PROGRAMS.filter((p) => !(process.env.PATH ?? '').split(':').some((d) => existsSync(path.join(d, p))));

t.test('without the programs: no desktop (the caller streams the pattern)', async (t) => {
  t.equal(await startTestDesktop(() => false), undefined);
});

t.test('webrtcbin start: an Xvfb desktop with a terminal, the URL at once, all gone on SIGTERM', { skip: missing.length ? `not installed: ${missing.join(', ')} (rootfs/packages-dev.txt)` : false }, async (t) => {
  const port = await freePort();
  const started = Date.now();
  const child = spawn(process.execPath, [path.join(root, 'dist', 'lib', 'cli', 'cli.js'), 'start', '--port', String(port), '--host', '127.0.0.1', '--session', 'desk'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DISPLAY: '' },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  while (!/session=desk&token=/.test(out) && Date.now() - started < 30_000 && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
  const seconds = (Date.now() - started) / 1000;
  t.match(out, /session=desk&token=/, 'printed the URL');
  t.ok(seconds < 25, `within ${seconds.toFixed(1)} s`);
  const display = /a test desktop \(Xvfb (:\d+) with a terminal/.exec(out)?.[1];
  t.ok(display, `says it streams a test desktop: ${out.split('\n').find((l) => l.includes('streaming'))}`);
  let tree = '';
  // twm and the xterm start together: on a loaded machine twm adopts the already mapped terminal a moment later.
  for (let i = 0; i < 75 && !(tree.includes('"node-webrtcbin"') && /twm/i.test(tree)); i++) {
    await new Promise((r) => setTimeout(r, 200));
    tree = await run('xwininfo', ['-root', '-tree', '-display', display!]).then((r) => r.stdout, () => '');
  }
  t.match(tree, /"node-webrtcbin"/, 'the terminal window is on that display');
  t.match(tree, /twm/i, 'under the window manager (its frame)');
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM: clean exit');
  await new Promise((r) => setTimeout(r, 500));
  t.notOk(existsSync(`/tmp/.X11-unix/X${display!.slice(1)}`), 'its Xvfb is gone');
});
