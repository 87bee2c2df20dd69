// Session tokens: HMAC-SHA256-signed claims (session, role, expiry, may-control), verified with the
// daemon's secret. Form: "v1.<base64url(JSON claims)>.<base64url(signature)>".
import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebRtcBinError } from '../../errors.js';
import type { Role } from '../protocol/messages.js';

/**
 * What a token lets its holder be. The protocol's two seats are `publisher` (the one participant
 * that answers and feeds or reads the media) and `viewer`; the token role may name the direction:
 * - `publisher`: takes the publisher seat and sends (publish(), the VM agent);
 * - `receiver`: takes the publisher seat to receive (receive(): a WHIP ingest target);
 * - `viewer`: watches, by WebSocket or WHEP (and, from before these names, may still send by WHIP);
 * - `sender`: sends into the session by WHIP (a webcam, OBS, a WHIP encoder), nothing else.
 */
export type TokenRole = Role | 'sender' | 'receiver';
export const TOKEN_ROLES: readonly TokenRole[] = ['publisher', 'viewer', 'sender', 'receiver'];

/** The seat or route a token is checked for → the token roles it accepts. */
const ACCEPTS: Record<TokenRole, readonly TokenRole[]> = {
  publisher: ['publisher', 'receiver'],
  viewer: ['viewer'],
  // WHIP: a `viewer` token kept working for the clients minted before `sender` existed.
  sender: ['sender', 'viewer'],
  receiver: ['receiver'],
};

export interface TokenClaims {
  /** Session name the token is for. */
  s: string;
  /** Role (see TokenRole). */
  r: TokenRole;
  /** Expiry, Unix seconds. */
  exp: number;
  /** The viewer may send input (desktop control). */
  ctl?: boolean;
}

/** A token was refused; `reason` says why (code ERR_TOKEN). */
export class TokenError extends WebRtcBinError {
  readonly reason: 'missing' | 'malformed' | 'bad-signature' | 'expired' | 'wrong-session' | 'wrong-role';
  constructor(reason: TokenError['reason'], message: string) {
    super(message, 'ERR_TOKEN');
    this.reason = reason;
  }
}

function sign(secret: string, body: string): string {
  return createHmac('sha256', secret).update(`v1.${body}`).digest('base64url');
}

export function mintToken(options: { secret: string; session: string; role: TokenRole; ttlSeconds?: number; control?: boolean; now?: number }): string {
  if (!options.secret || options.secret.length < 16) throw new Error('the token secret must be at least 16 characters');
  if (!TOKEN_ROLES.includes(options.role)) throw new Error(`the token role must be one of ${TOKEN_ROLES.join(', ')}, not ${String(options.role)}`);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const claims: TokenClaims = { s: options.session, r: options.role, exp: now + (options.ttlSeconds ?? 3600) };
  if (options.control) claims.ctl = true;
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `v1.${body}.${sign(options.secret, body)}`;
}

/**
 * Verifies signature, expiry, session and role. `role` is the seat or route the token is used for: a
 * `publisher` seat takes a `publisher` or `receiver` token, a WHIP `sender` a `sender` or (old)
 * `viewer` token, the others their own. Throws TokenError with a reason.
 */
export function verifyToken(
  token: string | undefined,
  expected: { secret: string; session: string; role: TokenRole; now?: number },
): TokenClaims {
  if (!token) throw new TokenError('missing', 'a token is required');
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== 'v1') throw new TokenError('malformed', 'the token is malformed');
  const [, body, signature] = parts as [string, string, string];
  const wanted = Buffer.from(sign(expected.secret, body));
  const given = Buffer.from(signature);
  if (wanted.length !== given.length || !timingSafeEqual(wanted, given)) {
    throw new TokenError('bad-signature', 'the token signature is not valid');
  }
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenClaims;
  } catch {
    throw new TokenError('malformed', 'the token is malformed');
  }
  const now = expected.now ?? Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== 'number' || claims.exp <= now) throw new TokenError('expired', 'the token has expired');
  if (claims.s !== expected.session) throw new TokenError('wrong-session', 'the token is for another session');
  if (!ACCEPTS[expected.role].includes(claims.r)) {
    const wanted = ACCEPTS[expected.role].join(' or ');
    throw new TokenError('wrong-role', `the token is for role ${String(claims.r)}, not ${wanted}`);
  }
  return claims;
}

// setTimeout's longest delay (~24.8 days); a later `exp` is reached by waiting again.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `expired` once the token's `exp` (Unix seconds) has passed: a token is a lease, and what it
 * let a client hold ends with it. Returns the cancel function; the timer never keeps the process alive.
 */
export function onTokenExpiry(exp: number, expired: () => void): () => void {
  let timer: ReturnType<typeof setTimeout>;
  const arm = () => {
    timer = setTimeout(() => (exp * 1000 > Date.now() ? arm() : expired()), Math.min(Math.max(0, exp * 1000 - Date.now()), MAX_TIMER_MS));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}
