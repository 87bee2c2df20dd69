// The playout-delay RTP header extension, sender side. Offered in our SDP when the peer asks for it;
// written on every video packet (src-native/rtp/playout_delay.cc) only once the answer accepted it, with
// values the viewer's browser renders (playoutDelayFor).
import { InvalidArgumentError } from '../errors.js';
import { videoExtmapId } from './extmap.js';
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
  return videoExtmapId(answerSdp, PLAYOUT_DELAY_URI);
}

/** Who wrote an SDP, as far as playout delay cares: Firefox signs its o= line `o=mozilla...THIS_IS_SDPARTA-<version>`. */
export function sdpAuthor(sdp: string): 'firefox' | 'other' {
  return /^o=mozilla\.\.\.THIS_IS_SDPARTA/m.test(sdp) ? 'firefox' : 'other';
}

/**
 * The smallest minimum Firefox renders with. Below it (0/0, 0/10, 0/100 and 1/1 measured) Firefox ESR
 * decodes every frame but paints only the first; from 10 ms it plays (bench/playout-delay.ts,
 * docs/benchmarks.md "Playout delay per browser").
 */
export const FIREFOX_MIN_PLAYOUT_DELAY_MS = 10;

/**
 * The delay written to a viewer whose SDP (its answer, or the offer we answered) is `remoteSdp`: the
 * requested one, except that Firefox gets a minimum of at least FIREFOX_MIN_PLAYOUT_DELAY_MS (and a
 * maximum no lower), since anything under it freezes its picture.
 */
export function playoutDelayFor(requested: PlayoutDelay, remoteSdp: string): PlayoutDelay {
  if (sdpAuthor(remoteSdp) !== 'firefox' || requested.minMs >= FIREFOX_MIN_PLAYOUT_DELAY_MS) return requested;
  return { minMs: FIREFOX_MIN_PLAYOUT_DELAY_MS, maxMs: Math.max(requested.maxMs, FIREFOX_MIN_PLAYOUT_DELAY_MS) };
}
