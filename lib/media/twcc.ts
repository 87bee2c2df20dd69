// Transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-extensions-01), sender side:
// the header extension offered on the video stream. With it in the send caps, the payloader adds the
// extension and rtpsession numbers each packet; the viewer answers with TWCC RTCP feedback
// (`a=rtcp-fb:* transport-cc`, which webrtcbin 1.22 puts on every codec itself), whose per-packet
// times come back to JS as the peer's `twcc` event (src-native/rtp/twcc_feedback.h) for the
// delay-based estimator (lib/encoder/delay-based.ts).

import { videoExtmapId } from './extmap.js';
export const TWCC_URI = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';
/**
 * The extmap id we offer: apart from playout-delay's 12 (lib/media/playout-delay.ts), leaving 13 and 14
 * free for abs-capture-time; Chromium itself offers TWCC as 3.
 */
export const TWCC_ID = 3;

/** The caps field that makes webrtcbin put `a=extmap:3 …transport-wide-cc…` in the video section. */
export function twccCapsField(id = TWCC_ID): string {
  return `,extmap-${id}=(string)"${TWCC_URI}"`;
}

function videoSection(sdp: string): string | undefined {
  return sdp.split(/\r?\n(?=m=)/).find((section) => section.startsWith('m=video'));
}

/** The extmap id an SDP gives transport-wide-cc in its first video section, if any. */
export function twccExtmapId(sdp: string): number | undefined {
  return videoExtmapId(sdp, TWCC_URI);
}

/** Transport-cc is negotiated in an SDP's video section: the extension and the feedback both. */
export function twccNegotiated(sdp: string): boolean {
  const video = videoSection(sdp);
  return twccExtmapId(sdp) !== undefined && !!video && /^a=rtcp-fb:(\*|\d+) transport-cc\s*$/m.test(video);
}
