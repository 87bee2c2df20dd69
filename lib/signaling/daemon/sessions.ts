// Who is in which session, and relaying between them. Knows nothing of sockets: a participant is
// anything with send() and close() (a WebSocket, or a WHEP viewer held by an HTTP exchange).
import { randomBytes } from 'node:crypto';
import { WebRtcBinError } from '../../errors.js';
import type { ErrorCode, IceServer, Role, ServerMessage } from '../protocol/messages.js';
import type { ResourceKind, ResourceLink } from './resource-request.js';

export interface Participant {
  readonly id: string;
  readonly role: Role;
  readonly session: string;
  /** The viewer sends the offer itself (WHEP). */
  readonly offers: boolean;
  /** A viewer: the video codecs it decodes (`join.codecs`), passed to the publisher in `peer-joined`. */
  readonly codecs?: string[];
  /** A viewer that asked for the input data channel only (`join.media: 'data'`), passed on in `peer-joined`. */
  readonly media?: 'data';
  /** The viewer may send input (token claim `ctl`). */
  readonly control?: boolean;
  /** It reclaimed a previous id (join.resume): the others' state about it may still hold. */
  readonly resumed?: boolean;
  /** Held by another daemon instance (lib/signaling/cluster/): this one's send() crosses the bus. */
  readonly instance?: string;
  /** A WHEP or WHIP resource (its id is the resource URL's last segment). */
  readonly resource?: ResourceKind;
  send(message: ServerMessage): void;
  close(code: number, reason: string): void;
}

/** What the registry needs of the cluster layer (lib/signaling/cluster/cluster.ts), when there is one. */
export interface ClusterLink {
  /** Records `p` in Redis under the cross-instance limits (throws RelayError); the session's other live participants. */
  admit(p: Participant, tokenKey: string | undefined, maxPerToken: number): Promise<{ held: true } | { remote: Participant[] }>;
  /** Tells the session's other instances that `p` (local) joined. */
  joined(p: Participant, remote: readonly Participant[]): void;
  /** Removes `p` (local) from Redis and tells the session's other instances. */
  left(p: Participant): void;
  /** The daemon is stopping gracefully: its participants will resume elsewhere. */
  stopping(): void;
  /** WHEP/WHIP requests for resources other instances hold (lib/signaling/cluster/forward.ts). */
  readonly resources?: ResourceLink;
}

interface Session {
  publisher?: Participant;
  viewers: Map<string, Participant>;
}

/** A message or join the session cannot take; `code` is the protocol's error code sent back to the client. */
export class RelayError extends WebRtcBinError {
  declare readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message, code);
  }
}

/** A fresh peer id; `bytes` of randomness (6 by default; a WHEP resource id, a capability, takes 16). */
export function newPeerId(role: Role, bytes = 6): string {
  return `${role === 'publisher' ? 'p' : 'v'}-${randomBytes(bytes).toString('base64url')}`;
}

export class SessionRegistry {
  readonly #sessions = new Map<string, Session>();
  // This instance's participants by id: a relay from another instance looks its target up here, once
  // per message (scanning every session for it took a quarter to a third of an instance's busy CPU at
  // 3,300 sockets each: docs/benchmarks.md 4a).
  readonly #local = new Map<string, Participant>();
  // Fresh ICE servers for the publisher's new peer: credentials minted at its join may have expired.
  readonly #iceFor: (publisher: Participant) => IceServer[] | undefined;

  constructor(iceFor: (publisher: Participant) => IceServer[] | undefined = () => undefined) {
    this.#iceFor = iceFor;
  }

  #viewerJoined(publisher: Participant, viewer: Participant): void {
    const iceServers = this.#iceFor(publisher);
    publisher.send({
      type: 'peer-joined',
      peerId: viewer.id,
      role: 'viewer',
      ...(viewer.offers ? { offers: true } : {}),
      ...(viewer.control ? { control: true } : {}),
      ...(iceServers?.length ? { iceServers } : {}),
      ...(viewer.codecs ? { codecs: viewer.codecs } : {}),
      ...(viewer.media === 'data' ? { media: 'data' as const } : {}),
      ...(viewer.resumed ? { resumed: true as const } : {}),
    });
  }

  /** Sessions with a participant of this instance. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Participants of this instance (a cluster's others are in /metrics' cluster counts). */
  peerCount(role?: Role): number {
    let n = 0;
    for (const p of this.all()) if (role === undefined || p.role === role) n++;
    return n;
  }

  /** Adds a participant and tells the others. Throws RelayError('publisher-exists'). */
  join(p: Participant): { publisher: string | null } {
    let session = this.#sessions.get(p.session);
    if (!session) {
      session = { viewers: new Map() };
      this.#sessions.set(p.session, session);
    }
    return this.#add(session, p);
  }

  #add(session: Session, p: Participant): { publisher: string | null } {
    if (p.role === 'publisher') {
      if (session.publisher) throw new RelayError('publisher-exists', `session ${p.session} already has a publisher`);
      session.publisher = p;
      if (p.instance === undefined) this.#local.set(p.id, p);
      for (const viewer of session.viewers.values()) {
        viewer.send({ type: 'peer-joined', peerId: p.id, role: 'publisher', ...(p.resumed ? { resumed: true as const } : {}) });
      }
      return { publisher: null };
    }
    session.viewers.set(p.id, p);
    if (p.instance === undefined) this.#local.set(p.id, p);
    if (session.publisher) this.#viewerJoined(session.publisher, p);
    return { publisher: session.publisher?.id ?? null };
  }

  /** Set when this daemon is one of many instances sharing Redis (signaling({redis})). */
  cluster: ClusterLink | undefined;

  /**
   * join() for a daemon in a cluster: the cross-instance limits are checked in Redis first, this
   * instance's mirror of the session is brought up to what Redis holds, then the others are told.
   * `held`: another live instance holds the id asked for (a resume); join again with a fresh id.
   */
  async admit(p: Participant, tokenKey: string | undefined, maxPerToken: number): Promise<{ publisher: string | null } | { held: true }> {
    const cluster = this.cluster;
    if (!cluster) return this.join(p);
    const result = await cluster.admit(p, tokenKey, maxPerToken);
    if ('held' in result) return result;
    this.reconcile(p.session, result.remote, false);
    let joined: { publisher: string | null };
    try {
      joined = this.join(p);
    } catch (error) {
      this.#prune(p.session);
      cluster.left(p);
      throw error;
    }
    cluster.joined(p, result.remote);
    return joined;
  }

  /**
   * Makes the mirror of `name`'s remote participants what Redis says (`remote`): those gone are
   * removed (local participants hear peer-left), those new added (peer-joined). Local ones are kept.
   */
  reconcile(name: string, remote: readonly Participant[], prune = true): void {
    let session = this.#sessions.get(name);
    if (!session) {
      session = { viewers: new Map() };
      this.#sessions.set(name, session);
    }
    const wanted = new Map(remote.map((p) => [p.id, p]));
    for (const p of [...members(session)]) {
      if (p.instance !== undefined && wanted.get(p.id)?.instance !== p.instance) this.#remove(session, p);
    }
    for (const p of remote) this.addRemote(p);
    // Kept for a local participant about to join (admit).
    if (prune) this.#prune(name);
  }

  /** A participant of another instance joined a session this instance holds participants of. */
  addRemote(p: Participant): void {
    const session = this.#sessions.get(p.session);
    if (!session || p.instance === undefined) return;
    const existing = p.role === 'publisher' ? session.publisher : session.viewers.get(p.id);
    if (existing?.id === p.id && existing.instance === p.instance) return;
    // The same id on another instance: it resumed there (its old instance died): replaced without a
    // peer-left, its peer-joined says resumed. Another publisher: the old one's instance died.
    if (existing?.id === p.id) {
      if (p.role === 'publisher') session.publisher = undefined;
      else session.viewers.delete(p.id);
      this.#forgetLocal(existing);
    } else if (p.role === 'publisher' && session.publisher) this.#remove(session, session.publisher);
    this.#add(session, p);
  }

  /** Remote participants by owning instance (the sweep checks whether each instance is alive). */
  remoteByInstance(): Map<string, Participant[]> {
    const out = new Map<string, Participant[]>();
    for (const s of this.#sessions.values()) {
      for (const p of members(s)) {
        if (p.instance === undefined) continue;
        const list = out.get(p.instance) ?? [];
        list.push(p);
        out.set(p.instance, list);
      }
    }
    return out;
  }

  /** The remote participant `id` of `session` in this instance's mirror. */
  remote(session: string, id: string): Participant | undefined {
    const s = this.#sessions.get(session);
    const p = s?.publisher?.id === id ? s.publisher : s?.viewers.get(id);
    return p?.instance !== undefined ? p : undefined;
  }

  /** The local participant `id` (a relay from another instance is for it). */
  local(id: string): Participant | undefined {
    return this.#local.get(id);
  }

  #forgetLocal(p: Participant): void {
    if (this.#local.get(p.id) === p) this.#local.delete(p.id);
  }

  /** Whether this instance mirrors `name` (it has a participant in it). */
  hasSession(name: string): boolean {
    return this.#sessions.has(name);
  }

  /** Names of the sessions with a participant here. */
  sessionNames(): string[] {
    return [...this.#sessions.keys()];
  }

  /** Whether a participant of `session` holds `id` now (a resumed join may not take it). */
  holds(session: string, id: string): boolean {
    const s = this.#sessions.get(session);
    // Only this instance's: Redis answers for the others (the admission script's `id-held`).
    const p = s?.publisher?.id === id ? s.publisher : s?.viewers.get(id);
    return p !== undefined && p.instance === undefined;
  }

  /** After join: the publisher hears about the viewers that were there first. */
  announceViewers(publisher: Participant): void {
    const session = this.#sessions.get(publisher.session);
    for (const viewer of session?.viewers.values() ?? []) this.#viewerJoined(publisher, viewer);
  }

  /**
   * Removes local participant `p` without telling anyone: another instance took its id over (its client
   * resumed there) and announces it as resumed. Its socket's later leave() finds nothing to remove.
   */
  displace(p: Participant): void {
    const session = this.#sessions.get(p.session);
    if (!session || p.instance !== undefined) return;
    if (p.role === 'publisher' && session.publisher === p) session.publisher = undefined;
    else if (session.viewers.get(p.id) === p) session.viewers.delete(p.id);
    else return;
    this.#forgetLocal(p);
    this.#prune(p.session);
  }

  leave(p: Participant): void {
    const session = this.#sessions.get(p.session);
    if (!session) return;
    if (!this.#remove(session, p)) return;
    this.#prune(p.session);
    if (p.instance === undefined) this.cluster?.left(p);
  }

  // Tells the others; false when `p` was not there.
  #remove(session: Session, p: Participant): boolean {
    if (p.role === 'publisher') {
      if (session.publisher !== p) return false;
      session.publisher = undefined;
      for (const viewer of session.viewers.values()) viewer.send({ type: 'peer-left', peerId: p.id, role: 'publisher' });
    } else {
      if (session.viewers.get(p.id) !== p) return false;
      session.viewers.delete(p.id);
      session.publisher?.send({ type: 'peer-left', peerId: p.id, role: 'viewer' });
    }
    this.#forgetLocal(p);
    return true;
  }

  // A session is kept while a participant of this instance is in it (remote ones are only mirrored for them).
  #prune(name: string): void {
    const session = this.#sessions.get(name);
    if (session && ![...members(session)].some((p) => p.instance === undefined)) this.#sessions.delete(name);
  }

  /** Where a relayed message from `from` goes. Viewers talk to the publisher; the publisher names a viewer. */
  target(from: Participant, to: string | undefined): Participant {
    const session = this.#sessions.get(from.session);
    if (from.role === 'viewer') {
      const publisher = session?.publisher;
      if (!publisher) throw new RelayError('no-publisher', `session ${from.session} has no publisher right now`);
      if (to !== undefined && to !== publisher.id) throw new RelayError('unknown-peer', `no peer ${to} in this session`);
      return publisher;
    }
    if (to === undefined) throw new RelayError('unknown-peer', 'a publisher must say which viewer a message is for (`to`)');
    const viewer = session?.viewers.get(to);
    if (!viewer) throw new RelayError('unknown-peer', `no viewer ${to} in this session`);
    return viewer;
  }

  /** Every participant of this instance, for shutdown. */
  *all(): Iterable<Participant> {
    for (const s of this.#sessions.values()) for (const p of members(s)) if (p.instance === undefined) yield p;
  }
}

function* members(s: Session): Iterable<Participant> {
  if (s.publisher) yield s.publisher;
  yield* s.viewers.values();
}
