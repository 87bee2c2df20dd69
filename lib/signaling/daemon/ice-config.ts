// The ICE servers the daemon hands out: STUN/TURN URLs from flags or env, with either a static
// TURN credential or time-limited ones in coturn's REST form (use-auth-secret).
import { createHmac } from 'node:crypto';
import type { IceServer } from '../protocol/messages.js';

export interface IceConfig {
  stun?: string[];
  turn?: string[];
  /** coturn `static-auth-secret`: credentials are minted per join, valid `turnTtlSeconds`. */
  turnSecret?: string;
  turnTtlSeconds?: number;
  /** Static TURN credentials (never logged). */
  turnUsername?: string;
  turnCredential?: string;
}

/** coturn REST credentials: username "expiry:user", credential base64(HMAC-SHA1(secret, username)). */
export function restCredentials(secret: string, user: string, ttlSeconds: number, now = Date.now() / 1000) {
  const username = `${Math.floor(now) + ttlSeconds}:${user}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

export function iceServersFor(config: IceConfig, user: string): IceServer[] {
  const servers: IceServer[] = [];
  if (config.stun?.length) servers.push({ urls: config.stun });
  if (config.turn?.length) {
    if (config.turnSecret) {
      servers.push({ urls: config.turn, ...restCredentials(config.turnSecret, user, config.turnTtlSeconds ?? 3600) });
    } else if (config.turnUsername !== undefined && config.turnCredential !== undefined) {
      servers.push({ urls: config.turn, username: config.turnUsername, credential: config.turnCredential });
    }
  }
  return servers;
}
