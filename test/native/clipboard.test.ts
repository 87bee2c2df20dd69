// The X CLIPBOARD both ways and RandR resize, on a fresh Xvfb, checked with independent X clients:
// xclip reads what we own and sets what we must notice; xdpyinfo reports the screen size.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { XClipboard } from '../../lib/input/clipboard.js';
import { ScreenResizer } from '../../lib/input/screen.js';
import { runFixture } from '../helpers/fixture.js';
import { once } from '../helpers/wait.js';
import { startXvfb } from '../helpers/xvfb.js';

const run = promisify(execFile);

async function xclipSet(display: string, text: string): Promise<void> {
  // xclip forks a child that owns the selection until someone else takes it; the parent exits at once.
  const child = spawn('xclip', ['-selection', 'clipboard', '-i', '-display', display], { stdio: ['pipe', 'ignore', 'ignore'] });
  child.stdin.end(text);
  await new Promise((resolve) => child.once('exit', resolve));
}

// xclip's read of the CLIPBOARD once `expected` is there: ownership is taken on the clipboard's own
// X thread, so the first read may come before it (a loaded machine); anything else after 5 s is the answer.
async function xclipReads(display: string, expected: string): Promise<string> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const got = await run('xclip', ['-selection', 'clipboard', '-o', '-display', display]).then((r) => r.stdout, (e: Error) => `<${e.message}>`);
    if (got === expected || Date.now() > deadline) return got;
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('our clipboard text is read by xclip; xclip text reaches us; close ends everything', async (t) => {
  const x = await startXvfb('640x480x24');
  t.teardown(() => x.kill());
  const clip = new XClipboard(x.display);
  t.teardown(() => clip.close());

  clip.setText('héllo ☃');
  t.equal(await xclipReads(x.display, 'héllo ☃'), 'héllo ☃', 'xclip reads our UTF-8 text');
  const targets = await run('xclip', ['-selection', 'clipboard', '-o', '-t', 'TARGETS', '-display', x.display]);
  t.same(targets.stdout.trim().split('\n').sort(), ['STRING', 'TARGETS', 'TEXT', 'UTF8_STRING'], 'TARGETS lists the text types');
  const latin1 = await run('xclip', ['-selection', 'clipboard', '-o', '-t', 'STRING', '-display', x.display], { encoding: 'latin1' });
  t.equal(latin1.stdout, 'héllo ?', 'STRING is Latin-1, the snowman replaced');

  const heard = once<string>(clip, 'text', 5000);
  await xclipSet(x.display, 'from xclip: ünïcode ✓');
  t.equal(await heard, 'from xclip: ünïcode ✓', 'a text another client set is reported');

  // We take it back: xclip's owner hears SelectionClear and goes; reading gives ours again.
  clip.setText('second');
  t.equal(await xclipReads(x.display, 'second'), 'second', 'set again after another owner');

  const big = 'x'.repeat(200_000);
  const heardBig = once<string>(clip, 'text', 5000);
  await xclipSet(x.display, big);
  t.equal((await heardBig).length, 200_000, 'a 200 kB text arrives whole');

  await clip.close();
  await clip.close();
  t.pass('close() twice resolves');
  clip.setText('ignored after close');
});

t.test('a text over 1 MiB is refused with a warning, not delivered', async (t) => {
  const x = await startXvfb('640x480x24');
  t.teardown(() => x.kill());
  const clip = new XClipboard(x.display);
  t.teardown(() => clip.close());
  let delivered = false;
  clip.on('text', () => (delivered = true));
  const warned = once<{ code: string; message: string }>(clip, 'warning', 5000);
  await xclipSet(x.display, 'y'.repeat(1_200_000));
  const warning = await warned;
  t.equal(warning.code, 'ERR_CLIPBOARD_TOO_LARGE', warning.message);
  t.notOk(delivered, 'nothing delivered');
});

t.test('a closed clipboard, or an unref()ed one, lets the process exit by itself', async (t) => {
  const x = await startXvfb('640x480x24');
  t.teardown(() => x.kill());
  const closed = await runFixture('clipboard-close', { args: [x.display], timeoutMs: 15_000 });
  t.equal(closed.code, 0, closed.stderr);
  t.match(closed.stdout, /closed/, 'close() resolved, then the process ended');
  const unref = await runFixture('clipboard-close', { args: [x.display, 'unref'], timeoutMs: 15_000 });
  t.equal(unref.code, 0, unref.stderr);
  t.notOk(unref.timedOut, 'not kept alive');
});

t.test('X workers left open with events queued: the process still exits cleanly', async (t) => {
  const x = await startXvfb('640x480x24');
  t.teardown(() => x.kill());
  // Measured before the fix: 6 of 6 such exits ended in abort() ("terminate called after throwing an
  // instance of 'Napi::Error'"). Three runs: the queued events at exit differ from run to run.
  for (let run = 0; run < 3; run++) {
    const r = await runFixture('x-workers-exit', { args: [x.display], timeoutMs: 30_000 });
    t.equal(r.signal, null, `run ${run}: no signal (${r.signal})`);
    t.equal(r.code, 0, `run ${run}: ${r.stderr.slice(-800)}`);
    t.match(r.stdout, /leaving workers open/);
    t.notMatch(r.stderr, /terminate called/);
  }
});

t.test('the screen resizes with RandR; a size the server cannot take is refused clearly', async (t) => {
  const x = await startXvfb('1280x720x24');
  t.teardown(() => x.kill());
  // A client that stays connected: Xvfb resets (and restores its size) when its last client leaves.
  const holder = spawn('xev', ['-root', '-display', x.display], { stdio: 'ignore' });
  t.teardown(() => holder.kill());
  const screen = new ScreenResizer(x.display, { minIntervalMs: 0 });
  t.teardown(() => screen.close());
  const dimensions = async () => /dimensions:\s+(\d+x\d+)/.exec((await run('xdpyinfo', ['-display', x.display])).stdout)?.[1];

  t.same(screen.range(), { minWidth: 1, minHeight: 1, maxWidth: 1280, maxHeight: 720 }, 'Xvfb: at most its start size');
  const smaller = screen.request(800, 600);
  t.same(smaller, { t: 'resize-result', ok: true, width: 800, height: 600 });
  t.equal(await dimensions(), '800x600', 'xdpyinfo sees 800x600');
  t.match((await run('xrandr', ['-display', x.display])).stdout, /current 800 x 600/, 'xrandr agrees');

  t.same(screen.request(1000, 720), { t: 'resize-result', ok: true, width: 1000, height: 720 }, 'wider but not taller');
  t.equal(await dimensions(), '1000x720');

  const refused = screen.request(1920, 1080);
  t.equal(refused.ok, false);
  t.equal(refused.code, 'out-of-range');
  t.match(refused.message, /allows screen sizes from 1x1 to 1280x720, not 1920x1080.*start it with/, refused.message);
  t.same([refused.width, refused.height], [1000, 720], 'the refusal reports the size unchanged');
  t.equal(await dimensions(), '1000x720', 'the screen did not change');

  t.same(screen.request(1280, 720), { t: 'resize-result', ok: true, width: 1280, height: 720 }, 'back to the start size');

  const limited = new ScreenResizer(x.display);
  t.teardown(() => limited.close());
  t.equal(limited.request(640, 480).ok, true);
  const second = limited.request(800, 600);
  t.equal(second.code, 'rate-limited', 'a second resize within a second is refused');
  t.equal(await dimensions(), '640x480');
});
