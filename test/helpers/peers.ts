// Wiring between a WebRtcPeer and a browser or another WebRtcPeer, in the order that works:
// description first, candidates trickled both ways (early ones are buffered by the peers).
import type { WebRtcPeer } from '../../lib/index.js';
import type { BrowserPeer } from './browser.js';

export function trickle(a: WebRtcPeer, b: WebRtcPeer): void {
  a.on('icecandidate', (c) => void b.addIceCandidate(c).catch(() => {}));
  b.on('icecandidate', (c) => void a.addIceCandidate(c).catch(() => {}));
}

export async function connectPair(sender: WebRtcPeer, receiver: WebRtcPeer): Promise<void> {
  trickle(sender, receiver);
  await sender.setLocalDescription(await sender.createOffer());
  await receiver.setRemoteDescription(sender.localDescription!);
  await receiver.setLocalDescription(await receiver.createAnswer());
  await sender.setRemoteDescription(receiver.localDescription!);
}

/** The VM offers; the browser answers. */
export async function nodeOffersToBrowser(peer: WebRtcPeer, browser: BrowserPeer): Promise<void> {
  peer.on('icecandidate', (c) => void browser.addCandidate(c && { candidate: c.candidate!, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex }).catch(() => {}));
  browser.onCandidate((c) => void peer.addIceCandidate(c).catch(() => {}));
  const offer = await peer.createOffer();
  await peer.setLocalDescription(offer);
  const answer = await browser.answer(offer);
  await peer.setRemoteDescription(answer);
}

/** The browser offers to receive; the VM answers. */
export async function browserOffersToNode(peer: WebRtcPeer, browser: BrowserPeer, options: { audio?: boolean } = {}): Promise<void> {
  peer.on('icecandidate', (c) => void browser.addCandidate(c && { candidate: c.candidate!, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex }).catch(() => {}));
  browser.onCandidate((c) => void peer.addIceCandidate(c).catch(() => {}));
  const offer = await browser.offerToReceiveVideo(options);
  await peer.setRemoteDescription(offer);
  const answer = await peer.createAnswer();
  await peer.setLocalDescription(answer);
  await browser.setRemote(answer);
}
