// WHEP/WHIP behind a load balancer: a GET, PATCH or DELETE on a resource may reach any instance, but
// the resource (its ICE session, ETag, token hash, candidate count) lives in the memory of the one that
// took the POST. The instance the request reached finds the owner in Redis (the session hash already
// names each participant's instance) and asks it over the bus: an `ask` envelope on the owner's channel
// with a correlation id, the owner's `answer` on the asker's channel. The asker waits a bounded time:
// an owner that does not answer (stalled, or killed and not yet expired) gives 503 + Retry-After, never
// a hang. Why the bus and not HTTP between instances: instances need no address for each other, no
// extra port or credential, and Redis already carries every relay in order.
import { randomBytes } from 'node:crypto';
import type { ResourceReply, ResourceRequest } from '../daemon/resource-request.js';

export interface ResourceAsk {
  k: 'ask';
  /** Correlation id (random): the answer names it. */
  c: string;
  /** The asking instance: where the answer goes. */
  from: string;
  q: ResourceRequest;
}

export interface ResourceAnswer {
  k: 'answer';
  c: string;
  a: ResourceReply;
}

/** Requests waiting for an owner's answer at once, per instance: beyond it, 503 at once. */
export const MAX_PENDING_FORWARDS = 1024;

// What a request or an answer may carry (the HTTP side already bounds the body at 64 KiB).
const MAX_BODY = 65536;
const MAX_HEADER = 1024;
const ANSWER_HEADERS = new Set(['etag', 'www-authenticate', 'accept-patch', 'retry-after']);

const text = (v: unknown, max: number) => typeof v === 'string' && v.length <= max;
const optionalText = (v: unknown, max: number) => v === undefined || text(v, max);

/** An `ask` from the bus, checked field by field (undefined: dropped, never thrown at the bus). */
export function parseResourceAsk(e: Record<string, unknown>): ResourceAsk | undefined {
  const q = e.q as Record<string, unknown> | undefined;
  if (!text(e.c, 64) || !text(e.from, 256) || !q || typeof q !== 'object') return undefined;
  if (q.kind !== 'whep' && q.kind !== 'whip') return undefined;
  if (q.method !== 'GET' && q.method !== 'PATCH' && q.method !== 'DELETE') return undefined;
  if (!text(q.session, 64) || !text(q.id, 64) || !text(q.body, MAX_BODY)) return undefined;
  if (!optionalText(q.contentType, MAX_HEADER) || !optionalText(q.ifMatch, MAX_HEADER) || !optionalText(q.tokenHash, 64)) return undefined;
  return e as unknown as ResourceAsk;
}

/** An `answer` from the bus: a status, the headers a resource answer has, an optional {error}. */
export function parseResourceAnswer(e: Record<string, unknown>): ResourceAnswer | undefined {
  const a = e.a as Record<string, unknown> | undefined;
  if (!text(e.c, 64) || !a || typeof a !== 'object') return undefined;
  if (!Number.isInteger(a.status) || (a.status as number) < 200 || (a.status as number) > 599) return undefined;
  const headers = a.headers as Record<string, unknown> | undefined;
  if (!headers || typeof headers !== 'object') return undefined;
  for (const [name, value] of Object.entries(headers)) if (!ANSWER_HEADERS.has(name) || !text(value, MAX_HEADER)) return undefined;
  const body = a.body as Record<string, unknown> | undefined;
  if (body !== undefined && (typeof body !== 'object' || body === null || !text(body.error, 4096))) return undefined;
  return e as unknown as ResourceAnswer;
}

export interface ForwarderOptions {
  /** This instance's id: the answer's channel. */
  self: string;
  /** How long an owner has to answer. */
  timeoutMs: number;
  /** Retry-After (s) of a 503: when a dead owner's presence has surely expired (then: 404). */
  retryAfterS: number;
  /** Publishes an envelope on `instance`'s channel; rejects when Redis cannot take it. */
  publish(instance: string, envelope: ResourceAsk): Promise<void>;
}

interface Pending {
  resolve(reply: ResourceReply): void;
  timer: NodeJS.Timeout;
}

/** The asking side: pending requests by correlation id, each settled by its answer or its timeout. */
export class ResourceForwarder {
  readonly #options: ForwarderOptions;
  readonly #pending = new Map<string, Pending>();

  constructor(options: ForwarderOptions) {
    this.#options = options;
  }

  get pending(): number {
    return this.#pending.size;
  }

  #unavailable(why: string, retryAfterS = this.#options.retryAfterS): ResourceReply {
    return { status: 503, headers: { 'retry-after': String(retryAfterS) }, body: { error: why } };
  }

  forward(instance: string, request: ResourceRequest): Promise<ResourceReply> {
    if (this.#pending.size >= MAX_PENDING_FORWARDS) {
      return Promise.resolve(this.#unavailable(`this instance is already waiting for ${MAX_PENDING_FORWARDS} answers from other instances; retry in a second`, 1));
    }
    const c = randomBytes(12).toString('base64url');
    return new Promise<ResourceReply>((resolve) => {
      const settle = (reply: ResourceReply) => {
        const pending = this.#pending.get(c);
        if (!pending) return;
        clearTimeout(pending.timer);
        this.#pending.delete(c);
        resolve(reply);
      };
      const timer = setTimeout(
        () => settle(this.#unavailable(`the daemon instance that holds this ${request.kind.toUpperCase()} session did not answer within ${this.#options.timeoutMs} ms; retry after ${this.#options.retryAfterS} s (a dead instance's sessions are gone by then: 404)`)),
        this.#options.timeoutMs,
      );
      this.#pending.set(c, { resolve: settle, timer });
      this.#options.publish(instance, { k: 'ask', c, from: this.#options.self, q: request }).catch(() =>
        settle(this.#unavailable("the cluster's shared state (Redis) is unreachable, so the request cannot reach the instance that holds this session; retry in a few seconds", 5)),
      );
    });
  }

  /** An owner's answer arrived; one nobody waits for (timed out already) is dropped. */
  answered(answer: ResourceAnswer): void {
    this.#pending.get(answer.c)?.resolve(answer.a);
  }

  /** Settles every waiting request with 503 (the instance is closing). Idempotent. */
  close(): void {
    for (const pending of [...this.#pending.values()]) pending.resolve(this.#unavailable('this daemon instance is shutting down; retry on another'));
  }
}
