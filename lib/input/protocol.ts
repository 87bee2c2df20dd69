// Input messages a viewer sends on its "input" data channel (JSON text), shared by the viewer page
// and the agent. Coordinates are fractions of the video (0..1): the agent scales them to its screen.
// A message may carry a `seq`: the agent then answers it once, after injecting it (`ack`), or with the
// answer it asked for (`clipboard` / `resize-result` with that seq). The page sends none and gets none.
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { CLIPBOARD_PART_CHARS, CURSOR_LIMITS, INPUT_CHANNEL, MAX_CLIPBOARD_CHARS, MAX_CLIPBOARD_PARTS, MAX_TYPE_CHARS, MAX_VIEWER_MESSAGE_CHARS, QUALITY_LIMITS, RESIZE_LIMITS } from './limits.js';

export { CLIPBOARD_PART_CHARS, CURSOR_LIMITS, INPUT_CHANNEL, MAX_CLIPBOARD_CHARS, MAX_CLIPBOARD_PARTS, MAX_TYPE_CHARS, MAX_VIEWER_MESSAGE_CHARS, QUALITY_LIMITS, RESIZE_LIMITS };

const Fraction = Type.Number({ minimum: 0, maximum: 1 });
const strict = { additionalProperties: false } as const;
/** Asks for an acknowledgement: the agent answers this number once the message was injected (or refused). */
const Seq = Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }));

export const PointerMove = Type.Object({ t: Type.Literal('move'), x: Fraction, y: Fraction, seq: Seq }, strict);
/** `button` as in DOM MouseEvent.button: 0 left, 1 middle, 2 right, 3 back, 4 forward. */
export const PointerButton = Type.Object(
  { t: Type.Literal('button'), button: Type.Integer({ minimum: 0, maximum: 4 }), down: Type.Boolean(), x: Type.Optional(Fraction), y: Type.Optional(Fraction), seq: Seq },
  strict,
);
/** One wheel notch per message; the sign gives the direction. */
export const Wheel = Type.Object({ t: Type.Literal('wheel'), dx: Type.Number({ minimum: -1, maximum: 1 }), dy: Type.Number({ minimum: -1, maximum: 1 }), seq: Seq }, strict);
/** `key` and `code` as in DOM KeyboardEvent. */
export const Key = Type.Object(
  { t: Type.Literal('key'), key: Type.String({ minLength: 1, maxLength: 32 }), code: Type.Optional(Type.String({ maxLength: 32 })), down: Type.Boolean(), seq: Seq },
  strict,
);
/** A viewer allowed to control asks to become the one controller. */
export const TakeControl = Type.Object({ t: Type.Literal('take-control'), seq: Seq }, strict);

export const InputMessage = Type.Union([PointerMove, PointerButton, Wheel, Key, TakeControl]);
export type InputMessage = Static<typeof InputMessage>;

const ClipboardText = Type.String({ maxLength: MAX_CLIPBOARD_CHARS });
/** Both ways: the viewer pasted text (agent → X CLIPBOARD), or X's CLIPBOARD changed (agent → viewer). */
export const Clipboard = Type.Object({ t: Type.Literal('clipboard'), text: ClipboardText, seq: Seq }, strict);
/**
 * Both ways, text over CLIPBOARD_PART_CHARS: part `part` of `of`, in order, of the text the sender
 * numbered `id` (lib/input/clipboard-parts.ts splits and joins).
 */
export const ClipboardPart = Type.Object(
  {
    t: Type.Literal('clipboard-part'),
    id: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 }),
    part: Type.Integer({ minimum: 0, maximum: MAX_CLIPBOARD_PARTS - 1 }),
    of: Type.Integer({ minimum: 2, maximum: MAX_CLIPBOARD_PARTS }),
    text: Type.String({ maxLength: CLIPBOARD_PART_CHARS }),
  },
  strict,
);

/**
 * Text typed as it is written (the agent's `type()`): each character becomes its X keysym (Shift added
 * where the character needs it; characters missing from the keymap get a spare keycode). Control
 * characters other than newline (Return) and tab are refused. Acknowledged once the last key is injected.
 */
export const TypeText = Type.Object({ t: Type.Literal('type'), text: Type.String({ minLength: 1, maxLength: MAX_TYPE_CHARS }), seq: Seq }, strict);
/** Asks for the X CLIPBOARD's text now: answered with a `clipboard` message carrying this seq (`''`: no text). */
export const ClipboardRead = Type.Object({ t: Type.Literal('clipboard-read'), seq: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }) }, strict);

/** The viewer asks the X screen to take this size (its window's), e.g. to see the desktop 1:1. */
export const Resize = Type.Object(
  {
    t: Type.Literal('resize'),
    width: Type.Integer({ minimum: RESIZE_LIMITS.minWidth, maximum: RESIZE_LIMITS.maxWidth, multipleOf: 2 }),
    height: Type.Integer({ minimum: RESIZE_LIMITS.minHeight, maximum: RESIZE_LIMITS.maxHeight, multipleOf: 2 }),
    seq: Seq,
  },
  strict,
);

/** The controller gives control up: nobody controls until a viewer takes it. */
export const ReleaseControl = Type.Object({ t: Type.Literal('release-control'), seq: Seq }, strict);

/**
 * Any viewer (control or not: it is its own stream) sets the ceiling of the bitrate it is sent, bits per
 * second; without `maxBitrate` the ceiling is lifted. Range-checked by the agent (QUALITY_LIMITS), which
 * answers with `quality-result`.
 */
export const Quality = Type.Object({ t: Type.Literal('quality'), maxBitrate: Type.Optional(Type.Number()) }, strict);

/** A wall-clock time in ms since the Unix epoch (fractional allowed). */
const WallMs = Type.Number({ minimum: 0, maximum: 1e14 });
/**
 * Any viewer (control or not): one sample of an NTP-style clock exchange, for the glass-to-glass figure
 * (abs-capture-time stamps are on the publisher's clock). `t0`: when the viewer sent it, on its clock.
 */
export const Clock = Type.Object({ t: Type.Literal('clock'), t0: WallMs }, strict);

/**
 * Any viewer (control or not): whether it draws the remote pointer itself from `cursor` messages
 * (`draws: true`; our page and RemoteView send it when the channel opens) or needs it in the picture
 * (`draws: false`, the same as never saying). With publish({pointer: 'auto'}) the publisher takes the
 * pointer out of the picture while every watching viewer draws it, and sends `cursor`/`cursor-shape`
 * only to viewers that said they draw it. Answered with `cursor-picture`.
 */
export const CursorDraw = Type.Object({ t: Type.Literal('cursor-draw'), draws: Type.Boolean(), seq: Seq }, strict);

/** Everything a viewer may send on the input channel. */
export const ViewerMessage = Type.Union([PointerMove, PointerButton, Wheel, Key, TakeControl, Clipboard, Resize, ClipboardPart, TypeText, ClipboardRead, ReleaseControl, Quality, Clock, CursorDraw]);
export type ViewerMessage = Static<typeof ViewerMessage>;
export const checkViewerMessage = Compile(ViewerMessage);

/** Why a resize was refused (`resize-result` with `ok: false`). */
export type ResizeRefusal = 'unsupported' | 'out-of-range' | 'rate-limited' | 'failed';
/** The agent's answer to `resize`: the screen size now, and on refusal why. */
export const ResizeResult = Type.Object(
  {
    t: Type.Literal('resize-result'),
    ok: Type.Boolean(),
    width: Type.Integer({ minimum: 0 }),
    height: Type.Integer({ minimum: 0 }),
    code: Type.Optional(Type.Union([Type.Literal('unsupported'), Type.Literal('out-of-range'), Type.Literal('rate-limited'), Type.Literal('failed')])),
    message: Type.Optional(Type.String({ maxLength: 1024 })),
    seq: Seq,
  },
  strict,
);
export type ResizeResult = Static<typeof ResizeResult>;

/**
 * Why an input message was not injected (`ack` with `ok: false`): the viewer's token does not allow
 * control, another viewer controls, too many messages wait, the message is malformed or names nothing X
 * has, the publisher does not offer it (no clipboard), or X failed.
 */
export type InputRefusal = 'view-only' | 'not-in-control' | 'rate-limited' | 'invalid' | 'unsupported' | 'failed';
/** The agent's acknowledgement of a message that carried `seq`: sent after the injection, or on refusal. */
export const Ack = Type.Object(
  {
    t: Type.Literal('ack'),
    seq: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    ok: Type.Boolean(),
    code: Type.Optional(
      Type.Union([Type.Literal('view-only'), Type.Literal('not-in-control'), Type.Literal('rate-limited'), Type.Literal('invalid'), Type.Literal('unsupported'), Type.Literal('failed')]),
    ),
    message: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  strict,
);
export type Ack = Static<typeof Ack>;

/**
 * Control changed hands: sent to every viewer whose token allows control (and to a new one when somebody
 * holds control). `controlling`: this viewer holds it; `holder`: the peer id of the viewer that does
 * (absent: nobody does).
 */
export const ControlState = Type.Object({ t: Type.Literal('control'), controlling: Type.Boolean(), holder: Type.Optional(Type.String({ maxLength: 128 })) }, strict);
export type ControlState = Static<typeof ControlState>;

/** Why a `quality` was refused. */
export type QualityRefusal = 'unsupported' | 'out-of-range';
/** The agent's answer to `quality`: the ceiling now in force for this viewer (bits per second; absent: none). */
export const QualityResult = Type.Object(
  {
    t: Type.Literal('quality-result'),
    ok: Type.Boolean(),
    maxBitrate: Type.Optional(Type.Integer({ minimum: 0 })),
    code: Type.Optional(Type.Union([Type.Literal('unsupported'), Type.Literal('out-of-range')])),
    message: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  strict,
);
export type QualityResult = Static<typeof QualityResult>;

const CursorId = Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1 });
/**
 * With publish({pointer: 'channel'}) to every viewer, with 'auto' to each viewer that draws it (`cursor-draw`): a cursor image the publisher has not sent this
 * viewer before (once per shape; `cursor` messages name it by `id`). `png`: base64, at most
 * CURSOR_LIMITS.maxSide a side; (`xhot`, `yhot`): the pixel that is the pointer's position.
 */
export const CursorShapeMessage = Type.Object(
  {
    t: Type.Literal('cursor-shape'),
    id: CursorId,
    width: Type.Integer({ minimum: 1, maximum: CURSOR_LIMITS.maxSide }),
    height: Type.Integer({ minimum: 1, maximum: CURSOR_LIMITS.maxSide }),
    xhot: Type.Integer({ minimum: 0, maximum: CURSOR_LIMITS.maxSide - 1 }),
    yhot: Type.Integer({ minimum: 0, maximum: CURSOR_LIMITS.maxSide - 1 }),
    png: Type.String({ minLength: 1, maxLength: CURSOR_LIMITS.maxPngChars }),
  },
  strict,
);
export type CursorShapeMessage = Static<typeof CursorShapeMessage>;
/**
 * With publish({pointer: 'channel'}) to every viewer, with 'auto' to each viewer that draws it: where the pointer is, in pixels of the captured
 * screen area (`width`×`height`, the picture before any scaling), which shape it shows, and whether it
 * shows at all (hidden by an application, or outside the captured region). Sent on change, at most
 * CURSOR_LIMITS.positionHz times a second. The page draws it unless `cursor-picture` said the video shows it.
 */
export const CursorMessage = Type.Object(
  {
    t: Type.Literal('cursor'),
    x: Type.Integer({ minimum: -65536, maximum: 65536 }),
    y: Type.Integer({ minimum: -65536, maximum: 65536 }),
    width: Type.Integer({ minimum: 1, maximum: 65536 }),
    height: Type.Integer({ minimum: 1, maximum: 65536 }),
    id: CursorId,
    visible: Type.Boolean(),
  },
  strict,
);
export type CursorMessage = Static<typeof CursorMessage>;

/**
 * To each viewer that sent `cursor-draw` {draws: true}: whether the video shows the pointer now
 * (`shown`), at once and again on every change. While `shown` is true the viewer draws no pointer of its
 * own (the picture has it: a second one would double it); when it turns false the viewer draws it again
 * from the `cursor` messages. With pointer 'channel' it is always false.
 */
export const CursorPicture = Type.Object({ t: Type.Literal('cursor-picture'), shown: Type.Boolean() }, strict);
export type CursorPicture = Static<typeof CursorPicture>;

/**
 * The agent's answer to `clock`: `t0` echoed, `t1` when the agent received it and `t2` when it answered,
 * on the agent's wall clock (the one its abs-capture-time stamps use), ms since the Unix epoch.
 */
export const ClockReply = Type.Object({ t: Type.Literal('clock-reply'), t0: WallMs, t1: WallMs, t2: WallMs }, strict);
export type ClockReply = Static<typeof ClockReply>;

/** What the agent sends on the input channel (clipboard and resize answers to the controller only). */
export const AgentMessage = Type.Union([Clipboard, ResizeResult, ControlState, ClipboardPart, Ack, QualityResult, CursorShapeMessage, CursorMessage, ClockReply, CursorPicture]);
export type AgentMessage = Static<typeof AgentMessage>;
export const checkAgentMessage = Compile(AgentMessage);

