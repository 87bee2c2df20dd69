// Public option and event types. Names follow the W3C RTCPeerConnection where one exists.
import type { NativeEncoder } from './native/binding.js';

export type RTCSdpType = 'offer' | 'answer' | 'pranswer' | 'rollback';
export interface RTCSessionDescriptionInit {
  type: RTCSdpType;
  sdp?: string;
}
/**
 * A description as the peer holds it (`localDescription` and the like, `createOffer()`'s result): unlike
 * the Init form its `sdp` is always there.
 */
export interface RTCSessionDescription {
  type: RTCSdpType;
  sdp: string;
}
/**
 * A local candidate as the `icecandidate` event gives it: the signaling protocol's candidate
 * (`client.send({type: 'candidate', candidate})` takes it as it is) and a W3C RTCIceCandidateInit.
 */
export interface IceCandidate {
  candidate: string;
  sdpMid: string;
  sdpMLineIndex: number;
}
export interface RTCIceCandidateInit {
  candidate?: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}
export interface RTCIceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}
export type RTCPeerConnectionState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';
export type RTCIceConnectionState = 'new' | 'checking' | 'connected' | 'completed' | 'disconnected' | 'failed' | 'closed';
export type RTCIceGatheringState = 'new' | 'gathering' | 'complete';
export type RTCSignalingState =
  | 'stable'
  | 'have-local-offer'
  | 'have-remote-offer'
  | 'have-local-pranswer'
  | 'have-remote-pranswer'
  | 'closed';

export interface ScreenRegion {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Where the video comes from. */
export type SourceOptions =
  | { kind: 'test'; pattern?: string }
  /**
   * `region`: capture only this rectangle of the screen (pixels); input then maps into it.
   * `capture`: 'damage' sends a frame as soon as the screen changes (X DAMAGE, our own element), at
   * most `maxFps` a second (default 60), the last frame again every `refreshMs` (default 1000; 0:
   * never) and nothing else on a still screen; 'fixed' (ximagesrc) captures `video.fps` times a second.
   */
  | { kind: 'x11'; display?: string; showPointer?: boolean; region?: ScreenRegion; capture?: 'damage' | 'fixed'; maxFps?: number; refreshMs?: number }
  /** Any GStreamer description that produces raw video from a live source, e.g. `v4l2src device=/dev/video0`. */
  | { kind: 'pipeline'; description: string };

export type VideoCodec = 'vp8' | 'vp9' | 'h264';

export interface SendVideoOptions {
  receive?: false;
  codec?: VideoCodec;
  /** Target bitrate in kbit/s (default 2000). */
  bitrate?: number;
  fps?: number;
  width?: number;
  height?: number;
  /**
   * 'fixed' (default): the stream is exactly width×height (black borders keep the source's aspect).
   * 'fit': the stream is the source's own size, scaled down (aspect kept) only when larger than
   * width×height, and it follows the source when that changes size (e.g. a resized X screen).
   */
  scale?: 'fixed' | 'fit';
  /** H.264 only: which encoder; default: x264enc when installed, else openh264enc. */
  encoder?: 'x264enc' | 'openh264enc';
}

export interface ReceiveVideoOptions {
  receive: true;
  /** Raw format decoded frames are converted to (default RGBA). */
  format?: 'RGBA' | 'BGR' | 'I420';
  /** Hand at most this many frames a second to JS (others are skipped before any JS runs). */
  maxFps?: number;
  /** Scale decoded frames to this size (either alone keeps the other as sent). */
  width?: number;
  height?: number;
  /**
   * Compressed frames instead of decoded ones (`format` 'VP8' | 'VP9' | 'H264' — H.264 as Annex B
   * access units with SPS/PPS before keyframes), for recording or your own decoder. Every frame is
   * delivered, in order (a bounded queue of 300; `dropped` counts any overflow). `maxFps` is ignored.
   */
  encoded?: boolean;
}

export interface ReceiveAudioOptions {
  receive: true;
  /** PCM sample format (default S16LE), interleaved. */
  format?: 'S16LE' | 'F32LE';
  sampleRate?: number;
  channels?: 1 | 2;
}

/**
 * Audio to send, encoded to Opus (48 kHz stereo) in the same peer and kept in sync with the video
 * (both run on the pipeline clock; RTCP sender reports let the browser line them up).
 * - `'test'`: a quiet 440 Hz tone;
 * - `'pulse'`: PulseAudio/PipeWire; by default what the desktop plays (`@DEFAULT_MONITOR@`), or `device`;
 * - `{pipeline}`: any GStreamer description producing raw audio from a live source.
 */
export interface SendAudioOptions {
  receive?: false;
  source: 'test' | 'pulse' | { pipeline: string };
  /** PulseAudio source name for `'pulse'` (default `@DEFAULT_MONITOR@`, the desktop's own output). */
  device?: string;
  /** Opus bitrate in kbit/s (default 64). */
  bitrate?: number;
}

/** Decoded remote audio, interleaved PCM; every buffer is delivered, in order. */
export interface AudioChunk {
  data: Buffer;
  format: 'S16LE' | 'F32LE';
  sampleRate: number;
  channels: number;
  /** Milliseconds (pipeline running time), -1 when unknown. */
  timestamp: number;
}

/** What a peer fed by a shared encoder needs of it; a `Streamer` is one. */
export interface SharedEncoderRef {
  readonly codec: VideoCodec;
  readonly native: NativeEncoder;
}

/**
 * A peer's options: one of four shapes, by the video it handles (the wrong mix, e.g. a `source` with
 * `video: {receive: true}`, does not compile; at run time it is an InvalidArgumentError, and so is an
 * unknown key).
 */
export type WebRtcPeerOptions = SendPeerOptions | ReceivePeerOptions | SharedEncoderPeerOptions | NoVideoPeerOptions;

/** Sends video it encodes from `source`. */
export interface SendPeerOptions extends PeerBaseOptions {
  /** The media to send. */
  source: SourceOptions;
  video?: SendVideoOptions;
  sharedEncoder?: undefined;
}

/** Receives video: decoded frames (`frame` events, `frames()`), or compressed ones with `encoded`. */
export interface ReceivePeerOptions extends PeerBaseOptions {
  source?: undefined;
  video: ReceiveVideoOptions;
  sharedEncoder?: undefined;
}

/**
 * Advanced: sends the video of a shared encoder (a `Streamer`) instead of encoding a `source` of its
 * own. `streamer.createPeer(options)` sets it; pass it yourself only to build the peer directly.
 */
export interface SharedEncoderPeerOptions extends PeerBaseOptions {
  sharedEncoder: SharedEncoderRef;
  source?: undefined;
  video?: undefined;
}

/** No video of its own: audio only, data channels only, or an answerer that decodes what is offered. */
export interface NoVideoPeerOptions extends PeerBaseOptions {
  source?: undefined;
  video?: undefined;
  sharedEncoder?: undefined;
}

/** What every peer takes, whatever video it sends or receives. */
export interface PeerBaseOptions {
  /** Send audio (`{source}`), or receive Opus audio decoded to PCM `audio` events (`{receive: true}`). */
  audio?: SendAudioOptions | ReceiveAudioOptions;
  iceServers?: RTCIceServer[];
  iceTransportPolicy?: 'all' | 'relay';
  bundlePolicy?: 'max-bundle' | 'balanced' | 'max-compat';
  /** Receive jitter buffer in ms (webrtcbin `latency`; its own default is 200). Default 50. */
  latency?: number;
  /**
   * Retransmission of lost video packets (NACK + RTX) on the video transceiver. Default true; false
   * only for measurements (a lost packet then breaks the picture until the next keyframe).
   */
  nack?: boolean;
  /**
   * Forward error correction for sent video: ULPFEC inside RED (the transceiver's `fec-type`), with
   * this much redundancy in percent (1–100), or false/0 for none (default). See docs/reliability.md.
   */
  fec?: number | false;
  /**
   * Sending video: ask the viewer to render frames within this playout delay (the
   * `playout-delay` RTP header extension; {minMs: 0, maxMs: 0} = render as soon as decoded, which
   * removes Chrome's jitter-buffer wait). Offered in our offers; written only when the answer accepts it.
   */
  playoutDelay?: PlayoutDelay;
}

export interface PlayoutDelay {
  minMs: number;
  maxMs: number;
}

export interface TrackInfo {
  kind: string;
  encoding: string;
}

/** A decoded frame. `data` points straight into GStreamer's buffer (no copy); copy it to keep it. */
export interface Frame {
  data: Buffer;
  /** 0 for compressed frames whose stream does not say. */
  width: number;
  height: number;
  format: 'RGBA' | 'BGR' | 'I420' | 'VP8' | 'VP9' | 'H264';
  /** Bytes per row of the first plane (rows may be padded: use it, not width × bytes per pixel); 0 when compressed. */
  stride: number;
  /** Compressed frames: whether this one decodes on its own. */
  keyframe?: boolean;
  /** Presentation time in milliseconds (pipeline running time), -1 when unknown. */
  timestamp: number;
  /**
   * When the sender captured this frame: ms since the Unix epoch on the sender's clock, from the
   * abs-capture-time RTP header extension (our senders write it; it is there when the negotiation
   * kept it). `Date.now() - captureTime` is capture → here when both clocks agree (same host, NTP).
   */
  captureTime?: number;
  /** Frames replaced by a newer one before this consumer took them, since the start. */
  dropped: number;
}
