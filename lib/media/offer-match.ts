// When a browser offers and we send, its offer decides the payload type (and for H.264 which
// profile entry) our stream must use. webrtcbin 1.22 matches a transceiver to an offered m-line only
// when the caps intersect exactly, so the choice is made here before the offer reaches it.
import type { VideoCodec } from '../types.js';

export interface OfferedCodec {
  payloadType: number;
  name: string;
  params: Map<string, string>;
}

export interface CodecMatch {
  payloadType: number;
  /** The offer with that entry's profile-level-id removed (H.264), so webrtcbin can intersect it with
   * the encoder's own (constrained baseline at the encoder's level). */
  sdp: string;
}

/** Codecs offered in the first video m-section. */
export function offeredVideoCodecs(sdp: string): OfferedCodec[] {
  return offeredCodecs(sdp, 'video');
}

/** Codecs offered in the first m-section of `kind`, in the offer's order of preference. */
export function offeredCodecs(sdp: string, kind: 'video' | 'audio'): OfferedCodec[] {
  const lines = sdp.split(/\r?\n/);
  const start = lines.findIndex((l) => l.startsWith(`m=${kind}`));
  if (start < 0) return [];
  const codecs = new Map<number, OfferedCodec>();
  const order = lines[start]!.split(' ').slice(3).map(Number);
  for (let i = start + 1; i < lines.length && !lines[i]!.startsWith('m='); i++) {
    const line = lines[i]!;
    const rtpmap = /^a=rtpmap:(\d+) ([\w-]+)\//.exec(line);
    if (rtpmap) codecs.set(Number(rtpmap[1]), { payloadType: Number(rtpmap[1]), name: rtpmap[2]!.toUpperCase(), params: new Map() });
    const fmtp = /^a=fmtp:(\d+) (.*)$/.exec(line);
    if (fmtp) {
      const codec = codecs.get(Number(fmtp[1]));
      for (const pair of fmtp[2]!.split(';')) {
        const [k, v] = pair.split('=');
        if (codec && k) codec.params.set(k.trim(), (v ?? '').trim());
      }
    }
  }
  return order.map((pt) => codecs.get(pt)).filter((c): c is OfferedCodec => c !== undefined);
}

function h264Rank(codec: OfferedCodec): number {
  if (codec.params.get('packetization-mode') !== '1') return -1;
  const profile = (codec.params.get('profile-level-id') ?? '42001f').toLowerCase();
  if (profile.startsWith('42e0') || profile.startsWith('42c0')) return 3; // constrained baseline
  if (profile.startsWith('4200')) return 2; // baseline decoders take constrained baseline
  return 1; // main/high decoders do as well
}

/** The offered entry our stream should use, or undefined when the offer has none for `codec`. */
export function matchOfferedCodec(sdp: string, codec: VideoCodec, currentPayloadType?: number): CodecMatch | undefined {
  const name = codec.toUpperCase();
  const candidates = offeredVideoCodecs(sdp).filter((c) => c.name === name);
  let chosen: OfferedCodec | undefined;
  const usable = codec === 'h264' ? candidates.filter((c) => h264Rank(c) > 0) : candidates;
  // Keeping the current payload type avoids a switch (impossible once media flows).
  chosen = usable.find((c) => c.payloadType === currentPayloadType);
  if (!chosen) chosen = codec === 'h264' ? usable.sort((a, b) => h264Rank(b) - h264Rank(a))[0] : usable[0];
  if (!chosen) return undefined;
  let munged = sdp;
  if (codec === 'h264') {
    const pt = chosen.payloadType;
    munged = sdp.replace(new RegExp(`^a=fmtp:${pt} (.*)$`, 'm'), (_line, params: string) => {
      const kept = params.split(';').filter((p) => !/^\s*profile-level-id=/i.test(p));
      return `a=fmtp:${pt} ${kept.join(';')}`;
    });
  }
  return { payloadType: chosen.payloadType, sdp: munged };
}
