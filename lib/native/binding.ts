// lib/native/: the boundary with the C++ addon: this loader and interface, the element check, the package list.
// Loads the native addon (a prebuild first, then a local build) and describes its surface: the one
// interface the rest of lib/ depends on.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { BindingLoadError } from '../errors.js';

/**
 * What a NativePeer hands its `onevent`: one member per payload struct of src-native/peer/peer_event.h,
 * the same type strings and field names. (Replies to calls settle the promises the calls return.)
 */
export type NativeEvent =
  | { type: 'negotiation-needed' }
  | { type: 'ice-candidate'; mline: number; candidate: string }
  | { type: 'state'; name: string; value: string }
  | { type: 'bus-error' | 'bus-warning'; source: string; domain: string; code: number; message: string; debug: string }
  | { type: 'eos' }
  | { type: 'latency' }
  | { type: 'send-caps'; caps: string }
  /** TWCC feedback: per packet [seq, sent ms, arrived ms (NaN: lost), payload bytes] (src-native/rtp/twcc_feedback.h). */
  | { type: 'twcc'; packets: Float64Array }
  | { type: 'audio'; data: Buffer; sampleRate: number; channels: number; format: string; pts: number }
  | { type: 'track'; kind: string; encoding: string }
  | { type: 'frame'; width: number; height: number; pts: number; stride: number; format: string; data: Buffer; dropped: number; skipped: number; keyframe?: boolean; captureTime?: number }
  | { type: 'data-channel'; channel: number; label: string; readyState: string }
  | { type: 'channel-open' | 'channel-close' | 'channel-closing' | 'channel-buffered-amount-low'; channel: number }
  | { type: 'channel-error'; channel: number; message: string }
  | { type: 'channel-message'; channel: number; data: string | Buffer };

export interface NativePeerOptions {
  /** The shared encoder that feeds this peer (its sendDescription then starts with `appsrc name=encsrc`). */
  encoder?: NativeEncoder;
  sendDescription?: string;
  sendCaps?: string;
  sendAudioDescription?: string;
  sendAudioCaps?: string;
  /** Codec preferences of a recv-only video transceiver (none without). */
  receiveCaps?: string;
  /**
   * gst-launch description each decoded remote video stream is linked to (lib/media/receive.ts): raw
   * video in, an appsink named "frames" at the end. Without it such a stream is discarded.
   */
  receiveVideoDescription?: string;
  /**
   * Compressed-frame access: by encoding name (VP8, VP9, H264), the description a remote video stream
   * of that encoding is linked to instead of being decoded: RTP in, appsink "frames" at the end. Its
   * presence makes the native side queue every frame (bounded) rather than keep the newest.
   */
  receiveEncodedDescriptions?: Record<string, string>;
  /** Codec preferences of a recv-only audio transceiver (none without). */
  receiveAudioCaps?: string;
  /**
   * gst-launch description each decoded remote audio stream is linked to: raw audio in, an appsink
   * named "audio" at the end whose caps fix format, rate and channels. Without it audio is discarded.
   */
  receiveAudioDescription?: string;
  stunServer?: string;
  turnServers?: string[];
  iceTransportPolicy?: 'all' | 'relay';
  bundlePolicy?: string;
  latency?: number;
  nack?: boolean;
  fecPercentage?: number;
  maxFps?: number;
}

/** A data channel's GstWebRTCDataChannel properties (-1: not set, or no id yet). */
export interface NativeChannelInfo {
  label: string;
  protocol: string;
  id: number;
  readyState: 'connecting' | 'open' | 'closing' | 'closed';
  bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  ordered: boolean;
  negotiated: boolean;
  maxRetransmits: number;
  maxPacketLifeTime: number;
}

/** webrtcbin's GstWebRTCSCTPTransport. */
export interface NativeSctpInfo {
  maxMessageSize: number;
  maxChannels: number;
  state: 'new' | 'connecting' | 'connected' | 'closed';
}

export interface NativePeer {
  onevent?: (event: NativeEvent) => void;
  createOffer(): Promise<string>;
  createAnswer(): Promise<string>;
  setLocalDescription(type: string, sdp: string): Promise<void>;
  setRemoteDescription(type: string, sdp: string): Promise<void>;
  addIceCandidate(mline: number, candidate: string): void;
  getStats(): Promise<string>;
  getDescription(property: string): string | null;
  getState(property: string): string;
  recalculateLatency(): void;
  setSendPayloadType(payloadType: number, preferences: string, kind?: 'video' | 'audio'): boolean;
  releaseMedia(): void;
  /** kbit/s in; the kbit/s the encoder now targets out, -1 when this pipeline holds no encoder. */
  setBitrate(kbps: number): number;
  getBitrate(): number;
  setReceivePreferences(caps: string): boolean;
  /** Writes the playout-delay header extension with extmap `id` on the video stream; false without one. */
  enablePlayoutDelay(id: number, minMs: number, maxMs: number): boolean;
  /** abs-capture-time negotiated with extmap `id`: written on the video sent, read from the video received; true when written. */
  enableAbsCaptureTime(id: number): boolean;
  framesDecoded(): number;
  /**
   * Whether JS wants frames: `listening` ('frame' listeners) lets frames cross as they arrive,
   * `waiting` (an iterator in next()) also sends the one that waits. Otherwise the native side keeps
   * them (the newest decoded frame, or a bounded queue of compressed ones) and counts what it drops.
   */
  wantFrames(listening: boolean, waiting: boolean): void;
  createDataChannel(label: string, options?: string): number;
  /**
   * Throws an Error whose `code` says why GStreamer refused: ERR_DATA_CHANNEL_TOO_LARGE (above the SCTP
   * transport's max-message-size), ERR_INVALID_STATE (not open), ERR_DATA_CHANNEL_SEND.
   */
  sendOnChannel(channel: number, data: string | Buffer): void;
  closeChannel(channel: number): void;
  /** JSON of NativeChannelInfo; null once the peer is closed ("null" for an unknown channel). */
  channelInfo(channel: number): string | null;
  setChannelLowThreshold(channel: number, bytes: number): void;
  /** JSON of NativeSctpInfo; "null" before webrtcbin has an SCTP transport, null once closed. */
  sctpInfo(): string | null;
  ref(): void;
  unref(): void;
  close(): Promise<void>;
}

/** What a NativeXClipboard hands its `onevent` (the payload structs of src-native/x11/clipboard.cc). */
export type NativeClipboardEvent = { type: 'text'; text: string } | { type: 'warning' | 'error'; code: string; message: string };

/** The X CLIPBOARD on its own connection and thread; closes once (every close() returns the same promise). */
export interface NativeXClipboard {
  onevent?: (event: NativeClipboardEvent) => void;
  setText(text: string): void;
  fetch(): void;
  close(): Promise<void>;
  ref(): void;
  unref(): void;
}

/** What a NativeXCursor hands its `onevent` (the payload structs of src-native/x11/cursor.cc). */
export type NativeCursorEvent =
  | { type: 'shape'; serial: number; width: number; height: number; xhot: number; yhot: number; /** straight-alpha RGBA, row by row */ rgba: Buffer }
  | { type: 'position'; x: number; y: number; onScreen: boolean; /** the root window's size now */ screenWidth: number; screenHeight: number }
  | { type: 'warning' | 'error'; code: string; message: string };

/** The X pointer's shape (XFixes, on every change) and position (polled only while watched), on its own connection and thread. */
export interface NativeXCursor {
  onevent?: (event: NativeCursorEvent) => void;
  /** Polls the position `hz` times a second (a `position` event only on change); 0 stops polling. */
  watchPosition(hz: number): void;
  /** Counters: QueryPointer round trips made, shapes read. */
  stats(): { polls: number; shapes: number };
  close(): Promise<void>;
  ref(): void;
  unref(): void;
}

/** XTest injection into an X display (synchronous, on the JS thread). */
export interface NativeXInput {
  size(): { width: number; height: number } | null;
  move(x: number, y: number): void;
  button(button: number, down: boolean): void;
  /**
   * A keysym name or number; false when it cannot be sent. A keysym the keymap lacks is bound to one of
   * the keymap's empty keycodes (least recently pressed first), given back on close.
   */
  key(keysym: string | number, down: boolean): boolean;
  /** The keymap column that types the keysym (0 plain, 1 with Shift, 2–3 the second group), -1 if none does. */
  level(keysym: string | number): number;
  /** How many keycodes key() binds in turn to keysyms the keymap lacks (at least 1 on any usual server). */
  spares(): number;
  /** A round trip: true once the X server has processed every event sent before; false if it is gone. */
  sync(): boolean;
  close(): void;
}

export interface ScreenSize {
  width: number;
  height: number;
}

/** RandR resizing of an X screen (synchronous, on the JS thread). */
export interface NativeXScreen {
  size(): ScreenSize | null;
  range(): { minWidth: number; minHeight: number; maxWidth: number; maxHeight: number } | null;
  /** Throws ERR_X_RESIZE_UNSUPPORTED, ERR_X_RESIZE_RANGE, ERR_X_RESIZE_FAILED or ERR_X_DISPLAY. */
  setSize(width: number, height: number): ScreenSize;
  close(): void;
}

/** The events a NativeEncoder emits: its pipeline's bus errors and warnings. */
export type NativeEncoderEvent = Extract<NativeEvent, { type: 'bus-error' | 'bus-warning' }>;

export interface NativeEncoderOptions {
  /** gst-launch description: capture ! … ! valve name=gate ! … ! encoder ! appsink name=encoded. */
  description: string;
}

/** One shared encoder (lib/encoder/streamer.ts): no webrtcbin; peers built with `{encoder}` subscribe. */
export interface NativeEncoder {
  onevent?: (event: NativeEncoderEvent) => void;
  /** kbit/s in; the kbit/s the encoder now targets out, -1 when the description holds no encoder we know. */
  setBitrate(kbps: number): number;
  /** -1 once closed. */
  getBitrate(): number;
  /**
   * Sets `show-pointer` on the capture while it plays: whether its next frames draw the X pointer. Only
   * on an element that honours it while playing (ximagesrc; any whose property is flagged
   * GST_PARAM_MUTABLE_PLAYING). False when none does, or once closed.
   */
  setShowPointer(on: boolean): boolean;
  /** capsKnown: the encoded caps are known (the start's one prime frame): a new peer's offer need not wait. */
  stats(): { framesEncoded: number; subscribers: number; framesUnchanged: number; capsKnown: boolean; keyframeRequests: number };
  ref(): void;
  unref(): void;
  close(): Promise<void>;
}

/**
 * Raw frames in, images or converted frames out (lib/agent/image.ts): each encode() runs
 * `appsrc caps=<caps> ! <description> ! appsink` on the encoder's own thread and resolves with the
 * bytes of the one buffer that comes out. Throws ERR_MISSING_PLUGIN / ERR_PIPELINE for a description
 * that cannot be built. It keeps the process alive only while an encode() is pending.
 */
export interface NativeImageEncoder {
  encode(data: Buffer, caps: string, description: string): Promise<Buffer>;
  /** Idempotent; pending encodes reject with ERR_INVALID_STATE. */
  close(): Promise<void>;
}

export interface ElementProbe {
  name: string;
  present: boolean;
  plugin?: string;
}

export interface Binding {
  NativePeer: new (options: NativePeerOptions) => NativePeer;
  /** Throws ERR_X_DISPLAY (code) when the display cannot be opened or lacks XFIXES. */
  NativeXClipboard: new (display: string) => NativeXClipboard;
  /** Throws ERR_X_DISPLAY (code) when the display cannot be opened or lacks XTEST. */
  NativeXInput: new (display: string) => NativeXInput;
  /** Throws ERR_X_DISPLAY (code) when the display cannot be opened. */
  NativeXScreen: new (display: string) => NativeXScreen;
  /** Throws ERR_X_DISPLAY (code) when the display cannot be opened or lacks XFIXES. */
  NativeXCursor: new (display: string) => NativeXCursor;
  NativeEncoder: new (options: NativeEncoderOptions) => NativeEncoder;
  NativeImageEncoder: new () => NativeImageEncoder;
  findElements(names: string[]): ElementProbe[];
  gstVersion(): string;
  /** Native peers not yet freed (a closed peer is freed once its pipeline is torn down). */
  livePeers(): number;
  /**
   * Makes the process's DTLS certificate now, off the JS thread (GStreamer makes one per process, with
   * the first peer otherwise: 130–830 ms on that peer's path). Rejects when dtlsdec is missing.
   */
  prepareDtlsCertificate(): Promise<void>;
}

import { existsSync } from 'node:fs';

// The package root holds binding.gyp: three levels up from dist/lib/native/, two from lib/native/ (tests run the TS).
function findPackageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(path.join(dir, 'binding.gyp'))) return dir;
    dir = path.dirname(dir);
  }
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}
const packageRoot = findPackageRoot();
let cached: Binding | undefined;

function remedies(message: string): string {
  const lines = [`node-webrtcbin could not load its native addon: ${message}`, 'Possible remedies:'];
  const missingLib = /lib(gst[\w-]*|nice|srtp2|usrsctp)[^:]*\.so/.exec(message);
  if (missingLib) {
    lines.push(`- a GStreamer runtime library is missing (${missingLib[0]}): apt-get install $(grep -v '^#' ${path.join(packageRoot, 'rootfs/packages.txt')})`);
  }
  lines.push(
    '- install the runtime packages: apt-get install gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-nice gstreamer1.0-x',
    '- no prebuild for this platform: install the build packages (rootfs/packages-dev.txt) and run `npm rebuild node-webrtcbin`',
    `- platform: ${process.platform}-${process.arch}, Node ${process.version} (N-API 8 is required)`,
  );
  return lines.join('\n');
}

/** The addon file loadBinding() loads: WEBRTCBIN_ADDON, else a local build (build/Release), else the prebuild. */
export function addonPath(): string {
  const override = process.env.WEBRTCBIN_ADDON;
  if (override) return path.resolve(override);
  const require = createRequire(import.meta.url);
  return (require('node-gyp-build') as { path(dir: string): string }).path(packageRoot);
}

export function loadBinding(): Binding {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    // WEBRTCBIN_ADDON points at another build of the addon (e.g. the sanitizer build of scripts/asan.sh).
    const override = process.env.WEBRTCBIN_ADDON;
    if (override) cached = require(path.resolve(override)) as Binding;
    else cached = (require('node-gyp-build') as (dir: string) => Binding)(packageRoot);
  } catch (error) {
    throw new BindingLoadError(remedies(error instanceof Error ? error.message : String(error)), error);
  }
  return cached;
}
