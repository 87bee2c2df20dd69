// A viewer in Node: a receiving (or data-only) WebRtcPeer joined through the daemon that answers the publisher's offer.
import { WebRtcPeer } from '../../lib/index.js';
import { SignalingClient } from '../../lib/signaling/client.js';

type WireCandidate = { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null } | null;

export function nodeViewer(url: string, session: string, token: string, options: { media?: 'data' } = {}): { peer: WebRtcPeer; client: SignalingClient; close: () => Promise<void> } {
  // Data only (join.media): a peer with nothing to receive, answering an offer of the input channel alone.
  const peer = new WebRtcPeer(options.media === 'data' ? {} : { video: { receive: true } });
  const client = new SignalingClient({ url, session, role: 'viewer', token, ...(options.media ? { media: options.media } : {}) });
  peer.on('icecandidate', (c) =>
    void client.send({ type: 'candidate', candidate: c ? { candidate: c.candidate ?? '', sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null } : null }),
  );
  client.on('offer', async (m: { sdp: string }) => {
    try {
      await peer.setRemoteDescription({ type: 'offer', sdp: m.sdp });
      const answer = await peer.createAnswer();
      await peer.setLocalDescription(answer);
      client.send({ type: 'answer', sdp: answer.sdp });
    } catch (error) {
      if (!peer.closed) throw error; // closed mid-negotiation: nothing left to answer
    }
  });
  client.on('candidate', (m: { candidate: WireCandidate }) => void peer.addIceCandidate(m.candidate).catch(() => {}));
  client.connect();
  return {
    peer,
    client,
    close: async () => {
      await client.close();
      await peer.close();
    },
  };
}
