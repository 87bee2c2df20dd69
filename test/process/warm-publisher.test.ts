// A warm publisher (publish()'s default: its encoder runs idle before any viewer) still lets the
// process exit once closed.
import t from 'tap';
import { runFixture } from '../helpers/fixture.js';

t.test('a warm publisher closed before any viewer: the process exits by itself', async (t) => {
  const r = await runFixture('warm-publisher', { timeoutMs: 30_000 });
  t.notOk(r.timedOut, `exited by itself in ${r.ms} ms`);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /warm yes; encoded 1; closed; live peers 0/, 'the encoder was warm (one prime frame, nothing more) and everything was torn down');
});
