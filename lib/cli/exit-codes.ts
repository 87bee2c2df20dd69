// The exit codes of `webrtcbin stream` and `webrtcbin start`, and which error ends with which. Two kinds
// a service manager must tell apart: "fix the configuration" (2: restarting cannot help, so the image's
// unit does not, RestartPreventExitStatus=2) and "try later" (75, sysexits.h's EX_TEMPFAIL: the daemon
// is down, the display is not up yet, another agent holds the session; a restart may succeed).
import { MissingPluginError, InvalidArgumentError, PipelineError, XDisplayLostError, BindingLoadError } from '../errors.js';
import { SignalingError } from '../signaling/signaling-error.js';

export const EXIT = {
  ok: 0,
  /** Anything not classified below (a bug, a runtime GStreamer error). */
  failed: 1,
  /** Fix the configuration: bad usage, a source or codec that cannot work here, a refused token. */
  config: 2,
  /** The X display being streamed was lost (the service manager restarts the agent and its Xvfb). */
  displayLost: 3,
  /** Try later: the daemon is unreachable, the X display does not open yet, the session is taken. */
  tempfail: 75,
} as const;

/** The code to exit with after `error`. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof XDisplayLostError) return EXIT.displayLost;
  if (error instanceof SignalingError) {
    // A bad or expired token, or a refused upgrade (HTTP 401/403): only a new one or a fixed URL helps.
    if (error.reason === 'unauthorized' || error.reason === 'token-expired') return EXIT.config;
    return EXIT.tempfail; // publisher-exists and the like: the other agent may go away
  }
  // An X display that does not open may still be starting (a unit ordered before its X server).
  if (error instanceof PipelineError && error.code === 'ERR_X_DISPLAY') return EXIT.tempfail;
  if (error instanceof MissingPluginError || error instanceof PipelineError || error instanceof InvalidArgumentError || error instanceof BindingLoadError) {
    return EXIT.config;
  }
  return EXIT.failed;
}

/** The "what now" line printed beside an exit code. */
export function exitAdvice(code: number): string {
  if (code === EXIT.config) return `exit ${code}: fix the configuration, then start again (restarting as is cannot help)`;
  if (code === EXIT.tempfail) return `exit ${code}: try again later (a service manager restarts it)`;
  return `exit ${code}`;
}
