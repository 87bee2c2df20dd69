// JanusRelayError: what went wrong between the relay and Janus, and what to do about it.
import { WebRtcBinError } from '../errors.js';

export type JanusRelayFailure =
  /** Janus could not be reached, or its WebSocket closed (a restart, a network loss): retried with backoff. */
  | 'connection-lost'
  /** The room refused us (a wrong pin or secret): not retried, fix the configuration. */
  | 'unauthorized'
  /** Janus refused the request or the offer (a codec the room does not take, a full room): retried. */
  | 'refused'
  /** The media path to Janus failed (ICE or DTLS, a hangup from Janus): retried. */
  | 'media-failed'
  /** The janode npm package is not installed: not retried. */
  | 'missing-client';

export class JanusRelayError extends WebRtcBinError {
  readonly reason: JanusRelayFailure;
  /** Janus's error code when Janus answered with one (e.g. 433 unauthorized). */
  readonly janusCode: number | undefined;
  /** When the relay tries again (undefined: it has stopped). */
  readonly retryInMs: number | undefined;

  constructor(reason: JanusRelayFailure, message: string, options: { janusCode?: number; retryInMs?: number; cause?: unknown } = {}) {
    super(message, 'ERR_JANUS_RELAY', { cause: options.cause });
    this.reason = reason;
    this.janusCode = options.janusCode;
    this.retryInMs = options.retryInMs;
  }
}
