// The werift side-by-side sender for bench/werift.ts: what a Node developer would build with a pure
// TypeScript WebRTC stack from npm. GStreamer (gst-launch-1.0, a child process) captures and encodes
// with planSend()'s exact settings and sends RTP to a UDP port on 127.0.0.1; this process reads the
// packets from a dgram socket and writes them into one werift MediaStreamTrack per viewer
// (track.writeRtp), and werift does ICE, DTLS, SRTP, RTCP (NACK retransmission from its own cache) in JS.
// Speaks the JSON-lines protocol of bench/baselines/node-sender.mjs, so the same harness and Chromium page
// drive it:
//   node bench/peers/werift/sender.mjs '{"description":"videotestsrc … ! rtpvp8pay …","pli":"restart"}'
// stdin:  join, answer, candidate, leave, reset (stop gst-launch: the next join is cold), stats, quit
// stdout: ready, offer, candidate, state, left, reset-done, stats, error
//
// One gst-launch for all viewers (started with the first join, like our Streamer): a shared encoder.
// Keyframes: gst-launch cannot be asked for one (no way to send it a force-key-unit event), and vp8enc
// makes one every keyframe-max-dist=60 frames (2 s). A joining viewer's first packets are delta frames, so
// Chromium sends a PLI; with pli "restart" (default) this process restarts gst-launch (rate-limited), whose
// first frame is a keyframe, and keeps the RTP sequence numbers and timestamps continuous across the
// restart; with pli "ignore" the viewer waits for the next periodic keyframe.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { emit, serve } from '../../baselines/json-lines.mjs';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters } from 'werift';

const config = JSON.parse(process.argv[2] ?? '{}');
if (typeof config.description !== 'string' || !/ ! rtp\w+pay /.test(config.description)) {
  throw new Error('usage: sender.mjs \'{"description":"<source> ! <encoder> ! rtpvp8pay …","pli":"restart|ignore"}\'');
}
const pliMode = config.pli ?? 'restart';
const dropMdns = config.mdns === 'drop';

// ---- RTP in: one UDP socket, every packet fanned out to every viewer's track ----
const socket = dgram.createSocket('udp4');
socket.on('error', (error) => emit({ type: 'error', message: `udp: ${error.message}` }));
await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
socket.setRecvBufferSize(4 * 1024 * 1024);
const port = socket.address().port;

const peers = new Map(); // id → { pc, track }
let gst; // { child, generation }
let generation = 0; // bumped on every gst-launch start
let restartedAt = 0;
let packetsIn = 0;
const stats = { gstStarts: 0, plis: 0, restartsOnPli: 0, packetsIn: 0 };

// Sequence numbers and timestamps stay continuous across a gst-launch restart (each start picks random
// offsets): the first packet of a new generation continues right after the last one sent.
let seenGeneration = -1;
let seqDelta = 0;
let tsDelta = 0;
let lastSeq = -1;
let lastTs = 0;
let lastArrival = 0;
socket.on('message', (buf) => {
  if (buf.length < 12 || !gst) return;
  packetsIn++;
  stats.packetsIn = packetsIn;
  const now = performance.now();
  const seq = buf.readUInt16BE(2);
  const ts = buf.readUInt32BE(4);
  if (seenGeneration !== gst.generation) {
    seenGeneration = gst.generation;
    if (lastSeq >= 0) {
      seqDelta = (lastSeq + 1 - seq) & 0xffff;
      tsDelta = (lastTs + Math.max(1, Math.round((now - lastArrival) * 90)) - ts) >>> 0;
    }
  }
  const outSeq = (seq + seqDelta) & 0xffff;
  const outTs = (ts + tsDelta) >>> 0;
  buf.writeUInt16BE(outSeq, 2);
  buf.writeUInt32BE(outTs, 4);
  lastSeq = outSeq;
  lastTs = outTs;
  lastArrival = now;
  for (const { track } of peers.values()) track.writeRtp(buf);
});

// ---- gst-launch ----
function startGst() {
  const description = `${config.description} ! udpsink host=127.0.0.1 port=${port} sync=false async=false`;
  // gst-launch-1.0 splits its arguments itself; quoted caps survive as one argv entry each.
  const args = description.match(/(?:[^\s"]+|"[^"]*")+/g).map((a) => a.replace(/"/g, ''));
  const child = spawn('gst-launch-1.0', ['-q', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  const mine = { child, generation: ++generation };
  child.on('exit', (code, signal) => {
    if (gst === mine) {
      gst = undefined;
      emit({ type: 'error', message: `gst-launch exited (${code ?? signal})` });
    }
  });
  gst = mine;
  restartedAt = performance.now();
  stats.gstStarts++;
}

function stopGst() {
  const old = gst;
  gst = undefined;
  if (!old || old.child.exitCode !== null || old.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    old.child.once('exit', () => resolve());
    old.child.kill('SIGKILL'); // a live source: nothing to flush
  });
}

function onPli() {
  stats.plis++;
  if (pliMode !== 'restart' || !gst) return;
  // Rate limit: Chromium repeats a PLI until a keyframe arrives; one restart per 500 ms is enough.
  if (performance.now() - restartedAt < 500) return;
  stats.restartsOnPli++;
  void stopGst().then(() => {
    if (peers.size > 0 && !gst) startGst();
  });
  restartedAt = performance.now();
}

// ---- viewers ----
async function join(id) {
  const pc = new RTCPeerConnection({
    iceServers: [], // host candidates only, as ours (no STUN server on this machine's bench)
    codecs: {
      video: [
        new RTCRtpCodecParameters({
          mimeType: 'video/VP8',
          clockRate: 90000,
          payloadType: 96,
          rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
        }),
      ],
    },
  });
  const track = new MediaStreamTrack({ kind: 'video' });
  const transceiver = pc.addTransceiver(track, { direction: 'sendonly' });
  transceiver.sender.onPictureLossIndication.subscribe(() => onPli());
  peers.set(id, { pc, track });
  pc.onIceCandidate.subscribe((candidate) => emit({ type: 'candidate', id, candidate: candidate ? candidate.toJSON() : null }));
  pc.connectionStateChange.subscribe((state) => emit({ type: 'state', id, state }));
  if (!gst) startGst(); // the first viewer starts the encoder (cold)
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  emit({ type: 'offer', id, sdp: pc.localDescription.sdp });
}

async function leave(id) {
  const peer = peers.get(id);
  peers.delete(id);
  if (peer) {
    peer.track.stop();
    await peer.pc.close();
  }
  if (peers.size === 0) await stopGst(); // nobody watches: stop encoding (ours shuts its valve)
}

async function handle(message) {
  const peer = peers.get(message.id);
  switch (message.type) {
    case 'join':
      return join(message.id);
    case 'answer':
      return peer?.pc.setRemoteDescription({ type: 'answer', sdp: message.sdp });
    case 'candidate':
      if (!message.candidate || !message.candidate.candidate) return;
      // werift resolves a browser's mDNS host candidate (….local) itself, waiting up to 10 s for an answer
      // before it drops it; with mdns "drop" such candidates are not passed on (the browser's checks still
      // reach werift and make peer-reflexive candidates, as they do for libnice).
      if (dropMdns && /\S+\.local /.test(message.candidate.candidate)) return;
      return peer?.pc.addIceCandidate(message.candidate).catch(() => {});
    case 'leave':
      await leave(message.id);
      return emit({ type: 'left', id: message.id });
    case 'reset':
      for (const id of [...peers.keys()]) await leave(id);
      await stopGst();
      return emit({ type: 'reset-done', livePeers: peers.size });
    case 'stats':
      return emit({ type: 'stats', werift: { ...stats }, gstPid: gst?.child.pid ?? null, livePeers: peers.size });
    case 'quit':
      for (const id of [...peers.keys()]) await leave(id).catch(() => {});
      await stopGst();
      process.exit(0);
  }
}

serve(handle);
process.stdin.on('end', () => {
  void stopGst().then(() => process.exit(0));
});
process.on('exit', () => gst?.child.kill('SIGKILL'));
emit({ type: 'ready' });
