// The abs-capture-time RTP header extension: each video frame's capture instant on the sender's wall
// clock (NTP UQ32.32). Offered with the video we send or receive; written (src-native/rtp/abs_capture_time.cc)
// and read (Frame.captureTime) only once the answer kept it, so a peer that does not know it gets none.
// Bundle-safe (no Node import): the viewer converts the timestamps it reads with the same functions.

import { videoExtmapId } from './extmap.js';
export const ABS_CAPTURE_TIME_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time';
/** The extmap id we offer (one-byte ids are 1-14; playout-delay has 12). */
export const ABS_CAPTURE_TIME_ID = 7;

/** Seconds from the NTP epoch (1900-01-01) to the Unix one (1970-01-01). */
export const NTP_UNIX_OFFSET_S = 2_208_988_800;

/**
 * Codec preferences (caps, structures joined by ';') with the field that makes webrtcbin put
 * `a=extmap:ID URI` in its video section: in every structure, since webrtcbin reads the chosen codec's.
 * Answering, `id` is the offer's (webrtcbin 1.22 answers with the extmaps of our preferences only).
 */
export function withAbsCaptureTime(caps: string, id = ABS_CAPTURE_TIME_ID): string {
  const field = `,extmap-${id}=(string)"${ABS_CAPTURE_TIME_URI}"`;
  return caps
    .split(';')
    .map((structure) => structure + field)
    .join(';');
}

/** The extmap id a description gives the extension in its first video section, if it has it. */
export function absCaptureTimeId(sdp: string): number | undefined {
  return videoExtmapId(sdp, ABS_CAPTURE_TIME_URI);
}

/** Unix ms → NTP UQ32.32 (as the extension carries it). */
export function ntpFromUnixMs(unixMs: number): bigint {
  const whole = Math.floor(unixMs / 1000);
  const fraction = BigInt(Math.round(((unixMs - whole * 1000) / 1000) * 2 ** 32));
  return ((BigInt(whole + NTP_UNIX_OFFSET_S) << 32n) + fraction) & 0xffff_ffff_ffff_ffffn;
}

/** NTP UQ32.32 → Unix ms. */
export function unixMsFromNtp(ntp: bigint): number {
  return (Number(ntp >> 32n) - NTP_UNIX_OFFSET_S) * 1000 + (Number(ntp & 0xffff_ffffn) / 2 ** 32) * 1000;
}

/** A capture instant (Unix ms) from the extension's data, 8 or 16 bytes; undefined when shorter. */
export function parseAbsCaptureTime(data: Uint8Array): number | undefined {
  if (data.byteLength < 8) return undefined;
  return unixMsFromNtp(new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(0));
}

/**
 * A browser's captureTimestamp (getSynchronizationSources) in Unix ms. Chromium reports the extension's
 * NTP time as ms since 1900 (libwebrtc's UQ32x32ToInt64Ms); the spec says "the sender's NTP clock"
 * without naming the epoch. Over 3e12 (after 2065 as Unix ms, after 1995 as NTP ms) it is taken as NTP.
 */
export function captureTimestampToUnixMs(captureTimestamp: number): number {
  return captureTimestamp > 3e12 ? captureTimestamp - NTP_UNIX_OFFSET_S * 1000 : captureTimestamp;
}
