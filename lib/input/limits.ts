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
