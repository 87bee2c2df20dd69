// Input messages a viewer sends on its "input" data channel (JSON text), shared by the viewer page
// and the agent. Coordinates are fractions of the video (0..1): the agent scales them to its screen.
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';

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
export const checkInputMessage = Compile(InputMessage);

/** The label of the data channel input travels on. */
export const INPUT_CHANNEL = 'input';
