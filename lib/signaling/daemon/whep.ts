// WHEP (draft-ietf-wish-whep) and WHIP (RFC 9725): a client POSTs an SDP offer and gets the answer
// back in the 201; it trickles candidates with PATCH (sdpfrag) and ends with DELETE. Either way the
// client is a viewer that offers, relayed to the session's publisher (the VM agent) like any other
// viewer; only the media direction differs (WHEP: the agent sends; WHIP: the agent receives).
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidArgumentError } from '../../errors.js';
import type { CandidateInit, ServerMessage } from '../protocol/messages.js';
import { RelayError, newPeerId, type Participant, type SessionRegistry } from './sessions.js';
import { TokenError, onTokenExpiry, verifyToken } from './token.js';
import type { Metrics } from './metrics.js';
import { ConcurrencyCap, tokenKey } from './limits.js';

export interface WhepOptions {
  registry: SessionRegistry;
  secret: string | undefined;
  /** Concurrent participants per token, shared with the WebSocket side. */
  tokens?: ConcurrencyCap;
  answerTimeoutMs?: number;
  /** How long to wait for the publisher's candidates before answering (no server-side trickle in WHEP). */
  gatherTimeoutMs?: number;
  /** Counts resources ended by their token's expiry (`token-expired`), like the WebSocket side. */
  metrics?: Metrics;
}

interface WhepViewer {
  participant: Participant;
  etag: string;
  release: () => void;
  /** Hash of the token that created the resource; only that token may PATCH or DELETE it. */
  owner: string | undefined;
  /** Candidates relayed so far (at most MAX_RESOURCE_CANDIDATES). */
  relayed: number;
  /** Stops the timer that ends the resource at its token's `exp`. */
  cancelExpiry: () => void;
}

// A resource belongs to the exact token that created it (its signature was checked then). It ends at
// that token's `exp`, so an expired owner token reaches it only in the moment before the expiry timer
// fires; PATCH/DELETE still accept it then (a client may always end what it started). Stored hashed,
// so the resource table holds no usable token.
const ownerOf = (token: string | undefined) => (token === undefined ? undefined : createHash('sha256').update(token).digest('base64url'));

const SESSION = /^[A-Za-z0-9_.-]{1,64}$/;
/** Candidates one PATCH may carry (a browser gathers a handful per network interface). */
export const MAX_PATCH_CANDIDATES = 64;
/**
 * Candidates one resource may relay over its lifetime: a browser trickles a few dozen; endless PATCHes
 * would otherwise be an unmetered stream of messages into the publisher.
 */
export const MAX_RESOURCE_CANDIDATES = 256;

/** The candidates of an SDP fragment, with the mid each belongs to; `null` marks end-of-candidates. */
export function parseSdpFrag(frag: string): CandidateInit[] {
  const out: CandidateInit[] = [];
  let mid: string | undefined;
  for (const raw of frag.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('a=mid:')) mid = line.slice(6);
    else if (line.startsWith('a=candidate:')) out.push({ candidate: line.slice(2), sdpMid: mid ?? '0', sdpMLineIndex: mid === undefined ? 0 : null });
    else if (line === 'a=end-of-candidates') out.push(null);
  }
  return out;
}

// What the protocol allows a relayed candidate to be (lib/signaling/protocol/messages.ts CandidateInit).
function checkFrag(candidates: CandidateInit[]): void {
  if (candidates.length > MAX_PATCH_CANDIDATES) throw new InvalidArgumentError(`at most ${MAX_PATCH_CANDIDATES} candidates per PATCH`);
  for (const c of candidates) {
    if (c === null) continue;
    if (c.candidate.length > 1024) throw new InvalidArgumentError('a candidate line is longer than 1024 characters');
    if (c.sdpMid && (c.sdpMid.length > 64 || !/^[\x21-\x7e]+$/.test(c.sdpMid))) throw new InvalidArgumentError('a=mid must be 1 to 64 visible ASCII characters');
  }
}

/** Adds candidates (and end-of-candidates) to the first m-section of an SDP. */
export function withCandidates(sdp: string, candidates: string[], complete: boolean): string {
  const lines = sdp.replace(/\r\n$/, '').split('\r\n');
  const first = lines.findIndex((l) => l.startsWith('m='));
  if (first < 0) return sdp;
  let end = lines.findIndex((l, i) => i > first && l.startsWith('m='));
  if (end < 0) end = lines.length;
  const extra = candidates.map((c) => `a=${c.replace(/^a=/, '')}`);
  if (complete) extra.push('a=end-of-candidates');
  lines.splice(end, 0, ...extra);
  return `${lines.join('\r\n')}\r\n`;
}

export function registerWhep(app: FastifyInstance, options: WhepOptions): void {
  const viewers = new Map<string, WhepViewer>();
  const answerTimeout = options.answerTimeoutMs ?? 10_000;
  const gatherTimeout = options.gatherTimeoutMs ?? 2_000;

  // WHEP players are often pages of another origin: allow CORS (the Bearer token is the guard) on the
  // WHEP/WHIP routes only. The matched route decides, never the URL: `/metrics?x=/whep/` is not WHEP.
  app.addHook('onSend', async (request, reply) => {
    if (!/^\/wh[ei]p\//.test(request.routeOptions.url ?? '')) return;
    reply.header('access-control-allow-origin', request.headers.origin ?? '*');
    reply.header('access-control-expose-headers', 'location, etag, link');
  });
  app.addContentTypeParser(['application/sdp', 'application/trickle-ice-sdpfrag'], { parseAs: 'string', bodyLimit: 65536 }, (_req, body, done) =>
    done(null, body),
  );

  const bearer = (request: FastifyRequest) => {
    const header = request.headers.authorization ?? '';
    return header.startsWith('Bearer ') ? header.slice(7) : undefined;
  };
  /** The token's expiry (undefined without tokens), or false once the 401 is sent. */
  const authorize = (request: FastifyRequest, reply: FastifyReply, session: string): { exp: number | undefined } | false => {
    if (options.secret === undefined) return { exp: undefined };
    try {
      return { exp: verifyToken(bearer(request), { secret: options.secret, session, role: 'viewer' }).exp };
    } catch (error) {
      void reply.code(401).header('www-authenticate', 'Bearer').send({ error: error instanceof TokenError ? error.message : 'unauthorized' });
      return false;
    }
  };
  // PATCH and DELETE: the resource URL is the capability, and with tokens only its creator's token
  // may use it; another viewer of the same session gets 403.
  const authorizeOwner = (request: FastifyRequest, reply: FastifyReply, viewer: WhepViewer): boolean => {
    if (options.secret === undefined) return true;
    const token = bearer(request);
    if (token === undefined) {
      void reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'a token is required: the one that created this resource' });
      return false;
    }
    if (ownerOf(token) !== viewer.owner) {
      request.log.info({ session: viewer.participant.session, peer: viewer.participant.id, method: request.method }, 'whep: refused a token that did not create the resource');
      void reply.code(403).send({ error: 'this resource belongs to the token that created it' });
      return false;
    }
    return true;
  };
  const remove = (viewer: WhepViewer | undefined) => {
    if (!viewer) return;
    viewer.cancelExpiry();
    viewer.release();
    if (viewers.get(viewer.participant.id) === viewer) viewers.delete(viewer.participant.id);
    options.registry.leave(viewer.participant);
  };

  for (const kind of ['whep', 'whip']) registerRoutes(kind);

  function registerRoutes(kind: string): void {
    app.options(`/${kind}/*`, async (_request, reply) =>
      reply
        .code(204)
        .header('access-control-allow-methods', 'POST, PATCH, DELETE, OPTIONS')
        .header('access-control-allow-headers', 'authorization, content-type, if-match')
        .header('access-control-max-age', '600')
        .send(),
    );

    app.post<{ Params: { session: string }; Body: string }>(`/${kind}/:session`, async (request, reply) => {
      const { session } = request.params;
      if (!SESSION.test(session)) return reply.code(400).send({ error: 'invalid session name' });
      const authorized = authorize(request, reply, session);
      if (!authorized) return reply;
      if (request.headers['content-type']?.split(';')[0] !== 'application/sdp' || typeof request.body !== 'string' || !request.body.startsWith('v=0')) {
        return reply.code(415).send({ error: 'POST an SDP offer with Content-Type: application/sdp' });
      }
      const token = bearer(request);
      const release = options.secret !== undefined && token && options.tokens ? options.tokens.acquire(tokenKey(token)) : () => {};
      if (!release) return reply.code(429).send({ error: `this token already holds ${options.tokens!.max} concurrent connections` });
      // The id is the resource URL's last segment: long enough not to be guessed.
      const id = newPeerId('viewer', 16);
      let answer: ((sdp: string) => void) | undefined;
      let failed: ((status: number, why: string) => void) | undefined;
      let self: WhepViewer | undefined;
      let ended: string | undefined;
      const candidates: string[] = [];
      let complete = false;
      let onCandidate: (() => void) | undefined;
      const participant: Participant = {
        id,
        role: 'viewer',
        session,
        offers: true,
        send: (message: ServerMessage) => {
          if (message.type === 'answer') answer?.(message.sdp);
          else if (message.type === 'candidate') {
            if (message.candidate === null) complete = true;
            else if (message.candidate.candidate) candidates.push(message.candidate.candidate);
            onCandidate?.();
          } else if (message.type === 'peer-left' || message.type === 'bye') {
            // A bye before the answer: the publisher refused the offer (e.g. SDP it cannot use).
            ended = message.type === 'bye' ? 'the publisher refused the offer' : 'the publisher left';
            if (message.type === 'bye') failed?.(400, ended);
            else failed?.(503, ended);
            onCandidate?.();
            remove(self);
          }
        },
        close: () => remove(self),
      };
      self = { participant, etag: `"${id}"`, release, owner: options.secret === undefined ? undefined : ownerOf(token), relayed: 0, cancelExpiry: () => {} };
      let publisher: string | null;
      try {
        publisher = options.registry.join(participant).publisher;
      } catch (error) {
        release();
        return reply.code(409).send({ error: error instanceof RelayError ? error.message : 'cannot join' });
      }
      if (!publisher) {
        remove(self);
        return reply.code(503).header('retry-after', '2').send({ error: `session ${session} has no publisher right now` });
      }
      // A client that hangs up before the 201 never learns the resource URL: drop its participant now
      // (the publisher hears peer-left and closes its peer) instead of keeping it for nobody.
      const hungUp = () => {
        if (reply.sent || ended) return;
        ended = 'the client closed the connection before the answer';
        request.log.info({ session, peer: id }, 'whep: the client hung up before the answer; its participant is dropped');
        failed?.(499, ended);
        onCandidate?.();
        remove(self);
      };
      // A token is a lease: at its `exp` the resource ends like a WebSocket participant does (the
      // publisher hears peer-left and drops the viewer's peer; the token's slot is freed), before or
      // after the 201.
      if (authorized.exp !== undefined) {
        self.cancelExpiry = onTokenExpiry(authorized.exp, () => {
          if (ended) return;
          ended = 'the token expired';
          options.metrics?.error('token-expired');
          request.log.info({ session, peer: id, kind }, 'whep: token expired: resource removed');
          failed?.(401, `${ended}; get a new one`);
          onCandidate?.();
          remove(self);
        });
      }
      reply.raw.once('close', hungUp);
      if (reply.raw.destroyed) hungUp();
      let status = 504;
      try {
        const sdp = await new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('the publisher did not answer in time')), answerTimeout);
          answer = (s) => {
            clearTimeout(timer);
            resolve(s);
          };
          failed = (code, why) => {
            clearTimeout(timer);
            status = code;
            reject(new Error(why));
          };
          options.registry.target(participant, undefined).send({ type: 'offer', from: id, sdp: request.body });
        });
        // WHEP has no server-to-player trickle: wait (bounded) for the publisher's candidates.
        if (!complete) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, gatherTimeout);
            onCandidate = () => {
              if (complete || ended) {
                clearTimeout(timer);
                resolve();
              }
            };
          });
        }
        if (ended) throw new Error(ended);
        if (reply.raw.destroyed) throw new Error('the client closed the connection before the answer');
        viewers.set(id, self);
        // The path only: the query may carry a token.
        return reply
          .code(201)
          .header('content-type', 'application/sdp')
          .header('location', `${request.url.split('?')[0]!.replace(/\/$/, '')}/${id}`)
          .header('etag', self.etag)
          .send(withCandidates(sdp, candidates, complete));
      } catch (error) {
        remove(self);
        if (status === 401) void reply.header('www-authenticate', 'Bearer');
        return reply.code(status).send({ error: (error as Error).message });
      }
    });

    app.patch<{ Params: { session: string; id: string }; Body: string }>(`/${kind}/:session/:id`, async (request, reply) => {
      const { session, id } = request.params;
      const viewer = viewers.get(id);
      if (!viewer || viewer.participant.session !== session) return reply.code(404).send({ error: 'no such WHEP session' });
      if (!authorizeOwner(request, reply, viewer)) return reply;
      if (request.headers['content-type']?.split(';')[0] !== 'application/trickle-ice-sdpfrag') {
        return reply.code(415).send({ error: 'PATCH takes Content-Type: application/trickle-ice-sdpfrag' });
      }
      const candidates = parseSdpFrag(typeof request.body === 'string' ? request.body : '');
      try {
        checkFrag(candidates);
      } catch (error) {
        return reply.code(400).send({ error: `bad sdpfrag: ${(error as Error).message}` });
      }
      const count = candidates.filter((c) => c !== null).length;
      if (viewer.relayed + count > MAX_RESOURCE_CANDIDATES) {
        return reply.code(429).send({ error: `a WHEP resource relays at most ${MAX_RESOURCE_CANDIDATES} candidates; start a new one with POST` });
      }
      viewer.relayed += count;
      try {
        const publisher = options.registry.target(viewer.participant, undefined);
        for (const candidate of candidates) publisher.send({ type: 'candidate', from: id, candidate });
      } catch (error) {
        return reply.code(409).send({ error: (error as Error).message });
      }
      return reply.code(204).send();
    });

    app.delete<{ Params: { session: string; id: string } }>(`/${kind}/:session/:id`, async (request, reply) => {
      const { session, id } = request.params;
      const viewer = viewers.get(id);
      if (!viewer || viewer.participant.session !== session) return reply.code(404).send({ error: 'no such WHEP session' });
      if (!authorizeOwner(request, reply, viewer)) return reply;
      remove(viewer);
      return reply.code(200).send();
    });
  }
}
