// The quick start's main job as a user runs it: `webrtcbin start` prints a URL; Chromium opens it and
// plays the stream; SIGTERM stops everything and the process exits cleanly.
import t from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, viewerFrames } from '../helpers/browser.js';
import { freePort } from '../helpers/coturn.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

t.test('webrtcbin start: the printed URL plays in Chromium; SIGTERM exits cleanly', async (t) => {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(root, 'dist', 'lib', 'cli', 'cli.js'), 'start', '--port', String(port), '--host', '127.0.0.1', '--session', 'qs'], {
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
  const deadline = Date.now() + 30_000;
  let url: string | undefined;
  while (!url && Date.now() < deadline) {
    url = /http:\/\/127\.0\.0\.1:\d+\/\?session=qs&token=\S+/.exec(out)?.[0];
    await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(url, `printed a URL: ${out.split('\n').find((l) => l.includes('http')) ?? out}`);
  t.match(out, /streaming a test (pattern|desktop)/, 'no DISPLAY: a test pattern, or a test desktop when Xvfb, twm and xterm are installed');

  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(url!);
  let frames = 0;
  const until = Date.now() + 20_000;
  while (frames < 10 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
    frames = await viewerFrames(page);
  }
  t.ok(frames >= 10, `the page decoded ${frames} frames`);
  t.match(out, /viewer v-\S+ connected/, 'the publisher logged the viewer');
  const wrong = await fetch(`http://127.0.0.1:${port}/v1/ice-servers`, { headers: { authorization: 'Bearer v1.forged.token' } });
  t.equal(wrong.status, 401, 'the daemon is not open to anyone');
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM: clean exit');
  const leaks = out.split('\n').filter((line) => /v1\.[A-Za-z0-9_-]{10,}\./.test(line) && !line.startsWith('  http://'));
  t.same(leaks, [], 'the token appears only in the printed URL, never in a log line');
});
