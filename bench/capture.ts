// Fixed-rate capture (ximagesrc at --fps) against damage capture (webrtcbinxdamagesrc), in one run,
// trial by trial interleaved: key → photon (a key on the input channel flips bench/support/flip-window.c
// black/white; the time to the first decoded frame at a view() that shows the flip) and the CPU of each
// publisher process (`webrtcbin stream`, one viewer watching) on a still screen.
// Every configuration streams at once from its own agent process to its own session: a trial measures one
// of them while the others idle (they see the same flip, so they encode it too: a shared load).
//   node --import tsx bench/run.ts capture [--trials N] [--size 1280x720] [--configs fixed@30,fixed@60,damage]
//     [--still-seconds 10] [--codec h264] [--activity]
//   --activity: after the still window, two more of the same length: typing (8 keys/s into a full-screen
//     xterm) and scrolling (20 lines/s): CPU of each publisher and frames/s at its viewer
//     [--stages] [--before ADDON]
//   --stages: each key followed stage by stage (XTest, damage, read, convert, encode, RTP, network,
//     jitter buffer, depayloader, decoder: bench/lib/latency-stages.ts), p50/p95 per stage per config
//   --before ADDON: configs named NAME-before (e.g. damage-before) run their publisher on that addon
//     (WEBRTCBIN_ADDON, e.g. main's build/Release/webrtcbin.node copied aside), interleaved with the rest
//   node --import tsx bench/run.ts capture --breakdown   where a watched still desktop's CPU goes: a sender
//     and a receiving WebRtcPeer in this process, damage with/without the pointer and the refresh, beside fixed
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

const here = path.dirname(fileURLToPath(import.meta.url));
const EFFECT_MS = 10_000;

/** utime + stime of a process, in seconds (every thread). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ
}

/** CPU of this process (sender + receiver peers) on a still 720p screen, per capture variant, two rounds. */
async function breakdown(): Promise<void> {
  const { WebRtcPeer } = await import('../lib/index.js');
  const { connectPair } = await import('../test/helpers/peers.js');
  const { startXvfb } = await import('../test/helpers/xvfb.js');
  const { sleep } = await import('./lib/processes.js');
  const x = await startXvfb('1280x720x24');
  const variants: { capture: 'fixed' | 'damage'; showPointer?: boolean; refreshMs?: number }[] = [
    { capture: 'fixed' },
    { capture: 'damage', showPointer: true, refreshMs: 1000 },
    { capture: 'damage', showPointer: false, refreshMs: 1000 },
    { capture: 'damage', showPointer: false, refreshMs: 0 },
    { capture: 'damage', showPointer: true, refreshMs: 0 },
  ];
  for (let round = 0; round < 2; round++) {
    for (const v of variants) {
      const sender = new WebRtcPeer({ source: { kind: 'x11', display: x.display, ...v }, video: { width: 1280, height: 720, codec: 'h264' } });
      const receiver = new WebRtcPeer({ video: { receive: true, format: 'I420' } });
      await connectPair(sender, receiver);
      await sleep(1500);
      const u0 = process.cpuUsage();
      const f0 = receiver.framesDecoded;
      const t0 = performance.now();
      await sleep(8000);
      const u = process.cpuUsage(u0);
      const seconds = (performance.now() - t0) / 1000;
      console.log(JSON.stringify(v), 'CPU %', (((u.user + u.system) / 1e6 / seconds) * 100).toFixed(2), 'frames/s', ((receiver.framesDecoded - f0) / seconds).toFixed(1));
      await sender.close();
      await receiver.close();
    }
  }
  const u0 = process.cpuUsage();
  await sleep(8000);
  const u = process.cpuUsage(u0);
  console.log('this process idle: CPU %', (((u.user + u.system) / 1e6 / 8) * 100).toFixed(2));
  await x.kill();
}

async function main(): Promise<void> {
  if (process.argv.includes('--breakdown')) return breakdown();
  const { values } = parseArgs({
    options: {
      breakdown: { type: 'boolean' }, trials: { type: 'string' }, size: { type: 'string' }, configs: { type: 'string' }, 'still-seconds': { type: 'string' }, codec: { type: 'string' },
      stages: { type: 'boolean' }, before: { type: 'string' }, activity: { type: 'boolean' },
    },
  });
  const traceDir = values.stages ? mkdtempSync(path.join(tmpdir(), 'bench-capture-trace-')) : undefined;
  // Before the addon loads (the imports below): this process's receivers trace too.
  if (traceDir) process.env.WEBRTCBIN_LATENCY_TRACE = path.join(traceDir, 'view.trace');
  const trials = Number(values.trials ?? 30);
  const stillSeconds = Number(values['still-seconds'] ?? 10);
  const codec = values.codec ?? 'h264';
  const [width, height] = (values.size ?? '1280x720').split('x').map(Number) as [number, number];
  const configs = (values.configs ?? 'fixed@30,fixed@60,damage').split(',').map((c) => {
    const [kind, fps] = c.split('@');
    const before = kind!.endsWith('-before');
    if (before && !values.before) throw new Error(`config ${c} needs --before ADDON`);
    return { name: c, capture: kind!.replace(/-before$/, '') as 'fixed' | 'damage', fps: Number(fps ?? 30), addon: before ? path.resolve(values.before!) : undefined };
  });

  const { startDaemon, SECRET } = await import('../test/helpers/daemon.js');
  const { startXvfb } = await import('../test/helpers/xvfb.js');
  const { buildXClient } = await import('../test/helpers/x-client.js');
  const { mintToken } = await import('../lib/signaling/daemon/token.js');
  const { view } = await import('../lib/agent/remote-view.js');
  const { RemoteInput } = await import('../lib/agent/remote-input.js');
  const { start, stop, sleep } = await import('./lib/processes.js');
  const { appendResult, describeMachine, machineFacts } = await import('./lib/results.js');
  const { summarize } = await import('./lib/stats.js');
  const { formatTable } = await import('./lib/table.js');
  const { chainTrial, nowUs, readTrace, stageRows, tracedElements, STEPS, SHOWN_LABEL } = await import('./lib/latency-stages.js');

  const facts = machineFacts();
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`capture: ${describeMachine(facts)}; load ${load}; ${width}x${height} ${codec}, ${trials} trials per config`);

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
  const daemon = await startDaemon();
  const tokenDir = mkdtempSync(path.join(tmpdir(), 'bench-capture-'));
  // The effect is read a quarter of the way in, away from the pointer drawn at the centre.
  const sx = Math.floor(width / 4);
  const sy = Math.floor(height / 4);

  const runs = [];
  for (const c of configs) {
    const session = `vm-${c.name.replace(/\W/g, '-')}`;
    const tokenFile = path.join(tokenDir, session);
    writeFileSync(tokenFile, mintToken({ secret: SECRET, session, role: 'publisher', ttlSeconds: 7200 }), { mode: 0o600 });
    const agent = start(
      process.execPath,
      ['--import', 'tsx', path.join(here, '..', 'lib', 'cli', 'cli.ts'), 'stream', '--url', daemon.url, '--session', session, '--token-file', tokenFile,
        '--display', x.display, '--fps', String(c.fps), '--width', String(width), '--height', String(height), '--codec', codec, '--capture', c.capture],
      {
        env: {
          ...env,
          ...(c.addon ? { WEBRTCBIN_ADDON: c.addon } : {}),
          ...(traceDir ? { WEBRTCBIN_LATENCY_TRACE: path.join(traceDir, `${session}.trace`) } : {}),
        },
        stdio: 'ignore',
      },
    );
    const v = view({ url: daemon.url, session, token: mintToken({ secret: SECRET, session, role: 'viewer', control: true }), timeoutMs: 60_000 });
    v.on('error', () => {});
    await v.ready;
    const input = new RemoteInput(v.inputChannel!, { screen: () => v.screen() });
    const run = {
      ...c, session, agent, v, input, white: undefined as boolean | undefined, frames: 0, samples: [] as number[], failed: 0,
      keys: [] as { keyUs: number; shownUs: number }[], viewElements: new Set<string>(),
    };
    v.on('frame', (frame) => {
      run.frames++;
      run.white = frame.data[sy * frame.stride + sx * 4]! > 128;
    });
    runs.push(run);
    if (traceDir) {
      // This view's receiving elements: those that first show up in the trace once its frames come.
      const until = Date.now() + 10_000;
      while (run.frames === 0 && Date.now() < until) await sleep(50);
      await sleep(300);
      const seen = tracedElements(readTrace(path.join(traceDir, 'view.trace')));
      const earlier = new Set(runs.slice(0, -1).flatMap((r) => [...r.viewElements]));
      for (const name of seen) if (!earlier.has(name)) run.viewElements.add(name);
    }
  }
  await sleep(2000);

  // The screen's state: flip-window starts black and flips on every key any run sends.
  let white = false;
  for (let i = 0; i < trials; i++) {
    for (const run of runs) {
      process.stdout.write(`trial ${i + 1}/${trials} ${run.name}      \r`);
      const settle = Date.now() + EFFECT_MS;
      while (run.white !== white && Date.now() < settle) await sleep(10);
      const want: boolean = !white;
      const t0 = performance.now();
      const keyUs = nowUs();
      const seen = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no frame showed the flip')), EFFECT_MS);
        const onFrame = () => {
          if (run.white !== want) return;
          clearTimeout(timer);
          run.v.off('frame', onFrame);
          run.keys.push({ keyUs, shownUs: nowUs() });
          resolve(performance.now() - t0);
        };
        run.v.on('frame', onFrame);
      });
      await run.input.key('a');
      white = want;
      try {
        run.samples.push(await seen);
      } catch {
        run.failed++;
      }
      // A random pause: a fixed-rate capture's phase is not the same at every key.
      await sleep(150 + Math.random() * 100);
    }
  }

  // Still screen, every viewer watching: CPU and frames of each publisher.
  await sleep(1500);
  const before = runs.map((r) => ({ cpu: cpuSeconds(r.agent.pid!), frames: r.frames }));
  const t0 = performance.now();
  await sleep(stillSeconds * 1000);
  const seconds = (performance.now() - t0) / 1000;
  const still = runs.map((r, i) => ({ cpuPercent: ((cpuSeconds(r.agent.pid!) - before[i]!.cpu) / seconds) * 100, framesPerSecond: (r.frames - before[i]!.frames) / seconds }));

  // --activity: the same window while someone types (8 keys a second into a full-screen xterm: a few
  // characters' damage each) and while text scrolls (20 lines a second: the whole terminal moves).
  const activity: Record<string, { cpuPercent: number; framesPerSecond: number }[]> = {};
  if (values.activity) {
    const { spawn } = await import('node:child_process');
    const publishers = [...runs]; // a closure cannot see the evolving array's type
    const geometry = `${Math.floor(width / 6)}x${Math.floor(height / 13)}+0+0`;
    const window = async (name: string, args: string[], drive?: () => ReturnType<typeof spawn>) => {
      const term = spawn('xterm', ['-display', x.display, '-geometry', geometry, ...args], { stdio: 'ignore' });
      await sleep(1500);
      const driver = drive?.();
      const from = publishers.map((r) => ({ cpu: cpuSeconds(r.agent.pid!), frames: r.frames }));
      const started = performance.now();
      await sleep(stillSeconds * 1000);
      const s = (performance.now() - started) / 1000;
      activity[name] = publishers.map((r, i) => ({ cpuPercent: ((cpuSeconds(r.agent.pid!) - from[i]!.cpu) / s) * 100, framesPerSecond: (r.frames - from[i]!.frames) / s }));
      driver?.kill('SIGKILL');
      term.kill('SIGKILL');
      await sleep(1000);
    };
    const text = 'the quick brown fox jumps over the lazy dog '.repeat(Math.ceil(stillSeconds * 8 / 44) + 4);
    // The pointer (Xvfb's centre) is over the xterm, so the keys go to it (no window manager: focus follows it).
    await window('typing', [], () => spawn('xdotool', ['type', '--delay', '125', text], { env, stdio: 'ignore' }));
    await window('scrolling', ['-e', 'sh', '-c', 'i=0; while :; do i=$((i+1)); echo "line $i of a scrolling terminal"; sleep 0.05; done']);
  }

  const kinds = Object.keys(activity);
  const rows = runs.map((r, i) => {
    const s = summarize(r.samples);
    const more = kinds.flatMap((k) => [activity[k]![i]!.cpuPercent.toFixed(2), activity[k]![i]!.framesPerSecond.toFixed(1)]);
    return [r.name, s.p50.toFixed(1), s.p95.toFixed(1), `${s.n}${r.failed ? ` (${r.failed} failed)` : ''}`, still[i]!.cpuPercent.toFixed(2), still[i]!.framesPerSecond.toFixed(1), ...more];
  });
  const table = formatTable(['capture', 'key→frame p50 ms', 'p95 ms', 'n', 'still CPU %', 'still frames/s at viewer', ...kinds.flatMap((k) => [`${k} CPU %`, `${k} frames/s`])], rows);
  console.log(`\n${table}`);
  const stageTables: Record<string, string> = {};
  if (traceDir) {
    const view = readTrace(path.join(traceDir, 'view.trace'));
    for (const r of runs) {
      const pub = readTrace(path.join(traceDir, `${r.session}.trace`));
      if (pub.size === 0) {
        console.log(`\n${r.name}: no trace (an addon without WEBRTCBIN_LATENCY_TRACE)`);
        continue;
      }
      const trials = r.keys.map((k) => chainTrial(pub, view, r.viewElements, k.keyUs, k.shownUs));
      stageTables[r.name] = formatTable(['step', 'p50 ms', 'p95 ms', 'n'], stageRows(trials));
      console.log(`\n${r.name}, stage by stage:\n${stageTables[r.name]}`);
      // The tail: the slowest keys, step by step (ms; - where a stage was not found).
      const order = r.keys.map((k, i) => ({ total: k.shownUs - k.keyUs, i })).sort((a, b) => b.total - a.total).slice(0, 4);
      for (const { total, i } of order) {
        const t = trials[i]!;
        const parts = [...STEPS.map((s) => s.label.split(' (')[0]!), SHOWN_LABEL].map((label, j) => `${label.replace(/^.* → /, '')} ${t.steps[j] === undefined ? '-' : (t.steps[j]! / 1000).toFixed(1)}`);
        console.log(`  slow key ${(total / 1000).toFixed(1)} ms (${t.why ?? '?'}): ${parts.join(', ')}`);
      }
    }
  }
  appendResult('capture', {
    width, height, codec, trials, load,
    runs: runs.map((r, i) => ({ name: r.name, addon: r.addon, ...summarize(r.samples), failed: r.failed, samples: r.samples, still: still[i], ...Object.fromEntries(kinds.map((k) => [k, activity[k]![i]])), keys: r.keys })),
    traceDir,
    table, stageTables,
  });
  for (const r of runs) {
    await r.input.close();
    await r.v.close();
    await stop(r.agent);
  }
  await stop(app);
  await daemon.app.close();
  await x.kill();
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
