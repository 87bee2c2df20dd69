// lib/sfu/: audiences beyond one VM through an SFU. The publisher pushes its stream once into a Janus
// VideoRoom (janus-relay.ts), and any number of viewers subscribe to Janus instead of the VM; relay.ts is
// the standalone form (its own encoder, the `webrtcbin relay` command). This file: the part of Meetecho's
// janode client we use, typed, loaded only when a relay starts (the root import stays free of it).
import type { EventEmitter } from 'node:events';
import { JanusRelayError } from './relay-error.js';

/** A Janus API error as janode rejects it: `_code` is Janus's (e.g. 433 unauthorized, 426 no such room). */
export interface JanusApiError extends Error {
  _code?: number;
}

export interface Jsep {
  type: 'offer' | 'answer';
  sdp: string;
}

export interface VideoRoomHandle extends EventEmitter {
  exists(params: { room: number | string }): Promise<{ room: number | string; exists: boolean }>;
  create(params: Record<string, unknown>): Promise<{ room: number | string }>;
  destroy(params: { room: number | string; secret?: string }): Promise<unknown>;
  joinPublisher(params: { room: number | string; display?: string; pin?: string; token?: string }): Promise<{ feed: number | string; publishers?: unknown[] }>;
  publish(params: { audio?: boolean; video?: boolean; data?: boolean; bitrate?: number; jsep: Jsep }): Promise<{ jsep?: Jsep }>;
  joinSubscriber(params: { room: number | string; feed: number | string; pin?: string }): Promise<{ jsep?: Jsep; feed: number | string }>;
  start(params: { jsep: Jsep }): Promise<unknown>;
  configure(params: { keyframe?: boolean; bitrate?: number }): Promise<unknown>;
  listParticipants(params: { room: number | string }): Promise<{ participants: { feed: number | string; publisher: boolean; display?: string }[] }>;
  trickle(candidate: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null } | null): Promise<void>;
  leave(): Promise<unknown>;
  hangup(): Promise<unknown>;
  detach(): Promise<void>;
}

export interface JanusSession extends EventEmitter {
  attach(plugin: unknown): Promise<VideoRoomHandle>;
  destroy(): Promise<void>;
}

export interface JanusConnection extends EventEmitter {
  create(keepaliveSeconds?: number): Promise<JanusSession>;
  close(): Promise<void>;
}

export interface Janode {
  connect(config: { address: { url: string; apisecret?: string }; retry_time_secs?: number; max_retries?: number }): Promise<JanusConnection>;
  EVENT: Record<
    | 'CONNECTION_CLOSED'
    | 'CONNECTION_ERROR'
    | 'SESSION_DESTROYED'
    | 'HANDLE_DETACHED'
    | 'HANDLE_HANGUP'
    | 'HANDLE_ICE_FAILED'
    | 'HANDLE_WEBRTCUP'
    | 'HANDLE_MEDIA'
    | 'HANDLE_TRICKLE',
    string
  >;
  VideoRoom: unknown;
  /** The VideoRoom plugin's events, e.g. PUB_PEER_JOINED. */
  VIDEOROOM_EVENT: Record<string, string>;
}

let loaded: Promise<Janode> | undefined;

/** janode, its VideoRoom plugin and its logger set to silent (we log ourselves, and never its requests: they carry pins and secrets). */
export function loadJanode(): Promise<Janode> {
  loaded ??= (async () => {
    let core: { default: { connect: Janode['connect']; EVENT: Janode['EVENT']; Logger: { setLevel(level: string): void } } };
    let plugin: { default: { Handle: unknown; EVENT: Record<string, string> } };
    try {
      core = (await import('janode' as string)) as typeof core;
      plugin = (await import('janode/plugins/videoroom' as string)) as typeof plugin;
    } catch (error) {
      loaded = undefined;
      throw new JanusRelayError('missing-client', `the Janus relay needs the npm package janode, which did not load (${(error as Error).message}): npm install janode`, { cause: error });
    }
    core.default.Logger.setLevel('none');
    return { connect: core.default.connect, EVENT: core.default.EVENT, VideoRoom: plugin.default, VIDEOROOM_EVENT: plugin.default.EVENT };
  })();
  return loaded;
}
