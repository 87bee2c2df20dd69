import { WebRtcPeer } from '../lib/index.js';
import { Streamer } from '../lib/encoder/streamer.js';
const codec = (process.argv[2] ?? 'h264') as 'h264';
const w = Number(process.argv[3] ?? 1280), h = Number(process.argv[4] ?? 720);
const s = new Streamer({ source: { kind: 'test' }, video: { codec, width: w, height: h } });
const p = s.createPeer();
const o = await p.createOffer();
console.log(o.sdp);
await p.close(); await s.close();
