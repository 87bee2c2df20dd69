// A peer's options: checked, defaulted, and planned into the native peer's configuration (the media
// descriptions, codec preferences, ICE servers), with the elements they need checked up front.
import type { NativePeerOptions } from '../native/binding.js';
import { elementsPresent } from '../native/elements.js';
import { InvalidArgumentError, MissingPluginError } from '../errors.js';
import { toWebrtcbinIce } from '../media/ice-servers.js';
import { PAYLOAD_TYPES, planSend, planSendAudio, planSharedPeer } from '../media/send.js';
import { planReceiveAudio, planReceiveVideo } from '../media/receive.js';
import { withAbsCaptureTime } from '../media/abs-capture-time.js';
import { playoutDelayCapsField } from '../media/playout-delay.js';
import { twccCapsField } from '../media/twcc.js';
import { number, wholeNumber } from '../util/checks.js';
import type { VideoCodec, WebRtcPeerOptions } from '../types.js';

// Elements every peer needs (webrtcbin creates the ICE/DTLS/SRTP ones lazily, where a missing
// one would otherwise show up much later as a cryptic failure).
const CORE_ELEMENTS = ['webrtcbin', 'nicesrc', 'nicesink', 'dtlssrtpenc', 'dtlssrtpdec', 'srtpenc', 'srtpdec', 'rtpbin'];

// The keys each option object takes: a misspelt one (`vidoe`) is refused with this list rather than
// silently leaving its default in place.
const PEER_KEYS = ['audio', 'source', 'video', 'sharedEncoder', 'iceServers', 'iceTransportPolicy', 'bundlePolicy', 'latency', 'nack', 'fec', 'playoutDelay'];
const SEND_VIDEO_KEYS = ['receive', 'codec', 'bitrate', 'fps', 'width', 'height', 'scale', 'encoder'];
const RECEIVE_VIDEO_KEYS = ['receive', 'format', 'maxFps', 'width', 'height', 'encoded'];
const SEND_AUDIO_KEYS = ['receive', 'source', 'device', 'bitrate'];
const RECEIVE_AUDIO_KEYS = ['receive', 'format', 'sampleRate', 'channels'];
const SOURCE_KEYS: Record<string, string[]> = {
  test: ['kind', 'pattern'],
  x11: ['kind', 'display', 'showPointer', 'region', 'capture', 'maxFps', 'refreshMs'],
  pipeline: ['kind', 'description'],
};

/** Throws InvalidArgumentError for a key of `given` not in `valid` ("unknown option 'vidoe'; valid: …"). */
export function checkOptionKeys(given: unknown, valid: readonly string[], path = ''): void {
  if (!given || typeof given !== 'object' || Array.isArray(given)) return;
  for (const key of Object.keys(given)) {
    if (!valid.includes(key)) throw new InvalidArgumentError(`unknown option '${path}${key}'; valid: ${valid.map((k) => path + k).join(', ')}`);
  }
}

function checkAllKeys(options: WebRtcPeerOptions): void {
  checkOptionKeys(options, PEER_KEYS);
  const video = options.video as { receive?: unknown } | undefined;
  checkOptionKeys(video, video?.receive === true ? RECEIVE_VIDEO_KEYS : SEND_VIDEO_KEYS, 'video.');
  const audio = options.audio as { receive?: unknown } | undefined;
  checkOptionKeys(audio, audio?.receive === true ? RECEIVE_AUDIO_KEYS : SEND_AUDIO_KEYS, 'audio.');
  const kind = (options.source as { kind?: unknown } | undefined)?.kind;
  if (typeof kind === 'string' && kind in SOURCE_KEYS) checkOptionKeys(options.source, SOURCE_KEYS[kind]!, 'source.');
}

/** WebRtcPeer options checked, defaulted and planned into what the native peer is built from. */
export function buildNativeOptions(options: WebRtcPeerOptions): NativePeerOptions {
  if (!options || typeof options !== 'object') throw new InvalidArgumentError('WebRtcPeer options must be an object');
  checkAllKeys(options);
  const shared = options.sharedEncoder;
  if (shared !== undefined && (typeof shared !== 'object' || shared === null || typeof shared.native !== 'object' || !(shared.codec in PAYLOAD_TYPES))) {
    throw new InvalidArgumentError('sharedEncoder must be a Streamer (or leave it out and give a source)');
  }
  const ice = toWebrtcbinIce(options.iceServers ?? []);
  const policy = options.iceTransportPolicy ?? 'all';
  if (policy !== 'all' && policy !== 'relay') throw new InvalidArgumentError('iceTransportPolicy must be "all" or "relay"');
  const bundle = options.bundlePolicy ?? 'max-bundle';
  if (!['max-bundle', 'balanced', 'max-compat'].includes(bundle)) {
    throw new InvalidArgumentError('bundlePolicy must be "max-bundle", "balanced" or "max-compat"');
  }
  const latency = options.latency ?? 50;
  wholeNumber(latency, 'latency', { min: 0, max: 10_000, unit: 'milliseconds' });
  if (policy === 'relay' && ice.turnServers.length === 0) {
    throw new InvalidArgumentError('iceTransportPolicy "relay" needs at least one TURN server in iceServers');
  }
  const native: NativePeerOptions = {
    stunServer: ice.stunServer,
    turnServers: ice.turnServers,
    iceTransportPolicy: policy,
    bundlePolicy: bundle,
    latency,
  };
  if (options.nack !== undefined) {
    if (typeof options.nack !== 'boolean') throw new InvalidArgumentError('nack must be true or false');
    native.nack = options.nack;
  }
  if (options.fec !== undefined && options.fec !== false) {
    wholeNumber(options.fec, 'fec', { min: 0, max: 100, unit: 'percent', orFalse: true });
    if (options.fec > 0) native.fecPercentage = options.fec;
  }
  const needed = [...CORE_ELEMENTS];
  const video = options.video;
  if (shared) {
    const plan = planSharedPeer(shared.codec);
    native.sendDescription = plan.description;
    native.sendCaps = plan.caps;
    native.encoder = shared.native;
    needed.push(...plan.elements);
  } else if (video?.receive) {
    if (options.source) throw new InvalidArgumentError('a receiving peer (video.receive) takes no source');
    const plan = planReceiveVideo(video);
    native.receiveCaps = plan.caps;
    native.receiveVideoDescription = plan.decoded;
    if (plan.encoded) native.receiveEncodedDescriptions = plan.encoded;
    if (video.maxFps !== undefined) {
      number(video.maxFps, 'video.maxFps', { above: 0, max: 1000 });
      native.maxFps = video.maxFps;
    }
    needed.push(...plan.elements);
  } else if (options.source) {
    const present = elementsPresent(['x264enc', 'openh264enc']);
    const plan = planSend(options.source, video ?? {}, (name) => present.get(name) === true);
    native.sendDescription = plan.description;
    native.sendCaps = plan.caps;
    needed.push(...plan.elements);
  } else if (video) {
    throw new InvalidArgumentError('video options need a source ({kind: "test" | "x11" | "pipeline"}) or video.receive: true');
  }
  // A remote video stream no option asked for (an audio-only receiver answering an offer with video)
  // is decoded to RGBA frames as received: the default tail, planned like any other.
  native.receiveVideoDescription ??= planReceiveVideo().decoded;
  if (options.playoutDelay !== undefined && native.sendCaps) native.sendCaps += playoutDelayCapsField();
  // Every video we send or receive offers abs-capture-time (Frame.captureTime, the viewer's glass-to-glass),
  // and every video we send transport-wide congestion control (the viewer's feedback drives the estimator).
  if (native.sendCaps) native.sendCaps = withAbsCaptureTime(native.sendCaps) + twccCapsField();
  if (native.receiveCaps) native.receiveCaps = withAbsCaptureTime(native.receiveCaps);
  if (options.audio && options.audio.receive !== true) {
    const plan = planSendAudio(options.audio);
    native.sendAudioDescription = plan.description;
    native.sendAudioCaps = plan.caps;
    needed.push(...plan.elements);
  } else if (options.audio) {
    const plan = planReceiveAudio(options.audio);
    native.receiveAudioCaps = plan.caps;
    native.receiveAudioDescription = plan.description;
    needed.push(...plan.elements);
  }
  const present = elementsPresent(needed);
  const missing = needed.find((name) => !present.get(name));
  if (missing) throw new MissingPluginError(missing);
  return native;
}
