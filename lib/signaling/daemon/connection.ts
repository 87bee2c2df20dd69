// lib/signaling/daemon/: the signaling daemon, a Fastify plugin (server.ts) and what it holds.
// One WebSocket participant: parsing and validating every frame, rate and size limits, keepalive,
// then handing valid messages to the session registry. Handlers are attached synchronously.
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { Writable } from 'node:stream';
import { TextDecoder } from 'node:util';
import { iceServersFor, type IceConfig } from './ice-config.js';
import type { Metrics } from './metrics.js';
import {
  PROTOCOL_VERSION,
  checkClientMessage,
  describeError,
  type ClientMessage,
  type ErrorCode,
  type Resume,
  type Role,
  type ServerMessage,
} from '../protocol/messages.js';
import type { ResumeKeys } from './resume.js';
import { RelayError, newPeerId, type Participant, type SessionRegistry } from './sessions.js';
import { TokenError, onTokenExpiry, verifyToken } from './token.js';
import { tokenKey, type ConcurrencyCap } from './limits.js';
import type { WriteBatcher } from './write-batch.js';

export interface ConnectionLimits {
  maxMessageBytes: number;
  /** Token bucket: `burst` messages, refilled at `perSecond`. */
  rate: { perSecond: number; burst: number };
  pingIntervalMs: number;
  /** A socket that has not joined within this time is closed (join-timeout); 0 = never. */
  joinTimeoutMs: number;
}

export interface ConnectionContext {
  registry: SessionRegistry;
  metrics: Metrics;
  limits: ConnectionLimits;
  ice: IceConfig;
  secret: string | undefined; // undefined: insecure mode
  log: FastifyBaseLogger;
  /** Concurrent participants per token (WebSocket and WHEP together). */
  tokens: ConcurrencyCap;
  /** Mints and checks the keys with which a participant reclaims its id (join.resume). */
  resume: ResumeKeys;
  /** Coalesces each socket's writes of one event-loop turn into one. */
  writes: WriteBatcher;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `tcp`: the socket under `socket` (the upgraded request's), corked while a turn's messages are written. */
export function handleConnection(socket: WebSocket, ctx: ConnectionContext, remote: string, tcp: Writable): void {
  const { registry, metrics, limits, log } = ctx;
  metrics.connections++;
  let participant: Participant | undefined;
  // A publisher carries every viewer's signaling: it gets ten times a viewer's budget.
  let rate = limits.rate;
  let tokens = rate.burst;
  let refilled = Date.now();
  let alive = true;
  let releaseToken: (() => void) | undefined;
  let cancelExpiry: (() => void) | undefined;
  let backlog: ClientMessage[] | undefined;
  let closed = false;

  const send = (message: ServerMessage) => {
    if (socket.readyState !== socket.OPEN) return;
    metrics.messagesOut++;
    ctx.writes.hold(tcp);
    socket.send(JSON.stringify(message));
  };
  const fail = (code: ErrorCode, message: string, close?: number) => {
    metrics.error(code);
    send({ type: 'error', code, message });
    log.debug({ code, remote, peer: participant?.id }, 'signaling error');
    if (close) socket.close(close, code);
  };
  const leave = () => {
    releaseToken?.();
    if (!participant) return;
    registry.leave(participant);
    log.info({ peer: participant.id, session: participant.session, role: participant.role }, 'left');
    participant = undefined;
  };

  // Keepalive: a socket that misses a pong between two pings is dead (network cut, killed page).
  const ping = setInterval(() => {
    if (!alive) {
      socket.terminate();
      return;
    }
    alive = false;
    socket.ping();
  }, limits.pingIntervalMs);
  ping.unref();
  // A socket that never joins holds a slot of its IP's socket cap for nothing: it gets a deadline.
  const joinTimer =
    limits.joinTimeoutMs > 0
      ? setTimeout(() => {
          if (!participant) fail('join-timeout', `no join within ${limits.joinTimeoutMs} ms`, 1008);
        }, limits.joinTimeoutMs)
      : undefined;
  joinTimer?.unref();
  socket.on('pong', () => (alive = true));
  socket.on('close', () => {
    closed = true;
    ctx.writes.release(tcp);
    clearInterval(ping);
    clearTimeout(joinTimer);
    cancelExpiry?.();
    leave();
  });

  // A token is a lease: at its `exp` the participant is removed, not merely refused its next join.
  // Removing it (rather than only muting its relaying) is what ends a viewer's media and control: the
  // publisher hears peer-left and closes that viewer's peer connection, data channel included.
  const expireAt = (exp: number) => {
    cancelExpiry = onTokenExpiry(exp, () => {
      if (!participant) return;
      metrics.error('token-expired');
      log.info({ peer: participant.id, session: participant.session, role: participant.role }, 'token expired: participant removed');
      send({ type: 'bye', reason: 'token-expired' });
      leave();
      socket.close(1008, 'token-expired');
    });
  };
  socket.on('error', (error) => log.debug({ err: error.message, remote }, 'socket error'));

  socket.on('message', (data: Buffer, isBinary: boolean) => {
    alive = true;
    metrics.messagesIn++;
    const now = Date.now();
    tokens = Math.min(rate.burst, tokens + ((now - refilled) / 1000) * rate.perSecond);
    refilled = now;
    if (tokens < 1) return fail('rate-limited', `more than ${rate.perSecond} messages a second`, 1008);
    tokens -= 1;
    if (isBinary) return fail('binary-not-supported', 'send JSON text frames');
    if (data.length > limits.maxMessageBytes) {
      return fail('too-large', `messages are limited to ${limits.maxMessageBytes} bytes`, 1009);
    }
    let value: unknown;
    try {
      value = JSON.parse(utf8.decode(data));
    } catch {
      return fail('bad-json', 'the message is not UTF-8 JSON');
    }
    if (!checkClientMessage.Check(value)) return fail('bad-message', describeError(checkClientMessage, value));
    // A join that waits for the cluster's Redis: what follows it waits too, in order.
    if (backlog) backlog.push(value);
    else dispatch(value);
  });

  function dispatch(message: ClientMessage): void {
    try {
      handle(message);
    } catch (error) {
      if (error instanceof RelayError) return fail(error.code, error.message);
      log.error({ err: error }, 'signaling handler failed');
      fail('internal', 'internal error');
    }
  }

  function handle(message: ClientMessage): void {
    if (message.type === 'join') {
      if (participant) return fail('already-joined', `already joined as ${participant.id}`);
      // Data only is a viewer's peer without media: a publisher has no such peer, and a viewer that
      // offers would be offering the media it says it does not want.
      if (message.media === 'data' && message.role !== 'viewer') return fail('bad-message', "join.media 'data' is for viewers (a publisher's media is what viewers watch)");
      if (message.media === 'data' && message.offers === true) return fail('bad-message', "join.media 'data' takes the publisher's offer: leave out join.offers");
      return join(message.session, message.role, message.token, message.offers === true, message.codecs, message.resume, message.media === 'data');
    }
    if (!participant) return fail('not-joined', 'the first message must be join');
    if (message.type === 'bye') {
      if (participant.role === 'publisher' && message.to !== undefined) {
        // A reason (no-common-codec) and what it names go to the viewer as they came.
        const { reason, codecs, message: text } = message;
        registry.target(participant, message.to).send({ type: 'bye', from: participant.id, ...(reason ? { reason } : {}), ...(codecs ? { codecs } : {}), ...(text ? { message: text } : {}) });
        return;
      }
      leave();
      socket.close(1000, 'bye');
      return;
    }
    const target = registry.target(participant, message.to);
    const from = participant.id;
    if (message.type === 'candidate') target.send({ type: 'candidate', from, candidate: message.candidate });
    else target.send({ type: message.type, from, sdp: message.sdp });
  }

  function join(session: string, role: Role, token: string | undefined, offers: boolean, codecs: string[] | undefined, resume: Resume | undefined, dataOnly = false): void {
    // Insecure (local development) mode lets every viewer control; otherwise the token says.
    let control = ctx.secret === undefined;
    let expires: number | undefined;
    if (ctx.secret !== undefined) {
      try {
        const claims = verifyToken(token, { secret: ctx.secret, session, role });
        control = claims.ctl === true;
        expires = claims.exp;
      } catch (error) {
        const reason = error instanceof TokenError ? error.message : 'invalid token';
        log.info({ remote, session, role, reason }, 'join refused');
        return fail('unauthorized', reason, 1008);
      }
      // One token, a bounded number of concurrent participants: a leaked viewer link cannot make the
      // publisher build an unbounded number of pipelines.
      releaseToken = ctx.tokens.acquire(tokenKey(token!));
      if (!releaseToken) {
        log.info({ remote, session, role, max: ctx.tokens.max }, 'join refused: token in use');
        return fail('token-in-use', `this token already holds ${ctx.tokens.max} concurrent connections`, 1008);
      }
    }
    // A rejoin reclaims its id when the key is the one a daemon with this secret gave for this session,
    // id and role, and nobody holds the id now; otherwise it gets a new one and `joined` says so.
    let id = newPeerId(role);
    let resumed: boolean | undefined;
    if (resume) {
      const valid = ctx.resume.verify(session, role, resume);
      resumed = valid && !registry.holds(session, resume.id);
      if (resumed) id = resume.id;
      else log.info({ remote, session, role, reason: valid ? 'the id is held by a connected participant' : 'the resume key is not valid for this session, id and role' }, 'resume refused: a new id is assigned');
    }
    const build = (id: string, resumed: boolean | undefined): Participant => ({
      id,
      role,
      session,
      offers,
      ...(resumed ? { resumed: true } : {}),
      ...(role === 'viewer' && codecs ? { codecs } : {}),
      ...(dataOnly ? { media: 'data' as const } : {}),
      control: role === 'viewer' && control,
      send,
      close: (code, reason) => socket.close(code, reason),
    });
    const refused = (error: unknown) => {
      releaseToken?.();
      if (error instanceof RelayError) return fail(error.code, error.message, error.code === 'cluster-unavailable' ? 1013 : 1008);
      throw error;
    };
    if (!registry.cluster) {
      const self = build(id, resumed);
      let publisher: string | null;
      try {
        ({ publisher } = registry.join(self));
      } catch (error) {
        return refused(error);
      }
      return joined(self, publisher, resumed, expires);
    }
    // One of many instances: the limits are checked in Redis, asynchronously.
    backlog = [];
    void (async () => {
      try {
        let self = build(id, resumed);
        let result = await registry.admit(self, token === undefined || ctx.secret === undefined ? undefined : tokenKey(token), ctx.tokens.max);
        if ('held' in result) {
          log.info({ remote, session, role, reason: 'the id is held by a participant on another instance' }, 'resume refused: a new id is assigned');
          resumed = false;
          self = build(newPeerId(role), false);
          result = await registry.admit(self, token === undefined || ctx.secret === undefined ? undefined : tokenKey(token), ctx.tokens.max);
          if ('held' in result) throw new RelayError('internal', 'a fresh peer id is held on another instance');
        }
        // The socket went while Redis answered: undo the join.
        if (closed) return registry.leave(self);
        joined(self, result.publisher, resumed, expires);
      } catch (error) {
        try {
          refused(error);
        } catch (unexpected) {
          log.error({ err: unexpected }, 'signaling join failed');
          fail('internal', 'internal error', 1011);
        }
      } finally {
        const queued = backlog ?? [];
        backlog = undefined;
        if (!closed) for (const message of queued) dispatch(message);
      }
    })();
  }

  function joined(self: Participant, publisher: string | null, resumed: boolean | undefined, expires: number | undefined): void {
    const { id, role, session } = self;
    const control = self.control === true;
    participant = self;
    clearTimeout(joinTimer);
    if (expires !== undefined) expireAt(expires);
    if (role === 'publisher') {
      rate = { perSecond: limits.rate.perSecond * 10, burst: limits.rate.burst * 10 };
      tokens = rate.burst;
    }
    send({
      type: 'joined',
      v: PROTOCOL_VERSION,
      peerId: id,
      session,
      role,
      iceServers: iceServersFor(ctx.ice, id),
      ...(role === 'viewer' ? { publisher, control } : {}),
      resumeKey: ctx.resume.keyFor(session, id, role),
      ...(resumed !== undefined ? { resumed } : {}),
    });
    if (role === 'publisher') registry.announceViewers(self);
    log.info({ peer: id, session, role, remote, ...(self.media ? { media: self.media } : {}), ...(resumed !== undefined ? { resumed } : {}) }, 'joined');
  }
}
