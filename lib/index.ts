// node-webrtcbin: the peer (WebRtcPeer, DataChannel), the shared encoder (Streamer), the typed errors,
// the environment check and the types. Nothing here loads a server: see lib/client.ts and
// lib/signaling/index.ts for the `node-webrtcbin/client` and `node-webrtcbin/signaling` subpaths.
export { WebRtcPeer, type WebRtcPeerEvents } from './peer/peer.js';
export { Streamer, type StreamerOptions } from './encoder/streamer.js';
export { DataChannel, type DataChannelEvents, type DataChannelInit, type DataChannelState, type SctpTransport } from './peer/data-channel.js';
export { checkEnvironment, formatReport, type EnvironmentReport, type ElementStatus } from './cli/doctor.js';
export {
  WebRtcBinError,
  MissingPluginError,
  InvalidStateError,
  InvalidArgumentError,
  OperationError,
  PipelineError,
  GStreamerError,
  XDisplayLostError,
  BindingLoadError,
} from './errors.js';
export { toWebrtcbinIce, redactIceUri } from './media/ice-servers.js';
export { ELEMENTS as REQUIRED_ELEMENTS, packageFor } from './native/packages.js';
export type * from './types.js';

import { loadBinding } from './native/binding.js';
/** How many native peers exist in this process (closed ones disappear once torn down). */
export function livePeerCount(): number {
  return loadBinding().livePeers();
}

// Signaling lives in subpaths: `node-webrtcbin/client` (SignalingClient, publish(), receive()) and
// `node-webrtcbin/signaling` (the daemon plugin, tokens, ICE config, the protocol). The names below are
// the ones this root exported before; they load their module on first use and warn (deprecated-root.ts).
export {
  publish,
  receive,
  Publisher,
  SignalingClient,
  SignalingError,
  signaling,
  createSignalingServer,
  redactingLoggerOptions,
  closeUnansweredUpgrades,
  mintToken,
  verifyToken,
  TokenError,
  restCredentials,
  iceServersFor,
  protocol,
} from './deprecated-root.js';
export type { PublishOptions } from './publish/publisher.js';
export type { SignalingOptions } from './signaling/daemon/server.js';
export type { TokenClaims } from './signaling/daemon/token.js';
export type { IceConfig } from './signaling/daemon/ice-config.js';
