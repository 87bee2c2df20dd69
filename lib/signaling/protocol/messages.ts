// lib/signaling/protocol/: the wire format both ends validate against.
// Signaling protocol v1: every message as a TypeBox schema, tagged by `type`, incoming (client →
// daemon) and outgoing (daemon → client) kept apart. The daemon, the Node client, the browser viewer
// and docs/protocol.md all use these; validators are compiled once.
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';

export const PROTOCOL_VERSION = 1;

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' });
export const SessionName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' });
const Sdp = Type.String({ minLength: 1, maxLength: 65536 });
export const Role = Type.Union([Type.Literal('publisher'), Type.Literal('viewer')]);
export type Role = Static<typeof Role>;

/** W3C RTCIceCandidateInit; null means end of candidates. */
export const CandidateInit = Type.Union([
  Type.Object(
    {
      candidate: Type.String({ maxLength: 1024 }),
      sdpMid: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
      sdpMLineIndex: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 1024 }), Type.Null()])),
      usernameFragment: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
    },
    { additionalProperties: false },
  ),
  Type.Null(),
]);
export type CandidateInit = Static<typeof CandidateInit>;

export const IceServer = Type.Object({
  urls: Type.Union([Type.String(), Type.Array(Type.String())]),
  username: Type.Optional(Type.String()),
  credential: Type.Optional(Type.String()),
});
export type IceServer = Static<typeof IceServer>;

const strict = { additionalProperties: false } as const;

/** Video codec names or MIME types (`video/H264`, `VP8`). */
export const CodecList = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32 });

/**
 * What a viewer's peer connection with the publisher carries: `all` (the default: video, audio when
 * sent, and the input data channel) or `data` (the input data channel only: a viewer that watches
 * elsewhere, e.g. through a Janus VideoRoom, and controls through the daemon; docs/sfu.md).
 */
export const Media = Type.Union([Type.Literal('all'), Type.Literal('data')]);
export type Media = Static<typeof Media>;

/** Why a publisher ends one viewer's connection (`bye` with `reason`): no codec in common. */
export const ByeCodecs = Type.Object({ publisher: CodecList, viewer: CodecList }, { additionalProperties: false });

/**
 * Rejoining as the same participant (docs/protocol.md, "Resume"): the id and the resume key a previous
 * `joined` gave. The key is an HMAC under the daemon's secret, so it survives a daemon restart and
 * proves nothing in another session or role.
 */
export const ResumeKey = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' });
export const Resume = Type.Object({ id: Id, key: ResumeKey }, { additionalProperties: false });
export type Resume = Static<typeof Resume>;

// ---- client → daemon ----
export const Join = Type.Object(
  {
    type: Type.Literal('join'),
    v: Type.Optional(Type.Literal(PROTOCOL_VERSION)),
    session: SessionName,
    role: Role,
    token: Type.Optional(Type.String({ maxLength: 4096 })),
    /** A viewer that will send the offer itself (the publisher then waits for it). */
    offers: Type.Optional(Type.Boolean()),
    /**
     * A viewer: the video codecs it decodes, its preference first (`RTCRtpReceiver.getCapabilities`'
     * MIME types, e.g. `video/VP8`). The publisher sends the first of its own it finds here; without
     * the list it sends its first codec.
     */
    codecs: Type.Optional(CodecList),
    /**
     * A viewer: `data` asks for a peer connection with the input data channel only (no video, no
     * audio): input, clipboard and resize as any viewer's, its token's control claim deciding. Not
     * with `offers` (the publisher offers the data channel). Default `all`.
     */
    media: Type.Optional(Media),
    /** Reclaim a previous id (after a reconnect or a daemon restart): `joined.resumed` says whether it was. */
    resume: Type.Optional(Resume),
  },
  strict,
);
export const OfferIn = Type.Object({ type: Type.Literal('offer'), to: Type.Optional(Id), sdp: Sdp }, strict);
export const AnswerIn = Type.Object({ type: Type.Literal('answer'), to: Type.Optional(Id), sdp: Sdp }, strict);
export const CandidateIn = Type.Object({ type: Type.Literal('candidate'), to: Type.Optional(Id), candidate: CandidateInit }, strict);
/**
 * A publisher's bye to one viewer may say why: `no-common-codec` (the viewer decodes none of the
 * codecs the publisher encodes; `codecs` names both sides' and `message` says what to do).
 */
export const ByeIn = Type.Object(
  {
    type: Type.Literal('bye'),
    to: Type.Optional(Id),
    reason: Type.Optional(Type.Literal('no-common-codec')),
    codecs: Type.Optional(ByeCodecs),
    message: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  strict,
);

export const ClientMessage = Type.Union([Join, OfferIn, AnswerIn, CandidateIn, ByeIn]);
export type ClientMessage = Static<typeof ClientMessage>;

// ---- daemon → client ----
export const Joined = Type.Object(
  {
    type: Type.Literal('joined'),
    v: Type.Literal(PROTOCOL_VERSION),
    peerId: Id,
    session: SessionName,
    role: Role,
    iceServers: Type.Array(IceServer),
    /** For a viewer: the publisher's id when one is there. */
    publisher: Type.Optional(Type.Union([Id, Type.Null()])),
    /** For a viewer: whether its token lets it send input (desktop control). */
    control: Type.Optional(Type.Boolean()),
    /** The key that lets this participant reclaim `peerId` on a later join (`join.resume`); a secret. */
    resumeKey: Type.Optional(ResumeKey),
    /** Only when the join asked to resume: true = `peerId` is the id asked for; false = a new id (key refused, or the id is held). */
    resumed: Type.Optional(Type.Boolean()),
  },
  strict,
);
export const PeerJoined = Type.Object(
  {
    type: Type.Literal('peer-joined'),
    peerId: Id,
    role: Role,
    offers: Type.Optional(Type.Boolean()),
    /** To a publisher: this viewer may send input (its token says so). */
    control: Type.Optional(Type.Boolean()),
    /** To a publisher: fresh ICE servers (time-limited TURN credentials) for this viewer's peer. */
    iceServers: Type.Optional(Type.Array(IceServer)),
    /** To a publisher: the video codecs the viewer decodes (its `join.codecs`). */
    codecs: Type.Optional(CodecList),
    /** To a publisher: the viewer asked for the input data channel only (its `join.media`); absent = `all`. */
    media: Type.Optional(Type.Literal('data')),
    /** The participant reclaimed its previous id (join.resume): its peer connection may still be up. */
    resumed: Type.Optional(Type.Literal(true)),
  },
  strict,
);
export const PeerLeft = Type.Object({ type: Type.Literal('peer-left'), peerId: Id, role: Role }, strict);
export const OfferOut = Type.Object({ type: Type.Literal('offer'), from: Id, sdp: Sdp }, strict);
export const AnswerOut = Type.Object({ type: Type.Literal('answer'), from: Id, sdp: Sdp }, strict);
export const CandidateOut = Type.Object({ type: Type.Literal('candidate'), from: Id, candidate: CandidateInit }, strict);
/**
 * Why the daemon itself says bye (no `from`): `shutting-down` (come back later, with backoff);
 * `token-expired` (the token's `exp` has passed: the participant is removed and must not rejoin with
 * the same token; a viewer asks for a new link).
 */
export const BYE_REASONS = ['shutting-down', 'token-expired'] as const;
export type ByeReason = (typeof BYE_REASONS)[number];
export const ByeOut = Type.Object(
  {
    type: Type.Literal('bye'),
    from: Type.Optional(Id),
    /** From the daemon: BYE_REASONS; from a publisher (`from` set): `no-common-codec`, with `codecs` and `message`. */
    reason: Type.Optional(Type.Union([Type.Literal('shutting-down'), Type.Literal('token-expired'), Type.Literal('no-common-codec')])),
    codecs: Type.Optional(ByeCodecs),
    message: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  strict,
);

export const ERROR_CODES = [
  'bad-json', // not JSON, or not UTF-8
  'bad-message', // JSON that matches no message schema
  'binary-not-supported', // a binary frame
  'too-large', // over the size limit (the socket is closed)
  'rate-limited', // over the message rate (the socket is closed)
  'not-joined', // anything but join before join
  'already-joined', // a second join on one socket
  'unauthorized', // token missing, forged, expired, or for another session/role
  'publisher-exists', // a second publisher for a session
  'unknown-peer', // relay to a peer that is not in this session
  'no-publisher', // a viewer relays while the session has no publisher
  'join-timeout', // no join within the join timeout (the socket is closed)
  'token-in-use', // the token already holds its limit of concurrent participants (the socket is closed)
  'shutting-down',
  'internal',
  'cluster-unavailable', // a daemon of a cluster cannot reach its Redis: the join is refused, retry later (the socket is closed)
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
export const ErrorOut = Type.Object(
  {
    type: Type.Literal('error'),
    code: Type.Union([
    Type.Literal('bad-json'),
    Type.Literal('bad-message'),
    Type.Literal('binary-not-supported'),
    Type.Literal('too-large'),
    Type.Literal('rate-limited'),
    Type.Literal('not-joined'),
    Type.Literal('already-joined'),
    Type.Literal('unauthorized'),
    Type.Literal('publisher-exists'),
    Type.Literal('unknown-peer'),
    Type.Literal('no-publisher'),
    Type.Literal('join-timeout'),
    Type.Literal('token-in-use'),
    Type.Literal('shutting-down'),
    Type.Literal('internal'),
    Type.Literal('cluster-unavailable'),
    ]),
    message: Type.String(),
  },
  strict,
);

export const ServerMessage = Type.Union([Joined, PeerJoined, PeerLeft, OfferOut, AnswerOut, CandidateOut, ByeOut, ErrorOut]);
export type ServerMessage = Static<typeof ServerMessage>;

// Compiled once, shared by everyone.
export const checkClientMessage = Compile(ClientMessage);
export const checkServerMessage = Compile(ServerMessage);

const BRANCHES = {
  join: Compile(Join),
  offer: Compile(OfferIn),
  answer: Compile(AnswerIn),
  candidate: Compile(CandidateIn),
  bye: Compile(ByeIn),
};

/** The first schema error, as one short line ("/session: must match pattern …"). */
export function describeError(validator: typeof checkClientMessage, value: unknown): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'a message must be a JSON object';
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') return 'a message needs a string "type"';
  const known = ['join', 'offer', 'answer', 'candidate', 'bye'];
  if (!known.includes(type)) return `unknown message type ${JSON.stringify(type).slice(0, 40)} (expected one of ${known.join(', ')})`;
  // Errors of the branch whose type matches are the useful ones.
  for (const error of BRANCHES[type as keyof typeof BRANCHES].Errors(value)) {
    const e = error as { instancePath?: string; message?: string };
    return `${type}${e.instancePath ? ` ${e.instancePath}` : ''}: ${e.message ?? 'invalid'}`;
  }
  return `${type}: invalid`;
}
