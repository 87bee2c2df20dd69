// The runtime element check: which GStreamer elements the registry has, asked before a pipeline is
// built so a missing one is a MissingPluginError naming its package (`webrtcbin doctor`'s full report
// is lib/cli/doctor.ts).
import { CODEC_ENCODERS, sendableCodecs } from '../media/send.js';
import type { VideoCodec } from '../types.js';
import { loadBinding } from './binding.js';

/** Which of `names` the GStreamer registry has. */
export function elementsPresent(names: string[]): Map<string, boolean> {
  const probes = loadBinding().findElements(names);
  return new Map(probes.map((p) => [p.name, p.present]));
}

/**
 * The codec a desktop stream uses when none is asked for: H.264 (x264) where it is installed — half
 * VP8's CPU at 720p30, 30 fps kept where VP8 fell to 15–25, first frame faster than a plain webrtcbin
 * sender (docs/benchmarks.md, "Recommended defaults") — else VP8.
 */
export function defaultDesktopCodec(): 'h264' | 'vp8' {
  return elementsPresent(['x264enc']).get('x264enc') ? 'h264' : 'vp8';
}

/**
 * The video codecs this machine can encode, cheapest first (lib/media/send.ts, CODEC_ORDER), or only `restrict`
 * (a user-set `video.codec`) when it is installed: what a publisher offers its viewers.
 */
export function installedVideoCodecs(restrict?: VideoCodec): VideoCodec[] {
  const present = elementsPresent(Object.values(CODEC_ENCODERS).flat());
  return sendableCodecs((name) => present.get(name) === true, restrict);
}
