// Soak: a publisher streams through a real daemon for an hour (or --minutes N) while viewers join and
// leave every few seconds; every minute one JSON line records RSS, open fds, threads, live peers and
// frames. Run on demand (not in CI); record runs in docs/reliability.md.
//   node --import tsx scripts/soak.ts [--minutes 60] [--max-viewers 4] [--every 3] [--source test|x11] [--size 1280x720]
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { livePeerCount } from '../lib/index.js';
import { publish } from '../lib/client.js';
import { createSignalingServer, mintToken } from '../lib/signaling/index.js';
import { startXvfb } from '../test/helpers/xvfb.js';
import { nodeViewer } from '../test/helpers/node-viewer.js';

const { values } = parseArgs({ options: { minutes: { type: 'string' }, 'max-viewers': { type: 'string' }, every: { type: 'string' }, source: { type: 'string' }, size: { type: 'string' } } });
const [width, height] = (values.size ?? '1280x720').split('x').map(Number) as [number, number];
const minutes = Number(values.minutes ?? 60);
const maxViewers = Number(values['max-viewers'] ?? 4);
const everyMs = Number(values.every ?? 3) * 1000;
const secret = 'soak-secret-0123456789abcdef';

const app = await createSignalingServer({ secret, logLevel: 'silent' });
await app.listen({ port: 0, host: '127.0.0.1' });
const port = (app.server.address() as { port: number }).port;
const url = `ws://127.0.0.1:${port}/v1/ws`;
const xvfb = values.source === 'x11' ? await startXvfb('1280x720x24') : undefined;
const source = xvfb ? { kind: 'x11' as const, display: xvfb.display } : { kind: 'test' as const, pattern: 'ball' };
const publisher = publish({ url, session: 'soak', token: mintToken({ secret, session: 'soak', role: 'publisher' }), source, video: { width, height } });
publisher.on('error', (e) => console.error(JSON.stringify({ error: e.message })));

type Viewer = ReturnType<typeof nodeViewer>;
const viewers: Viewer[] = [];
let joins = 0;
let frames = 0;
const threads = () => Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
const sample = (minute: number) =>
  console.log(JSON.stringify({
    minute,
    rssMb: Math.round(process.memoryUsage().rss / 1048576),
    fds: readdirSync('/proc/self/fd').length,
    threads: threads(),
    livePeers: livePeerCount(),
    viewers: publisher.viewers,
    joins,
    framesDecoded: frames + viewers.reduce((n, v) => n + v.peer.framesDecoded, 0),
  }));

const started = Date.now();
let minute = 0;
sample(0);
while (Date.now() - started < minutes * 60_000) {
  // Join until full, then one leaves; so there is always churn and always someone watching.
  if (viewers.length < maxViewers && Math.random() < 0.7) {
    viewers.push(nodeViewer(url, 'soak', mintToken({ secret, session: 'soak', role: 'viewer' })));
    joins++;
  } else if (viewers.length > 0) {
    const gone = viewers.splice(Math.floor(Math.random() * viewers.length), 1)[0]!;
    frames += gone.peer.framesDecoded;
    await gone.close();
  }
  await new Promise((r) => setTimeout(r, everyMs));
  const m = Math.floor((Date.now() - started) / 60_000);
  if (m > minute) sample((minute = m));
}
for (const v of viewers.splice(0)) {
  frames += v.peer.framesDecoded;
  await v.close();
}
await publisher.close();
await app.close();
await xvfb?.kill();
const settle = Date.now() + 10_000;
while (livePeerCount() > 0 && Date.now() < settle) await new Promise((r) => setTimeout(r, 50));
sample(minute + 1);
