// lib/signaling/cluster/: many daemon instances sharing one set of sessions through Redis.
// The cluster link of one instance: its Redis connections (commands, and a second one subscribed to
// its own channel), the heartbeat that keeps its presence alive, the sweep that notices dead
// instances, and re-registration after Redis comes back. Loaded only with `signaling({redis})`:
// the single-process daemon never imports ioredis.
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis as RedisClient, RedisOptions } from 'ioredis';
import { InvalidArgumentError, WebRtcBinError } from '../../errors.js';
import type { ServerMessage } from '../protocol/messages.js';
import { redactUrl } from '../daemon/redact.js';
import { RelayError, type ClusterLink, type Participant, type SessionRegistry } from '../daemon/sessions.js';
import { crossesBus, decide, parseEnvelope, type Envelope, type PresenceEntry } from './bus.js';
import { RedisHealth, renderClusterMetrics } from './health.js';
import { clusterKeys, DEFAULT_PREFIX, type ClusterKeys } from './keys.js';
import { ADMIT_LUA, admitResult } from './limits.js';
import { ResourceForwarder, type ResourceAsk } from './forward.js';
import { Prober, type Probe } from './takeover.js';
import type { ResourceLink, ResourceOwner, ResourceReply, ResourceRequest } from '../daemon/resource-request.js';
import { LIVE_LUA, OWNER_LUA, REMOVE_LUA, RESTORE_LUA, pairs, sumSummaries, type ClusterCounts, type InstanceSummary } from './presence.js';

export interface ClusterOptions {
  /** redis://[user:password@]host:port[/db] (a password never reaches a log line). */
  url: string;
  /** Prefix of every key and channel (default `webrtcbin:`): deployments sharing one Redis use their own. */
  keyPrefix?: string;
  /** How often presence is refreshed and dead instances looked for (default 2000 ms). */
  heartbeatMs?: number;
  /** How long presence outlives its last heartbeat (default 6000 ms, at least twice the heartbeat). */
  ttlMs?: number;
  /** How long startup waits for Redis (default 10 000 ms); then the daemon does not start. */
  connectTimeoutMs?: number;
  /** This instance's id (default random); unique per running instance. */
  instanceId?: string;
  /**
   * How long a WHEP/WHIP request another instance's resource is forwarded for waits for that
   * instance's answer (default 2000 ms); then 503 with Retry-After.
   */
  forwardTimeoutMs?: number;
}

/** `signaling({redis})`: a URL, or the URL with options. */
export type RedisOption = string | ClusterOptions;

/** Redis could not be reached at startup, or the option is wrong. */
export class ClusterError extends WebRtcBinError {
  constructor(message: string) {
    super(message, 'ERR_CLUSTER');
  }
}

const UNAVAILABLE = "the cluster's shared state (Redis) is unreachable, so this daemon cannot check the session's limits: new joins are refused until it is back; retry in a few seconds";

export class Cluster implements ClusterLink, ResourceLink {
  readonly id: string;
  readonly #keys: ClusterKeys;
  readonly #redis: RedisClient;
  readonly #sub: RedisClient;
  readonly #log: FastifyBaseLogger;
  readonly #ttlMs: number;
  readonly #heartbeatMs: number;
  readonly #health: RedisHealth;
  readonly #logUrl: string;
  #registry: SessionRegistry | undefined;
  #timer: NodeJS.Timeout | undefined;
  #pending = new Set<Promise<unknown>>();
  // Local participant → the Redis key of its token's slot (when it holds one).
  #tokenKeys = new Map<Participant, string>();
  // Leaves that could not reach Redis: removed when it is back.
  #unsent = new Set<Participant>();
  #reconcileDue = false;
  #closed = false;
  #stopping = false;
  // Instances that said they are stopping → until when their participants are not swept.
  #graceUntil = new Map<string, number>();
  // The last connection error (ECONNREFUSED, WRONGPASS, …), for the startup failure's message.
  #lastError: string | undefined;
  // WHEP/WHIP requests this instance took for resources of others, waiting for their answers.
  readonly #forwarder: ResourceForwarder;
  #answerResource: ((request: ResourceRequest) => ResourceReply) | undefined;
  // Resumes of ids a crashed (or stalled) instance still holds in Redis, asking it first (takeover.ts).
  readonly #prober: Prober;

  private constructor(options: Required<Omit<ClusterOptions, 'instanceId'>> & { instanceId: string }, Redis: new (url: string, options: RedisOptions) => RedisClient, log: FastifyBaseLogger) {
    this.id = options.instanceId;
    this.#keys = clusterKeys(options.keyPrefix);
    this.#log = log;
    this.#ttlMs = options.ttlMs;
    this.#heartbeatMs = options.heartbeatMs;
    this.#health = new RedisHealth(options.ttlMs + options.heartbeatMs);
    this.#logUrl = redactUrl(options.url);
    const redisOptions: RedisOptions = {
      lazyConnect: true,
      // Fail at once while Redis is away instead of queueing: a join is refused, a relay is dropped.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
      connectTimeout: options.connectTimeoutMs,
    };
    this.#redis = new Redis(options.url, redisOptions);
    this.#sub = new Redis(options.url, { ...redisOptions, enableOfflineQueue: true });
    this.#forwarder = new ResourceForwarder({
      self: this.id,
      timeoutMs: options.forwardTimeoutMs,
      // By then a dead owner's key has expired and been noticed: the retry gets 404, not another wait.
      retryAfterS: Math.ceil((options.ttlMs + options.heartbeatMs) / 1000),
      publish: async (instance, envelope) => {
        if (!this.#health.up || this.#closed) throw new Error('redis is down');
        await this.#redis.publish(this.#keys.channel(instance), JSON.stringify(envelope));
      },
    });
    this.#prober = new Prober({
      self: this.id,
      publish: async (instance, envelope) => {
        if (!this.#health.up || this.#closed) throw new Error('redis is down');
        return this.#redis.publish(this.#keys.channel(instance), JSON.stringify(envelope));
      },
    });
  }

  /** Connects (waiting up to connectTimeoutMs) and starts the heartbeat. Throws ClusterError. */
  static async connect(option: RedisOption, log: FastifyBaseLogger): Promise<Cluster> {
    const o = typeof option === 'string' ? { url: option } : option;
    if (!o || typeof o.url !== 'string' || !/^rediss?:\/\//.test(o.url)) {
      throw new InvalidArgumentError('signaling: redis must be a URL like redis://127.0.0.1:6379 (or {url, …})');
    }
    const heartbeatMs = o.heartbeatMs ?? 2000;
    const ttlMs = o.ttlMs ?? 6000;
    if (!(heartbeatMs >= 50) || !(ttlMs >= 2 * heartbeatMs)) {
      throw new InvalidArgumentError(`signaling: redis.ttlMs (${ttlMs}) must be at least twice redis.heartbeatMs (${heartbeatMs}, at least 50)`);
    }
    const forwardTimeoutMs = o.forwardTimeoutMs ?? 2000;
    if (!Number.isInteger(forwardTimeoutMs) || forwardTimeoutMs < 50 || forwardTimeoutMs > 20_000) {
      throw new InvalidArgumentError(`signaling: redis.forwardTimeoutMs (${String(o.forwardTimeoutMs)}) must be a whole number of milliseconds from 50 to 20000 (under the HTTP request timeout)`);
    }
    const { Redis } = await import('ioredis');
    const cluster = new Cluster(
      { url: o.url, keyPrefix: o.keyPrefix ?? DEFAULT_PREFIX, heartbeatMs, ttlMs, forwardTimeoutMs, connectTimeoutMs: o.connectTimeoutMs ?? 10_000, instanceId: o.instanceId ?? randomBytes(6).toString('base64url') },
      Redis as unknown as new (url: string, options: RedisOptions) => RedisClient,
      log,
    );
    await cluster.#start(o.connectTimeoutMs ?? 10_000);
    return cluster;
  }

  async #start(timeoutMs: number): Promise<void> {
    const redis = this.#redis;
    const sub = this.#sub;
    for (const [name, client] of [['commands', redis], ['subscriber', sub]] as const) {
      client.on('error', (error: Error) => {
        this.#lastError = redactUrl(error.message);
        this.#log.debug({ err: this.#lastError, connection: name }, 'cluster: redis error');
      });
    }
    redis.on('ready', () => this.#onReady());
    redis.on('close', () => {
      if (this.#health.markDown() && !this.#closed) this.#log.warn({ redis: this.#logUrl, instance: this.id }, 'cluster: Redis is unreachable; new joins are refused, established sessions go on');
    });
    sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => this.#onEnvelope(message.toString('utf8')));
    // The subscriber reconnected (its connection dropped alone): while it was gone, another instance's
    // probe found no subscriber here and may have taken over some of our ids; restore() closes those.
    let subscribed = false;
    sub.on('ready', () => {
      if (subscribed && !this.#closed && this.#health.up) this.#track(this.#restore().catch((error: Error) => this.#log.debug({ err: error.message }, 'cluster: re-check after the subscriber reconnected failed')));
      subscribed = true;
    });
    const deadline = new Promise<never>((_, reject) => {
      const timer = setTimeout(() => reject(new ClusterError(`cannot reach Redis at ${this.#logUrl} within ${timeoutMs} ms: is redis-server running there, and is --redis / WEBRTCBIN_REDIS right?`)), timeoutMs);
      timer.unref();
    });
    try {
      await Promise.race([Promise.all([redis.connect(), sub.connect()]), deadline]);
      await Promise.race([sub.subscribe(this.#keys.channel(this.id)), deadline]);
      await this.#heartbeat();
    } catch (error) {
      redis.disconnect();
      sub.disconnect();
      if (error instanceof ClusterError) throw error;
      const why = this.#lastError ?? redactUrl((error as Error).message);
      throw new ClusterError(`cannot use Redis at ${this.#logUrl}: ${why}; is redis-server running there, and are --redis / WEBRTCBIN_REDIS (and its password) right?`);
    }
    this.#timer = setInterval(() => void this.#tick(), this.#heartbeatMs);
    this.#timer.unref();
    this.#log.info({ redis: this.#logUrl, instance: this.id, heartbeatMs: this.#heartbeatMs, ttlMs: this.#ttlMs }, 'cluster: joined');
  }

  attach(registry: SessionRegistry): void {
    this.#registry = registry;
    registry.cluster = this;
  }

  get redisUp(): boolean {
    return this.#health.up;
  }

  healthFields(): { redis: 'up' | 'down'; redisSinceMs: number; instance: string } {
    return { ...this.#health.fields(), instance: this.id };
  }

  // ---- presence ----

  #entry(p: Participant): PresenceEntry {
    return {
      r: p.role,
      i: this.id,
      ...(p.offers ? { o: true as const } : {}),
      ...(p.codecs ? { c: p.codecs } : {}),
      ...(p.media === 'data' ? { d: true as const } : {}),
      ...(p.control ? { ctl: true as const } : {}),
      ...(p.resumed ? { res: true as const } : {}),
      ...(p.resource ? { w: p.resource } : {}),
    };
  }

  /** The stand-in for a participant of another instance: what it is sent crosses the bus. */
  #remote(session: string, id: string, e: PresenceEntry): Participant {
    const channel = this.#keys.channel(e.i);
    return {
      id,
      role: e.r,
      session,
      offers: e.o === true,
      ...(e.c ? { codecs: e.c } : {}),
      ...(e.d ? { media: 'data' as const } : {}),
      ...(e.ctl ? { control: true } : {}),
      ...(e.res ? { resumed: true } : {}),
      instance: e.i,
      send: (message: ServerMessage) => {
        if (crossesBus(message)) this.#publish(channel, { k: 'relay', to: id, m: message });
      },
      close: () => {},
    };
  }

  #remotes(session: string, entries: [string, string][], except?: string): Participant[] {
    const out: Participant[] = [];
    for (const [id, value] of entries) {
      if (id === except) continue;
      const e = JSON.parse(value) as PresenceEntry;
      if (e.i !== this.id) out.push(this.#remote(session, id, e));
    }
    return out;
  }

  async admit(p: Participant, tokenKey: string | undefined, maxPerToken: number): Promise<{ held: true } | { remote: Participant[] }> {
    if (!this.#health.up) throw new RelayError('cluster-unavailable', UNAVAILABLE);
    const tokenRedisKey = tokenKey !== undefined && maxPerToken > 0 ? this.#keys.token(tokenKey) : undefined;
    let result = admitResult(await this.#admit(p, tokenRedisKey, maxPerToken, ''), p.session, maxPerToken);
    if ('held' in result) {
      // Only a resume whose key verified reaches here with an id that exists; a fresh id never collides.
      if (!p.resumed) return { held: true };
      const owner = result.held;
      const verdict = await this.#prober.probe(owner, p.session, p.id);
      if (!verdict.free) {
        this.#log.info({ peer: p.id, session: p.session, owner, why: verdict.why }, 'cluster: resume refused: the id is held on another instance');
        return { held: true };
      }
      // The owner has no socket for it (answered, or it is gone): take the entry over, if it is still the owner's.
      result = admitResult(await this.#admit(p, tokenRedisKey, maxPerToken, owner), p.session, maxPerToken);
      if ('held' in result) return { held: true };
      this.#log.info({ peer: p.id, session: p.session, owner, why: verdict.why }, 'cluster: resumed an id from an instance that no longer holds its socket');
      // Published before the join (one connection keeps the order): a stalled owner that wakes closes
      // the socket it still has for the id, and then learns of its new owner.
      if (verdict.why !== 'released') this.#publish(this.#keys.channel(owner), { k: 'took', s: p.session, id: p.id, i: this.id });
    }
    if (tokenRedisKey) this.#tokenKeys.set(p, tokenRedisKey);
    return { remote: this.#remotes(p.session, result.entries, p.id) };
  }

  /** The admission script; `replace`: an instance whose entry for the id may be overwritten ('' none). */
  async #admit(p: Participant, tokenRedisKey: string | undefined, maxPerToken: number, replace: string): Promise<string[]> {
    const sessionKey = this.#keys.session(p.session);
    try {
      return (await this.#redis.eval(ADMIT_LUA, 2, sessionKey, tokenRedisKey ?? sessionKey, p.id, this.id, JSON.stringify(this.#entry(p)), p.role, String(tokenRedisKey ? maxPerToken : 0), String(this.#ttlMs), this.#keys.instance(''), replace)) as string[];
    } catch (error) {
      this.#log.warn({ err: redactUrl((error as Error).message), session: p.session }, 'cluster: admission failed');
      throw new RelayError('cluster-unavailable', UNAVAILABLE);
    }
  }

  joined(p: Participant, remote: readonly Participant[]): void {
    const envelope: Envelope = { k: 'join', s: p.session, id: p.id, e: this.#entry(p) };
    for (const instance of new Set(remote.map((r) => r.instance!))) this.#publish(this.#keys.channel(instance), envelope);
  }

  left(p: Participant): void {
    const tokenRedisKey = this.#tokenKeys.get(p);
    this.#tokenKeys.delete(p);
    // Stopping: the participant is reconnecting to another instance, where it resumes its id; the
    // others sweep it after the grace if it does not.
    if (this.#stopping) return;
    if (!this.#health.up) {
      this.#unsent.add(p);
      return;
    }
    this.#track(this.#remove(p, this.id, tokenRedisKey, true));
  }

  /** Removes `p`'s entry if `owner` still owns it; `announce`: tell the session's other instances. */
  async #remove(p: Participant, owner: string, tokenRedisKey: string | undefined, announce: boolean): Promise<void> {
    const sessionKey = this.#keys.session(p.session);
    let reply: string[];
    try {
      reply = (await this.#redis.eval(REMOVE_LUA, 2, sessionKey, tokenRedisKey ?? sessionKey, p.id, owner, this.#keys.instance(''))) as string[];
    } catch (error) {
      if (announce) this.#unsent.add(p);
      this.#log.debug({ err: (error as Error).message, peer: p.id }, 'cluster: could not remove a participant; retried when Redis is back');
      return;
    }
    const [status, ...rest] = reply;
    if (!announce || status === 'moved') return;
    const envelope: Envelope = { k: 'leave', s: p.session, id: p.id, i: owner };
    for (const instance of new Set(this.#remotes(p.session, pairs(rest)).map((r) => r.instance!))) this.#publish(this.#keys.channel(instance), envelope);
  }

  // ---- the bus ----

  #publish(channel: string, envelope: Envelope): void {
    if (!this.#health.up) return;
    this.#redis.publish(channel, JSON.stringify(envelope)).catch((error: Error) => this.#log.debug({ err: error.message }, 'cluster: publish failed (message lost)'));
  }

  #onEnvelope(text: string): void {
    const registry = this.#registry;
    const envelope = parseEnvelope(text);
    if (!registry || !envelope) return;
    const action = decide(envelope, this.id, {
      hasSession: (session) => registry.hasSession(session),
      holdsLocal: (id) => registry.local(id) !== undefined,
      remoteOwner: (session, id) => registry.remote(session, id)?.instance,
    });
    switch (action.do) {
      case 'deliver':
        registry.local(action.to)?.send(action.message);
        break;
      case 'add-remote':
        registry.addRemote(this.#remote(action.session, action.id, action.entry));
        break;
      case 'grace':
        this.#graceUntil.set(action.instance, Date.now() + this.#ttlMs + this.#heartbeatMs);
        break;
      case 'remove-remote': {
        const p = registry.remote(action.session, action.id);
        if (p) registry.leave(p);
        break;
      }
      case 'answer-resource':
        this.#answer(action.ask);
        break;
      case 'resource-answered':
        this.#forwarder.answered(action.answer);
        break;
      case 'answer-probe':
        this.#answerProbe(action.probe);
        break;
      case 'probe-answered':
        this.#prober.answered(action.answer);
        break;
      case 'displace':
        this.#displace(action.session, action.id, `resumed on instance ${action.by}`);
        break;
      case 'ignore':
        break;
    }
  }

  // ---- resuming the ids of a crashed instance (takeover.ts) ----

  /** Another instance asks whether we still hold `id` with an open socket (a local participant is removed when its socket closes). */
  #answerProbe(probe: Probe): void {
    const open = this.#registry?.holds(probe.s, probe.id) === true;
    this.#publish(this.#keys.channel(probe.from), { k: 'probed', c: probe.c, open });
  }

  /**
   * Our participant `id` is owned by another instance now (its client resumed there while we were
   * stalled or cut off): drop it without peer-left (the other side keeps its peer: the new owner's
   * join says resumed) and close its stale socket, so that one id never has two sockets.
   */
  #displace(session: string, id: string, why: string): void {
    const registry = this.#registry;
    const p = registry?.local(id);
    if (!registry || !p || p.session !== session) return;
    registry.displace(p);
    this.#tokenKeys.delete(p);
    this.#unsent.delete(p);
    this.#log.warn({ peer: id, session, why }, 'cluster: closing a socket whose id another instance holds now');
    p.close(1008, 'resumed-elsewhere');
  }

  // ---- WHEP/WHIP resources held here or elsewhere (forward.ts) ----

  async locate(session: string, id: string): Promise<ResourceOwner | undefined> {
    if (!this.#health.up) throw new RelayError('cluster-unavailable', "the cluster's shared state (Redis) is unreachable, so this daemon cannot tell which instance holds this session; retry in a few seconds");
    let reply: string[];
    try {
      reply = (await this.#redis.eval(OWNER_LUA, 1, this.#keys.session(session), id, this.#keys.instance(''))) as string[];
    } catch (error) {
      this.#log.warn({ err: redactUrl((error as Error).message), session }, 'cluster: could not look up a WHEP/WHIP resource');
      throw new RelayError('cluster-unavailable', "the cluster's shared state (Redis) did not answer, so this daemon cannot tell which instance holds this session; retry in a few seconds");
    }
    if (reply.length < 3) return undefined;
    const kind = reply[2];
    return { instance: String(reply[0]), alive: Number(reply[1]) === 1, kind: kind === 'whep' || kind === 'whip' ? kind : undefined };
  }

  forward(instance: string, request: ResourceRequest): Promise<ResourceReply> {
    return this.#forwarder.forward(instance, request);
  }

  serveResources(answer: (request: ResourceRequest) => ResourceReply): void {
    this.#answerResource = answer;
  }

  get resources(): ResourceLink {
    return this;
  }

  /** Another instance took a request for one of our resources: answer it as if it had come here. */
  #answer(ask: ResourceAsk): void {
    let reply: ResourceReply;
    try {
      // No WHEP on this instance (`whep: false`): it holds no resources.
      reply = this.#answerResource?.(ask.q) ?? { status: 404, headers: {}, body: { error: `no such ${ask.q.kind.toUpperCase()} session` } };
    } catch (error) {
      this.#log.warn({ err: (error as Error).message, peer: ask.q.id }, 'cluster: a forwarded WHEP/WHIP request failed here');
      reply = { status: 500, headers: {}, body: { error: 'the instance that holds this session failed to handle the request' } };
    }
    this.#publish(this.#keys.channel(ask.from), { k: 'answer', c: ask.c, a: reply });
  }

  // ---- heartbeat, sweep, recovery ----

  #summary(): InstanceSummary {
    const registry = this.#registry;
    return { sessions: registry?.sessionNames() ?? [], publishers: registry?.peerCount('publisher') ?? 0, viewers: registry?.peerCount('viewer') ?? 0 };
  }

  /** Refreshes this instance's key and the TTLs of what it holds; a lost key means Redis lost everything. */
  async #heartbeat(): Promise<void> {
    const registry = this.#registry;
    const pipeline = this.#redis.pipeline();
    pipeline.set(this.#keys.instance(this.id), JSON.stringify(this.#summary()), 'PX', this.#ttlMs, 'GET');
    for (const name of registry?.sessionNames() ?? []) pipeline.pexpire(this.#keys.session(name), this.#ttlMs);
    for (const key of new Set(this.#tokenKeys.values())) pipeline.pexpire(key, this.#ttlMs);
    const results = await pipeline.exec();
    const previous = results?.[0];
    if (previous && !previous[0] && previous[1] === null && registry && registry.peerCount() > 0) {
      // Our key was gone: Redis restarted (or we stalled past the TTL). Put everything back.
      this.#log.warn({ instance: this.id }, 'cluster: Redis lost this instance\'s presence; re-registering');
      this.#health.restartGrace();
      await this.#restore();
    }
  }

  async #tick(): Promise<void> {
    if (this.#closed || this.#stopping || !this.#health.up) return;
    try {
      await this.#heartbeat();
      if (this.#unsent.size) await this.#flushUnsent();
      if (this.#health.inGrace()) {
        this.#reconcileDue = true;
        return;
      }
      if (this.#reconcileDue) {
        this.#reconcileDue = false;
        await this.#reconcile();
      }
      await this.#sweep();
    } catch (error) {
      this.#log.debug({ err: (error as Error).message }, 'cluster: heartbeat failed');
    }
  }

  /** Instances whose key expired: their participants leave (locals hear peer-left) and their entries go. */
  async #sweep(): Promise<void> {
    const registry = this.#registry;
    if (!registry) return;
    const byInstance = registry.remoteByInstance();
    if (byInstance.size === 0) return;
    const instances = [...byInstance.keys()];
    const pipeline = this.#redis.pipeline();
    for (const instance of instances) pipeline.exists(this.#keys.instance(instance));
    const results = await pipeline.exec();
    if (!this.#health.maySweep()) return;
    for (const [n, instance] of instances.entries()) {
      const [error, exists] = results?.[n] ?? [new Error('no reply'), 1];
      if (error || exists !== 0) continue;
      // A stopping instance's participants get a TTL to resume elsewhere (their peers stay up).
      if ((this.#graceUntil.get(instance) ?? 0) > Date.now()) continue;
      this.#graceUntil.delete(instance);
      const gone = byInstance.get(instance)!;
      this.#log.info({ instance, participants: gone.length }, 'cluster: an instance stopped heartbeating; its participants are gone');
      for (const p of gone) {
        registry.leave(p);
        this.#track(this.#remove(p, instance, undefined, false));
      }
    }
  }

  /** After Redis came back: put this instance's participants back where nobody else took them. */
  async #restore(): Promise<void> {
    const registry = this.#registry;
    if (!registry) return;
    const pipeline = this.#redis.pipeline();
    const restored = [...registry.all()];
    for (const p of restored) {
      const sessionKey = this.#keys.session(p.session);
      pipeline.eval(RESTORE_LUA, 2, sessionKey, this.#tokenKeys.get(p) ?? sessionKey, p.id, this.id, JSON.stringify(this.#entry(p)), String(this.#ttlMs), this.#keys.instance(''));
    }
    const results = (await pipeline.exec()) ?? [];
    // The others may have dropped them meanwhile (missed events, their reconcile): tell them again; a
    // join they already mirror is no news to them.
    for (const [n, p] of restored.entries()) {
      const [error, reply] = results[n] ?? [];
      if (error || !Array.isArray(reply)) continue;
      // Another live instance owns the id: its client resumed there while we were cut off.
      if (reply.length === 0) this.#displace(p.session, p.id, 'its id is owned by another live instance');
      if (reply[0] !== 'ok') continue;
      this.joined(p, this.#remotes(p.session, pairs((reply as string[]).slice(1)), p.id));
    }
    this.#reconcileDue = true;
  }

  /** Leaves that happened while Redis was away. */
  async #flushUnsent(): Promise<void> {
    const registry = this.#registry;
    for (const p of [...this.#unsent]) {
      this.#unsent.delete(p);
      if (registry?.local(p.id) === p) continue; // it is back
      await this.#remove(p, this.id, undefined, true);
    }
  }

  /**
   * Brings each mirrored session to what Redis holds (joins and leaves missed while it was away). A
   * remote participant Redis does not hold is kept while its instance has not re-registered (no key:
   * the sweep decides about it, after its own grace); its instance announces it when it restores it.
   */
  async #reconcile(): Promise<void> {
    const registry = this.#registry;
    if (!registry) return;
    for (const name of registry.sessionNames()) {
      const flat = (await this.#redis.eval(LIVE_LUA, 1, this.#keys.session(name), this.#keys.instance(''))) as string[];
      const remote = this.#remotes(name, pairs(flat));
      const held = new Set(remote.map((p) => p.id));
      for (const [instance, participants] of registry.remoteByInstance()) {
        const missing = participants.filter((p) => p.session === name && !held.has(p.id));
        if (missing.length && (await this.#redis.exists(this.#keys.instance(instance))) === 0) remote.push(...missing);
      }
      registry.reconcile(name, remote);
    }
  }

  #onReady(): void {
    const returning = this.#health.markUp();
    if (!returning || this.#closed) return;
    this.#log.warn({ redis: this.#logUrl, instance: this.id }, 'cluster: Redis is back; re-registering this instance\'s participants');
    this.#track(
      (async () => {
        // Our participants first, then our key: an instance that sees the key sees them too.
        await this.#restore();
        await this.#heartbeat();
        await this.#flushUnsent();
      })().catch((error: Error) => this.#log.warn({ err: error.message }, 'cluster: re-registration failed; retried at the next heartbeat')),
    );
  }

  #track(work: Promise<unknown>): void {
    this.#pending.add(work);
    void work.finally(() => this.#pending.delete(work));
  }

  // ---- metrics ----

  /** Counts over every live instance (each one's summary as of its last heartbeat). */
  async counts(): Promise<ClusterCounts> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await this.#redis.scan(cursor, 'MATCH', this.#keys.instances, 'COUNT', 200);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    return sumSummaries(keys.length ? await this.#redis.mget(keys) : []);
  }

  async renderMetrics(): Promise<string> {
    let counts: ClusterCounts | undefined;
    if (this.#health.up) counts = await this.counts().catch(() => undefined);
    return renderClusterMetrics(this.#health.up, counts);
  }

  /**
   * A graceful stop, before the sockets are told `bye` (their clients reconnect to another instance):
   * this instance's key goes at once, so its participants' ids are free to resume elsewhere (their
   * peer connections stay up: the other side hears `peer-joined {resumed}`, not `peer-left`), and the
   * session's other instances are asked to wait one TTL and a heartbeat before sweeping those that do
   * not come back. Idempotent.
   */
  stopping(): void {
    if (this.#stopping || this.#closed) return;
    this.#stopping = true;
    const registry = this.#registry;
    const instances = new Set(registry ? registry.remoteByInstance().keys() : []);
    this.#track(
      (async () => {
        if (!this.#health.up) return;
        // The notice first (one connection keeps the order): an instance never sees the key gone without it.
        for (const instance of instances) this.#publish(this.#keys.channel(instance), { k: 'stopping', i: this.id });
        await this.#redis.del(this.#keys.instance(this.id));
      })().catch((error: Error) => this.#log.debug({ err: error.message }, 'cluster: could not announce the stop')),
    );
  }

  /** Stops heartbeating and disconnects (after stopping(); alone it is a stop without the handover). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.stopping();
    this.#closed = true;
    clearInterval(this.#timer);
    this.#forwarder.close();
    this.#prober.close();
    await Promise.allSettled([...this.#pending]);
    this.#redis.disconnect();
    this.#sub.disconnect();
  }
}
