// Resume keys: the stateless proof that lets a participant reclaim its peer id after its socket dropped
// or the daemon restarted. key = HMAC-SHA256(K, "session|id|role"), K derived from the daemon's secret
// (its own label, so a resume key can never be mistaken for a token signature). The daemon stores
// nothing: any daemon with the same secret verifies the key, a key names one session, id and role only,
// and like a token it is a secret (never logged).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Resume, Role } from '../protocol/messages.js';

export class ResumeKeys {
  readonly #key: Buffer;

  /**
   * `secret`: the daemon's token secret. Without one (insecure mode) a random key per process: resuming
   * then works across reconnects to this process, not across a restart (there is nothing to derive from).
   */
  constructor(secret: string | undefined) {
    this.#key = secret === undefined ? randomBytes(32) : createHmac('sha256', secret).update('node-webrtcbin resume key v1').digest();
  }

  /** The key `joined.resumeKey` hands to participant `id`. */
  keyFor(session: string, id: string, role: Role): string {
    return createHmac('sha256', this.#key).update(`${session}|${id}|${role}`).digest('base64url');
  }

  /** Whether `resume` was handed out for this id in this session and role (constant-time compare). */
  verify(session: string, role: Role, resume: Resume): boolean {
    const wanted = Buffer.from(this.keyFor(session, resume.id, role));
    const given = Buffer.from(resume.key);
    return wanted.length === given.length && timingSafeEqual(wanted, given);
  }
}
