// Reproduces what the fuzzers found in webrtcnice 1.22 (docs/reliability.md, "Coverage-guided fuzzing"):
// a peer given a remote candidate whose address is an mDNS name (`<uuid>.local`, what Chromium and
// Firefox send by default) that does not resolve keeps its libnice agent, file descriptors and a
// thread after close(), while livePeerCount() says 0. With an IP address nothing is kept.
//   npx tsx fuzz/repro/mdns-candidate-leak.ts [mdns|ip] [peers]
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { WebRtcPeer, livePeerCount } from '../../lib/index.js';

const mode = process.argv[2] === 'ip' ? 'ip' : 'mdns';
const peers = Number(process.argv[3] ?? 30);
const fds = () => readdirSync('/proc/self/fd').length;
const threads = () => readdirSync('/proc/self/task').length;

const before = { fds: fds(), threads: threads() };
for (let i = 0; i < peers; i++) {
  const offerer = new WebRtcPeer({ video: { receive: true } });
  const answerer = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 160, height: 120 } });
  const offer = await offerer.createOffer();
  await offerer.setLocalDescription(offer);
  await answerer.setRemoteDescription(offer);
  await offerer.setRemoteDescription(await answerer.createAnswer());
  const host = mode === 'mdns' ? `${randomUUID()}.local` : '192.0.2.77';
  await offerer.addIceCandidate({ candidate: `candidate:1 1 udp 2113937151 ${host} 46386 typ host generation 0`, sdpMLineIndex: 0 });
  await new Promise((resolve) => setTimeout(resolve, 100));
  await Promise.all([offerer.close(), answerer.close()]);
}
await new Promise((resolve) => setTimeout(resolve, 3000));
console.log(`${mode}, ${peers} peers: fds ${before.fds} → ${fds()}, threads ${before.threads} → ${threads()}, live peers ${livePeerCount()}`);
