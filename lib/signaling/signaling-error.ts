// SignalingError on its own (no ws, no TypeBox): the client throws it, and the root package can hand it
// out for instanceof checks without loading the client.
import { WebRtcBinError } from '../errors.js';
import type { ErrorCode } from './protocol/messages.js';

/**
 * The daemon refused or ended this client for good: `unauthorized` (a bad token will not get better) or
 * `token-expired` (the token's lease ended while joined). Either way a new token is what helps.
 */
export class SignalingError extends WebRtcBinError {
  readonly reason: ErrorCode | 'token-expired';
  constructor(reason: ErrorCode | 'token-expired', message: string) {
    super(message, 'ERR_SIGNALING');
    this.reason = reason;
  }
}
