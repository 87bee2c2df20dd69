// The addon per environment: worker threads stream and end cleanly, and an environment that ends with
// everything open (peers, a Streamer, the X classes) has it all closed by its cleanup, whether a worker
// exits, is terminated, or the main thread's loop runs dry. Each case runs in a process of its own.
import t from 'tap';
import { runFixture } from '../helpers/fixture.js';
import { startXvfb } from '../helpers/xvfb.js';

t.test('two workers stream, close and end, then the main thread does the same and the process exits by itself', async (t) => {
  const r = await runFixture('worker-stream', { args: ['2'], timeoutMs: 120_000 });
  t.notOk(r.timedOut, `exited by itself in ${r.ms} ms`);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.signal, null);
  for (const who of ['worker 1', 'worker 2', 'main']) {
    t.match(r.stdout, new RegExp(`${who}: [1-9]\\d* encoded, [1-9]\\d* decoded, closed; live peers 0`), `${who} streamed and closed`);
  }
  t.match(r.stdout, /worker 1 exited with 0[\s\S]*worker 2 exited with 0/);
});

t.test('environments that end with peers, a Streamer and X classes left open', async (t) => {
  const xvfb = await startXvfb('320x240x24');
  t.teardown(xvfb.kill);
  for (const mode of ['worker-exit', 'worker-terminate', 'main-unref', 'main-exit']) {
    const r = await runFixture('worker-exit-open', { args: [xvfb.display, mode], timeoutMs: 90_000 });
    t.notOk(r.timedOut, `${mode}: ended in ${r.ms} ms`);
    t.equal(r.code, 0, `${mode}: exit code 0 ${r.stderr}`);
    t.equal(r.signal, null, `${mode}: no signal`);
    t.match(r.stdout, /open: live peers 4/, `${mode}: everything was open`);
    if (mode.startsWith('worker-')) {
      // A terminated worker exits with 1 (Node's code for terminate()); one that called process.exit(0), 0.
      const m = /worker exited with (\d+); live peers (\d+); sockets (\d+) before, (\d+) after/.exec(r.stdout);
      t.ok(m, `${mode}: the main thread outlived its worker`);
      if (!m) continue;
      t.equal(Number(m[1]), mode === 'worker-exit' ? 0 : 1, `${mode}: the worker's exit code`);
      t.equal(Number(m[2]), 0, `${mode}: every pipeline of the worker is gone`);
      t.equal(Number(m[4]), Number(m[3]), `${mode}: no X connection of the worker is left open`);
    }
  }
});
