// The signaling daemon (compiled: dist/lib) in a process of its own, so its CPU and RSS are read apart
// from the load generator's. argv[2]: JSON {secret, rate?: {perSecond, burst}, options?: more plugin
// options (e.g. redis)}; prints {"port": N}.
import { createSignalingServer } from '../../dist/lib/signaling/daemon/server.js';

const options = JSON.parse(process.argv[2] ?? '{}');
const app = await createSignalingServer({ secret: options.secret, logLevel: 'silent', viewer: false, ...(options.rate ? { rate: options.rate } : {}), ...(options.options ?? {}) });
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }) + '\n');
process.stdin.resume();
process.stdin.on('end', () => void app.close().then(() => process.exit(0)));
