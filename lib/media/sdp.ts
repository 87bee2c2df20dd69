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

/**
 * Whether every video m-section that sends names its SSRC (`a=ssrc:`). webrtcbin writes those lines,
 * and H.264's profile-level-id, only from the caps its sink pad has received; a description made before
 * has neither, and an SFU that learns a publisher's SSRCs from the SDP (Janus's VideoRoom) then drops
 * every RTP packet of ours as "Unknown SSRC". True when no video is sent.
 */
export function sendingVideoNamesSsrc(sdp: string): boolean {
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    const media = /^video (\d+)/.exec(section);
    if (!media || media[1] === '0') continue;
    if (/^a=(recvonly|inactive)\r?$/m.test(section)) continue;
    if (!/^a=ssrc:\d+ /m.test(section)) return false;
  }
  return true;
}

/** What `tidySdp` may change beyond the plain hygiene. */
export interface TidyOptions {
  /**
   * For our own offers: H.264's profile-level-id becomes constrained baseline as every browser writes
   * it (`42e0`, Firefox matches on it) at the higher of the encoder's level and this one (send.ts's
   * `h264Level` for the planned size and rate).
   */
  h264Level?: number;
}

/**
 * The SDP we send, made what a strict parser takes: each fmtp parameter once (webrtcbin repeats
 * `level-asymmetry-allowed=1` when the offer had it), an `a=msid` line in every m-section that sends
 * (RFC 8830; webrtcbin 1.22 only writes the old `a=ssrc:… msid:` form), and H.264 offers with the
 * browsers' constrained-baseline profile-level-id.
 */
export function tidySdp(sdp: string, options: TidyOptions = {}): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const trailing = sdp.endsWith(eol);
  const lines = (trailing ? sdp.slice(0, -eol.length) : sdp).split(eol);
  const out: string[] = [];
  // Each m-section is handled as a block: the session part first, then one block per m=.
  let block: string[] = [];
  const flush = () => {
    out.push(...(block[0]?.startsWith('m=') ? tidySection(block, options) : block));
    block = [];
  };
  for (const line of lines) {
    if (line.startsWith('m=')) flush();
    block.push(line);
  }
  flush();
  return out.join(eol) + (trailing ? eol : '');
}

function tidySection(section: string[], options: TidyOptions): string[] {
  const h264 = new Set(section.map((l) => /^a=rtpmap:(\d+) H264\//i.exec(l)?.[1]).filter((pt): pt is string => pt !== undefined));
  const lines = section.map((line) => {
    const fmtp = /^a=fmtp:(\d+) (.*)$/.exec(line);
    if (!fmtp) return line;
    const params = dedupeParams(fmtp[2]!);
    if (options.h264Level !== undefined && h264.has(fmtp[1]!)) {
      const plid = params.findIndex(([k]) => k.toLowerCase() === 'profile-level-id');
      const level = Math.max(options.h264Level, plid >= 0 ? parseInt((params[plid]![1] ?? '').slice(4, 6), 16) || 0 : 0);
      const value = `42e0${level.toString(16).padStart(2, '0')}`;
      if (plid >= 0) params[plid] = [params[plid]![0], value];
      else params.push(['profile-level-id', value]);
    }
    return `a=fmtp:${fmtp[1]} ${params.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join(';')}`;
  });
  const media = /^m=(audio|video) (\d+)/.exec(lines[0]!);
  const sends = media !== null && media[2] !== '0' && !lines.some((l) => l === 'a=recvonly' || l === 'a=inactive');
  // webrtcbin's stream id is "user…@host-…": '@' is no token-char (RFC 4566), which RFC 8830's msid-id
  // needs; the a=ssrc copies are rewritten alike so both forms name one stream.
  for (let i = 0; i < lines.length; i++) {
    const m = /^(a=ssrc:\d+ msid:)(\S+)(?: (\S+))?$/.exec(lines[i]!);
    if (m) lines[i] = `${m[1]}${msidToken(m[2]!)}${m[3] ? ` ${msidToken(m[3])}` : ''}`;
  }
  if (!sends || lines.some((l) => l.startsWith('a=msid:'))) return lines;
  // The stream and track the a=ssrc lines name; webrtcbin writes them once the media's caps are known.
  const ssrcMsid = lines.map((l) => /^a=ssrc:\d+ msid:(\S+)(?: (\S+))?$/.exec(l)).find((m) => m !== null);
  const mid = lines.find((l) => l.startsWith('a=mid:'))?.slice(6).trim();
  const msid = ssrcMsid ? `a=msid:${ssrcMsid[1]}${ssrcMsid[2] ? ` ${ssrcMsid[2]}` : ''}` : `a=msid:- ${mid ?? 'track'}`;
  const at = lines.findIndex((l) => l.startsWith('a=mid:'));
  lines.splice(at >= 0 ? at + 1 : lines.length, 0, msid);
  return lines;
}

// RFC 8830 msid-id / msid-appdata: 1–64 token-chars (RFC 4566); anything else becomes '-'.
function msidToken(text: string): string {
  return text.replace(/[^\x21\x23-\x27\x2A\x2B\x2D\x2E\x30-\x39\x41-\x5A\x5E-\x7E]/g, '-').slice(0, 64);
}

// "a=1;b=2;a=1" → [[a,1],[b,2]]: the first value of each parameter (names compared without case).
function dedupeParams(text: string): [string, string | undefined][] {
  const seen = new Set<string>();
  const params: [string, string | undefined][] = [];
  for (const part of text.split(';')) {
    const trimmed = part.trim();
    if (!trimmed) continue;
    const eq = trimmed.indexOf('=');
    const key = eq < 0 ? trimmed : trimmed.slice(0, eq).trim();
    if (seen.has(key.toLowerCase())) continue;
    seen.add(key.toLowerCase());
    params.push([key, eq < 0 ? undefined : trimmed.slice(eq + 1).trim()]);
  }
  return params;
}
