// The VM screen the agent commands (`shot`, `input`, `mcp`) reach: their shared flags (daemon URL,
// session, token from a file or the environment rather than argv), one view() of the session with its
// input, and the exit code each failure ends with (2 fix the configuration, 75 try later).
import { parseArgs } from 'node:util';
import { InvalidArgumentError, InvalidStateError, TimeoutError } from '../errors.js';
// Types only: the WebRTC stack (the addon, GStreamer) loads when a command connects, not for --help.
import type { RemoteView } from '../agent/remote-view.js';
import type { RemoteInput } from '../agent/remote-input.js';
import type { Logger } from '../signaling/client.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { SECRETS, resolveSecret, warnArgvSecret } from './secrets.js';

/** The flags every agent command takes (parseArgs options), beside its own. */
export const TARGET_OPTIONS = {
  url: { type: 'string' },
  session: { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  timeout: { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
} as const;

export const TARGET_USAGE = `      --url URL (WEBRTCBIN_URL)  ws://host:8080/v1/ws, or the viewer page's address (its session and
                      token are used unless given)  --session NAME (WEBRTCBIN_SESSION)
      --token-file FILE (WEBRTCBIN_TOKEN_FILE, or WEBRTCBIN_TOKEN; --token T works but every local user
                      can read argv: a warning)  a viewer token, minted with --control for input
      --timeout SECONDS (20): connected with a first frame within it, else exit 75
      --verbose, -v   the connection's log lines on stderr (otherwise only the outcome)`;

export interface Target {
  url: string;
  session: string;
  token: string | undefined;
  timeoutMs: number;
}

/** A usage mistake: the command prints it with its help line and exits 2. */
export class UsageError extends InvalidArgumentError {}

/** Negative numbers (`scroll 0 -3`) are positionals, not short options: parseArgs is told so. */
const NEGATIVE = /^-\d+(\.\d+)?$/;
const ESCAPE = '\u0000';

type OptionSpec = { type: 'string' | 'boolean' };
/** The parsed flags: strings, or booleans for boolean options (parseArgs's own type cannot be named in a declaration). */
export type AgentValues<O extends Record<string, OptionSpec>> = {
  [K in keyof (typeof TARGET_OPTIONS & O)]?: (typeof TARGET_OPTIONS & O)[K] extends { type: 'boolean' } ? boolean : string;
} & { help?: boolean };

/** parseArgs over the target flags plus `own`, positionals allowed (negative numbers among them). */
export function parseAgentArgs<O extends Record<string, OptionSpec>>(argv: string[], own: O): { values: AgentValues<O>; positionals: string[] } {
  const args = argv.map((a) => (NEGATIVE.test(a) ? ESCAPE + a : a));
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...TARGET_OPTIONS, ...own, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const positionals = parsed.positionals.map((p) => (p.startsWith(ESCAPE) ? p.slice(1) : p));
  return { values: parsed.values as AgentValues<O>, positionals };
}

/** The target from flags and the environment; the token is read once (a file first) and never logged. */
export function resolveTarget(values: { url?: string; session?: string; token?: string; 'token-file'?: string; timeout?: string }, env: NodeJS.ProcessEnv = process.env): Target {
  const given = values.url ?? env.WEBRTCBIN_URL;
  if (!given) throw new UsageError('--url (WEBRTCBIN_URL) is required: the daemon\'s WebSocket URL (ws://controller:8080/v1/ws) or the viewer page\'s address');
  const page = signalingTarget(given);
  const session = values.session ?? page.session ?? env.WEBRTCBIN_SESSION;
  if (!session) throw new UsageError('--session (WEBRTCBIN_SESSION) is required: the session the VM streams to');
  let resolved = resolveSecret(SECRETS.token, { value: values.token, file: values['token-file'] }, env);
  // A page address's token is used when no flag names one (before the environment's: the address is the more specific).
  if (page.token !== undefined && values.token === undefined && values['token-file'] === undefined) {
    resolved = { value: page.token, source: '--url', onArgv: values.url !== undefined };
  }
  if (resolved.onArgv) warnArgvSecret(SECRETS.token);
  const url = page.url;
  // Not WEBRTCBIN_CONNECT_TIMEOUT: that is `stream`'s (0 there waits for ever), often set in a VM's environment.
  const timeoutText = values.timeout;
  const timeoutS = timeoutText === undefined || timeoutText === '' ? 20 : Number(timeoutText);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new UsageError(`--timeout must be a positive number of seconds, not ${JSON.stringify(timeoutText)}`);
  return { url, session, token: resolved.value, timeoutMs: timeoutS * 1000 };
}

/**
 * The daemon's WebSocket URL from what an operator has at hand: a ws(s):// URL as is, or the viewer page's
 * http(s):// address (what `webrtcbin start` prints), whose signaling endpoint is `v1/ws` beside the page
 * (a daemon under a prefix too) and whose query may carry the session and token.
 */
export function signalingTarget(address: string): { url: string; session?: string; token?: string } {
  let parsed: URL;
  try {
    parsed = new URL(address);
  } catch {
    throw new UsageError(`--url ${JSON.stringify(address)} is not a URL: give ws://host:port/v1/ws or the viewer page's http://host:port/ address`);
  }
  if (parsed.protocol === 'ws:' || parsed.protocol === 'wss:') return { url: address };
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`--url must start with ws://, wss://, http:// or https:// (got ${parsed.protocol}//)`);
  }
  const ws = new URL('v1/ws', parsed);
  ws.protocol = parsed.protocol === 'https:' ? 'wss:' : 'ws:';
  ws.search = ws.hash = '';
  const session = parsed.searchParams.get('session') ?? undefined;
  const token = parsed.searchParams.get('token') ?? undefined;
  return { url: ws.href, ...(session ? { session } : {}), ...(token ? { token } : {}) };
}

/** What the commands use of the input side: RemoteInput's methods (RemoteView's own once glued on). */
export type ScreenInput = Pick<RemoteInput, 'move' | 'click' | 'drag' | 'scroll' | 'type' | 'key' | 'clipboard' | 'resize'>;

export interface RemoteScreen {
  readonly view: RemoteView;
  readonly input: ScreenInput;
  /** The VM screen's size now, in the pixels input coordinates are in. */
  size(): { width: number; height: number };
  close(): Promise<void>;
}

/** Logs to stderr as JSON lines (stdout is the image, the clipboard text or the MCP protocol). */
export function stderrLogger(level: 'warn' | 'info' | 'debug'): Logger {
  const rank = { debug: 0, info: 1, warn: 2, error: 3 } as const;
  const line = (lvl: keyof typeof rank) => (obj: object, msg?: string) => {
    if (rank[lvl] >= rank[level]) process.stderr.write(`${JSON.stringify({ level: lvl, ...obj, ...(msg ? { msg } : {}) })}\n`);
  };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

/** Joins the session as a viewer and waits for its first frame (within target.timeoutMs); silent unless given a log. */
export async function openScreen(target: Target, options: { log?: Logger } = {}): Promise<RemoteScreen> {
  const { view } = await import('../agent/remote-view.js');
  const v = view({ url: target.url, session: target.session, token: target.token, timeoutMs: target.timeoutMs, ...(options.log ? { log: options.log } : {}) });
  // Errors come through `ready` and the calls; without a listener each would be printed twice.
  v.on('error', () => {});
  try {
    await v.ready;
  } catch (error) {
    await v.close();
    throw error;
  }
  const input = inputOf(v);
  return {
    view: v,
    input,
    size: () => v.screen(),
    close: async () => {
      await input.close();
      await v.close();
    },
  };
}

/** How long an input waits for the publisher's input channel (it opens with the connection). */
const CHANNEL_WAIT_MS = 5000;

/**
 * RemoteView's own input once the two halves are glued together; until then a RemoteInput on the view's
 * input channel, made again when a reconnection brings a new channel.
 */
function inputOf(v: RemoteView): ScreenInput & { close(): Promise<void> } {
  const glued = v as unknown as Partial<ScreenInput>;
  let current: { channel: unknown; input: RemoteInput } | undefined;
  const get = async (): Promise<ScreenInput> => {
    if (typeof glued.click === 'function') return glued as ScreenInput;
    const deadline = Date.now() + CHANNEL_WAIT_MS;
    while (!v.inputChannel) {
      if (Date.now() > deadline) throw new InvalidStateError(`the publisher opened no input channel to this viewer within ${CHANNEL_WAIT_MS} ms: it streams without remote control, or the connection is down`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const channel = v.inputChannel;
    if (current?.channel !== channel) {
      const { RemoteInput: Input } = await import('../agent/remote-input.js');
      void current?.input.close();
      current = { channel, input: new Input(channel, { screen: () => v.screen() }) };
    }
    return current.input;
  };
  return {
    move: async (...a) => (await get()).move(...a),
    click: async (...a) => (await get()).click(...a),
    drag: async (...a) => (await get()).drag(...a),
    scroll: async (...a) => (await get()).scroll(...a),
    type: async (...a) => (await get()).type(...a),
    key: async (...a) => (await get()).key(...a),
    resize: async (...a) => (await get()).resize(...a),
    clipboard: {
      read: async () => (await get()).clipboard.read(),
      write: async (text: string) => (await get()).clipboard.write(text),
    },
    close: async () => {
      await current?.input.close();
    },
  } as ScreenInput & { close(): Promise<void> };
}

/** The exit code of a failed agent command. */
export function agentExitCode(error: unknown): number {
  if (error instanceof UsageError) return EXIT.config;
  // Not ready in time (no daemon, no publisher yet, no frame): another try later may succeed.
  if (error instanceof TimeoutError) return EXIT.tempfail;
  // Input refused for this token (no control claim) or a bad key name: only a new token or a fixed call helps.
  if (error instanceof InvalidStateError || error instanceof InvalidArgumentError) return EXIT.config;
  return exitCodeFor(error);
}

/** A whole number (or decimal with `decimal`) from a positional, or a UsageError naming it. */
export function numberArg(text: string | undefined, name: string, decimal = false): number {
  const n = Number(text);
  if (text === undefined || text === '' || !Number.isFinite(n) || (!decimal && !Number.isInteger(n))) {
    throw new UsageError(`${name} must be a ${decimal ? 'number' : 'whole number'}${text === undefined ? ' (missing)' : `, not ${JSON.stringify(text)}`}`);
  }
  return n;
}

/** A point inside the screen, or a worded InvalidArgumentError (the screen's size in it, origin top-left). */
export function checkPoint(x: number, y: number, size: { width: number; height: number }, what = 'the point'): void {
  if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 || x >= size.width || y >= size.height) {
    throw new InvalidArgumentError(`${what} (${x}, ${y}) is outside the screen: x must be 0-${size.width - 1} and y 0-${size.height - 1} (the screen is ${size.width}x${size.height} pixels, origin top-left)`);
  }
}
