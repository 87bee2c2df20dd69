// Turns `video: {receive}` and `audio: {receive}` options into what the native receive path builds: the
// codec preferences of the recv-only transceivers and, as gst-launch descriptions, the chain each remote
// stream gets (the counterpart of send.ts). The native side names only decodebin, whose pads appear later.
import { InvalidArgumentError } from '../errors.js';
import { wholeNumber } from '../util/checks.js';
import type { ReceiveAudioOptions, ReceiveVideoOptions, VideoCodec } from '../types.js';
import { RTP_CAPS, opusPreferences, preferenceCaps } from './send.js';

/** The encoding names webrtcbin's pads carry (`encoding-name` of their caps). */
export type VideoEncoding = 'VP8' | 'VP9' | 'H264';

export interface ReceiveVideoPlan {
  /** Codec preferences of the recv-only video transceiver. */
  caps: string;
  /** Decoded video in (decodebin's pad), raw frames out to the appsink named "frames". */
  decoded: string;
  /** With `encoded`: RTP in (webrtcbin's pad), depayloaded frames out to "frames", by encoding name. */
  encoded?: Record<VideoEncoding, string>;
  /** Elements these descriptions instantiate, for the MissingPluginError check before anything is built. */
  elements: string[];
}

export interface ReceiveAudioPlan {
  /** Codec preferences of the recv-only audio transceiver. */
  caps: string;
  /** Decoded audio in (decodebin's pad), interleaved PCM out to the appsink named "audio". */
  description: string;
  elements: string[];
}

/** Receive caps following a remote offer's payload types (VP8, VP9, H.264 packetization-mode 1). */
export function receiveCapsForOffer(offered: { payloadType: number; name: string; params: Map<string, string> }[]): string | undefined {
  const structures: string[] = [];
  for (const codec of offered) {
    const name = codec.name.toLowerCase() as VideoCodec;
    if (!(name in RTP_CAPS)) continue;
    if (name === 'h264' && codec.params.get('packetization-mode') !== '1') continue;
    structures.push(`${RTP_CAPS[name]},payload=${codec.payloadType}`);
  }
  return structures.length ? structures.join(';') : undefined;
}

/** Caps of a receive-only transceiver: every codec we can decode. */
export function receiveCaps(): string {
  return (['vp8', 'vp9', 'h264'] as const).map(preferenceCaps).join(';');
}

/** Elements the decoded-video chain needs (decodebin is the one the native side creates by name). */
export function receiveElements(options: ReceiveVideoOptions): string[] {
  const sized = options.width !== undefined || options.height !== undefined;
  return ['decodebin', 'appsink', 'videoconvert', ...(sized ? ['videoscale'] : [])];
}

// The native side takes each sample as it arrives (src-native/peer/frames.cc owns what waits for JS).
// Decoded frames: the leaky queue keeps a slow converter from holding the decoder up.
const FRAMES_SINK = 'appsink name=frames sync=false max-buffers=1 drop=true';
// Compressed frames and audio: every buffer matters, the appsink never drops.
const ALL_FRAMES_SINK = 'appsink name=frames sync=false max-buffers=0 drop=false';
const AUDIO_SINK = 'appsink name=audio sync=false max-buffers=0 drop=false';

// request-keyframe: a lost packet asks the sender for a keyframe (PLI) at once, as browsers do, rather
// than waiting for its next periodic one (src-native/peer/receive.cc sets it in decodebin too).
const DEPAYLOAD: Record<VideoEncoding, { chain: string; elements: string[] }> = {
  VP8: { chain: 'rtpvp8depay request-keyframe=true', elements: ['rtpvp8depay'] },
  VP9: { chain: 'rtpvp9depay request-keyframe=true', elements: ['rtpvp9depay'] },
  // Annex B access units, SPS/PPS before every keyframe: what a decoder or a recording can start from.
  H264: {
    chain: 'rtph264depay request-keyframe=true ! h264parse config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au',
    elements: ['rtph264depay', 'h264parse'],
  },
};

/** The receive side of `video: {receive: true, …}`; defaults (RGBA, as received) for `{}`. */
export function planReceiveVideo(video: Partial<ReceiveVideoOptions> = {}): ReceiveVideoPlan {
  const format = video.format ?? 'RGBA';
  if (!['RGBA', 'BGR', 'I420'].includes(format)) throw new InvalidArgumentError('video.format must be "RGBA", "BGR" or "I420"');
  let size = '';
  for (const key of ['width', 'height'] as const) {
    const value = video[key];
    if (value === undefined) continue;
    wholeNumber(value, `video.${key}`, { min: 16, max: 7680, even: true });
    size += `,${key}=${value}`;
  }
  // Scaled before conversion: fewer pixels to convert.
  const scale = size ? `videoscale ! video/x-raw${size},pixel-aspect-ratio=1/1 ! ` : '';
  const decoded = `queue max-size-buffers=2 leaky=downstream ! ${scale}videoconvert ! video/x-raw,format=${format} ! ${FRAMES_SINK}`;
  const plan: ReceiveVideoPlan = { caps: receiveCaps(), decoded, elements: receiveElements({ receive: true, ...video }) };
  if (video.encoded) {
    const encoded = {} as Record<VideoEncoding, string>;
    for (const [name, depay] of Object.entries(DEPAYLOAD) as [VideoEncoding, (typeof DEPAYLOAD)[VideoEncoding]][]) {
      encoded[name] = `queue ! ${depay.chain} ! ${ALL_FRAMES_SINK}`;
      plan.elements.push(...depay.elements);
    }
    plan.encoded = encoded;
  }
  return plan;
}

/** The receive side of `audio: {receive: true, …}`: Opus decoded, converted to the PCM asked for. */
export function planReceiveAudio(audio: ReceiveAudioOptions): ReceiveAudioPlan {
  const format = audio.format ?? 'S16LE';
  if (format !== 'S16LE' && format !== 'F32LE') throw new InvalidArgumentError('audio.format must be "S16LE" or "F32LE"');
  const rate = audio.sampleRate ?? 48000;
  wholeNumber(rate, 'audio.sampleRate', { min: 8000, max: 192_000 });
  const channels = audio.channels ?? 2;
  if (channels !== 1 && channels !== 2) throw new InvalidArgumentError('audio.channels must be 1 or 2');
  // The audio event reads format, rate and channels back from these caps (frames.cc).
  const description =
    'queue ! audioconvert ! audioresample ! ' +
    `audio/x-raw,layout=interleaved,format=${format},rate=${rate},channels=${channels} ! ${AUDIO_SINK}`;
  return { caps: opusPreferences(), description, elements: ['decodebin', 'opusdec', 'audioconvert', 'audioresample', 'appsink'] };
}
