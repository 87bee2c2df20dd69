// Remote candidates with an mDNS address ("<uuid>.local", what browsers send for host candidates) are
// left out before webrtcbin sees them: webrtcbin 1.22 resolves them on a task that outlives a peer
// closed meanwhile, keeping its ICE agent, sockets and a thread for ever (found by the candidate fuzzer,
// fuzz/repro/mdns-candidate-leak.ts). Trickled or inside a remote description, none may be kept.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { WebRtcPeer, livePeerCount } from '../../lib/index.js';

const openFds = () => readdirSync('/proc/self/fd').length;
const threads = () => readdirSync('/proc/self/task').length;
const mdns = () => `candidate:1 1 udp 2113937151 ${randomUUID()}.local 46386 typ host generation 0`;
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A negotiated pair; `inOffer` puts an mDNS candidate line into the offer the answerer receives. */
async function pairWithMdns(inOffer: boolean): Promise<void> {
  const offerer = new WebRtcPeer({ video: { receive: true } });
  const answerer = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 160, height: 120 } });
  try {
    const offer = await offerer.createOffer();
    await offerer.setLocalDescription(offer);
    const sdp = inOffer ? offer.sdp.replace(/(a=mid:\S+\r\n)/, `$1a=${mdns()}\r\n`) : offer.sdp;
    await answerer.setRemoteDescription({ type: 'offer', sdp });
    await offerer.setRemoteDescription(await answerer.createAnswer());
    if (!inOffer) await offerer.addIceCandidate({ candidate: mdns(), sdpMLineIndex: 0 });
    await settle(100);
  } finally {
    await Promise.all([offerer.close(), answerer.close()]);
  }
}

for (const inOffer of [false, true]) {
  t.test(`mDNS candidates ${inOffer ? 'in a remote offer' : 'trickled'}: closed peers keep no sockets or threads`, async (t) => {
    await pairWithMdns(inOffer); // warm-up: GStreamer's one-time state (registry, threads) is not a leak
    await settle(500);
    const before = { fds: openFds(), threads: threads(), peers: livePeerCount() };
    const cycles = 12;
    for (let i = 0; i < cycles; i++) await pairWithMdns(inOffer);
    await settle(2000);
    const after = { fds: openFds(), threads: threads(), peers: livePeerCount() };
    t.equal(after.peers, before.peers, 'no live peer left');
    // A kept ICE agent holds ~9 fds and a thread per peer: 12 cycles would add ~100 fds and ~20 threads.
    t.ok(after.fds - before.fds < cycles, `fds ${before.fds} → ${after.fds}`);
    t.ok(after.threads - before.threads < cycles / 2, `threads ${before.threads} → ${after.threads}`);
  });
}

t.test('an mDNS candidate is accepted (no error), only left out', async (t) => {
  const offerer = new WebRtcPeer({ video: { receive: true } });
  const answerer = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 160, height: 120 } });
  t.teardown(() => Promise.all([offerer.close(), answerer.close()]));
  const errors: Error[] = [];
  offerer.on('error', (e) => errors.push(e));
  const offer = await offerer.createOffer();
  await offerer.setLocalDescription(offer);
  await answerer.setRemoteDescription(offer);
  await offerer.setRemoteDescription(await answerer.createAnswer());
  await t.resolves(offerer.addIceCandidate({ candidate: mdns(), sdpMLineIndex: 0 }));
  t.same(errors, []);
});
