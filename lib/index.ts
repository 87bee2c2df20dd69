export { WebRtcPeer, type WebRtcPeerEvents } from './peer/peer.js';
export { Streamer, type StreamerOptions } from './encoder/streamer.js';
export { DataChannel, type DataChannelInit, type DataChannelState } from './peer/data-channel.js';
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

// Signaling: the agent side and the daemon (also usable as a Fastify plugin).
export { publish, receive, Publisher, type PublishOptions } from './publish/publisher.js';
export { SignalingClient, SignalingError } from './signaling/client.js';
export { signaling, createSignalingServer, redactingLoggerOptions, closeUnansweredUpgrades, type SignalingOptions } from './signaling/daemon/server.js';
export { mintToken, verifyToken, TokenError, type TokenClaims } from './signaling/daemon/token.js';
export { restCredentials, iceServersFor, type IceConfig } from './signaling/daemon/ice-config.js';
export * as protocol from './signaling/protocol/messages.js';
