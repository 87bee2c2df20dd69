// The receiving side through a daemon restart, all in Node: receive() takes a camera-like sender that
// offers itself (a WebRtcPeer joined by SignalingClient with `offers`). The daemon closes and a new one
// starts on the same port with the same secret: frames keep arriving at receive() throughout, both
// reclaim their ids, nothing is renegotiated; a sender that closes during the outage is cleaned up after
// the grace, its silence on the media telling (webrtcbin still says 'connected').
import t from 'tap';
import { WebRtcPeer } from '../../lib/index.js';
import { receive } from '../../lib/client.js';
import { SignalingClient } from '../../lib/signaling/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const token = (role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session: 'cam-r', role, ttlSeconds: 600 });

/** A sender that offers its test pattern to the session's publisher (the receiving agent). */
function sender(url: string): { peer: WebRtcPeer; client: SignalingClient; close: () => Promise<void> } {
  const peer = new WebRtcPeer({ source: { kind: 'test', pattern: 'ball' }, video: { width: 320, height: 240 } });
  const client = new SignalingClient({ url, session: 'cam-r', role: 'viewer', token: token('viewer'), offers: true, backoff: { initialMs: 100, maxMs: 500 } });
  let offered = false;
  peer.on('icecandidate', (c) => void client.send({ type: 'candidate', candidate: c ? { candidate: c.candidate ?? '', sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null } : null }));
  client.on('joined', async (m) => {
    // Only the first join offers: a rejoin that got its id back keeps the connection it has.
    if (offered || !m.publisher) return;
    offered = true;
    const offer = await peer.createOffer();
    await peer.setLocalDescription(offer);
    client.send({ type: 'offer', sdp: offer.sdp });
  });
  client.on('answer', (m) => void peer.setRemoteDescription({ type: 'answer', sdp: m.sdp }));
  client.on('candidate', (m) => void peer.addIceCandidate(m.candidate).catch(() => {}));
  client.connect();
  return { peer, client, close: async () => void (await Promise.all([client.close(), peer.close()])) };
}

t.test('receive() and a Node sender keep their media through a daemon restart', async (t) => {
  let daemon = await startDaemon();
  const port = daemon.port;
  t.teardown(() => daemon.app.close());
  const agent = receive({ url: daemon.url, session: 'cam-r', token: token('publisher'), backoff: { initialMs: 100, maxMs: 500 }, resumeGraceMs: 2000 });
  t.teardown(() => agent.close());
  agent.on('error', (e) => t.comment(`agent error: ${e.message}`));
  const frames = new Map<string, number>();
  agent.on('frame', (_f, id) => frames.set(id, (frames.get(id) ?? 0) + 1));
  const connected: string[] = [];
  const left: string[] = [];
  agent.on('viewer-connected', (id) => connected.push(id));
  agent.on('viewer-left', (id, why) => left.push(`${id}: ${why}`));
  await waitFor('the agent to join', () => agent.client.state === 'joined', 10_000);

  const stays = sender(daemon.url);
  t.teardown(() => stays.close());
  const goes = sender(daemon.url);
  t.teardown(() => goes.close());
  await waitFor('both senders connected', () => connected.length === 2, 20_000);
  await waitFor('frames from both', () => [...frames.values()].filter((n) => n >= 10).length === 2, 20_000);
  const stayId = stays.client.peerId!;
  const start = frames.get(stayId) ?? 0;
  await new Promise((r) => setTimeout(r, 2000));
  const perTwoSeconds = (frames.get(stayId) ?? 0) - start;
  const goId = goes.client.peerId!;
  const agentId = agent.client.peerId;

  await daemon.app.close();
  await waitFor('the agent to notice', () => agent.client.state !== 'joined', 5000);
  await goes.close(); // gone while no daemon can tell anyone
  const atDrop = frames.get(stayId) ?? 0;
  await new Promise((r) => setTimeout(r, 2000));
  const during = (frames.get(stayId) ?? 0) - atDrop;
  t.ok(during >= Math.max(2, perTwoSeconds / 3), `frames kept arriving with no daemon (${during} in 2 s; ${perTwoSeconds} in 2 s before)`);
  t.equal(agent.viewers, 2, 'the agent closed nothing during the outage');

  daemon = await startDaemon({ port });
  await waitFor('both to rejoin', () => agent.client.state === 'joined' && stays.client.state === 'joined', 15_000);
  t.equal(agent.client.peerId, agentId, 'the agent reclaimed its id');
  t.equal(stays.client.peerId, stayId, 'the sender reclaimed its id');
  t.equal(stays.client.joined?.resumed, true, 'joined.resumed');
  await waitFor('the vanished sender to be closed', () => left.length === 1, 15_000);
  t.match(left[0], new RegExp(`^${goId}: did not rejoin`), `the vanished sender was closed (${left[0]})`);
  const before = frames.get(stayId) ?? 0;
  await waitFor('more frames', () => (frames.get(stayId) ?? 0) >= before + 5, 10_000);
  t.equal(agent.viewers, 1, 'the staying sender is kept');
  t.same(connected, [connected[0], connected[1]], 'no new connection: nothing renegotiated');
  t.equal(stays.peer.connectionState, 'connected');
});
