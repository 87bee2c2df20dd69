// Child of lazy-import.test.ts: ioredis made unloadable (a resolve hook that refuses it), then a daemon
// without `redis` (must start and stop) and one with it (must fail with the hook's error).
import { register } from 'node:module';
import { createSignalingServer } from '../../lib/signaling/daemon/server.js';

register(`data:text/javascript,${encodeURIComponent("export async function resolve(specifier, context, next) { if (specifier === 'ioredis') throw new Error('ioredis was imported'); return next(specifier, context); }")}`);
const app = await createSignalingServer({ insecure: true, logLevel: 'silent' });
await app.listen({ port: 0, host: '127.0.0.1' });
await app.close();
console.log('single process: started and stopped');
try {
  await createSignalingServer({ insecure: true, logLevel: 'silent', redis: 'redis://127.0.0.1:1' });
} catch (error) {
  console.log(`with redis: ${(error as Error).message}`);
}
