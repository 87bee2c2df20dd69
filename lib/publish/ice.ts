// ICE between the daemon and the viewers' peers: which of the daemon's ICE servers a peer can take,
// their URLs for the log (never the credentials), and a peer's candidate in the protocol's wire shape.
import { toWebrtcbinIce } from '../media/ice-servers.js';
import type { Logger } from '../signaling/client.js';
import type { CandidateInit, IceServer } from '../signaling/protocol/messages.js';
import type { RTCIceCandidateInit, RTCIceServer } from '../types.js';
import { errorMessage } from '../util/emit.js';

/** W3C candidate from WebRtcPeer → the protocol's wire shape (strict: no undefined fields). */
export function toWire(candidate: RTCIceCandidateInit | null): CandidateInit {
  if (candidate === null) return null;
  return { candidate: candidate.candidate ?? '', sdpMid: candidate.sdpMid ?? null, sdpMLineIndex: candidate.sdpMLineIndex ?? null };
}

/** Only the URLs: TURN credentials never reach a log. */
export const urlsOf = (servers: readonly IceServer[]) => servers.flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]));

/**
 * The daemon's ICE servers a peer would accept. The others are dropped here, once: otherwise one bad
 * entry would make every later viewer's peer fail to construct. Found by test/signaling/http-abuse.test.ts.
 */
export function usableIceServers(servers: readonly IceServer[], log: Logger): IceServer[] {
  return servers.filter((server) => {
    try {
      toWebrtcbinIce([server as RTCIceServer]);
      return true;
    } catch (error) {
      log.warn({ urls: urlsOf([server]), err: errorMessage(error) }, 'publisher: unusable ICE server from the daemon ignored');
      return false;
    }
  });
}
