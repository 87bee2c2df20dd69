// Turns `source` + `video` options into the GStreamer description the native layer builds, and the
// RTP caps webrtcbin should negotiate. Low-latency encoder settings live here (see docs/architecture.md).
import { InvalidArgumentError } from '../errors.js';
import { isWholeNumber, wholeNumber } from '../util/checks.js';
import type { ScreenRegion, SendAudioOptions, SendVideoOptions, SourceOptions, VideoCodec } from '../types.js';

export interface SendPlan {
  codec: VideoCodec;
  description: string;
  caps: string;
  /** Elements this plan instantiates, for the MissingPluginError check before anything is built. */
  elements: string[];
}

/**
 * What a publisher offers, cheapest good codec first: encode cost per 720p frame with the settings
 * below, on the 2-core CI machine (docs/benchmarks.md 2e): H.264 (x264 ultrafast) ~2 ms, VP9
 * (cpu-used=8) 6–10 ms, VP8 19–45 ms. AV1 is not offered: libaom's av1enc ran slower than real time.
 */
export const CODEC_ORDER: readonly VideoCodec[] = ['h264', 'vp9', 'vp8'];

/** Encoder elements per codec; a codec is offered when one of them is installed. */
export const CODEC_ENCODERS: Record<VideoCodec, readonly string[]> = {
  h264: ['x264enc', 'openh264enc'],
  vp8: ['vp8enc'],
  vp9: ['vp9enc'],
};

/**
 * The codecs the publisher can send, in its order: every one with an installed encoder, or only
 * `restrict` (a user-set `video.codec`) when that is given.
 */
export function sendableCodecs(installed: (element: string) => boolean, restrict?: VideoCodec): VideoCodec[] {
  return CODEC_ORDER.filter((c) => (restrict === undefined || c === restrict) && CODEC_ENCODERS[c].some(installed));
}

export const PAYLOAD_TYPES: Record<VideoCodec, number> = { vp8: 96, vp9: 98, h264: 102 };

/** RTP caps of each codec, without a payload type (lib/media/receive.ts uses them too). */
export const RTP_CAPS: Record<VideoCodec, string> = {
  vp8: 'application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000',
  vp9: 'application/x-rtp,media=video,encoding-name=VP9,clock-rate=90000',
  // Constrained baseline, packetization-mode 1: what every browser decodes.
  h264: 'application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,packetization-mode=(string)1',
};

// What the offer advertises for H.264 comes from the encoder's own caps (e.g. 42c01f at 720p or 42c028
// at 1080p); the wire copy of an offer says 42e0 at h264Level's level (lib/media/sdp.ts, tidySdp).
const H264_PROFILE = '';

// H.264 levels (ITU-T H.264 Table A-1): [level_idc, max macroblocks a frame, max macroblocks a second].
const H264_LEVELS: readonly [number, number, number][] = [
  [0x1f, 3600, 108_000], // 3.1: 1280×720 at 30
  [0x20, 5120, 216_000], // 3.2: 1280×720 at 60
  [0x28, 8192, 245_760], // 4.0: 1920×1080 at 30
  [0x2a, 8704, 522_240], // 4.2: 1920×1080 at 60
  [0x32, 22_080, 589_824], // 5.0
  [0x33, 36_864, 983_040], // 5.1: 3840×2160 at 30
  [0x34, 36_864, 2_073_600], // 5.2: 3840×2160 at 60
  [0x3c, 139_264, 4_177_920], // 6.0: 7680×4320 at 30
  [0x3d, 139_264, 8_355_840], // 6.1
  [0x3e, 139_264, 16_711_680], // 6.2
];

/**
 * The H.264 level_idc a stream of this size and rate needs, never below 3.1 (`42e01f`, what Firefox and
 * Chrome offer themselves: a lower level buys nothing and some decoders match on it).
 */
export function h264Level(width: number, height: number, fps: number): number {
  const frame = Math.ceil(width / 16) * Math.ceil(height / 16);
  const found = H264_LEVELS.find(([, perFrame, perSecond]) => frame <= perFrame && frame * fps <= perSecond);
  return (found ?? H264_LEVELS[H264_LEVELS.length - 1]!)[0];
}

/** h264Level for send options (their defaults: 1280×720 at 30). */
export function h264LevelFor(video: SendVideoOptions = {}): number {
  return h264Level(video.width ?? 1280, video.height ?? 720, video.fps ?? 30);
}

function rtpCaps(codec: VideoCodec): string {
  return `${RTP_CAPS[codec]},payload=${PAYLOAD_TYPES[codec]}`;
}

/** Codec preferences of a transceiver: the stream's caps plus what the offer should say. */
export function preferenceCaps(codec: VideoCodec): string {
  return rtpCaps(codec) + (codec === 'h264' ? H264_PROFILE : '');
}

/** Codec preferences for the send transceiver once a remote offer chose `payloadType`. */
export function sendPreferencesFor(codec: VideoCodec, payloadType: number): string {
  return `${RTP_CAPS[codec]},payload=${payloadType}`;
}

function positiveInt(value: unknown, name: string, fallback: number, max: number, min = 1): number {
  return value === undefined ? fallback : wholeNumber(value, `video.${name}`, { min, max });
}

// Printable, no quotes or pipeline syntax: safe to splice into a description.
const SAFE_TOKEN = /^[\w.:-]+$/;

/** A capture rectangle: whole pixels, at least 16×16 (the encoders' floor). */
export function checkRegion(region: unknown): ScreenRegion {
  const r = region as Partial<ScreenRegion> | null;
  const whole = (v: unknown, min: number) => isWholeNumber(v, min, 16384);
  if (!r || typeof r !== 'object' || !whole(r.x, 0) || !whole(r.y, 0) || !whole(r.width, 16) || !whole(r.height, 16)) {
    throw new InvalidArgumentError(`source.region must be {x, y, width, height} in whole pixels (x, y ≥ 0; width, height ≥ 16); got ${JSON.stringify(region)}`);
  }
  return { x: r.x!, y: r.y!, width: r.width!, height: r.height! };
}

/** The X display an x11 source captures (for an error that names it); undefined for other sources. */
export function captureDisplay(source: SourceOptions | undefined): string | undefined {
  return source?.kind === 'x11' ? (source.display ?? process.env.DISPLAY) : undefined;
}

interface SourceParts {
  description: string;
  elements: string[];
  /**
   * Set for a source that pushes frames only when the picture changes (damage capture): no videorate
   * after it (it would hold each frame until the next one), and this rate in the caps as the encoder's
   * nominal rate (the highest the source sends).
   */
  variableFps?: number;
}

/** The element of our own damage capture (src-native/x11/damage_src.h): built into the addon. */
export const DAMAGE_SOURCE_ELEMENT = 'webrtcbinxdamagesrc';

/** How an x11 source captures when `source.capture` is not given. */
export const DEFAULT_X11_CAPTURE: 'damage' | 'fixed' = 'fixed';

function sourceDescription(source: SourceOptions): SourceParts {
  if (!source || typeof source !== 'object') throw new InvalidArgumentError('source must be {kind: "test" | "x11" | "pipeline", …}');
  switch (source.kind) {
    case 'test': {
      const pattern = source.pattern ?? 'smpte';
      if (!SAFE_TOKEN.test(pattern)) throw new InvalidArgumentError(`source.pattern ${JSON.stringify(pattern)} is not a videotestsrc pattern`);
      return { description: `videotestsrc is-live=true pattern=${pattern}`, elements: ['videotestsrc'] };
    }
    case 'x11': {
      const display = source.display ?? process.env.DISPLAY;
      if (!display) {
        throw new InvalidArgumentError('source x11 needs a display: pass {kind: "x11", display: ":0"} or set DISPLAY');
      }
      if (!SAFE_TOKEN.test(display)) throw new InvalidArgumentError(`source.display ${JSON.stringify(display)} is not an X display name`);
      const pointer = source.showPointer === false ? 'false' : 'true';
      const capture = source.capture ?? DEFAULT_X11_CAPTURE;
      if (capture !== 'damage' && capture !== 'fixed') {
        throw new InvalidArgumentError(`source.capture must be "damage" or "fixed" (got ${JSON.stringify(capture)})`);
      }
      if (capture === 'damage') {
        const maxFps = source.maxFps === undefined ? 60 : wholeNumber(source.maxFps, 'source.maxFps', { min: 1, max: 240 });
        const refreshMs = source.refreshMs === undefined ? 1000 : wholeNumber(source.refreshMs, 'source.refreshMs', { min: 0, max: 3_600_000, unit: 'ms' });
        const r = source.region === undefined ? undefined : checkRegion(source.region);
        const region = r ? ` x=${r.x} y=${r.y} width=${r.width} height=${r.height}` : '';
        return {
          description: `${DAMAGE_SOURCE_ELEMENT} display-name=${display} show-pointer=${pointer} max-fps=${maxFps} refresh-ms=${refreshMs}${region}`,
          elements: [DAMAGE_SOURCE_ELEMENT],
          variableFps: maxFps,
        };
      }
      if (source.maxFps !== undefined || source.refreshMs !== undefined) {
        throw new InvalidArgumentError('source.maxFps and source.refreshMs apply to capture "damage" only (a fixed capture runs at video.fps)');
      }
      let region = '';
      if (source.region !== undefined) {
        const r = checkRegion(source.region);
        // ximagesrc's end coordinates are inclusive.
        region = ` startx=${r.x} starty=${r.y} endx=${r.x + r.width - 1} endy=${r.y + r.height - 1}`;
      }
      // A fixed capture rate: ximagesrc's use-damage captures at that rate anyway and can keep stale
      // rectangles (docs/reliability.md, "Damage capture"); capture 'damage' is our own element.
      return {
        description: `ximagesrc display-name=${display} use-damage=false show-pointer=${pointer}${region}`,
        elements: ['ximagesrc'],
      };
    }
    case 'pipeline': {
      if (typeof source.description !== 'string' || source.description.trim() === '') {
        throw new InvalidArgumentError('source.description must be a non-empty GStreamer description that outputs raw video');
      }
      if (source.description.includes('!') && /!\s*$/.test(source.description.trim())) {
        throw new InvalidArgumentError('source.description must not end with "!"');
      }
      return { description: source.description.trim(), elements: [] };
    }
    default:
      throw new InvalidArgumentError(`source.kind must be "test", "x11" or "pipeline" (got ${JSON.stringify((source as { kind: unknown }).kind)})`);
  }
}

interface EncoderParts {
  /** Raw video in, encoded video out. */
  encode: string;
  /** Encoded video in, RTP out (the payloader is named "pay"). */
  pay: string;
  elements: string[];
}

function encoderParts(codec: VideoCodec, kbps: number, fps: number, h264Encoder: string): EncoderParts {
  const keyframeEvery = fps * 2;
  // The rate-control buffer (VBV) holds about one frame: no frame, keyframes included, is bigger than
  // a frame interval's worth of the target, so a lower target shows at the next frame and a burst never
  // queues for more than a frame on a link at that rate (x264's default, 600 ms, let a keyframe sit in a
  // 1.5 Mbit/s uplink's queue for half a second). Bitrate changes apply in place, without an IDR.
  const frameMs = Math.ceil(1000 / fps);
  const pt = PAYLOAD_TYPES[codec];
  switch (codec) {
    case 'vp8':
      // deadline=1 (realtime), no lag frames (libvpx buffers otherwise), fastest cpu-used.
      return {
        encode:
          `vp8enc deadline=1 cpu-used=-16 lag-in-frames=0 end-usage=cbr target-bitrate=${kbps * 1000} ` +
          `keyframe-max-dist=${keyframeEvery} threads=2 error-resilient=partitions ` +
          `buffer-initial-size=${frameMs} buffer-optimal-size=${frameMs} buffer-size=${frameMs}`,
        pay: `rtpvp8pay name=pay pt=${pt} picture-id-mode=15-bit mtu=1200`,
        elements: ['vp8enc', 'rtpvp8pay'],
      };
    case 'vp9':
      return {
        encode:
          `vp9enc deadline=1 cpu-used=8 lag-in-frames=0 end-usage=cbr target-bitrate=${kbps * 1000} ` +
          `keyframe-max-dist=${keyframeEvery} threads=2 row-mt=true ` +
          `buffer-initial-size=${frameMs} buffer-optimal-size=${frameMs} buffer-size=${frameMs}`,
        pay: `rtpvp9pay name=pay pt=${pt} picture-id-mode=15-bit mtu=1200`,
        elements: ['vp9enc', 'rtpvp9pay'],
      };
    case 'h264':
      if (h264Encoder === 'openh264enc') {
        return {
          encode:
            `openh264enc bitrate=${kbps * 1000} complexity=low rate-control=bitrate gop-size=${keyframeEvery} ! ` +
            'video/x-h264,profile=constrained-baseline,stream-format=byte-stream ! h264parse',
          pay: `rtph264pay name=pay pt=${pt} config-interval=-1 aggregate-mode=zero-latency mtu=1200`,
          elements: ['openh264enc', 'h264parse', 'rtph264pay'],
        };
      }
      // ultrafast + zerolatency, sliced threads (frame threads add a frame of delay), no B-frames.
      return {
        encode:
          `x264enc tune=zerolatency speed-preset=ultrafast bitrate=${kbps} key-int-max=${keyframeEvery} vbv-buf-capacity=${frameMs} ` +
          'bframes=0 sliced-threads=true ! video/x-h264,profile=constrained-baseline',
        pay: `rtph264pay name=pay pt=${pt} config-interval=-1 aggregate-mode=zero-latency mtu=1200`,
        elements: ['x264enc', 'rtph264pay'],
      };
  }
}

interface RawPlan {
  codec: VideoCodec;
  raw: string;
  enc: EncoderParts;
  elements: string[];
}

// Source → raw I420 at the requested size and rate, and the encoder for the codec.
function planRaw(source: SourceOptions, video: SendVideoOptions, h264EncoderAvailable: (name: string) => boolean): RawPlan {
  const codec = video.codec ?? 'vp8';
  if (!['vp8', 'vp9', 'h264'].includes(codec)) {
    throw new InvalidArgumentError(`video.codec must be "vp8", "vp9" or "h264" (got ${JSON.stringify(codec)})`);
  }
  const kbps = positiveInt(video.bitrate, 'bitrate', 2000, 100_000);
  const fps = positiveInt(video.fps, 'fps', 30, 240);
  // Encoders work on 4:2:0 macroblocks: sizes below 16 are refused, odd ones made even.
  const width = positiveInt(video.width, 'width', 1280, 7680, 16);
  const height = positiveInt(video.height, 'height', 720, 4320, 16);
  let h264: string = video.encoder ?? (h264EncoderAvailable('x264enc') ? 'x264enc' : 'openh264enc');
  if (codec === 'h264' && h264 !== 'x264enc' && h264 !== 'openh264enc') {
    throw new InvalidArgumentError('video.encoder must be "x264enc" or "openh264enc"');
  }
  if (codec !== 'h264') h264 = '';
  const src = sourceDescription(source);
  const w = width - (width % 2);
  const h = height - (height % 2);
  if (video.scale !== undefined && video.scale !== 'fixed' && video.scale !== 'fit') {
    throw new InvalidArgumentError('video.scale must be "fixed" or "fit"');
  }
  // 'fit': ranges let videoscale pass the source's size through, or scale it down keeping its aspect.
  const size = video.scale === 'fit' ? `width=[16,${w}],height=[16,${h}]` : `width=${w},height=${h}`;
  // BT.601 at every size: GStreamer picks BT.709 from 720 lines up, which Chromium misreads (VP8 cannot
  // signal it: red arrived as 230,0,2; H.264 blue as 0,0,239). test/e2e/colours.test.ts checks this.
  // A damage source sends frames only on change, already coalesced: videorate would hold each one
  // until the next arrived, i.e. until the screen changed again.
  const rate = src.variableFps === undefined ? ' ! videorate drop-only=true' : '';
  const raw =
    `${src.description}${rate} ! videoscale ! videoconvert ! ` +
    `video/x-raw,format=I420,${size},framerate=${src.variableFps ?? fps}/1,pixel-aspect-ratio=1/1,colorimetry=bt601`;
  const enc = encoderParts(codec, kbps, fps, h264);
  const rateElements = src.variableFps === undefined ? ['videorate'] : [];
  return { codec, raw, enc, elements: [...src.elements, ...rateElements, 'videoscale', 'videoconvert', 'queue', ...enc.elements] };
}

const ONE_BUFFER_QUEUE = 'queue max-size-buffers=1 max-size-bytes=0 max-size-time=0 leaky=downstream';

export function planSend(
  source: SourceOptions,
  video: SendVideoOptions = {},
  h264EncoderAvailable: (name: string) => boolean = () => true,
): SendPlan {
  const plan = planRaw(source, video, h264EncoderAvailable);
  const description =
    `${plan.raw} ! ${ONE_BUFFER_QUEUE} ! ${plan.enc.encode} ! ${plan.enc.pay} ! ` +
    `capsfilter name=rtpcaps caps="${RTP_CAPS[plan.codec]}"`;
  return { codec: plan.codec, description, caps: preferenceCaps(plan.codec), elements: plan.elements };
}

/**
 * One capture + encoder for many peers: raw frames pass a valve (shut while nobody watches) into the
 * encoder, whose output an appsink hands to every subscribed peer.
 */
export function planSharedEncoder(
  source: SourceOptions,
  video: SendVideoOptions = {},
  h264EncoderAvailable: (name: string) => boolean = () => true,
): { codec: VideoCodec; description: string; elements: string[] } {
  const plan = planRaw(source, video, h264EncoderAvailable);
  const description =
    `${plan.raw} ! valve name=gate drop=true ! ${ONE_BUFFER_QUEUE} ! ${plan.enc.encode} ! ` +
    'appsink name=encoded sync=false max-buffers=8 drop=false';
  return { codec: plan.codec, description, elements: [...plan.elements, 'valve', 'appsink'] };
}

/** A peer fed by a shared encoder: its own appsrc and payloader (so each viewer keeps its payload type). */
export function planSharedPeer(codec: VideoCodec): SendPlan {
  const pay = encoderParts(codec, 1, 1, 'x264enc').pay;
  const description =
    'appsrc name=encsrc is-live=true format=time do-timestamp=true max-buffers=30 leaky-type=downstream ! ' +
    `${pay} ! capsfilter name=rtpcaps caps="${RTP_CAPS[codec]}"`;
  return { codec, description, caps: preferenceCaps(codec), elements: ['appsrc', pay.split(' ')[0]!] };
}

/** Opus as browsers offer it; 111 is Chromium's and Firefox's own number for it. */
export const OPUS_PAYLOAD_TYPE = 111;
// encoding-params: the SDP must say OPUS/48000/2 even before the encoder's caps are there.
const OPUS_RTP_CAPS = 'application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,encoding-params=(string)2';

export function opusPreferences(payloadType = OPUS_PAYLOAD_TYPE): string {
  return `${OPUS_RTP_CAPS},payload=${payloadType}`;
}

/** Raw audio → Opus → RTP (payloader "apay"), for a peer's audio send transceiver. */
export function planSendAudio(audio: SendAudioOptions): Omit<SendPlan, 'codec'> & { codec: 'opus' } {
  if (!audio || typeof audio !== 'object') throw new InvalidArgumentError('audio must be {source: "test" | "pulse" | {pipeline}} or {receive: true}');
  const kbps = wholeNumber(audio.bitrate ?? 64, 'audio.bitrate', { min: 6, max: 510, unit: 'kbit/s' });
  let source: string;
  const elements: string[] = [];
  if (audio.source === 'test') {
    source = 'audiotestsrc is-live=true wave=sine freq=440 volume=0.2';
    elements.push('audiotestsrc');
  } else if (audio.source === 'pulse') {
    const device = audio.device ?? '@DEFAULT_MONITOR@';
    if (!/^[\w.@:-]+$/.test(device)) throw new InvalidArgumentError(`audio.device ${JSON.stringify(device)} is not a PulseAudio source name`);
    // A small buffer: PulseAudio's default adds ~200 ms of capture latency. Its clock is not used (see
    // NewPipeline in peer_core.cc): timestamps follow the pipeline's system clock.
    source = `pulsesrc device=${device} buffer-time=20000 latency-time=10000 provide-clock=false`;
    elements.push('pulsesrc');
  } else if (audio.source && typeof audio.source === 'object' && typeof audio.source.pipeline === 'string' && audio.source.pipeline.trim()) {
    if (/!\s*$/.test(audio.source.pipeline.trim())) throw new InvalidArgumentError('audio.source.pipeline must not end with "!"');
    source = audio.source.pipeline.trim();
  } else {
    throw new InvalidArgumentError(`audio.source must be "test", "pulse" or {pipeline: "…"} (got ${JSON.stringify(audio.source)})`);
  }
  // 10 ms Opus frames (half the default) for latency, in-band FEC against loss (browsers offer
  // useinbandfec=1); a leaky one-second queue so a stalled source never blocks the video.
  const description =
    `${source} ! audioconvert ! audioresample ! audio/x-raw,rate=48000,channels=2 ! ` +
    'queue max-size-buffers=0 max-size-bytes=0 max-size-time=1000000000 leaky=downstream ! ' +
    `opusenc bitrate=${kbps * 1000} frame-size=10 inband-fec=true packet-loss-percentage=5 ! rtpopuspay name=apay pt=${OPUS_PAYLOAD_TYPE} ! ` +
    `capsfilter caps="${OPUS_RTP_CAPS}"`;
  elements.push('audioconvert', 'audioresample', 'queue', 'opusenc', 'rtpopuspay');
  return { codec: 'opus', description, caps: opusPreferences(), elements };
}
