// The lifetime rules, each in a process of its own: a closed peer never keeps the process alive,
// an unref'd one neither, exit with live peers neither hangs nor crashes, GC of unclosed peers is safe.
import t from 'tap';
import { runFixture } from '../helpers/fixture.js';

t.test('after close() the process exits by itself', async (t) => {
  const r = await runFixture('close-then-exit', { timeoutMs: 30_000 });
  t.notOk(r.timedOut, `exited by itself in ${r.ms} ms`);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /closed; live peers 0/, 'every pipeline was torn down before the promise resolved');
});

t.test('an unref()ed open peer does not keep the process alive, and exit tears it down', async (t) => {
  const r = await runFixture('unref-exit', { timeoutMs: 30_000 });
  t.notOk(r.timedOut, `exited by itself in ${r.ms} ms`);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.signal, null);
});

t.test('process.exit() while streaming neither hangs nor crashes', async (t) => {
  const r = await runFixture('exit-while-streaming', { timeoutMs: 30_000 });
  t.notOk(r.timedOut, `exited in ${r.ms} ms`);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.signal, null);
  t.match(r.stdout, /streaming; exiting now/);
});

t.test('unclosed, unref()ed peers that are garbage-collected are torn down', async (t) => {
  const r = await runFixture('gc-unclosed', { nodeArgs: ['--expose-gc'], timeoutMs: 60_000 });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /created 20; live 20/);
  t.match(r.stdout, /after gc; live 0/, 'all 20 pipelines released after GC');
});
