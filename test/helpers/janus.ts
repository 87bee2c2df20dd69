// A real Janus (Debian `janus` 1.1) for the SFU tests: a generated config folder with only the VideoRoom
// plugin and the WebSockets transport on a free loopback port, ICE on loopback; stopped (or restarted
// on the same port) by the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './coturn.js';

const LIB = '/usr/lib/x86_64-linux-gnu/janus';
const OTHER_PLUGINS = ['audiobridge', 'duktape', 'echotest', 'lua', 'nosip', 'recordplay', 'sip', 'streaming', 'textroom', 'videocall', 'voicemail'];
const OTHER_TRANSPORTS = ['http', 'mqtt', 'nanomsg', 'pfunix', 'rabbitmq'];

export interface Janus {
  /** The WebSocket API, e.g. ws://127.0.0.1:41234 */
  url: string;
  /** The running Janus's process id (benchmarks read its CPU). */
  pid: () => number;
  log: () => string;
  /** Kills Janus and starts it again on the same port (its rooms and sessions are gone). */
  restart: () => Promise<void>;
  stop: () => Promise<void>;
}

function config(dir: string, port: number, debugLevel: number): void {
  const so = (names: string[], kind: string) => names.map((n) => `libjanus_${n}.so`).join(',') + (kind ? '' : '');
  writeFileSync(
    path.join(dir, 'janus.jcfg'),
    `general: {
  configs_folder = "${dir}"
  plugins_folder = "${LIB}/plugins"
  transports_folder = "${LIB}/transports"
  events_folder = "${LIB}/events"
  loggers_folder = "${LIB}/loggers"
  debug_level = ${debugLevel}
  session_timeout = 60
}
media: {
  rtp_port_range = "20000-60000"
}
nat: {
  nice_debug = false
  ice_enforce_list = "lo"
}
plugins: {
  disable = "${so(OTHER_PLUGINS, '')}"
}
transports: {
  disable = "${so(OTHER_TRANSPORTS, '')}"
}
loggers: {
  disable = "libjanus_jsonlog.so"
}
events: {
  broadcast = false
}
`,
  );
  writeFileSync(
    path.join(dir, 'janus.transport.websockets.jcfg'),
    `general: {
  json = "plain"
  ws = true
  ws_port = ${port}
  ws_ip = "127.0.0.1"
  wss = false
}
admin: {
  admin_ws = false
  admin_wss = false
}
`,
  );
  // No rooms from the config: the relay creates its own.
  writeFileSync(path.join(dir, 'janus.plugin.videoroom.jcfg'), 'general: {\n}\n');
}

/**
 * `debugLevel` 5 (verbose) adds each remote SDP and the SSRCs Janus learns from it to the log;
 * `logFile` keeps the whole log, timestamped (log() holds only its last 200 kB).
 */
export async function startJanus(options: { debugLevel?: number; logFile?: string } = {}): Promise<Janus> {
  const dir = mkdtempSync(path.join(tmpdir(), 'janus-test-'));
  const port = await freePort();
  config(dir, port, options.debugLevel ?? 4);
  let output = '';
  let child: ChildProcess;
  const launch = async (): Promise<void> => {
    output = '';
    child = spawn('janus', ['-F', dir, '-o', ...(options.logFile ? ['-L', options.logFile, '-D'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-200_000)));
    child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-200_000)));
    const deadline = Date.now() + 15_000;
    while (!/WebSockets server started \(port \d+\)|Janus loaded|WebSockets thread started/.test(output)) {
      if (child.exitCode !== null) throw new Error(`janus exited (${child.exitCode}): ${output.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`janus did not start: ${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  await launch();
  return {
    url: `ws://127.0.0.1:${port}`,
    pid: () => child.pid!,
    log: () => output,
    restart: async () => {
      await kill();
      await launch();
    },
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The answering side of a subscription: our WebRtcPeer (receiving) or a Chromium BrowserPeer. */
export interface Answerer {
  answer(offer: { type: string; sdp: string }): Promise<{ type: 'answer'; sdp: string }>;
  onCandidate(listener: (candidate: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null } | null) => void): void;
  addCandidate(candidate: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null }): Promise<void>;
}

export interface Subscription {
  /** Leaves the subscription (the answerer is the caller's to close). */
  close(): Promise<void>;
}

/**
 * Subscribes `answerer` to `feed` of `room` through Janus's API (janode: join as subscriber, answer
 * Janus's offer, `start`, trickle both ways). One janode connection and session per call.
 */
export async function subscribe(url: string, room: number, feed: number | string, answerer: Answerer, pin?: string): Promise<Subscription> {
  const { default: Janode } = (await import('janode' as string)) as { default: any };
  const { default: VideoRoom } = (await import('janode/plugins/videoroom' as string)) as { default: any };
  Janode.Logger.setLevel('none');
  const connection = await Janode.connect({ address: { url } });
  const session = await connection.create();
  const handle = await session.attach(VideoRoom);
  handle.on(Janode.EVENT.HANDLE_TRICKLE, (e: { candidate?: { candidate: string; sdpMid?: string; sdpMLineIndex?: number } }) => {
    if (e?.candidate?.candidate) void answerer.addCandidate(e.candidate).catch(() => {});
  });
  const joined = await handle.joinSubscriber({ room, feed, ...(pin ? { pin } : {}) });
  if (!joined.jsep) throw new Error('Janus sent no offer to the subscriber');
  const answer = await answerer.answer(joined.jsep);
  answerer.onCandidate((c) => void handle.trickle(c ?? null).catch(() => {}));
  await handle.start({ jsep: answer });
  return {
    close: async () => {
      await handle.detach().catch(() => {});
      await session.destroy().catch(() => {});
      await connection.close().catch(() => {});
    },
  };
}

/** Our own receiving WebRtcPeer as a Janus subscriber: a second stack, with Janus in between. */
export function peerAnswerer(peer: import('../../lib/index.js').WebRtcPeer): Answerer {
  return {
    answer: async (offer) => {
      await peer.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
      const answer = await peer.createAnswer();
      await peer.setLocalDescription(answer);
      return { type: 'answer', sdp: answer.sdp };
    },
    onCandidate: (listener) => peer.on('icecandidate', (c) => listener(c && { candidate: c.candidate!, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null })),
    addCandidate: (c) => peer.addIceCandidate(c),
  };
}
