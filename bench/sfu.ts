// The VM's cost of an audience: the publisher's process CPU with N viewers direct (through the daemon,
// one WebRtcPeer each from the shared encoder) and through Janus (one peer into a VideoRoom, Janus fans
// out), interleaved per N in one run; Janus's own CPU beside it (the cost moved off the VM). The
// publisher runs in a process of its own (bench/support/sfu-publisher.ts); the viewers (receiving
// WebRtcPeers taking encoded frames, not decoding: twenty 720p decoders would crowd the publisher's two
// cores) in this one.
//   node --import tsx bench/sfu.ts [--viewers 1,20] [--seconds 10] [--rounds 1]
import { parseArgs } from 'node:util';
import { WebRtcPeer } from '../lib/index.js';
import { SignalingClient } from '../lib/signaling/client.js';
import { mintToken } from '../lib/signaling/daemon/token.js';
import { SECRET, startDaemon } from '../test/helpers/daemon.js';
import { startJanus, subscribe, peerAnswerer, type Subscription } from '../test/helpers/janus.js';
import { start, stop, sleep, waitFor } from './lib/processes.js';
import { formatTable } from './lib/table.js';
import { CpuMeter, describeMachine, ensureBenchLock, machine, writeResult, ROOT } from './support/common.js';
import { loadavg } from 'node:os';
import path from 'node:path';

ensureBenchLock();
const { values } = parseArgs({ options: { viewers: { type: 'string' }, seconds: { type: 'string' }, rounds: { type: 'string' } } });
const counts = (values.viewers ?? '1,20').split(',').map(Number);
const seconds = Number(values.seconds ?? 10);
const rounds = Number(values.rounds ?? 1);
const m = machine();
console.log(`sfu: publisher CPU, direct vs through Janus; H.264 1280x720@30 2 Mbit/s; ${seconds} s per point; ${describeMachine(m)}`);

const daemon = await startDaemon();
const janus = await startJanus();

interface Viewer {
  peer: WebRtcPeer;
  frames: number;
  close: () => Promise<void>;
}

function receiver(): { peer: WebRtcPeer; counter: { frames: number } } {
  const peer = new WebRtcPeer({ video: { receive: true, encoded: true } });
  const counter = { frames: 0 };
  peer.on('frame', () => counter.frames++);
  return { peer, counter };
}

function directViewer(session: string): Viewer {
  const { peer, counter } = receiver();
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
  return { peer, get frames() { return counter.frames; }, close: async () => { await client.close(); await peer.close(); } };
}

async function janusViewer(room: number, feed: number): Promise<Viewer> {
  const { peer, counter } = receiver();
  const sub: Subscription = await subscribe(janus.url, room, feed, peerAnswerer(peer));
  return { peer, get frames() { return counter.frames; }, close: async () => { await sub.close(); await peer.close(); } };
}

let room = 9000;
async function measure(n: number, through: 'direct' | 'janus'): Promise<{ publisher: number; janus: number; decoded: number }> {
  const session = `sfu-${through}-${n}-${Date.now()}`;
  room++;
  const args = [path.join(ROOT, 'bench/support/sfu-publisher.ts'), daemon.url, session, ...(through === 'janus' ? [janus.url, String(room)] : [])];
  const token = mintToken({ secret: SECRET, session, role: 'publisher' });
  const child = start(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, WEBRTCBIN_TOKEN: token } });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor('the publisher joined', () => /joined/.test(out), 30_000);
  const viewers: Viewer[] = [];
  if (through === 'janus') {
    await waitFor('the relay published', () => /feed \d+/.test(out), 30_000);
    const feed = Number(/feed (\d+)/.exec(out)![1]);
    for (let i = 0; i < n; i++) viewers.push(await janusViewer(room, feed));
  } else {
    for (let i = 0; i < n; i++) viewers.push(directViewer(session));
  }
  await waitFor(`${n} viewers decoding`, () => viewers.every((v) => v.frames > 0), 60_000);
  await sleep(2000); // settle
  const publisherCpu = new CpuMeter(child.pid!);
  const janusCpu = new CpuMeter(janus.pid());
  const decoded0 = viewers.reduce((s, v) => s + v.frames, 0);
  publisherCpu.start();
  janusCpu.start();
  await sleep(seconds * 1000);
  const result = { publisher: publisherCpu.stop().percent, janus: janusCpu.stop().percent, decoded: viewers.reduce((s, v) => s + v.frames, 0) - decoded0 };
  await Promise.all(viewers.map((v) => v.close()));
  await stop(child);
  return result;
}

const rows: (string | number)[][] = [];
const records: Record<string, unknown>[] = [];
for (let round = 0; round < rounds; round++) {
  for (const n of counts) {
    // Interleaved: direct then Janus for each N, so drift in the machine's load hits both alike.
    for (const through of ['direct', 'janus'] as const) {
      const r = await measure(n, through);
      rows.push([n, through, r.publisher.toFixed(1), through === 'janus' ? r.janus.toFixed(1) : '–', r.decoded]);
      records.push({ viewers: n, through, load1: loadavg()[0], publisherCpuPercent: r.publisher, janusCpuPercent: through === 'janus' ? r.janus : undefined, framesReceived: r.decoded });
      console.log(`  ${n} ${through} (load ${loadavg()[0]!.toFixed(1)}): publisher ${r.publisher.toFixed(1)} %, Janus ${r.janus.toFixed(1)} %`);
    }
  }
}
console.log(formatTable(['viewers', 'path', 'publisher CPU % of a core', 'Janus CPU %', 'frames received (all viewers)'], rows));
console.log(`results: ${writeResult('sfu', { machine: m, seconds, points: records })}`);
await janus.stop();
await daemon.app.close();
process.exit(0);
