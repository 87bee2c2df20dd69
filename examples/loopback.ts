// Two peers in one process: one sends a test pattern, the other receives and decodes it.
// Run: node --import tsx examples/loopback.ts   (or build and run dist/examples/loopback.js)
import { WebRtcPeer } from '../lib/index.js';

const sender = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 640, height: 360 } });
const receiver = new WebRtcPeer({ video: { receive: true } });
sender.on('icecandidate', (c) => void receiver.addIceCandidate(c));
receiver.on('icecandidate', (c) => void sender.addIceCandidate(c));

await sender.setLocalDescription();                       // creates and applies the offer
await receiver.setRemoteDescription(sender.localDescription!);
await receiver.setLocalDescription();                     // creates and applies the answer
await sender.setRemoteDescription(receiver.localDescription!);

receiver.once('frame', (f) => console.log(`first frame ${f.width}x${f.height}`));
setTimeout(async () => {
  console.log(`${receiver.framesDecoded} frames decoded; connection ${receiver.connectionState}`);
  await Promise.all([sender.close(), receiver.close()]);  // the process exits by itself after this
}, 3000);
