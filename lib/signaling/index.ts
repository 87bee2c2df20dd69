// `node-webrtcbin/signaling`: the daemon side of signaling (this folder: protocol/ the messages,
// daemon/ the Fastify plugin; client.ts is the agent's end, exported from `node-webrtcbin/client`).
// Loading it loads Fastify, @fastify/websocket and TypeBox; the root package never does.
export {
  signaling,
  createSignalingServer,
  redactingLoggerOptions,
  redactUrl,
  closeUnansweredUpgrades,
  type SignalingOptions,
  type StandaloneOptions,
} from './daemon/server.js';
export { mintToken, verifyToken, TokenError, type TokenClaims } from './daemon/token.js';
export { restCredentials, iceServersFor, type IceConfig } from './daemon/ice-config.js';
export * as protocol from './protocol/messages.js';
// Its module imports ioredis only when a daemon is given `redis`.
export { ClusterError, type ClusterOptions, type RedisOption } from './cluster/cluster.js';
