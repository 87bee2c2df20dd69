// lib/signaling/cluster/: many daemon instances sharing one set of sessions through Redis (presence,
// the pub/sub bus between instances, cross-instance limits, Redis health). Used only with `redis`.
// The bus: what one instance tells another over pub/sub, and what the receiver does with it. One
// channel per instance: a relay goes to exactly the instance that holds the target's socket, so an
// instance hears only traffic for its own participants (a channel per session would make every
// instance of a session decode every relay of every other participant: measured, docs/benchmarks.md 4a.2,
// the same latency and Redis writing 2.9× the bytes per relay with sessions of 20 over three instances).
import type { Role, ServerMessage } from '../protocol/messages.js';
import type { ResourceKind } from '../daemon/resource-request.js';
import { parseResourceAsk, parseResourceAnswer, type ResourceAsk, type ResourceAnswer } from './forward.js';
import { parseTakeover, type Probe, type ProbeAnswer, type Took } from './takeover.js';

/** A participant as the cluster records it (the session hash's value, and a join event's payload). */
export interface PresenceEntry {
  /** Role. */
  r: Role;
  /** The owning instance (where its socket or WHEP exchange is). */
  i: string;
  /** Offers itself (WHEP). */
  o?: true;
  /** Codecs (a viewer's join.codecs). */
  c?: string[];
  /** Data only (a viewer's join.media 'data': the input channel, no video). */
  d?: true;
  /** May control. */
  ctl?: true;
  /** Reclaimed its id (join.resume). */
  res?: true;
  /** A WHEP or WHIP resource (another instance may take requests for it: forward.ts). */
  w?: ResourceKind;
}

export type Envelope =
  /** A message for one participant held by the receiving instance. */
  | { k: 'relay'; to: string; m: ServerMessage }
  /** A participant joined session `s` on instance `e.i`. */
  | { k: 'join'; s: string; id: string; e: PresenceEntry }
  /** Participant `id` of session `s`, owned by instance `i`, left. */
  | { k: 'leave'; s: string; id: string; i: string }
  /** Instance `i` is stopping: its participants are reconnecting elsewhere; sweep them only after a grace. */
  | { k: 'stopping'; i: string }
  /** A request on a WHEP/WHIP resource of the receiving instance, taken by another (forward.ts). */
  | ResourceAsk
  /** The owner's answer to a ResourceAsk this instance sent. */
  | ResourceAnswer
  /** Does this instance still hold an open socket for a participant another wants to resume (takeover.ts)? */
  | Probe
  /** The answer to a Probe this instance sent. */
  | ProbeAnswer
  /** Another instance took over one of this instance's participant ids (its client resumed there). */
  | Took;

/** Messages one participant sends another through the daemon; the rest each instance makes itself. */
const RELAYED = new Set<ServerMessage['type']>(['offer', 'answer', 'candidate', 'bye']);

/**
 * Whether a message for a participant on another instance crosses the bus. Membership news
 * (peer-joined, peer-left) does not: every instance of the session derives it from the join and
 * leave events, for its own participants; `bye` crosses only from a peer (`from`), never the daemon's own.
 */
export function crossesBus(message: ServerMessage): boolean {
  if (!RELAYED.has(message.type)) return false;
  return message.type !== 'bye' || message.from !== undefined;
}

/** What the receiving instance knows, for deciding what an envelope means to it. */
export interface LocalView {
  /** Whether this instance holds a participant of `session` (only then does it mirror the session). */
  hasSession(session: string): boolean;
  /** Whether participant `id` is held here. */
  holdsLocal(id: string): boolean;
  /** The instance that owns remote participant `id` of `session` in this instance's mirror. */
  remoteOwner(session: string, id: string): string | undefined;
}

export type Action =
  | { do: 'deliver'; to: string; message: ServerMessage }
  | { do: 'add-remote'; session: string; id: string; entry: PresenceEntry }
  | { do: 'remove-remote'; session: string; id: string }
  | { do: 'grace'; instance: string }
  | { do: 'answer-resource'; ask: ResourceAsk }
  | { do: 'resource-answered'; answer: ResourceAnswer }
  | { do: 'answer-probe'; probe: Probe }
  | { do: 'probe-answered'; answer: ProbeAnswer }
  | { do: 'displace'; session: string; id: string; by: string }
  | { do: 'ignore'; why: string };

/** The routing decision for one envelope (pure: the cluster applies it). */
export function decide(envelope: Envelope, self: string, view: LocalView): Action {
  switch (envelope.k) {
    case 'relay':
      if (!view.holdsLocal(envelope.to)) return { do: 'ignore', why: 'the target is not held here (it left)' };
      return { do: 'deliver', to: envelope.to, message: envelope.m };
    case 'join':
      if (envelope.e.i === self) return { do: 'ignore', why: 'our own participant' };
      if (!view.hasSession(envelope.s)) return { do: 'ignore', why: 'no participant of this session here' };
      return { do: 'add-remote', session: envelope.s, id: envelope.id, entry: envelope.e };
    case 'leave':
      // A participant that resumed its id on another instance is owned there now: a late leave from
      // its old instance must not remove it.
      if (view.remoteOwner(envelope.s, envelope.id) !== envelope.i) return { do: 'ignore', why: 'not this owner’s participant here' };
      return { do: 'remove-remote', session: envelope.s, id: envelope.id };
    case 'stopping':
      return envelope.i === self ? { do: 'ignore', why: 'our own' } : { do: 'grace', instance: envelope.i };
    case 'ask':
      return { do: 'answer-resource', ask: envelope };
    case 'answer':
      return { do: 'resource-answered', answer: envelope };
    case 'probe':
      return { do: 'answer-probe', probe: envelope };
    case 'probed':
      return { do: 'probe-answered', answer: envelope };
    case 'took':
      if (envelope.i === self) return { do: 'ignore', why: 'our own' };
      if (!view.holdsLocal(envelope.id)) return { do: 'ignore', why: 'no socket for it here' };
      return { do: 'displace', session: envelope.s, id: envelope.id, by: envelope.i };
  }
}

/** Parses an envelope from the channel; undefined for anything malformed (never thrown at the bus). */
export function parseEnvelope(text: string): Envelope | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object') return undefined;
  const e = value as Record<string, unknown>;
  if (e.k === 'relay' && typeof e.to === 'string' && e.m && typeof e.m === 'object') return e as Envelope;
  if (e.k === 'stopping' && typeof e.i === 'string') return e as Envelope;
  if (e.k === 'ask') return parseResourceAsk(e);
  if (e.k === 'answer') return parseResourceAnswer(e);
  if (e.k === 'probe' || e.k === 'probed' || e.k === 'took') return parseTakeover(e);
  if ((e.k === 'join' || e.k === 'leave') && typeof e.s === 'string' && typeof e.id === 'string') {
    if (e.k === 'join' && e.e && typeof e.e === 'object' && typeof (e.e as PresenceEntry).i === 'string') return e as Envelope;
    if (e.k === 'leave' && typeof e.i === 'string') return e as Envelope;
  }
  return undefined;
}
