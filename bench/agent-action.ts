// Action → observed, for an agent driving a VM's screen: from click()/key() to the first frame that
// shows its effect (p50/p95), at 30 and 60 fps, and screenshot() latency; beside it, in the same run and
// interleaved trial by trial, what computer-use reference containers do: a screenshot tool (scrot) and
// xdotool inside the VM behind a small HTTP endpoint (written here: `--endpoint`), the agent polling
// screenshots after each action until it sees the effect.
// The application acted on is bench/support/flip-window.c: a full-screen window that flips black/white
// at every button or key press. Ours: `webrtcbin stream` (a child process) → daemon → view() +
// RemoteInput in this process.
//   node --import tsx bench/run.ts agent-action [--quick] [--fps 30,60] [--trials N] [--size 1280x720]
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { performance } from 'node:perf_hooks';

const here = path.dirname(fileURLToPath(import.meta.url));
// An effect not seen in this long is a failure (generous: the 2 shared cores may be loaded).
const EFFECT_MS = 15_000;

// ---- the reference endpoint (runs as its own process, "inside the VM") ----

/** POST /click?x&y, POST /key?combo (xdotool), GET /screenshot (scrot → PNG). Answers after the tool exits. */
async function endpoint(port: number): Promise<void> {
  const run = promisify(execFile);
  const shot = path.join(mkdtempSync(path.join(tmpdir(), 'bench-ref-')), 'screen.png');
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const done = (status: number, body: Buffer | string, type = 'text/plain') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    (async () => {
      if (url.pathname === '/click') await run('xdotool', ['mousemove', url.searchParams.get('x')!, url.searchParams.get('y')!, 'click', '1']);
      else if (url.pathname === '/key') await run('xdotool', ['key', url.searchParams.get('combo')!]);
      else if (url.pathname === '/screenshot') {
        await run('scrot', ['--overwrite', shot]);
        return done(200, readFileSync(shot), 'image/png');
      } else return done(404, 'no such tool');
      done(200, 'ok');
    })().catch((error: Error) => done(500, error.message));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  console.log('ready');
}

if (process.argv[2] === '--endpoint') {
  await endpoint(Number(process.argv[3]));
} else {
  await main();
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, fps: { type: 'string' }, trials: { type: 'string' }, size: { type: 'string' } } });
  const fpsList = (values.fps ?? '30,60').split(',').map(Number);
  const trials = Number(values.trials ?? (values.quick ? 15 : 40));
  const [width, height] = (values.size ?? '1280x720').split('x').map(Number) as [number, number];

  const { startDaemon, SECRET } = await import('../test/helpers/daemon.js');
  const { startXvfb } = await import('../test/helpers/xvfb.js');
  const { buildXClient } = await import('../test/helpers/x-client.js');
  const { decodePng } = await import('../test/helpers/png.js');
  const { mintToken } = await import('../lib/signaling/daemon/token.js');
  const { view } = await import('../lib/agent/remote-view.js');
  const { RemoteInput } = await import('../lib/agent/remote-input.js');
  const { start, stop, sleep } = await import('./lib/processes.js');
  const { appendResult, describeMachine, machineFacts } = await import('./lib/results.js');
  const { summarize } = await import('./lib/stats.js');
  const { formatTable } = await import('./lib/table.js');
  const { ensureBenchPackages } = await import('./lib/packages.js');
  ensureBenchPackages();

  const facts = machineFacts();
  console.log(`agent-action: ${describeMachine(facts)}; ${width}x${height}, ${trials} trials per kind and rate`);

  // The application: compiled on first use, cached by source hash.
  const source = path.join(here, 'support', 'flip-window.c');
  const binary = await buildXClient(source);

  const x = await startXvfb(`${width}x${height}x24`);
  const env = { ...process.env, DISPLAY: x.display };
  process.once('exit', () => void x.kill());
  const app = start(binary, [], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    app.stdout!.on('data', (d: Buffer) => /ready/.test(String(d)) && resolve());
    app.once('exit', (code) => reject(new Error(`flip-window exited with ${code}`)));
  });
  const refPort = 20_000 + Math.floor(Math.random() * 20_000);
  const ref = start(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--endpoint', String(refPort)], { env, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  await new Promise<void>((resolve) => ref.stdout!.on('data', (d: Buffer) => /ready/.test(String(d)) && resolve()));
  const daemon = await startDaemon();
  const tokenDir = mkdtempSync(path.join(tmpdir(), 'bench-agent-'));
  writeFileSync(path.join(tokenDir, 'publisher'), mintToken({ secret: SECRET, session: 'vm', role: 'publisher', ttlSeconds: 7200 }), { mode: 0o600 });
  // Clicks land in the middle; the effect is read a quarter of the way in, away from the pointer that
  // the capture draws over the screen (ximagesrc show-pointer) at the click's point.
  const cx = Math.floor(width / 2);
  const cy = Math.floor(height / 2);
  const sx = Math.floor(width / 4);
  const sy = Math.floor(height / 4);

  const refCall = async (what: string): Promise<Buffer> => {
    const res = await fetch(`http://127.0.0.1:${refPort}${what}`, { method: what.startsWith('/screenshot') ? 'GET' : 'POST' });
    if (!res.ok) throw new Error(`reference endpoint ${what}: ${res.status} ${await res.text()}`);
    return Buffer.from(await res.arrayBuffer());
  };
  const whiteInPng = (png: Buffer) => {
    const image = decodePng(png);
    return image.pixels[(sy * image.width + sx) * image.channels]! > 128;
  };

  const rows: (string | number)[][] = [];
  const record: Record<string, unknown> = { width, height, trials, fps: {} };
  for (const fps of fpsList) {
    const agent = start(process.execPath, ['--import', 'tsx', path.join(here, '..', 'lib', 'cli', 'cli.ts'), 'stream', '--url', daemon.url, '--session', 'vm', '--token-file', path.join(tokenDir, 'publisher'), '--display', x.display, '--fps', String(fps), '--width', String(width), '--height', String(height)], { env, stdio: 'ignore' });
    const v = view({ url: daemon.url, session: 'vm', token: mintToken({ secret: SECRET, session: 'vm', role: 'viewer', control: true }), timeoutMs: 60_000 });
    v.on('error', () => {});
    await v.ready;
    const input = new RemoteInput(v.inputChannel!, { screen: () => v.screen() });
    let white: boolean | undefined;
    v.on('frame', (frame) => {
      white = frame.data[sy * frame.stride + sx * 4]! > 128;
    });
    await sleep(1000);

    /** From the call to the first frame whose centre flipped; and to the acknowledgement. */
    const ours = async (act: () => Promise<unknown>): Promise<[observed: number, ack: number]> => {
      // The screen's state now, from the VM itself (the reference's flips are interleaved with ours, and
      // a still screen sends few frames); then frames that show it, so a stale frame cannot pass as the effect.
      const before = whiteInPng(await refCall('/screenshot'));
      const settle = Date.now() + EFFECT_MS;
      while (white !== before) {
        if (Date.now() > settle) throw new Error(`the view never showed the screen's state (white: ${String(before)})`);
        await sleep(20);
      }
      const seen = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no frame showed the effect within ${EFFECT_MS} ms (centre white: ${String(before)} → ${String(white)})`)), EFFECT_MS);
        const onFrame = () => {
          if (white === before) return;
          clearTimeout(timer);
          v.off('frame', onFrame);
          resolve(performance.now());
        };
        v.on('frame', onFrame);
      });
      seen.catch(() => {}); // awaited below; an act() that throws must not leave it unhandled
      const t0 = performance.now();
      await act();
      const ack = performance.now() - t0;
      return [(await seen) - t0, ack];
    };
    /** From the request to the first screenshot (polled right after the action) that shows the effect. */
    const reference = async (act: string): Promise<number> => {
      const before = whiteInPng(await refCall('/screenshot'));
      const t0 = performance.now();
      await refCall(act);
      for (;;) {
        const png = await refCall('/screenshot');
        const t = performance.now() - t0;
        if (whiteInPng(png) !== before) return t;
        if (t > EFFECT_MS) throw new Error(`no screenshot showed the effect within ${EFFECT_MS} ms`);
      }
    };

    const samples: Record<string, number[]> = { ourClick: [], ourClickAck: [], ourKey: [], ourKeyAck: [], refClick: [], refKey: [], ourPng: [], ourJpeg: [], refShot: [] };
    // A sample that fails (no effect seen in EFFECT_MS, a screenshot's frame late) is counted, not fatal.
    const failures: Record<string, number> = {};
    const measure = async (key: string, f: () => Promise<number | [number, number]>, ackKey?: string) => {
      try {
        const r = await f();
        samples[key]!.push(Array.isArray(r) ? r[0] : r);
        if (ackKey && Array.isArray(r)) samples[ackKey]!.push(r[1]);
      } catch (error) {
        failures[key] = (failures[key] ?? 0) + 1;
        console.log(`\n${key}: ${(error as Error).message}`);
      }
      await sleep(150);
    };
    const timed = (f: () => Promise<unknown>) => async () => {
      const t0 = performance.now();
      await f();
      return performance.now() - t0;
    };
    for (let i = 0; i < trials; i++) {
      process.stdout.write(`${fps} fps: trial ${i + 1}/${trials}\r`);
      await measure('ourClick', () => ours(() => input.click(cx, cy)), 'ourClickAck');
      await measure('refClick', () => reference(`/click?x=${cx}&y=${cy}`));
      await measure('ourKey', () => ours(() => input.key('a')), 'ourKeyAck');
      await measure('refKey', () => reference('/key?combo=a'));
      await measure('ourPng', timed(() => v.screenshot({ format: 'png' })));
      await measure('ourJpeg', timed(() => v.screenshot({ format: 'jpeg' })));
      await measure('refShot', timed(() => refCall('/screenshot')));
    }
    await input.close();
    await v.close();
    await stop(agent);

    const s = Object.fromEntries(Object.entries(samples).map(([k, list]) => [k, summarize(list)]));
    (record.fps as Record<number, unknown>)[fps] = { ...s, failures, samples };
    const r = (label: string, key: string, ack?: string) =>
      rows.push([`${fps}`, label, s[key]!.p50.toFixed(0), s[key]!.p95.toFixed(0), ack ? s[ack]!.p50.toFixed(0) : '', `${s[key]!.n}${failures[key] ? ` (${failures[key]} failed)` : ''}`]);
    r('ours: click() → frame', 'ourClick', 'ourClickAck');
    r('reference: xdotool click → screenshot', 'refClick');
    r('ours: key() → frame', 'ourKey', 'ourKeyAck');
    r('reference: xdotool key → screenshot', 'refKey');
    r('ours: screenshot() png', 'ourPng');
    r('ours: screenshot() jpeg', 'ourJpeg');
    r('reference: scrot screenshot over HTTP', 'refShot');
  }
  const table = formatTable(['fps', 'what', 'p50 ms', 'p95 ms', 'ack p50 ms', 'n'], rows);
  console.log(table);
  appendResult('agent-action', { ...record, table });

  await stop(ref);
  await stop(app);
  await daemon.app.close();
  await x.kill();
}
