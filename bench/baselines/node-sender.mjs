// Our sender as a child process, speaking the same JSON-lines protocol as python-sender.py, so one
// harness (and one Chromium viewer page) measures both. Runs the compiled library (dist/), as an
// application would. What publish() does for a viewer, minus the daemon: a Streamer (one shared
// encoder, created on the first viewer, or with "warm" at the start and after each reset, as publish()
// does by default) and one peer per viewer; we offer, the viewer answers (join), or the viewer offers and
// we answer (offer: publish()'s `offers: true` order).
// Only the input data channel is left out (the Python baseline has none).
//   node bench/baselines/node-sender.mjs '{"source":{…},"video":{…},"shared":true,"warm":false}'
// stdin:  {"type":"join","id"} {"type":"answer","id","sdp"} {"type":"offer","id","sdp"} {"type":"candidate","id","candidate"}
//         {"type":"leave","id"} {"type":"reset"} (close the streamer: a fresh sender; warm: a new one at once) {"type":"stats"}
// stdout: {"type":"ready"} {"type":"offer","id","sdp"} {"type":"answer","id","sdp"} {"type":"candidate","id","candidate"}
//         {"type":"state","id","state"} {"type":"left","id"} {"type":"reset-done"} {"type":"stats",…} {"type":"error",…}
import { emit, serve } from './json-lines.mjs';
// WEBRTCBIN_BENCH_LIB: another build of the library (a path to its dist/lib/index.js), for a before/after
// of one change in the same run conditions (docs/benchmarks.md, first frame); default this tree's dist/.
const { Streamer, WebRtcPeer, livePeerCount } = await import(process.env.WEBRTCBIN_BENCH_LIB ?? '../../dist/lib/index.js');

const config = JSON.parse(process.argv[2] ?? '{}');
const source = config.source ?? { kind: 'test', pattern: 'ball' };
const video = config.video ?? {};
const shared = config.shared !== false;
const warm = shared && config.warm === true;

let streamer = warm ? new Streamer({ source, video }) : undefined;
const peers = new Map();
// A viewer that offers trickles its candidates as it makes the offer: some arrive before it.
const early = new Map();

function newPeer(id) {
  let peer;
  if (shared) {
    streamer ??= new Streamer({ source, video });
    peer = streamer.createPeer();
  } else {
    peer = new WebRtcPeer({ source, video });
  }
  peers.set(id, peer);
  peer.on('icecandidate', (candidate) => emit({ type: 'candidate', id, candidate }));
  peer.on('connectionstatechange', (state) => emit({ type: 'state', id, state }));
  peer.on('error', (error) => emit({ type: 'error', id, message: error.message }));
  for (const candidate of early.get(id) ?? []) peer.addIceCandidate(candidate).catch(() => {});
  early.delete(id);
  return peer;
}

async function join(id) {
  const peer = newPeer(id);
  const offer = await peer.createOffer();
  await peer.setLocalDescription(offer);
  emit({ type: 'offer', id, sdp: offer.sdp });
}

// The viewer offered (its join carried the offer): we answer.
async function answer(id, sdp) {
  const peer = newPeer(id);
  await peer.setRemoteDescription({ type: 'offer', sdp });
  const made = await peer.createAnswer();
  await peer.setLocalDescription(made);
  emit({ type: 'answer', id, sdp: made.sdp });
}

async function handle(message) {
  const peer = peers.get(message.id);
  switch (message.type) {
    case 'join':
      return join(message.id);
    case 'answer':
      return peer?.setRemoteDescription({ type: 'answer', sdp: message.sdp });
    case 'offer':
      return answer(message.id, message.sdp).catch((error) => emit({ type: 'error', id: message.id, message: error.message }));
    case 'candidate':
      if (!peer) return void early.set(message.id, [...(early.get(message.id) ?? []), message.candidate]);
      return peer.addIceCandidate(message.candidate).catch(() => {});
    case 'leave':
      peers.delete(message.id);
      early.delete(message.id);
      await peer?.close();
      return emit({ type: 'left', id: message.id });
    case 'reset': {
      const all = [...peers.values()];
      peers.clear();
      await Promise.all(all.map((p) => p.close()));
      await streamer?.close();
      streamer = warm ? new Streamer({ source, video }) : undefined;
      return emit({ type: 'reset-done', livePeers: livePeerCount() });
    }
    case 'stats':
      return emit({ type: 'stats', encoder: streamer?.stats ?? null, livePeers: livePeerCount() });
    case 'quit':
      for (const p of peers.values()) await p.close();
      await streamer?.close();
      process.exit(0);
  }
}

serve(handle);
process.stdin.on('end', () => process.exit(0));
emit({ type: 'ready' });
