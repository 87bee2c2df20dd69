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
 * A viewer's bitrate ceiling (`quality`), bits per second: the values the agent accepts (outside them it
 * answers `out-of-range`); it then clamps into its own adaptive-bitrate range. At most one `quality` a
 * viewer is applied per intervalMs (later ones wait, and only the newest is applied).
 */
export const QUALITY_LIMITS = { minBitrate: 50_000, maxBitrate: 100_000_000, intervalMs: 500 } as const;
