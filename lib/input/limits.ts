// The input channel's limits as plain values: no TypeBox, no Node import, so the browser viewer's bundle
// and the agent's schemas (protocol.ts) read the same numbers from this one place.

/** The label of the data channel input travels on. */
export const INPUT_CHANNEL = 'input';

/** Longest clipboard text either way, in UTF-16 code units (as JS counts `length`). */
export const MAX_CLIPBOARD_CHARS = 65_536;

/**
 * Longest input-channel message the agent reads, in characters: a clipboard text of
 * MAX_CLIPBOARD_CHARS with every character JSON-escaped (\uXXXX), plus the envelope.
 */
export const MAX_VIEWER_MESSAGE_CHARS = MAX_CLIPBOARD_CHARS * 6 + 64;

/** Remote screen sizes a viewer may ask for: even (4:2:0 video), within common monitor sizes. */
export const RESIZE_LIMITS = { minWidth: 320, maxWidth: 3840, minHeight: 240, maxHeight: 2160 } as const;

/**
 * Clipboard text longer than this travels as `clipboard-part` messages of at most this many characters:
 * with every character JSON-escaped (\uXXXX, 6 characters) one part stays under 64 KiB, the
 * max-message-size a data channel may assume of any peer (RFC 8841), whatever the text.
 */
export const CLIPBOARD_PART_CHARS = 8192;

/** The most parts one clipboard text takes (MAX_CLIPBOARD_CHARS in parts of CLIPBOARD_PART_CHARS). */
export const MAX_CLIPBOARD_PARTS = Math.ceil(MAX_CLIPBOARD_CHARS / CLIPBOARD_PART_CHARS);

/** Longest text one `type` message carries, in UTF-16 code units; RemoteInput.type() sends longer text in pieces. */
export const MAX_TYPE_CHARS = 1024;

/**
 * Input messages the agent holds for a viewer while earlier ones are still being injected (typing is
 * paced); one more is refused with an `ack` {ok: false, code: 'rate-limited'}.
 */
export const MAX_PENDING_INPUT = 256;

/**
 * Least time, in ms, between the last press of a spare keycode (one the native injector binds to a
 * character missing from the keymap) and its rebinding to another character. X clients look a key's
 * symbol up when they read the event, in the keymap as it is then: rebind a keycode before a client
 * has read its press and it reads the new character ("日本" → "本本"). The injector keeps a pool of
 * the keymap's empty keycodes (19 on Xvfb) and rebinds the least recently pressed, so this wait only
 * comes once a text has used them all. Measured on Xvfb with xev, 40 distinct characters off the keymap
 * a run, 25 runs, load 7–13 on 2 cores: with one spare keycode and 30 ms between characters 3 and 6
 * runs had wrong characters (5 and 18 in all, 1.5–2.1 s a run); with the pool and 30 ms before a
 * rebind, 2 runs (xev fell more than 19 characters behind); with the pool and 250 ms, 0 runs in 50
 * (about 0.5 s a run).
 */
export const REMAP_GAP_MS = 250;

/**
 * A viewer's bitrate ceiling (`quality`), bits per second: the values the agent accepts (outside them it
 * answers `out-of-range`); it then clamps into its own adaptive-bitrate range. At most one `quality` a
 * viewer is applied per intervalMs (later ones wait, and only the newest is applied).
 */
export const QUALITY_LIMITS = { minBitrate: 50_000, maxBitrate: 100_000_000, intervalMs: 500 } as const;

/**
 * The pointer over the input channel (publish({pointer: 'channel'})): shapes are sent at most maxSide
 * pixels a side (X cursors are 16–64; a larger one is scaled down) as a PNG of at most maxPngChars
 * base64 characters (one message under the 64 KiB any data channel peer takes; a shape whose PNG is
 * larger is halved until it fits). Positions are read at most positionHz times a second, sent only on change.
 */
export const CURSOR_LIMITS = { maxSide: 128, maxPngChars: 60_000, positionHz: 120 } as const;
