// The little SDP knowledge the TS layer needs: validation before anything reaches GStreamer, the
// mid of each m-line, and candidate strings in the one form webrtcbin wants.
import { InvalidArgumentError } from '../errors.js';
import type { RTCSessionDescriptionInit } from '../types.js';

const SDP_TYPES = new Set(['offer', 'answer', 'pranswer', 'rollback']);

export function validateDescription(description: unknown, operation: string): { type: string; sdp: string } {
  if (!description || typeof description !== 'object') {
    throw new InvalidArgumentError(`${operation}: expected {type, sdp}, got ${typeof description}`);
  }
  const { type, sdp } = description as RTCSessionDescriptionInit;
  if (typeof type !== 'string' || !SDP_TYPES.has(type)) {
    throw new InvalidArgumentError(`${operation}: type must be one of offer, answer, pranswer, rollback (got ${JSON.stringify(type)})`);
  }
  if (type === 'rollback') return { type, sdp: '' };
  if (typeof sdp !== 'string' || !/^v=0\r?\n/.test(sdp)) {
    throw new InvalidArgumentError(`${operation}: malformed SDP (it must start with "v=0" and a line break)`);
  }
  for (const required of ['o=', 's=', 't=']) {
    if (!new RegExp(`^${required}`, 'm').test(sdp)) {
      throw new InvalidArgumentError(`${operation}: malformed SDP (no "${required}" line)`);
    }
  }
  const bad = sdp.split(/\r?\n/).find((line) => line !== '' && !/^[a-z]=/.test(line));
  if (bad !== undefined) {
    throw new InvalidArgumentError(`${operation}: malformed SDP line ${JSON.stringify(bad.slice(0, 60))}`);
  }
  // GStreamer's SDP parser wants CRLF; browsers send CRLF, hand-written SDP often has LF only.
  return { type, sdp: sdp.replace(/\r?\n/g, '\r\n') };
}

/** The a=mid of each m-section, in order (null where an m-section has none). */
export function midsOf(sdp: string | null | undefined): (string | null)[] {
  if (!sdp) return [];
  const mids: (string | null)[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) mids.push(null);
    else if (line.startsWith('a=mid:') && mids.length > 0) mids[mids.length - 1] = line.slice(6).trim();
  }
  return mids;
}

// RFC 8839: foundation is 1–32 ice-chars (ALPHA / DIGIT / "+" / "/").
const CANDIDATE = /^candidate:([A-Za-z0-9+/]{1,32}) (\d{1,3}) (udp|tcp) (\d{1,10}) (\S+) (\d{1,5}) typ (host|srflx|prflx|relay)(?: .*)?$/i;

/**
 * Accepts "candidate:…", "a=candidate:…" or the bare attribute value, and returns "candidate:…"
 * exactly once. Throws for anything that is not an ICE candidate line.
 */
export function normalizeCandidate(text: string): string {
  let line = text.trim();
  if (/^a=/i.test(line)) line = line.slice(2);
  if (/^candidate:/i.test(line)) line = line.slice('candidate:'.length);
  line = `candidate:${line}`;
  const match = CANDIDATE.exec(line);
  const port = match ? Number(match[6]) : 0;
  if (!match || port > 65535) {
    throw new InvalidArgumentError(
      `addIceCandidate: ${JSON.stringify(text.slice(0, 80))} is not an ICE candidate ` +
        '(expected "candidate:<foundation> <component> <udp|tcp> <priority> <address> <port> typ <type> …")',
    );
  }
  return line;
}
