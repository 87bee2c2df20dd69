// The signaling daemon (compiled: dist/lib) in a process of its own, so its CPU and RSS are read apart
// from the load generator's. argv[2]: JSON {secret, rate?: {perSecond, burst}, options?: more plugin
// options (e.g. redis), dist?: another build's dist/ to run (a before/after comparison)}; prints
// {"port": N}. Closing stdin stops it.
// Commands on stdin, one a line, each answered with one JSON line on stdout (bench/support/daemon-process.ts):
//   stats-reset               restart the event-loop delay and GC counts  → {"ok":true}
//   stats                     those counts since the reset                → {"stats":{delay,gc}}
//   profile-start             start the V8 CPU profiler (the inspector in this process: the same
//                             profile as --cpu-prof, but only for the window asked for) → {"ok":true}
//   profile-stop PATH         stop it and write the .cpuprofile to PATH   → {"profile":PATH}
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { LoopStats } from './loop-stats.mjs';

const options = JSON.parse(process.argv[2] ?? '{}');
const server = options.dist ? pathToFileURL(`${options.dist}/lib/signaling/daemon/server.js`).href : '../../dist/lib/signaling/daemon/server.js';
const { createSignalingServer } = await import(server);
const app = await createSignalingServer({ secret: options.secret, logLevel: 'silent', viewer: false, ...(options.rate ? { rate: options.rate } : {}), ...(options.options ?? {}) });
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
const reply = (value) => process.stdout.write(JSON.stringify(value) + '\n');
reply({ port: typeof address === 'object' && address ? address.port : 0 });

const stats = new LoopStats().start();
let profiler;
const commands = createInterface({ input: process.stdin });
commands.on('line', (line) => {
  const [command, argument] = line.trim().split(' ');
  void (async () => {
    if (command === 'stats-reset') return (stats.reset(), reply({ ok: true }));
    if (command === 'stats') return reply({ stats: stats.read() });
    if (command === 'profile-start') {
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
      return reply({ ok: true });
    }
    if (command === 'profile-stop' && profiler && argument) {
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      profiler = undefined;
      writeFileSync(argument, JSON.stringify(profile));
      return reply({ profile: argument });
    }
    reply({ error: `unknown command: ${line}` });
  })().catch((error) => reply({ error: String(error) }));
});
commands.on('close', () => void app.close().then(() => process.exit(0)));
