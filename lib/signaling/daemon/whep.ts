// WHEP (draft-ietf-wish-whep-03) and WHIP (RFC 9725): a client POSTs an SDP offer and gets the answer
// back in the 201; it trickles candidates with PATCH (sdpfrag) and ends with DELETE. Either way the
// client is a viewer that offers, relayed to the session's publisher (the VM agent) like any other
// viewer; only the media direction differs (WHEP: the agent sends; WHIP: the agent receives).
// Section numbers in comments are RFC 9725's; the WHEP draft's are the same text one section later
// for ICE (§4.4 there) and STUN/TURN (§4.7 there).
import { createHash } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidArgumentError } from '../../errors.js';
import type { CandidateInit, IceServer, ServerMessage } from '../protocol/messages.js';
import { iceServersFor, type IceConfig } from './ice-config.js';
import { RelayError, newPeerId, type Participant, type SessionRegistry } from './sessions.js';
import { TokenError, onTokenExpiry, verifyToken } from './token.js';
import type { Metrics } from './metrics.js';
import { ConcurrencyCap, tokenKey } from './limits.js';
import type { ResourceKind, ResourceLink, ResourceMethod, ResourceReply, ResourceRequest } from './resource-request.js';

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
  /** STUN/TURN handed to each new resource in `Link: rel="ice-server"` headers (RFC 9725 §4.6). */
  ice?: IceConfig;
}

interface WhepViewer {
  participant: Participant;
  /** Strong entity-tag of the resource's one ICE session (there is no ICE restart, so it never changes). */
  etag: string;
  /** The offer's ICE credentials: a PATCH that carries others is an ICE restart (RFC 9725 §4.3.3). */
  ice: IceCredentials;
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

export interface IceCredentials {
  ufrag: string | undefined;
  pwd: string | undefined;
}

/** The first `a=ice-ufrag` and `a=ice-pwd` of an SDP or an SDP fragment (max-bundle: one ICE session). */
export function iceCredentials(sdp: string): IceCredentials {
  return { ufrag: /^a=ice-ufrag:(.+?)\s*$/m.exec(sdp)?.[1], pwd: /^a=ice-pwd:(.+?)\s*$/m.exec(sdp)?.[1] };
}

/**
 * RFC 9725 §4.3.3: a PATCH whose ice-ufrag or ice-pwd differs from the session's is an ICE restart,
 * whatever else it carries. A fragment without them (a bare candidate) is trickle.
 */
export function isIceRestart(session: IceCredentials, frag: IceCredentials): boolean {
  return (frag.ufrag !== undefined && frag.ufrag !== session.ufrag) || (frag.pwd !== undefined && frag.pwd !== session.pwd);
}

/**
 * `If-Match` against a strong entity-tag (RFC 9110 §13.1.1): `*` (and the `"*"` of RFC 9725's
 * examples) matches any current tag; a weak tag never matches under the strong comparison.
 */
export function ifMatch(header: string, etag: string): boolean {
  return header
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => tag === '*' || tag === '"*"' || tag === etag);
}

// RFC 8288 quoted-string: a backslash or a quote in a credential must not end the parameter.
const quoted = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`;

/**
 * One `Link: <uri>; rel="ice-server"` value per STUN/TURN URI (RFC 9725 §4.6), with the TURN
 * credentials as `username`, `credential` and `credential-type="password"`.
 */
export function iceServerLinks(servers: IceServer[]): string[] {
  const links: string[] = [];
  for (const server of servers) {
    for (const url of Array.isArray(server.urls) ? server.urls : [server.urls]) {
      let link = `<${url}>; rel="ice-server"`;
      if (/^turns?:/.test(url) && server.username !== undefined && server.credential !== undefined) {
        link += `; username=${quoted(server.username)}; credential=${quoted(server.credential)}; credential-type="password"`;
      }
      links.push(link);
    }
  }
  return links;
}

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
  const answerTimeout = options.answerTimeoutMs ?? 10_000;
  const gatherTimeout = options.gatherTimeoutMs ?? 2_000;

  // WHEP players are often pages of another origin: allow CORS (the Bearer token is the guard) on the
  // WHEP/WHIP routes only. The matched route decides, never the URL: `/metrics?x=/whep/` is not WHEP.
  app.addHook('onSend', async (request, reply) => {
    if (!/^\/wh[ei]p\//.test(request.routeOptions.url ?? '')) return;
    reply.header('access-control-allow-origin', request.headers.origin ?? '*');
    reply.header('access-control-expose-headers', 'location, etag, link, accept-post, accept-patch, allow');
  });
  app.addContentTypeParser(['application/sdp', 'application/trickle-ice-sdpfrag'], { parseAs: 'string', bodyLimit: 65536 }, (_req, body, done) =>
    done(null, body),
  );

  const bearer = (request: FastifyRequest) => {
    const header = request.headers.authorization ?? '';
    return header.startsWith('Bearer ') ? header.slice(7) : undefined;
  };
  /**
   * The token's expiry (undefined without tokens), or false once the 401 is sent. WHEP takes a
   * `viewer` token; WHIP a `sender` token (or a `viewer` one, as before `sender` existed).
   */
  const authorize = (request: FastifyRequest, reply: FastifyReply, session: string, kind: string): { exp: number | undefined } | false => {
    if (options.secret === undefined) return { exp: undefined };
    try {
      return { exp: verifyToken(bearer(request), { secret: options.secret, session, role: kind === 'whip' ? 'sender' : 'viewer' }).exp };
    } catch (error) {
      void reply.code(401).header('www-authenticate', 'Bearer').send({ error: error instanceof TokenError ? error.message : 'unauthorized' });
      return false;
    }
  };
  // PATCH and DELETE: the resource URL is the capability, and with tokens only its creator's token
  // may use it; another viewer of the same session gets 403.
  const NO_TOKEN: ResourceReply = { status: 401, headers: { 'www-authenticate': 'Bearer' }, body: { error: 'a token is required: the one that created this resource' } };
  const NOT_OWNER: ResourceReply = { status: 403, headers: {}, body: { error: 'this resource belongs to the token that created it' } };
  const authorizeOwner = (request: ResourceRequest, viewer: WhepViewer, log: FastifyBaseLogger): ResourceReply | undefined => {
    if (options.secret === undefined) return undefined;
    if (request.tokenHash === undefined) return NO_TOKEN;
    if (request.tokenHash !== viewer.owner) {
      log.info({ session: viewer.participant.session, peer: viewer.participant.id, method: request.method }, 'whep: refused a token that did not create the resource');
      return NOT_OWNER;
    }
    return undefined;
  };

  // One resource table per protocol: a WHEP resource's URL under /whip/ (or the reverse) is 404.
  const tables: Record<ResourceKind, Map<string, WhepViewer>> = { whep: new Map(), whip: new Map() };
  const remove = (viewer: WhepViewer | undefined) => {
    if (!viewer) return;
    viewer.cancelExpiry();
    viewer.release();
    const table = tables[viewer.participant.resource!];
    if (table.get(viewer.participant.id) === viewer) table.delete(viewer.participant.id);
    options.registry.leave(viewer.participant);
  };

  /**
   * GET, PATCH or DELETE on a resource, answered from this instance's table: for a request that came
   * to this instance, and for one another instance of a cluster took and forwarded here (the owner).
   */
  const answerResource = (request: ResourceRequest, log: FastifyBaseLogger): ResourceReply => {
    const name = request.kind.toUpperCase();
    const viewer = tables[request.kind].get(request.id);
    if (!viewer || viewer.participant.session !== request.session) return { status: 404, headers: {}, body: { error: `no such ${name} session` } };
    if (request.method === 'GET') return { status: 204, headers: { 'accept-patch': 'application/trickle-ice-sdpfrag' } };
    const refused = authorizeOwner(request, viewer, log);
    if (refused) return refused;
    // DELETE ignores If-Match (RFC 9725 §4.3.1: no ICE session to match when ending the session).
    if (request.method === 'DELETE') {
      remove(viewer);
      return { status: 200, headers: {} };
    }
    return patch(request, viewer, log);
  };

  const patch = (request: ResourceRequest, viewer: WhepViewer, log: FastifyBaseLogger): ResourceReply => {
    const { session, id, kind } = request;
    const name = kind.toUpperCase();
    const fail = (status: number, error: string, headers: Record<string, string> = {}): ResourceReply => ({ status, headers, body: { error } });
    if (request.contentType?.split(';')[0] !== 'application/trickle-ice-sdpfrag') {
      return fail(415, 'PATCH takes Content-Type: application/trickle-ice-sdpfrag');
    }
    const frag = request.body;
    const restart = isIceRestart(viewer.ice, iceCredentials(frag));
    // RFC 9725 §4.3.1: "428 Precondition Required" for a missing entity-tag, "412 Precondition
    // Failed" for one that does not match; "sessions and clients that support Trickle ICE MUST make
    // use of entity-tags and conditional requests" (§4.3.2), so trickle needs If-Match too.
    const condition = request.ifMatch;
    if (condition === undefined) {
      return fail(
        428,
        restart
          ? 'an ICE restart (new ice-ufrag/ice-pwd) needs If-Match: "*" (RFC 9725 §4.3.3)'
          : `a trickle PATCH needs If-Match with the ETag of the 201 (${viewer.etag}), RFC 9725 §4.3.1`,
        { etag: viewer.etag },
      );
    }
    if (!ifMatch(condition, viewer.etag)) {
      return fail(412, `If-Match ${condition} does not match this ${name} session's ICE session (ETag ${viewer.etag}); use the ETag of the 201`, { etag: viewer.etag });
    }
    // §4.3.3: new ice-ufrag/ice-pwd is an ICE restart. webrtcbin 1.22 cannot restart ICE for a
    // remote peer (a new offer's answer keeps its old ice-ufrag/ice-pwd: "FIXME: deal with ICE
    // restarts" in gstwebrtcbin.c; test/signaling/whep-ice-restart.test.ts holds it to that), so
    // §4.3.1 makes it 422 for a session that does trickle but not restarts, and the existing ICE
    // session goes on untouched.
    if (restart) {
      log.info({ session, peer: id, kind }, 'whep: ICE restart refused (not supported); the ICE session goes on');
      return fail(422, `this ${name} server does not support ICE restart: the current ICE session goes on unchanged; trickle with its ice-ufrag, or DELETE this session and POST a new offer`);
    }
    const candidates = parseSdpFrag(frag);
    try {
      checkFrag(candidates);
    } catch (error) {
      return fail(400, `bad sdpfrag: ${(error as Error).message}`);
    }
    const count = candidates.filter((c) => c !== null).length;
    if (viewer.relayed + count > MAX_RESOURCE_CANDIDATES) {
      return fail(429, `a ${name} resource relays at most ${MAX_RESOURCE_CANDIDATES} candidates; start a new one with POST`);
    }
    viewer.relayed += count;
    try {
      const publisher = options.registry.target(viewer.participant, undefined);
      for (const candidate of candidates) publisher.send({ type: 'candidate', from: id, candidate });
    } catch (error) {
      return fail(409, (error as Error).message);
    }
    return { status: 204, headers: {} };
  };

  // In a cluster, this instance answers the others' forwarded requests for its resources.
  options.registry.cluster?.resources?.serveResources((request) => answerResource(request, app.log));

  /**
   * A request on a resource as it reached this instance. In a cluster, one this instance does not
   * hold is looked up in Redis and, when another live instance holds it, forwarded there after the
   * token is checked here too (a forged token never crosses the bus).
   */
  const serveResource = async (request: FastifyRequest<{ Params: { session: string; id: string } }>, reply: FastifyReply, kind: ResourceKind, method: ResourceMethod) => {
    const { session, id } = request.params;
    const token = bearer(request);
    const asked: ResourceRequest = {
      kind,
      method,
      session,
      id,
      contentType: request.headers['content-type'],
      ifMatch: request.headers['if-match'],
      body: typeof request.body === 'string' ? request.body : '',
      tokenHash: ownerOf(token),
    };
    const link = options.registry.cluster?.resources;
    let answer: ResourceReply;
    if (!link || tables[kind].has(id)) answer = answerResource(asked, request.log);
    else answer = await answerElsewhere(link, asked, token, request.log);
    void reply.code(answer.status).headers(answer.headers);
    return answer.body === undefined ? reply.send() : reply.send(answer.body);
  };

  const answerElsewhere = async (link: ResourceLink, asked: ResourceRequest, token: string | undefined, log: FastifyBaseLogger): Promise<ResourceReply> => {
    const name = asked.kind.toUpperCase();
    const notFound: ResourceReply = { status: 404, headers: {}, body: { error: `no such ${name} session` } };
    let owner;
    try {
      owner = SESSION.test(asked.session) ? await link.locate(asked.session, asked.id) : undefined;
    } catch (error) {
      return { status: 503, headers: { 'retry-after': '5' }, body: { error: (error as Error).message } };
    }
    // Ours (a POST not answered yet), another kind's, nobody's, or its instance is dead (its
    // resources died with it): as the single process, 404.
    if (!owner || owner.instance === link.id || owner.kind !== asked.kind) return notFound;
    if (!owner.alive) {
      log.info({ session: asked.session, peer: asked.id, instance: owner.instance, method: asked.method }, 'whep: the instance that held this resource is gone: 404');
      return notFound;
    }
    // The first token check, here: GET needs none (as on the owner); a missing token is 401; one
    // that is not a valid token of this session and route cannot be the creator's (403, as the
    // owner would say). Its expiry is the owner's to judge (its timer ends the resource).
    if (asked.method !== 'GET' && options.secret !== undefined) {
      if (token === undefined) return NO_TOKEN;
      try {
        verifyToken(token, { secret: options.secret, session: asked.session, role: asked.kind === 'whip' ? 'sender' : 'viewer' });
      } catch (error) {
        if (!(error instanceof TokenError && error.reason === 'expired')) return NOT_OWNER;
      }
    }
    return link.forward(owner.instance, asked);
  };

  for (const kind of ['whep', 'whip'] as const) registerRoutes(kind);

  function registerRoutes(kind: ResourceKind): void {
    const viewers = tables[kind];
    const name = kind.toUpperCase();
    const endpoint = `/${kind}/:session`;
    const resource = `/${kind}/:session/:id`;
    const endpointMethods = 'GET, HEAD, OPTIONS, POST';
    const resourceMethods = 'GET, HEAD, OPTIONS, PATCH, DELETE';

    // RFC 9725 §4.2: OPTIONS (CORS) on the endpoint, its 2xx with `Accept-Post: application/sdp`;
    // the resource advertises what PATCH takes (RFC 5789 §3.1). No ice-server Links here: §4.6 makes
    // them NOT RECOMMENDED on OPTIONS and SHOULD NOT on a CORS preflight (and OPTIONS carries no token).
    // 204 rather than 200: a 2xx without content, as it has always been (CORS preflights accept both).
    const preflight = (methods: string, extra: Record<string, string>) => async (_request: FastifyRequest, reply: FastifyReply) =>
      reply
        .code(204)
        .headers(extra)
        .header('allow', methods)
        .header('access-control-allow-methods', methods)
        .header('access-control-allow-headers', 'authorization, content-type, if-match')
        .header('access-control-max-age', '600')
        .send();
    app.options(endpoint, preflight(endpointMethods, { 'accept-post': 'application/sdp' }));
    app.options(resource, preflight(resourceMethods, { 'accept-patch': 'application/trickle-ice-sdpfrag' }));

    // RFC 9725 §4.1 (WHEP §4.1): the endpoint and its sessions have no representation, so GET (and
    // HEAD) is a 2xx with no content. A session that does not exist is still 404.
    app.get<{ Params: { session: string } }>(endpoint, async (request, reply) => {
      if (!SESSION.test(request.params.session)) return reply.code(400).send({ error: 'invalid session name' });
      return reply.code(204).header('accept-post', 'application/sdp').send();
    });
    app.get<{ Params: { session: string; id: string } }>(resource, async (request, reply) => serveResource(request, reply, kind, 'GET'));
    // Any other method: 405 with `Allow` (RFC 9110 §15.5.6), answered before a body is parsed.
    const notAllowed = (methods: string) => async (request: FastifyRequest, reply: FastifyReply) =>
      reply.code(405).header('allow', methods).send({ error: `${request.method} is not a ${name} method here; allowed: ${methods}` });
    app.route({ method: ['PUT', 'PATCH', 'DELETE'], url: endpoint, onRequest: notAllowed(endpointMethods), handler: async () => undefined });
    app.route({ method: ['POST', 'PUT'], url: resource, onRequest: notAllowed(resourceMethods), handler: async () => undefined });

    app.post<{ Params: { session: string }; Body: string }>(endpoint, async (request, reply) => {
      const { session } = request.params;
      if (!SESSION.test(session)) return reply.code(400).send({ error: 'invalid session name' });
      const authorized = authorize(request, reply, session, kind);
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
        resource: kind,
        send: (message: ServerMessage) => {
          if (message.type === 'answer') answer?.(message.sdp);
          else if (message.type === 'candidate') {
            if (message.candidate === null) complete = true;
            else if (message.candidate.candidate) candidates.push(message.candidate.candidate);
            onCandidate?.();
          } else if (message.type === 'peer-left' || message.type === 'bye') {
            // A bye before the answer: the publisher refused the offer (e.g. SDP it cannot use). With
            // no codec in common it says so: 422 with the reason (draft-03's 406 promises a counter-offer
            // body, which we do not send; RFC 9725 §4.4.3 names 422 for an offer it cannot use).
            const noCodec = message.type === 'bye' && message.reason === 'no-common-codec';
            ended = message.type === 'bye' ? (noCodec && message.message ? message.message : 'the publisher refused the offer') : 'the publisher left';
            if (message.type === 'bye') failed?.(noCodec ? 422 : 400, ended);
            else failed?.(503, ended);
            onCandidate?.();
            remove(self);
          }
        },
        close: () => remove(self),
      };
      self = { participant, etag: `"${id}"`, ice: iceCredentials(request.body), release, owner: options.secret === undefined ? undefined : ownerOf(token), relayed: 0, cancelExpiry: () => {} };
      let publisher: string | null;
      try {
        const registry = options.registry;
        // In a cluster the limits are Redis's (admit); the id is fresh, so it is never `held`.
        const joined = registry.cluster ? await registry.admit(participant, options.secret !== undefined && token ? tokenKey(token) : undefined, options.tokens?.max ?? 0) : registry.join(participant);
        if ('held' in joined) throw new RelayError('internal', 'a fresh resource id is held on another instance');
        publisher = joined.publisher;
      } catch (error) {
        release();
        if (error instanceof RelayError && error.code === 'token-in-use') return reply.code(429).send({ error: error.message });
        if (error instanceof RelayError && error.code === 'cluster-unavailable') return reply.code(503).header('retry-after', '5').send({ error: error.message });
        return reply.code(409).send({ error: error instanceof RelayError ? error.message : 'cannot join' });
      }
      if (!publisher) {
        remove(self);
        // WHEP draft-03 §4.2.8: an endpoint that needs a live publisher answers 409 with Retry-After;
        // WHIP has no such rule, and 503 with Retry-After is its "try again later" (RFC 9725 §4.5).
        return reply
          .code(kind === 'whep' ? 409 : 503)
          .header('retry-after', '2')
          .send({ error: `session ${session} has no publisher right now; try again in a few seconds` });
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
        // RFC 9725 §4.6: the STUN/TURN servers a WebSocket joiner gets, TURN REST credentials minted
        // for this resource (its id is the REST user, as a joiner's peer id is).
        const links = iceServerLinks(iceServersFor(options.ice ?? {}, id));
        if (links.length > 0) void reply.header('link', links);
        // The path only: the query may carry a token. The ETag names the ICE session (§4.3.1).
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

    app.patch<{ Params: { session: string; id: string }; Body: string }>(resource, async (request, reply) => serveResource(request, reply, kind, 'PATCH'));
    app.delete<{ Params: { session: string; id: string } }>(resource, async (request, reply) => serveResource(request, reply, kind, 'DELETE'));
  }
}
