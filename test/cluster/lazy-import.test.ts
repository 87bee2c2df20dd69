// Without `redis` the daemon is the single process it always was: ioredis is never even imported.
import t from 'tap';
import { execFileSync } from 'node:child_process';

t.test('ioredis is loaded only with redis', async (t) => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'test/fixtures/cluster-lazy-import.ts'], { encoding: 'utf8', timeout: 60_000 });
  t.match(out, /single process: started and stopped/, 'a daemon without redis runs with ioredis unloadable');
  t.match(out, /with redis: .*ioredis was imported/, 'the hook does refuse it (so the first line means something)');
});
