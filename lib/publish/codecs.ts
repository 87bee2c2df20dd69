// Which video codec a viewer gets: the publisher's codecs (installed encoders, cheapest first, or
// the one `video.codec` names) against what the viewer decodes (its `join.codecs`, or a browser's own
// offer). Pure functions; the publisher runs one shared encoder per codec in use (publisher.ts).
import { matchOfferedCodec, offeredVideoCodecs } from '../media/offer-match.js';
export { CODEC_ENCODERS, CODEC_ORDER, sendableCodecs } from '../media/send.js';
import type { VideoCodec } from '../types.js';

/** The SDP / WebRTC name of a codec (`H264`, `VP8`, `VP9`). */
export function codecName(codec: VideoCodec): string {
  return codec.toUpperCase();
}

/**
 * A viewer's list of decodable codecs (`join.codecs`: MIME types such as `video/VP8`, or bare names)
 * as our codec names, in its order; what we do not encode (AV1, H265, rtx, red…) is kept by name for
 * the error message but matches nothing.
 */
export function normalizeCodecNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const raw of names) {
    const name = raw.replace(/^video\//i, '').trim().toUpperCase();
    if (name && !['RTX', 'RED', 'ULPFEC', 'FLEXFEC-03'].includes(name)) seen.add(name);
  }
  return [...seen];
}

/** The first of our codecs the viewer decodes (our order: the cheapest to encode), or undefined. */
export function chooseForViewer(ours: readonly VideoCodec[], theirs: readonly string[]): VideoCodec | undefined {
  const decodable = new Set(normalizeCodecNames(theirs));
  return ours.find((c) => decodable.has(codecName(c)));
}

/**
 * A browser's own offer (WHEP): its first video codec, in its order, that we can send (H.264 only in
 * packetization-mode 1). Undefined when none, or when the offer has no video (then any codec does:
 * the first of ours).
 */
export function chooseForOffer(ours: readonly VideoCodec[], sdp: string): VideoCodec | undefined {
  const offered = offeredVideoCodecs(sdp);
  if (offered.length === 0) return ours[0];
  for (const entry of offered) {
    const codec = ours.find((c) => codecName(c) === entry.name);
    if (codec && matchOfferedCodec(sdp, codec) !== undefined) return codec;
  }
  return undefined;
}

/** The video codec names an offer carries, for the no-common-codec message (rtx, red… left out). */
export function offerCodecNames(sdp: string): string[] {
  return normalizeCodecNames(offeredVideoCodecs(sdp).map((c) => c.name));
}

/** The answer refused our video m-line (port 0): the viewer cannot decode what we offered. */
export function videoRejected(answerSdp: string): boolean {
  const line = answerSdp.split(/\r?\n/).find((l) => l.startsWith('m=video '));
  return line !== undefined && line.split(' ')[1] === '0';
}

/** What a no-common-codec bye and warning say: both sides' codecs, and what to do. */
export function noCommonCodecMessage(publisher: readonly string[], viewer: readonly string[]): string {
  const theirs = viewer.length ? viewer.join(', ') : 'none it could name';
  return (
    `no video codec in common: the publisher encodes ${publisher.join(', ') || 'nothing'}, the viewer decodes ${theirs}; ` +
    'use a browser that decodes one of the publisher\'s codecs, or install its encoder on the publisher (webrtcbin doctor)'
  );
}
