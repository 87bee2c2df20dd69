// Who is in which session, and relaying between them. Knows nothing of sockets: a participant is
// anything with send() and close() (a WebSocket, or a WHEP viewer held by an HTTP exchange).
import { randomBytes } from 'node:crypto';
import { WebRtcBinError } from '../../errors.js';
import type { ErrorCode, IceServer, Role, ServerMessage } from '../protocol/messages.js';

export interface Participant {
  readonly id: string;
  readonly role: Role;
  readonly session: string;
  /** The viewer sends the offer itself (WHEP). */
  readonly offers: boolean;
  /** A viewer: the video codecs it decodes (`join.codecs`), passed to the publisher in `peer-joined`. */
  readonly codecs?: string[];
  /** The viewer may send input (token claim `ctl`). */
  readonly control?: boolean;
  /** It reclaimed a previous id (join.resume): the others' state about it may still hold. */
  readonly resumed?: boolean;
  send(message: ServerMessage): void;
  close(code: number, reason: string): void;
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
      ...(viewer.resumed ? { resumed: true as const } : {}),
    });
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  peerCount(role?: Role): number {
    let n = 0;
    for (const s of this.#sessions.values()) {
      if (role !== 'viewer' && s.publisher) n++;
      if (role !== 'publisher') n += s.viewers.size;
    }
    return n;
  }

  /** Adds a participant and tells the others. Throws RelayError('publisher-exists'). */
  join(p: Participant): { publisher: string | null } {
    let session = this.#sessions.get(p.session);
    if (!session) {
      session = { viewers: new Map() };
      this.#sessions.set(p.session, session);
    }
    if (p.role === 'publisher') {
      if (session.publisher) throw new RelayError('publisher-exists', `session ${p.session} already has a publisher`);
      session.publisher = p;
      for (const viewer of session.viewers.values()) {
        viewer.send({ type: 'peer-joined', peerId: p.id, role: 'publisher', ...(p.resumed ? { resumed: true as const } : {}) });
      }
      return { publisher: null };
    }
    session.viewers.set(p.id, p);
    if (session.publisher) this.#viewerJoined(session.publisher, p);
    return { publisher: session.publisher?.id ?? null };
  }

  /** Whether a participant of `session` holds `id` now (a resumed join may not take it). */
  holds(session: string, id: string): boolean {
    const s = this.#sessions.get(session);
    return s !== undefined && (s.publisher?.id === id || s.viewers.has(id));
  }

  /** After join: the publisher hears about the viewers that were there first. */
  announceViewers(publisher: Participant): void {
    const session = this.#sessions.get(publisher.session);
    for (const viewer of session?.viewers.values() ?? []) this.#viewerJoined(publisher, viewer);
  }

  leave(p: Participant): void {
    const session = this.#sessions.get(p.session);
    if (!session) return;
    if (p.role === 'publisher') {
      if (session.publisher !== p) return;
      session.publisher = undefined;
      for (const viewer of session.viewers.values()) viewer.send({ type: 'peer-left', peerId: p.id, role: 'publisher' });
    } else {
      if (!session.viewers.delete(p.id)) return;
      session.publisher?.send({ type: 'peer-left', peerId: p.id, role: 'viewer' });
    }
    if (!session.publisher && session.viewers.size === 0) this.#sessions.delete(p.session);
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

  /** Every participant, for shutdown. */
  *all(): Iterable<Participant> {
    for (const s of this.#sessions.values()) {
      if (s.publisher) yield s.publisher;
      yield* s.viewers.values();
    }
  }
}
