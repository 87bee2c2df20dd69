// The signaling names the root package exported before the subpaths existed, kept for one release.
// Each loads its module on first use and warns once (DeprecationWarning WEBRTCBIN_DEP_ROOT_SIGNALING)
// with the import to use instead, so `import 'node-webrtcbin'` itself loads no Fastify, ws or TypeBox.
// Modules that load none of them (tokens, ICE config, log redaction, SignalingError) are imported here
// as they are; the rest (the client, publish(), the protocol) on first touch. Async entry points use
// import(); the synchronous ones use require(), which loads an ES module in Node ≥ 20.19 and ≥ 22.12.
import { createRequire } from 'node:module';
import { WebRtcBinError } from './errors.js';
import { SignalingError as SignalingErrorClass } from './signaling/signaling-error.js';
import * as token from './signaling/daemon/token.js';
import * as iceConfig from './signaling/daemon/ice-config.js';
import { redactingLoggerOptions as redactingLoggerOptionsFn } from './signaling/daemon/redact.js';
import { closeUnansweredUpgrades as closeUnansweredUpgradesFn } from './signaling/daemon/upgrades.js';
import type * as ClientModule from './client.js';
import type * as ServerModule from './signaling/daemon/server.js';
import type * as ProtocolModule from './signaling/protocol/messages.js';

type Subpath = 'node-webrtcbin/client' | 'node-webrtcbin/signaling';
export const DEPRECATION_CODE = 'WEBRTCBIN_DEP_ROOT_SIGNALING';

const warned = new Set<string>();
function warn(name: string, subpath: Subpath): void {
  if (warned.has(name)) return;
  warned.add(name);
  process.emitWarning(
    `${name} from 'node-webrtcbin' is deprecated and leaves the root package in the next release: import { ${name} } from '${subpath}' (the root no longer loads the signaling stack).`,
    { type: 'DeprecationWarning', code: DEPRECATION_CODE },
  );
}

const requireModule = createRequire(import.meta.url);
function loadNow<T>(file: string, name: string, subpath: Subpath): T {
  try {
    return requireModule(file) as T;
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_REQUIRE_ESM') throw error;
    throw new WebRtcBinError(
      `${name} from 'node-webrtcbin' loads its module on first use, which needs Node ≥ 20.19 or ≥ 22.12 (require of an ES module); import { ${name} } from '${subpath}' instead.`,
      'ERR_REQUIRE_ESM',
      { cause: error },
    );
  }
}

type AnyFunction = (...args: never[]) => unknown;
type AnyClass = abstract new (...args: never[]) => object;

/** A function that warns, then calls the real one (resolved on first call). */
function deprecatedFunction<F extends AnyFunction>(name: string, subpath: Subpath, resolve: () => F): F {
  const named = {
    [name](...args: Parameters<F>): ReturnType<F> {
      warn(name, subpath);
      return (resolve() as (...a: Parameters<F>) => ReturnType<F>)(...args);
    },
  };
  return named[name] as unknown as F;
}

/** An async function that warns, import()s its module, then calls the real one. */
function deprecatedAsync<F extends (...args: never[]) => Promise<unknown>>(name: string, subpath: Subpath, resolve: () => Promise<F>): F {
  const named = {
    async [name](...args: Parameters<F>): Promise<Awaited<ReturnType<F>>> {
      warn(name, subpath);
      return (await resolve())(...args) as Awaited<ReturnType<F>>;
    },
  };
  return named[name] as unknown as F;
}

/**
 * A stand-in for a class: `new`, `instanceof`, `extends` and statics all reach the real class, resolved
 * (and the warning given) on first touch. The target is a plain function because its `prototype` is
 * writable, so the proxy may answer with the real class's prototype.
 */
function deprecatedClass<C extends AnyClass>(name: string, subpath: Subpath, resolve: () => C): C {
  const real = (): C => {
    warn(name, subpath);
    return resolve();
  };
  const stand = function () {} as unknown as C;
  Object.defineProperty(stand, 'name', { value: name });
  const proxy: C = new Proxy(stand, {
    construct: (_target, args, newTarget) => {
      const cls = real();
      return Reflect.construct(cls as unknown as new (...a: unknown[]) => object, args, newTarget === proxy ? cls : newTarget);
    },
    apply: () => {
      throw new TypeError(`Class constructor ${name} cannot be invoked without 'new'`);
    },
    get: (_target, key) => {
      const cls = real();
      return Reflect.get(cls, key, cls);
    },
    has: (_target, key) => Reflect.has(real(), key),
    set: (_target, key, value) => Reflect.set(real(), key, value),
  });
  return proxy;
}

/** A stand-in for a module namespace (read-only), resolved on first touch. */
function deprecatedNamespace<T extends object>(name: string, subpath: Subpath, resolve: () => T): T {
  const real = (): T => {
    warn(name, subpath);
    return resolve();
  };
  return new Proxy({} as T, {
    get: (_target, key) => Reflect.get(real(), key),
    has: (_target, key) => Reflect.has(real(), key),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor: (_target, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
      // A namespace's properties are not configurable; a proxy over an empty target may not say so.
      return descriptor && { ...descriptor, configurable: true };
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  });
}

const CLIENT: Subpath = 'node-webrtcbin/client';
const SIGNALING: Subpath = 'node-webrtcbin/signaling';
const client = (name: string) => loadNow<typeof ClientModule>('./client.js', name, CLIENT);
const server = () => import('./signaling/daemon/server.js') as Promise<typeof ServerModule>;

// ---- node-webrtcbin/client ----
/** @deprecated import { publish } from 'node-webrtcbin/client' */
export const publish = deprecatedFunction('publish', CLIENT, () => client('publish').publish);
/** @deprecated import { receive } from 'node-webrtcbin/client' */
export const receive = deprecatedFunction('receive', CLIENT, () => client('receive').receive);
/** @deprecated import { Publisher } from 'node-webrtcbin/client' */
export type Publisher = ClientModule.Publisher;
export const Publisher = deprecatedClass('Publisher', CLIENT, () => client('Publisher').Publisher);
/** @deprecated import { SignalingClient } from 'node-webrtcbin/client' */
export type SignalingClient = ClientModule.SignalingClient;
export const SignalingClient = deprecatedClass('SignalingClient', CLIENT, () => client('SignalingClient').SignalingClient);
/** @deprecated import { SignalingError } from 'node-webrtcbin/client' */
export type SignalingError = SignalingErrorClass;
export const SignalingError = deprecatedClass('SignalingError', CLIENT, () => SignalingErrorClass);

// ---- node-webrtcbin/signaling ----
/** @deprecated import { signaling } from 'node-webrtcbin/signaling' */
export const signaling = deprecatedAsync('signaling', SIGNALING, async () => (await server()).signaling);
// The real plugin skips Fastify's encapsulation (it decorates the app it is registered in and mounts its
// routes under `prefix` itself): its stand-in must too.
(signaling as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
/** @deprecated import { createSignalingServer } from 'node-webrtcbin/signaling' */
export const createSignalingServer = deprecatedAsync('createSignalingServer', SIGNALING, async () => (await server()).createSignalingServer);
/** @deprecated import { redactingLoggerOptions } from 'node-webrtcbin/signaling' */
export const redactingLoggerOptions = deprecatedFunction('redactingLoggerOptions', SIGNALING, () => redactingLoggerOptionsFn);
/** @deprecated import { closeUnansweredUpgrades } from 'node-webrtcbin/signaling' */
export const closeUnansweredUpgrades = deprecatedFunction('closeUnansweredUpgrades', SIGNALING, () => closeUnansweredUpgradesFn);
/** @deprecated import { mintToken } from 'node-webrtcbin/signaling' */
export const mintToken = deprecatedFunction('mintToken', SIGNALING, () => token.mintToken);
/** @deprecated import { verifyToken } from 'node-webrtcbin/signaling' */
export const verifyToken = deprecatedFunction('verifyToken', SIGNALING, () => token.verifyToken);
/** @deprecated import { TokenError } from 'node-webrtcbin/signaling' */
export type TokenError = token.TokenError;
export const TokenError = deprecatedClass('TokenError', SIGNALING, () => token.TokenError);
/** @deprecated import { restCredentials } from 'node-webrtcbin/signaling' */
export const restCredentials = deprecatedFunction('restCredentials', SIGNALING, () => iceConfig.restCredentials);
/** @deprecated import { iceServersFor } from 'node-webrtcbin/signaling' */
export const iceServersFor = deprecatedFunction('iceServersFor', SIGNALING, () => iceConfig.iceServersFor);
/** @deprecated import { protocol } from 'node-webrtcbin/signaling' */
export const protocol = deprecatedNamespace('protocol', SIGNALING, () => loadNow<typeof ProtocolModule>('./signaling/protocol/messages.js', 'protocol', SIGNALING));
// The protocol's types, as `protocol.ServerMessage` etc. kept working (a type-only namespace loads nothing).
export declare namespace protocol {
  export type Role = ProtocolModule.Role;
  export type CandidateInit = ProtocolModule.CandidateInit;
  export type IceServer = ProtocolModule.IceServer;
  export type ClientMessage = ProtocolModule.ClientMessage;
  export type ServerMessage = ProtocolModule.ServerMessage;
  export type ByeReason = ProtocolModule.ByeReason;
  export type ErrorCode = ProtocolModule.ErrorCode;
}
