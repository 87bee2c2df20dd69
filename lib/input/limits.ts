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
 * Least time, in ms, between two different characters typed through the spare keycode (characters
 * missing from the keymap). X clients look a key's symbol up when they read the event, in the keymap
 * as it is then: remap the keycode before a client has read the previous press and it reads the new
 * character. Measured on Xvfb with xev, 36 remapped characters a run: with no gap nearly every run
 * is wrong ("日本" → "本本"); at 30 ms, 1 run in 25 had one character wrong with the load at ~21 on
 * 2 cores (and runs at other gaps up to 80 ms erred too on that loaded machine). Only a pool of spare
 * keycodes in the native injector removes the race; this keeps it rare.
 */
export const REMAP_GAP_MS = 30;

/**
 * A viewer's bitrate ceiling (`quality`), bits per second: the values the agent accepts (outside them it
 * answers `out-of-range`); it then clamps into its own adaptive-bitrate range. At most one `quality` a
 * viewer is applied per intervalMs (later ones wait, and only the newest is applied).
 */
export const QUALITY_LIMITS = { minBitrate: 50_000, maxBitrate: 100_000_000, intervalMs: 500 } as const;
