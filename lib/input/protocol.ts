// Input messages a viewer sends on its "input" data channel (JSON text), shared by the viewer page
// and the agent. Coordinates are fractions of the video (0..1): the agent scales them to its screen.
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { INPUT_CHANNEL, MAX_CLIPBOARD_CHARS, MAX_VIEWER_MESSAGE_CHARS, QUALITY_LIMITS, RESIZE_LIMITS } from './limits.js';

export { INPUT_CHANNEL, MAX_CLIPBOARD_CHARS, MAX_VIEWER_MESSAGE_CHARS, QUALITY_LIMITS, RESIZE_LIMITS };

const Fraction = Type.Number({ minimum: 0, maximum: 1 });
const strict = { additionalProperties: false } as const;

export const PointerMove = Type.Object({ t: Type.Literal('move'), x: Fraction, y: Fraction }, strict);
/** `button` as in DOM MouseEvent.button: 0 left, 1 middle, 2 right, 3 back, 4 forward. */
export const PointerButton = Type.Object(
  { t: Type.Literal('button'), button: Type.Integer({ minimum: 0, maximum: 4 }), down: Type.Boolean(), x: Type.Optional(Fraction), y: Type.Optional(Fraction) },
  strict,
);
/** One wheel notch per message; the sign gives the direction. */
export const Wheel = Type.Object({ t: Type.Literal('wheel'), dx: Type.Number({ minimum: -1, maximum: 1 }), dy: Type.Number({ minimum: -1, maximum: 1 }) }, strict);
/** `key` and `code` as in DOM KeyboardEvent. */
export const Key = Type.Object(
  { t: Type.Literal('key'), key: Type.String({ minLength: 1, maxLength: 32 }), code: Type.Optional(Type.String({ maxLength: 32 })), down: Type.Boolean() },
  strict,
);
/** A viewer allowed to control asks to become the one controller. */
export const TakeControl = Type.Object({ t: Type.Literal('take-control') }, strict);

export const InputMessage = Type.Union([PointerMove, PointerButton, Wheel, Key, TakeControl]);
export type InputMessage = Static<typeof InputMessage>;

const ClipboardText = Type.String({ maxLength: MAX_CLIPBOARD_CHARS });
/** Both ways: the viewer pasted text (agent → X CLIPBOARD), or X's CLIPBOARD changed (agent → viewer). */
export const Clipboard = Type.Object({ t: Type.Literal('clipboard'), text: ClipboardText }, strict);

/** The viewer asks the X screen to take this size (its window's), e.g. to see the desktop 1:1. */
export const Resize = Type.Object(
  {
    t: Type.Literal('resize'),
    width: Type.Integer({ minimum: RESIZE_LIMITS.minWidth, maximum: RESIZE_LIMITS.maxWidth, multipleOf: 2 }),
    height: Type.Integer({ minimum: RESIZE_LIMITS.minHeight, maximum: RESIZE_LIMITS.maxHeight, multipleOf: 2 }),
  },
  strict,
);

/** The controller gives control up: nobody controls until a viewer takes it. */
export const ReleaseControl = Type.Object({ t: Type.Literal('release-control') }, strict);

/**
 * Any viewer (control or not: it is its own stream) sets the ceiling of the bitrate it is sent, bits per
 * second; without `maxBitrate` the ceiling is lifted. Range-checked by the agent (QUALITY_LIMITS), which
 * answers with `quality-result`.
 */
export const Quality = Type.Object({ t: Type.Literal('quality'), maxBitrate: Type.Optional(Type.Number()) }, strict);

/** Everything a viewer may send on the input channel. */
export const ViewerMessage = Type.Union([PointerMove, PointerButton, Wheel, Key, TakeControl, Clipboard, Resize, ReleaseControl, Quality]);
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
  },
  strict,
);
export type ResizeResult = Static<typeof ResizeResult>;

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

/** What the agent sends on the input channel (clipboard and resize answers to the controller only). */
export const AgentMessage = Type.Union([Clipboard, ResizeResult, ControlState, QualityResult]);
export type AgentMessage = Static<typeof AgentMessage>;
export const checkAgentMessage = Compile(AgentMessage);

