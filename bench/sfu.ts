// The VM's cost of an audience, and what the extra hop costs a viewer: the publisher's process CPU with N
// viewers direct (through the daemon, one WebRtcPeer each from the shared encoder) and through Janus
// (one peer into a VideoRoom, Janus fans out), interleaved per N in one run; Janus's own CPU beside it
// (the cost moved off the VM), and capture → frame latency on both paths.
//
// The publisher runs in a process of its own at normal priority (bench/support/sfu-publisher.ts), as does
// Janus. The viewers are receiving WebRtcPeers in this process taking *encoded* frames (no decode), run
// at a lower priority (--viewer-nice, default 19): on two shared cores a hundred receivers would
// otherwise take the publisher's CPU, and the figure would be the receivers' contention, not the VM's
// cost. What that costs the receivers shows as frames per viewer and the machine's busy share.
//
// Latency: our sender writes abs-capture-time on each frame; a direct viewer's frames carry it
// (Frame.captureTime), so direct latency is arrival − capture on this one clock. Janus 1.1.2 does not
// forward that extension (it rewrites every outgoing header extension and knows only a few: see
// docs/sfu.md), so for Janus, after the CPU window, one direct reference viewer joins and each frame a
// Janus subscriber gets is matched to the same frame at the reference by its encoded bytes (Janus
// forwards the payload untouched): its capture time comes from there, and "Janus − direct" is the same
// frame's arrival at a Janus subscriber minus its arrival at the reference.
//   node --import tsx bench/sfu.ts [--viewers 1,20,100:640x360@500] [--stream 1280x720@2000]
//     [--seconds 10] [--latency-seconds 5] [--viewer-nice 19] [--rounds 1]
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { loadavg, setPriority } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { WebRtcPeer, type Frame } from '../lib/index.js';
import { SignalingClient } from '../lib/signaling/client.js';
import { mintToken } from '../lib/signaling/daemon/token.js';
import { SECRET, startDaemon } from '../test/helpers/daemon.js';
import { startJanus, subscribe, peerAnswerer, type Subscription } from '../test/helpers/janus.js';
import { start, stop, sleep, waitFor } from './lib/processes.js';
import { formatTable } from './lib/table.js';
import { CpuMeter, describeMachine, ensureBenchLock, machine, percentile, writeResult, ROOT } from './support/common.js';

ensureBenchLock();
const { values } = parseArgs({
  options: {
    viewers: { type: 'string' },
    stream: { type: 'string' },
    seconds: { type: 'string' },
    'latency-seconds': { type: 'string' },
    'viewer-nice': { type: 'string' },
    rounds: { type: 'string' },
  },
});

interface Stream {
  width: number;
  height: number;
  kbps: number;
  label: string;
}
function parseStream(text: string): Stream {
  const m = /^(\d+)x(\d+)@(\d+)$/.exec(text);
  if (!m) throw new Error(`bench sfu: a stream is WIDTHxHEIGHT@KBPS, e.g. 640x360@500 (got ${text})`);
  return { width: Number(m[1]), height: Number(m[2]), kbps: Number(m[3]), label: `${m[1]}x${m[2]} ${m[3]} kbit/s` };
}
const defaultStream = parseStream(values.stream ?? '1280x720@2000');
// Each point is N viewers, optionally with a stream of its own: "100:640x360@500".
const points = (values.viewers ?? '1,20,100:640x360@500').split(',').map((item) => {
  const [n, stream] = item.split(':');
  return { n: Number(n), stream: stream ? parseStream(stream) : defaultStream };
});
const seconds = Number(values.seconds ?? 10);
const latencySeconds = Number(values['latency-seconds'] ?? 5);
const viewerNice = Number(values['viewer-nice'] ?? 19);
const rounds = Number(values.rounds ?? 1);
const m = machine();
console.log(
  `sfu: publisher CPU and viewer latency, direct vs through Janus; H.264 @30 fps; points ${points.map((p) => `${p.n} (${p.stream.label})`).join(', ')}; ` +
    `${seconds} s CPU window, ${latencySeconds} s Janus latency window; viewers at nice ${viewerNice}; ${describeMachine(m)}`,
);

// More sockets and joins from 127.0.0.1 than the daemon allows one address by default.
const daemon = await startDaemon({ maxSocketsPerIp: 1024, maxJoinsPerToken: 1024 });
const janus = await startJanus();
// Janus and the publishers (spawned below through `nice -n -N`) stay at normal priority; every thread
// of this process, and so every receiver thread created from them later, drops to viewerNice.
for (const task of readdirSync('/proc/self/task')) setPriority(Number(task), viewerNice);

/** The whole machine's busy share over a window, in % of one core (200 = both cores busy). */
class MachineMeter {
  #busy0 = 0;
  #total0 = 0;
  #read(): { busy: number; total: number } {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
    const idle = cpu[3]! + cpu[4]!; // idle + iowait
    const total = cpu.slice(0, 8).reduce((s, v) => s + v, 0);
    return { busy: total - idle, total };
  }
  start(): void {
    ({ busy: this.#busy0, total: this.#total0 } = this.#read());
  }
  stop(cores: number): number {
    const { busy, total } = this.#read();
    return ((busy - this.#busy0) / (total - this.#total0)) * cores * 100;
  }
}

const now = () => performance.timeOrigin + performance.now();
const frameKey = (frame: Frame) => createHash('sha1').update(frame.data).digest('base64');

interface Viewer {
  frames: number;
  /** When set, each frame's (arrival, capture) goes here. */
  latency?: number[];
  /** When set, sees each frame and its arrival time. */
  tap?: (frame: Frame, at: number) => void;
  captured: number;
  /** Times its connection went to disconnected or failed. */
  troubles: number;
  close: () => Promise<void>;
}

function receiver(): { peer: WebRtcPeer; viewer: Omit<Viewer, 'close'> } {
  const peer = new WebRtcPeer({ video: { receive: true, encoded: true } });
  const viewer: Omit<Viewer, 'close'> = { frames: 0, captured: 0, troubles: 0 };
  peer.on('connectionstatechange', (state) => {
    if (state === 'disconnected' || state === 'failed') viewer.troubles++;
  });
  peer.on('frame', (frame) => {
    const at = now();
    viewer.frames++;
    if (frame.captureTime !== undefined) {
      viewer.captured++;
      viewer.latency?.push(at - frame.captureTime);
    }
    viewer.tap?.(frame, at);
  });
  return { peer, viewer };
}

function directViewer(session: string): Viewer {
  const { peer, viewer } = receiver();
  const client = new SignalingClient({ url: daemon.url, session, role: 'viewer', token: mintToken({ secret: SECRET, session, role: 'viewer' }) });
  peer.on('icecandidate', (c) => void client.send({ type: 'candidate', candidate: c ? { candidate: c.candidate ?? '', sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null } : null }));
  client.on('offer', async (msg: { sdp: string }) => {
    await peer.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
    const answer = await peer.createAnswer();
    await peer.setLocalDescription(answer);
    client.send({ type: 'answer', sdp: answer.sdp });
  });
  client.on('candidate', (msg: { candidate: { candidate: string } | null }) => void peer.addIceCandidate(msg.candidate).catch(() => {}));
  client.connect();
  return Object.assign(viewer, { close: async () => { await client.close(); await peer.close(); } });
}

async function janusViewer(room: number, feed: number): Promise<Viewer> {
  const { peer, viewer } = receiver();
  const sub: Subscription = await subscribe(janus.url, room, feed, peerAnswerer(peer));
  return Object.assign(viewer, { close: async () => { await sub.close(); await peer.close(); } });
}

interface Result {
  publisher: number;
  janus: number;
  viewersProcess: number;
  machineBusy: number;
  framesPerViewer: number[];
  /** Viewer connections that went disconnected or failed during the point; publications (Janus). */
  troubles: number;
  publications: number;
  /** Capture → frame at a viewer, ms, every frame of every viewer in the window. */
  latency: number[];
  /** Janus only: the same frame's arrival at a Janus subscriber minus at the direct reference, ms. */
  overDirect: number[];
  /** Janus only: the reference's own capture → frame in the latency window. */
  referenceLatency: number[];
  /** Janus only: frames at the subscribers that carried a captureTime (expected 0) and that matched. */
  janusFramesWithCaptureTime?: number;
  matched?: number;
  unmatched?: number;
}

const summary = (xs: number[]) => (xs.length ? `${percentile(xs, 50).toFixed(1)} / ${percentile(xs, 95).toFixed(1)}` : '–');

let room = 9000;
async function measure(n: number, stream: Stream, through: 'direct' | 'janus'): Promise<Result> {
  const session = `sfu-${through}-${n}-${Date.now()}`;
  room++;
  const args = [path.join(ROOT, 'bench/support/sfu-publisher.ts'), daemon.url, session, `${stream.width}x${stream.height}`, String(stream.kbps), ...(through === 'janus' ? [janus.url, String(room)] : [])];
  const token = mintToken({ secret: SECRET, session, role: 'publisher' });
  // Back to normal priority: the publisher is what we measure, it must not be the one starved.
  const child = start('nice', ['-n', String(-viewerNice), process.execPath, '--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, WEBRTCBIN_TOKEN: token } });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    // A second "feed" line is a republication: the subscribers of the first feed get nothing more.
    for (const line of d.toString().split('\n')) if (line && line !== 'joined') console.log(`    publisher: ${line}`);
  });
  const viewers: Viewer[] = [];
  try {
    await waitFor('the publisher joined', () => /joined/.test(out), 30_000);
    if (through === 'janus') {
      await waitFor('the relay published', () => /feed \d+/.test(out), 30_000);
      const feed = Number(/feed (\d+)/.exec(out)![1]);
      // Ten subscriptions at a time: one at a time takes minutes at 100.
      for (let i = 0; i < n; i += 10) viewers.push(...(await Promise.all(Array.from({ length: Math.min(10, n - i) }, () => janusViewer(room, feed)))));
    } else {
      for (let i = 0; i < n; i++) viewers.push(directViewer(session));
    }
    await waitFor(`${n} viewers receiving`, () => viewers.every((v) => v.frames > 0), 60_000 + n * 1000);
    await sleep(2000); // settle
    const latency: number[] = [];
    for (const v of viewers) v.latency = latency;
    const publisherCpu = new CpuMeter(child.pid!);
    const janusCpu = new CpuMeter(janus.pid());
    const ownCpu = new CpuMeter(process.pid);
    const busy = new MachineMeter();
    const frames0 = viewers.map((v) => v.frames);
    const captured0 = viewers.reduce((s, v) => s + v.captured, 0);
    publisherCpu.start();
    janusCpu.start();
    ownCpu.start();
    busy.start();
    await sleep(seconds * 1000);
    const result: Result = {
      publisher: publisherCpu.stop().percent,
      janus: janusCpu.stop().percent,
      viewersProcess: ownCpu.stop().percent,
      machineBusy: busy.stop(m.cores),
      framesPerViewer: viewers.map((v, i) => v.frames - frames0[i]!),
      latency,
      overDirect: [],
      referenceLatency: [],
      troubles: 0,
      publications: 0,
    };
    for (const v of viewers) v.latency = undefined;
    if (through === 'janus') {
      result.janusFramesWithCaptureTime = viewers.reduce((s, v) => s + v.captured, 0) - captured0;
      result.latency = [];
      // The reference: one direct viewer of the same publisher, after the CPU window.
      const reference = directViewer(session);
      viewers.push(reference);
      await waitFor('the reference viewer receiving', () => reference.frames > 10, 30_000);
      const captures = new Map<string, number | null>(); // frame key → capture time (null: seen twice)
      const referenceArrivals = new Map<string, number>();
      reference.latency = result.referenceLatency;
      reference.tap = (frame, at) => {
        if (frame.captureTime === undefined) return;
        const key = frameKey(frame);
        captures.set(key, captures.has(key) ? null : frame.captureTime);
        referenceArrivals.set(key, at);
      };
      const subscriberArrivals = viewers.slice(0, n).map((v) => {
        const arrivals = new Map<string, number>();
        v.tap = (frame, at) => arrivals.set(frameKey(frame), at);
        return arrivals;
      });
      await sleep(latencySeconds * 1000);
      for (const v of viewers) v.tap = undefined;
      reference.latency = undefined;
      let matched = 0;
      let unmatched = 0;
      for (const arrivals of subscriberArrivals) {
        for (const [key, at] of arrivals) {
          const capture = captures.get(key);
          const atReference = referenceArrivals.get(key);
          if (capture == null || atReference === undefined) {
            unmatched++;
            continue;
          }
          matched++;
          result.latency.push(at - capture);
          result.overDirect.push(at - atReference);
        }
      }
      result.matched = matched;
      result.unmatched = unmatched;
    }
    result.troubles = viewers.reduce((s, v) => s + v.troubles, 0);
    result.publications = (out.match(/^feed \d+/gm) ?? []).length;
    return result;
  } finally {
    await Promise.all(viewers.map((v) => v.close()));
    await stop(child);
  }
}

const rows: (string | number)[][] = [];
const records: Record<string, unknown>[] = [];
for (let round = 0; round < rounds; round++) {
  for (const { n, stream } of points) {
    // Interleaved: direct then Janus for each N (Janus first on odd rounds), so drift in the machine's
    // load hits both alike.
    for (const through of round % 2 ? (['janus', 'direct'] as const) : (['direct', 'janus'] as const)) {
      const load1 = loadavg()[0]!;
      let r: Result;
      try {
        r = await measure(n, stream, through);
      } catch (error) {
        // One point that could not be set up (a viewer never received) is reported, not the whole run lost.
        console.log(`  ${n} ${stream.label} ${through} (load ${load1.toFixed(1)}): failed: ${(error as Error).message}`);
        rows.push([n, stream.label, through, 'failed', '', '', '', '', '', '', load1.toFixed(1)]);
        records.push({ round, viewers: n, stream, through, load1, error: (error as Error).message });
        continue;
      }
      const fps = r.framesPerViewer.map((f) => f / seconds);
      const fpsMean = fps.reduce((s, v) => s + v, 0) / fps.length;
      const fpsMin = Math.min(...fps);
      rows.push([
        n,
        stream.label,
        through,
        r.publisher.toFixed(1),
        through === 'janus' ? r.janus.toFixed(1) : '–',
        r.viewersProcess.toFixed(1),
        r.machineBusy.toFixed(0),
        `${fpsMean.toFixed(1)} / ${fpsMin.toFixed(1)}`,
        summary(r.latency),
        through === 'janus' ? summary(r.overDirect) : '–',
        load1.toFixed(1),
      ]);
      records.push({
        round,
        viewers: n,
        stream,
        through,
        load1,
        publisherCpuPercent: r.publisher,
        janusCpuPercent: through === 'janus' ? r.janus : undefined,
        viewersProcessCpuPercent: r.viewersProcess,
        machineBusyPercent: r.machineBusy,
        framesPerViewer: r.framesPerViewer,
        framesReceived: r.framesPerViewer.reduce((s, v) => s + v, 0),
        viewerConnectionTroubles: r.troubles,
        publications: through === 'janus' ? r.publications : undefined,
        latencyMs: { n: r.latency.length, p50: percentile(r.latency, 50), p95: percentile(r.latency, 95), max: Math.max(...r.latency) },
        ...(through === 'janus'
          ? {
              overDirectMs: { n: r.overDirect.length, p5: percentile(r.overDirect, 5), p50: percentile(r.overDirect, 50), p95: percentile(r.overDirect, 95) },
              referenceLatencyMs: { n: r.referenceLatency.length, p50: percentile(r.referenceLatency, 50), p95: percentile(r.referenceLatency, 95) },
              janusFramesWithCaptureTime: r.janusFramesWithCaptureTime,
              matched: r.matched,
              unmatched: r.unmatched,
            }
          : {}),
      });
      console.log(
        `  ${n} ${stream.label} ${through} (load ${load1.toFixed(1)}): publisher ${r.publisher.toFixed(1)} %, Janus ${r.janus.toFixed(1)} %, viewers ${r.viewersProcess.toFixed(1)} %, ` +
          `machine ${r.machineBusy.toFixed(0)} %, ${fpsMean.toFixed(1)} fps per viewer (min ${fpsMin.toFixed(1)}), ${r.troubles} viewer connection troubles, latency p50/p95 ${summary(r.latency)} ms` +
          (through === 'janus'
            ? `, Janus − direct ${summary(r.overDirect)} ms (${r.publications} publication(s); ${r.matched} matched, ${r.unmatched} not; reference ${summary(r.referenceLatency)} ms; ${r.janusFramesWithCaptureTime} Janus frames had a captureTime)`
            : ''),
      );
    }
  }
}
console.log(
  formatTable(
    ['viewers', 'stream', 'path', 'publisher CPU %', 'Janus CPU %', 'viewers process CPU %', 'machine busy % (of 200)', 'fps per viewer mean / min', 'capture → frame p50 / p95 ms', 'Janus − direct p50 / p95 ms', 'load1'],
    rows,
  ),
);
console.log(`results: ${writeResult('sfu', { machine: m, seconds, latencySeconds, viewerNice, points: records })}`);
await janus.stop();
await daemon.app.close();
process.exit(0);
