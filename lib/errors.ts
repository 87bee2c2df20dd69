// Typed errors. Every message says what went wrong and what to do about it.
import { packageFor } from './native/packages.js';

export class WebRtcBinError extends Error {
  readonly code: string;
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A GStreamer element the requested feature needs is not installed. */
export class MissingPluginError extends WebRtcBinError {
  readonly element: string;
  readonly debianPackage: string | undefined;
  constructor(element: string, detail?: string) {
    const pkg = packageFor(element);
    const remedy = pkg
      ? `install it with: apt-get install ${pkg}`
      : 'install the GStreamer plugin that provides it';
    super(
      `GStreamer element '${element}' is not available${detail ? ` (${detail})` : ''}; ${remedy}. ` +
        'Run `npx webrtcbin doctor` to check every element at once.',
      'ERR_MISSING_PLUGIN',
    );
    this.element = element;
    this.debianPackage = pkg;
  }
}

/** The operation is not allowed in the peer's current state (e.g. after close()). */
export class InvalidStateError extends WebRtcBinError {
  constructor(message: string) {
    super(message, 'ERR_INVALID_STATE');
  }
}

/** An argument is malformed (bad SDP, bad candidate, bad option). Nothing was changed. */
export class InvalidArgumentError extends WebRtcBinError {
  constructor(message: string) {
    super(message, 'ERR_INVALID_ARGUMENT');
  }
}

/** webrtcbin refused an operation (a GstPromise replied with an error). */
export class OperationError extends WebRtcBinError {
  constructor(operation: string, message: string) {
    super(`${operation} failed: ${message}`, 'ERR_OPERATION');
  }
}

/**
 * Something awaited did not happen in time (a view's first frame, a screen change, a screenshot's
 * frame). `timeoutMs` is the limit that ran out; the message says what was awaited and what to check.
 */
export class TimeoutError extends WebRtcBinError {
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number) {
    super(message, 'ERR_TIMEOUT');
    this.timeoutMs = timeoutMs;
  }
}

/** The media pipeline could not be built or started. */
export class PipelineError extends WebRtcBinError {
  constructor(message: string, code = 'ERR_PIPELINE') {
    super(message, code);
  }
}

interface BusErrorFields {
  source: string;
  domain: string;
  code: number;
  message: string;
  debug: string;
}

/** An error message from the GStreamer bus, with GStreamer's own fields kept. */
export class GStreamerError extends WebRtcBinError {
  readonly element: string;
  readonly domain: string;
  readonly gstCode: number;
  readonly debug: string;
  constructor(fields: BusErrorFields, code = 'ERR_GSTREAMER') {
    super(`${fields.source || 'pipeline'}: ${fields.message}`, code);
    this.element = fields.source;
    this.domain = fields.domain;
    this.gstCode = fields.code;
    this.debug = fields.debug;
  }
}

/**
 * The X display a capture reads went away (its X server stopped or crashed). The stream cannot
 * recover: close it, and start a new one once the display is back. The process itself is unharmed.
 */
export class XDisplayLostError extends GStreamerError {
  constructor(fields: BusErrorFields) {
    super(fields, 'ERR_X_DISPLAY_LOST');
  }
}

/** The native addon's domain for a lost capture display (src-native/x11/capture_guard.h). */
const X_DISPLAY_LOST_DOMAIN = 'webrtcbin-x-display-lost';

/** The typed error for a bus error message. */
export function busError(fields: BusErrorFields): GStreamerError {
  return fields.domain === X_DISPLAY_LOST_DOMAIN ? new XDisplayLostError(fields) : new GStreamerError(fields);
}

/** The native addon could not be loaded. The message lists the remedies. */
export class BindingLoadError extends WebRtcBinError {
  constructor(message: string, cause: unknown) {
    super(message, 'ERR_BINDING_LOAD', { cause });
  }
}

interface NativeErrorShape {
  message: string;
  code?: string;
  /** The element concerned (its factory name), when there is one. */
  element?: string;
  /** The GStreamer error behind a failed start (its first bus error): GError domain and code. */
  domain?: string;
  gstCode?: number;
}

/** What the caller knows that the addon does not: the X display a capture was asked to read. */
export interface NativeErrorContext {
  display?: string;
}

// GST_RESOURCE_ERROR_OPEN_READ: what ximagesrc posts when XOpenDisplay fails (its only OPEN_READ); our
// damage source (src-native/x11/damage_src.cc) posts it for a display it cannot open.
const RESOURCE_DOMAIN = 'gst-resource-error-quark';
const RESOURCE_OPEN_READ = 5;

/**
 * The X display a capture reads could not be opened. XOpenDisplay does not say why: no server on
 * it, or a server that refuses this user.
 */
export function displayUnavailable(display: string | undefined, detail: string): PipelineError {
  const which = display
    ? `X display ${display}`
    : `the X display ximagesrc reads (its display-name, else DISPLAY=${process.env.DISPLAY ?? '(unset)'})`;
  const start = display ? `\`Xvfb ${display} &\`` : '`Xvfb :99 &`';
  return new PipelineError(
    `${which} could not be opened (${detail}). Is an X server running on it? Start one (${start}, or ` +
      '`webrtcbin start --xvfb`), check the display name (DISPLAY), and that this user may connect to it ' +
      '(XAUTHORITY names the server\'s cookie file; or `xhost +SI:localuser:$USER` on the server).',
    'ERR_X_DISPLAY',
  );
}

/** Turns an error thrown by the addon (a plain Error with `code`) into its typed class. */
export function fromNative(error: unknown, operation = 'operation', context: NativeErrorContext = {}): Error {
  if (error instanceof WebRtcBinError) return error;
  if (!(error instanceof Error)) return new WebRtcBinError(String(error), 'ERR_UNKNOWN');
  const e = error as NativeErrorShape;
  if (e.code === 'ERR_STATE_CHANGE' && (e.element === 'ximagesrc' || e.element === 'webrtcbinxdamagesrc') && e.domain === RESOURCE_DOMAIN && e.gstCode === RESOURCE_OPEN_READ) {
    return displayUnavailable(context.display, e.message);
  }
  switch (e.code) {
    case 'ERR_MISSING_PLUGIN':
      return new MissingPluginError(e.element ?? 'unknown');
    case 'ERR_INVALID_STATE':
      return new InvalidStateError(e.message);
    case 'ERR_INVALID_SDP':
      return new InvalidArgumentError(`${operation}: ${e.message}`);
    case 'ERR_OPERATION':
      return new OperationError(operation, e.message);
    case 'ERR_PIPELINE':
    case 'ERR_PAD_REQUEST':
    case 'ERR_STATE_CHANGE':
    case 'ERR_INVALID_ICE_SERVER':
      return new PipelineError(e.message, e.code);
    default:
      return error;
  }
}
