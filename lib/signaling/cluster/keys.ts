// Redis key and channel names of the cluster, in one place (docs/protocol.md, "Cluster"). Every name
// starts with the configured prefix, so several deployments can share one Redis.
import { createHash } from 'node:crypto';

export const DEFAULT_PREFIX = 'webrtcbin:';

export interface ClusterKeys {
  /** String with a TTL: the instance is alive while it exists; its value is the instance's counts. */
  instance(id: string): string;
  /** The pattern that SCAN uses to find every live instance. */
  readonly instances: string;
  /** Hash: peer id → presence entry (role, owning instance, …) of one session. */
  session(name: string): string;
  /** Hash: peer id → owning instance, one per token (the cross-instance participants-per-token cap). */
  token(tokenKey: string): string;
  /** The pub/sub channel an instance listens on. */
  channel(id: string): string;
}

export function clusterKeys(prefix = DEFAULT_PREFIX): ClusterKeys {
  return {
    instance: (id) => `${prefix}i:${id}`,
    instances: `${prefix}i:*`,
    session: (name) => `${prefix}s:${name}`,
    // The token's signature is a credential: Redis gets a hash of it, never the signature itself.
    token: (tokenKey) => `${prefix}t:${createHash('sha256').update(tokenKey).digest('base64url')}`,
    channel: (id) => `${prefix}c:${id}`,
  };
}
