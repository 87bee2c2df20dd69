// SignalingError on its own (no ws, no TypeBox): the client throws it, and the root package can hand it
// out for instanceof checks without loading the client.
import { WebRtcBinError } from '../errors.js';
import type { ErrorCode } from './protocol/messages.js';

/**
 * The daemon refused or ended this client for good, so retrying cannot help: `unauthorized` (a bad token,
 * or an upgrade refused with 401/403) and `token-expired` (the lease ended while joined) want a new token;
 * `publisher-exists` (on the first join) wants the other publisher stopped or another session.
 */
export class SignalingError extends WebRtcBinError {
  readonly reason: ErrorCode | 'token-expired';
  constructor(reason: ErrorCode | 'token-expired', message: string) {
    super(message, 'ERR_SIGNALING');
    this.reason = reason;
  }
}
