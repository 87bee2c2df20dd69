export { WebRtcPeer, type WebRtcPeerEvents } from './peer.js';
export { Streamer, type StreamerOptions } from './streamer.js';
export { DataChannel, type DataChannelInit, type DataChannelState } from './data-channel.js';
export { checkEnvironment, formatReport, type EnvironmentReport, type ElementStatus } from './doctor.js';
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
export { toWebrtcbinIce, redactIceUri } from './ice-servers.js';
export { ELEMENTS as REQUIRED_ELEMENTS, packageFor } from './packages.js';
export type * from './types.js';

import { loadBinding } from './binding.js';
/** How many native peers exist in this process (closed ones disappear once torn down). */
export function livePeerCount(): number {
  return loadBinding().livePeers();
}

// Signaling: the agent side and the daemon (also usable as a Fastify plugin).
export { publish, receive, Publisher, type PublishOptions } from './publish.js';
export { SignalingClient, SignalingError } from './signaling/client.js';
export { signaling, createSignalingServer, redactingLoggerOptions, closeUnansweredUpgrades, type SignalingOptions } from './signaling/server.js';
export { mintToken, verifyToken, TokenError, type TokenClaims } from './signaling/token.js';
export { restCredentials, iceServersFor, type IceConfig } from './signaling/ice-config.js';
export * as protocol from './signaling/protocol.js';
