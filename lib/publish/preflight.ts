// Fail fast: publish() builds what it will stream once, before it connects, so a mistake is refused at
// start with GStreamer's own reason instead of when the first viewer joins (who would then see nothing).
// The shared encoder's pipeline (source → convert → encoder) is built, started and closed: that checks
// the elements (MissingPluginError naming the package), the description (GStreamer's parse message,
// PipelineError), the display (PipelineError ERR_X_DISPLAY naming it) and the codec's encoder. It costs
// one pipeline start, 20–250 ms on a loaded 2-core machine; the capture runs for no longer than that.
import { Streamer } from '../encoder/streamer.js';
import { defaultDesktopCodec } from '../native/elements.js';
import type { SendVideoOptions, SourceOptions } from '../types.js';

export interface PreflightOptions {
  source?: SourceOptions;
  video?: SendVideoOptions;
  /** A receiving publisher has nothing to check: its decoders are planned per remote stream. */
  receive?: unknown;
}

/**
 * Throws the typed error (MissingPluginError, PipelineError, InvalidArgumentError) a viewer's pipeline
 * would fail with; returns when the source and the encoder start. With `shareEncoder: false` each viewer
 * gets a pipeline of its own, built from the same source and codec, so the same check holds.
 */
export function checkSource(options: PreflightOptions): void {
  if (options.receive || !options.source) return;
  const streamer = new Streamer({ source: options.source, video: { ...options.video, codec: options.video?.codec ?? defaultDesktopCodec() } });
  // A bus error after the start (the pipeline is already closing) is no longer anyone's concern.
  streamer.on('error', () => {});
  // The teardown runs on a thread of its own; nothing waits for it.
  void streamer.close().catch(() => {});
}
