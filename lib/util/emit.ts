// Reporting an error from an event source (a peer, a streamer, a publisher, the X clipboard). An
// 'error' event nobody listens to throws, and here it would throw from inside a native or socket
// callback; so the error is emitted when someone listens, and becomes a process warning otherwise.
//
// The warning's code scheme: every such warning has the one code WEBRTCBIN_ERROR (filter
// process.on('warning') on it); its message is the error's, and its detail names the error's class
// and own code (ERR_…) and the object to add the listener to.
export const UNHEARD_ERROR_CODE = 'WEBRTCBIN_ERROR';

export interface EmitErrorOptions {
  /** What the user calls the emitter, for the warning's remedy: "peer", "publisher", … */
  source: string;
  /** Gets what an 'error' listener threw; without it, the throw reaches the caller. */
  onListenerThrow?: (thrown: unknown) => void;
}

/** What emitError needs of an EventEmitter whose events include `error: [Error]`. */
export interface ErrorEmitter<E extends Error> {
  listenerCount(event: 'error'): number;
  emit(event: 'error', error: E): boolean;
}

/** Emits `error` on `emitter`, or, with no 'error' listener, turns it into a process warning. */
export function emitError<E extends Error>(emitter: ErrorEmitter<E>, error: E, options: EmitErrorOptions): void {
  if (emitter.listenerCount('error') === 0) {
    const code = (error as { code?: unknown }).code;
    const what = typeof code === 'string' ? `${error.name} (${code})` : error.name;
    process.emitWarning(error.message, { code: UNHEARD_ERROR_CODE, detail: `${what}: add a ${options.source}.on("error") listener to handle it` });
    return;
  }
  if (!options.onListenerThrow) {
    emitter.emit('error', error);
    return;
  }
  try {
    emitter.emit('error', error);
  } catch (thrown) {
    options.onListenerThrow(thrown);
  }
}

/** What a caught value says, for a log line or a reason: an Error's message, anything else as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
