// The signaling daemon as a Fastify plugin: `app.register(signaling, options)` inside an existing
// controller, or `createSignalingServer(options)` for the standalone `webrtcbin signal`.
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest } from 'fastify';
import { InvalidArgumentError } from '../../errors.js';
import fp from 'fastify-plugin';
import websocket from '@fastify/websocket';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { handleConnection, type ConnectionLimits } from './connection.js';
import { WriteBatcher } from './write-batch.js';
import { iceServersFor, type IceConfig } from './ice-config.js';
import { Metrics } from './metrics.js';
import { SessionRegistry } from './sessions.js';
import { ResumeKeys } from './resume.js';
import { TOKEN_ROLES, TokenError, verifyToken, type TokenClaims, type TokenRole } from './token.js';
import { registerWhep } from './whep.js';
import { ConcurrencyCap } from './limits.js';
import { redactingLoggerOptions } from './redact.js';
import { checkFrameAncestors, checkViewerJanus, pageHeaders } from './page-headers.js';
import { closeUnansweredUpgrades } from './upgrades.js';
import type { Cluster, RedisOption } from '../cluster/cluster.js';

export interface SignalingOptions {
  /** HMAC secret for tokens (≥ 16 characters). Required unless `insecure`. */
  secret?: string;
  /** Local development only: no tokens are checked. Logged loudly. */
  insecure?: boolean;
  ice?: IceConfig;
  /** Browser origins allowed to open the WebSocket (no Origin header, e.g. a VM agent, is allowed). Empty: any. */
  allowedOrigins?: string[];
  maxMessageBytes?: number;
  rate?: { perSecond: number; burst: number };
  pingIntervalMs?: number;
  /** WebSockets open at once from one IP address (default 64; 0 = no cap). Over it: HTTP 429 before the upgrade. */
  maxSocketsPerIp?: number;
  /** A WebSocket that has not sent `join` within this time is closed with `join-timeout` (default 10 000 ms; 0 = never). */
  joinTimeoutMs?: number;
  /** Participants (WebSocket and WHEP) joined with one token at once (default 32; 0 = no cap). Over it: `token-in-use`. */
  maxJoinsPerToken?: number;
  /**
   * Serve the bundled viewer page (when it has been built): `true` at the plugin's root (`<prefix>/`;
   * `<prefix>` redirects there), a name such as `'/watch'` at `<prefix>/watch` instead; absent or
   * `false`: no page, so the app keeps its own `/` (`createSignalingServer` defaults to `true`). The page
   * finds the WebSocket (`v1/ws`) and its script next to itself, so it works under any prefix.
   */
  viewer?: boolean | string;
  /**
   * Who may embed the viewer page in a frame (CSP `frame-ancestors`): default `["'self'"]` (plus
   * X-Frame-Options: SAMEORIGIN); a controller that embeds the page on another origin adds it here,
   * e.g. `["'self'", 'https://controller.example.org']`; `["'none'"]` forbids framing.
   */
  frameAncestors?: string[];
  /**
   * Janus WebSocket URLs (`ws://janus.internal:8188`) the viewer page may watch through (its
   * `?janus=…&room=…` mode, docs/sfu.md): added to the page's CSP connect-src. Default none: the page's
   * Janus mode is blocked by the browser until the operator names the Janus it trusts.
   */
  viewerJanus?: string[];
  whep?: boolean;
  /**
   * Run as one of many daemon instances sharing their sessions through Redis (docs/protocol.md,
   * "Cluster"): `redis://[user:password@]host:port`, or `{url, keyPrefix, heartbeatMs, ttlMs, …}`.
   * Absent: one process holds every session in memory (ioredis is never loaded).
   */
  redis?: RedisOption;
  /** More Prometheus text appended to /metrics (e.g. a publisher in the same process: its viewers' congestion estimates). */
  extraMetrics?: () => string;
}

const packageRoot = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  return dir;
})();

/** `viewer` option → the page's route under the prefix ('' = the root), or undefined for none. */
function viewerRoute(viewer: boolean | string | undefined): string | undefined {
  if (viewer === undefined || viewer === false) return undefined;
  if (viewer === true) return '';
  // One path segment: the page resolves `v1/ws` and `./viewer.js` against its own URL, so it must sit
  // in the plugin's root folder.
  if (typeof viewer !== 'string' || !/^\/?[A-Za-z0-9_.~-]+$/.test(viewer)) {
    throw new InvalidArgumentError(`signaling: viewer ${JSON.stringify(viewer)} is not true, false or one path segment such as '/watch'`);
  }
  return viewer.startsWith('/') ? viewer : `/${viewer}`;
}

/** Route config set on every route of the plugin: a host's auth hook lets them pass (they check tokens themselves). */
export interface SignalingRouteConfig {
  signaling?: true;
}

type RoutesOptions = SignalingOptions & { registry: SessionRegistry; shared: boolean; cluster: Cluster | undefined };

/** Graceful shutdown: everyone hears why before the sockets close. */
function sayBye(registry: SessionRegistry): void {
  // In a cluster, first free their ids for the other instances (they reconnect there and resume).
  registry.cluster?.stopping();
  for (const p of [...registry.all()]) {
    p.send({ type: 'bye', reason: 'shutting-down' });
    p.close(1001, 'shutting-down');
  }
}

/** The registries served by a WebSocket server this plugin registered: its preClose says bye to each. */
const registriesOf = new WeakMap<object, Set<SessionRegistry>>();

/**
 * The plugin as the host app sees it: it decorates the app it is registered in with `signalingRegistry`
 * (fastify-plugin's skip-override, so what its types declare is there) and mounts its routes in an
 * encapsulated child under the `prefix` given at registration.
 */
export const signaling: FastifyPluginAsync<SignalingOptions> = fp(
  async (app: FastifyInstance, options: SignalingOptions) => {
    if (!options.insecure && (!options.secret || options.secret.length < 16)) {
      throw new Error('signaling needs a secret of at least 16 characters (--secret or WEBRTCBIN_SECRET); --insecure is for local development only');
    }
    if (Object.hasOwn(app, 'signalingRegistry')) {
      throw new InvalidArgumentError('signaling is already registered in this Fastify context: register a second daemon inside its own plugin (app.register(async (child) => { await child.register(signaling, …) }))');
    }
    viewerRoute(options.viewer);
    const { prefix, ...rest } = options as SignalingOptions & { prefix?: string };
    const ice = options.ice ?? {};
    const registry = new SessionRegistry((publisher) => iceServersFor(ice, publisher.id));
    // One @fastify/websocket per app: each listens to every upgrade, so a second would take each twice.
    // An app that uses it registers it before this plugin and we share it; otherwise we register it
    // here, in the app's context (not our child), so a second mount shares ours, and an app that
    // registers it later gets Fastify's clear FST_ERR_DEC_ALREADY_PRESENT at startup.
    let shared = false;
    if (app.hasDecorator('websocketServer')) shared = !registriesOf.has(app.websocketServer);
    else {
      await app.register(websocket, {
        // ws refuses anything far larger before buffering it; our own check answers with an error first.
        options: { maxPayload: (options.maxMessageBytes ?? 65536) * 2 + 1024 },
        preClose: async function (this: FastifyInstance) {
          for (const served of registriesOf.get(this.websocketServer) ?? []) sayBye(served);
          for (const client of this.websocketServer.clients) client.close(1001, 'shutting-down');
          await new Promise<void>((resolve) => this.websocketServer.close(() => resolve()));
        },
      });
      registriesOf.set(app.websocketServer, new Set());
    }
    registriesOf.get(app.websocketServer)?.add(registry);
    app.decorate('signalingRegistry', registry);
    let cluster: Cluster | undefined;
    if (options.redis !== undefined) {
      // Loaded here only: a single-process daemon never imports ioredis.
      const { Cluster } = await import('../cluster/cluster.js');
      cluster = await Cluster.connect(options.redis, app.log);
      cluster.attach(registry);
      // After the sockets have been told bye (preClose, which also hands them over: Cluster.stopping).
      app.addHook('onClose', async () => cluster?.close());
    }
    await app.register(signalingRoutes, { ...rest, registry, shared, cluster, ...(prefix ? { prefix } : {}) });
  },
  { fastify: '5.x', name: 'node-webrtcbin-signaling' },
);

const signalingRoutes: FastifyPluginAsync<RoutesOptions> = async (app, options) => {
  const { registry } = options;
  const secret = options.insecure ? undefined : options.secret;
  if (options.insecure) {
    app.log.warn('INSECURE MODE: tokens are not checked; anyone who can reach this port can publish or watch. Local development only.');
  }
  const ice = options.ice ?? {};
  const pageRoute = viewerRoute(options.viewer);
  // Tagged so a host's own auth hook can let them through: `request.routeOptions.config.signaling`.
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), signaling: true } as typeof route.config;
  });
  const metrics = new Metrics();
  const limits: ConnectionLimits = {
    maxMessageBytes: options.maxMessageBytes ?? 65536,
    rate: options.rate ?? { perSecond: 50, burst: 100 },
    pingIntervalMs: options.pingIntervalMs ?? 15_000,
    joinTimeoutMs: options.joinTimeoutMs ?? 10_000,
  };
  const origins = new Set(options.allowedOrigins ?? []);
  const socketsPerIp = new ConcurrencyCap(options.maxSocketsPerIp ?? 64);
  const tokens = new ConcurrencyCap(options.maxJoinsPerToken ?? 32);
  const resume = new ResumeKeys(secret);
  const writes = new WriteBatcher();
  // The app's own WebSocket server closes by the app's preClose, which Fastify runs before ours (parents
  // first): a default one has closed every socket by then, so participants see the close, not the bye.
  if (options.shared) app.addHook('preClose', async () => sayBye(registry));

  app.get('/v1/ws', {
    websocket: true,
    preValidation: async (request, reply) => {
      const origin = request.headers.origin;
      if (origin && origins.size > 0 && !origins.has(origin)) {
        metrics.error('forbidden-origin');
        return reply.code(403).send({ error: `origin ${origin} is not allowed` });
      }
      // Counted per TCP connection from here until it closes (upgraded or not).
      const release = socketsPerIp.acquire(request.ip);
      if (!release) {
        metrics.error('too-many-sockets');
        request.log.info({ remote: request.ip, max: socketsPerIp.max }, 'websocket refused: too many sockets from this address');
        return reply.code(429).header('retry-after', '5').send({ error: `at most ${socketsPerIp.max} WebSockets per address` });
      }
      request.raw.socket.once('close', release);
    },
  }, (socket, request) => handleConnection(socket, { registry, metrics, limits, ice, secret, log: app.log, tokens, resume, writes }, request.ip, request.raw.socket));

  const bearer = (header: string | undefined) => (header?.startsWith('Bearer ') ? header.slice(7) : undefined);

  app.get('/v1/ice-servers', async (request, reply) => {
    let claims: TokenClaims | undefined;
    if (secret !== undefined) {
      const token = bearer(request.headers.authorization);
      try {
        const body = token ? JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) : {};
        claims = verifyToken(token, { secret, session: String(body.s ?? ''), role: TOKEN_ROLES.includes(body.r) ? (body.r as TokenRole) : 'viewer' });
      } catch (error) {
        return reply.code(401).header('www-authenticate', 'Bearer').send({ error: error instanceof TokenError ? error.message : 'unauthorized' });
      }
    }
    return { iceServers: iceServersFor(ice, claims ? `${claims.s}-${claims.r}` : 'anonymous') };
  });

  const { cluster } = options;
  // In a cluster, 503 while Redis is away: this instance refuses new joins then (established sessions go on).
  app.get('/healthz', async (_request, reply) => {
    const local = { sessions: registry.sessionCount, peers: registry.peerCount() };
    if (!cluster) return { ok: true, ...local };
    const ok = cluster.redisUp;
    return reply.code(ok ? 200 : 503).send({ ok, ...local, ...cluster.healthFields() });
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type('text/plain; version=0.0.4').send(metrics.render(registry, tokens) + (cluster ? await cluster.renderMetrics() : '') + (options.extraMetrics?.() ?? '')));

  if (options.whep !== false) registerWhep(app, { registry, secret, tokens, metrics, ice });

  const frameAncestors = checkFrameAncestors(options.frameAncestors ?? ["'self'"]);
  const viewerJanus = checkViewerJanus(options.viewerJanus ?? []);
  const viewerDir = path.join(packageRoot, 'dist', 'viewer');
  if (pageRoute !== undefined && existsSync(path.join(viewerDir, 'index.html'))) {
    const page = readFileSync(path.join(viewerDir, 'index.html'));
    const script = readFileSync(path.join(viewerDir, 'viewer.js'));
    const headers = pageHeaders(page.toString('utf8'), frameAncestors, viewerJanus);
    const servePage = async (request: FastifyRequest, reply: FastifyReply) =>
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').headers(headers.page(request.headers.host)).send(page);
    if (pageRoute !== '') app.get(pageRoute, servePage);
    else {
      // At `<prefix>/` only: from `<prefix>` (no slash) the page's relative URLs would miss the prefix.
      app.get('/', { prefixTrailingSlash: 'slash' }, servePage);
      if (app.prefix) {
        app.get('', { prefixTrailingSlash: 'no-slash' }, async (request, reply) => {
          const query = request.url.indexOf('?');
          return reply.redirect(`${app.prefix}/${query >= 0 ? request.url.slice(query) : ''}`, 308);
        });
      }
    }
    app.get('/viewer.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').headers(headers.asset).send(script));
  }

};

declare module 'fastify' {
  interface FastifyInstance {
    signalingRegistry: SessionRegistry;
  }
  interface FastifyContextConfig extends SignalingRouteConfig {}
}

export { redactUrl, redactingLoggerOptions } from './redact.js';
export type { ClusterOptions, RedisOption } from '../cluster/cluster.js';

export { closeUnansweredUpgrades };

export interface StandaloneOptions extends SignalingOptions {
  logLevel?: string;
  /** Where log lines go (default stdout); e.g. a stream that collects them. */
  logStream?: { write(line: string): unknown };
  /**
   * Slow-loris guards of the HTTP server (a plugin host sets its own): a request whose headers (the
   * WebSocket upgrade included) are not complete within `headersTimeoutMs` (default 10 000) gets 408
   * and is closed; a whole request is bounded by `requestTimeoutMs` (default 30 000); a connection
   * idle for `connectionTimeoutMs` (default 60 000) is closed. Upgraded WebSockets are not affected
   * (they have pings and the join timeout).
   */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  connectionTimeoutMs?: number;
}

export async function createSignalingServer(options: StandaloneOptions): Promise<FastifyInstance> {
  const { logLevel, logStream, headersTimeoutMs = 10_000, requestTimeoutMs = 30_000, connectionTimeoutMs = 60_000, ...pluginOptions } = options;
  const app = Fastify({
    // Node checks header and request deadlines on an interval: make it fine enough for the deadline.
    http: { headersTimeout: headersTimeoutMs, connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(headersTimeoutMs / 4))) },
    requestTimeout: requestTimeoutMs,
    connectionTimeout: connectionTimeoutMs,
    logger: {
      level: logLevel ?? 'info',
      ...(logStream ? { stream: logStream } : {}),
      // Fastify logs raw URLs in lines no serializer sees (404, WebSocket without a route): scrub them all.
      ...redactingLoggerOptions(),
    },
    bodyLimit: 65536,
    forceCloseConnections: true,
  });
  closeUnansweredUpgrades(app);
  await app.register(signaling, { viewer: true, ...pluginOptions });
  return app;
}
