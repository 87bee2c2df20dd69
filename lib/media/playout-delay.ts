// The playout-delay RTP header extension, sender side. Offered in our SDP when the peer asks for it;
// written on every video packet (src-native/rtp/playout_delay.cc) only once the answer accepted it.
import { InvalidArgumentError } from '../errors.js';
import { isWholeNumber } from '../util/checks.js';
import type { PlayoutDelay } from '../types.js';

export const PLAYOUT_DELAY_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay';
/** The extmap id we offer (one-byte ids are 1-14; webrtcbin 1.22 adds none of its own by default). */
export const PLAYOUT_DELAY_ID = 12;

export function checkPlayoutDelay(value: unknown): PlayoutDelay {
  const v = value as Partial<PlayoutDelay> | null;
  const ok = (n: unknown) => isWholeNumber(n, 0, 40_950);
  if (!v || typeof v !== 'object' || !ok(v.minMs) || !ok(v.maxMs) || v.minMs! > v.maxMs!) {
    throw new InvalidArgumentError(`playoutDelay must be {minMs, maxMs}: whole ms from 0 to 40950, minMs ≤ maxMs (got ${JSON.stringify(value)})`);
  }
  return { minMs: v.minMs!, maxMs: v.maxMs! };
}

/** The caps field that makes webrtcbin put `a=extmap:ID URI` in the offer's video section. */
export function playoutDelayCapsField(): string {
  return `,extmap-${PLAYOUT_DELAY_ID}=(string)"${PLAYOUT_DELAY_URI}"`;
}

/** The extmap id an answer gave the extension in its first video section, if it kept it. */
export function acceptedPlayoutDelayId(answerSdp: string): number | undefined {
  const video = answerSdp.split(/\r?\n(?=m=)/).find((section) => section.startsWith('m=video'));
  const match = video && new RegExp(`^a=extmap:(\\d+)(?:/\\w+)? ${PLAYOUT_DELAY_URI.replace(/[./]/g, '\\$&')}\\s*$`, 'm').exec(video);
  return match ? Number(match[1]) : undefined;
}
