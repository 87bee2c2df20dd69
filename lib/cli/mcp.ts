// `webrtcbin mcp`: a Model Context Protocol server over stdio, so any MCP-capable model sees and drives a
// VM's screen over WebRTC. Tools: screenshot (a PNG, with the screen's size), click, move, drag, scroll,
// type, key, clipboard_read, clipboard_write, wait_for_change, wait_for_still; coordinates in the screen's
// pixels. The official TypeScript SDK (@modelcontextprotocol/sdk, and zod) is an optional peer
// dependency, loaded here only. stdout is the protocol: every log line goes to stderr.
//
//   WEBRTCBIN_TOKEN_FILE=ctl.token webrtcbin mcp --url ws://controller/v1/ws --session vm-42
import type { McpServer as McpServerClass } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { StdioServerTransport as StdioServerTransportClass } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { z as zod } from 'zod';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { TimeoutError } from '../errors.js';
import { EXIT, exitAdvice } from './exit-codes.js';
import { TARGET_USAGE, UsageError, agentExitCode, checkPoint, openScreen, parseAgentArgs, resolveTarget, stderrLogger, type RemoteScreen, type Target } from './remote-screen.js';

export const MCP_USAGE = `usage: webrtcbin mcp [options]   an MCP server on stdin/stdout for the session's screen
${TARGET_USAGE}
      --log-level warn|info|debug (warn; to stderr)
  needs the MCP TypeScript SDK beside node-webrtcbin: npm install @modelcontextprotocol/sdk zod`;

const SDK_MISSING = 'webrtcbin mcp needs the Model Context Protocol TypeScript SDK, an optional peer dependency: install it beside node-webrtcbin with `npm install @modelcontextprotocol/sdk zod`';

/** The SDK and zod, loaded only when `mcp` runs (the package does not depend on them). */
async function loadSdk(): Promise<{ McpServer: typeof McpServerClass; StdioServerTransport: typeof StdioServerTransportClass; z: typeof zod }> {
  try {
    const [{ McpServer }, { StdioServerTransport }, { z }] = await Promise.all([
      import('@modelcontextprotocol/sdk/server/mcp.js'),
      import('@modelcontextprotocol/sdk/server/stdio.js'),
      import('zod'),
    ]);
    return { McpServer, StdioServerTransport, z };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new UsageError(`${SDK_MISSING} (${(error as Error).message.split('\n')[0]})`);
    throw error;
  }
}

type Sdk = Awaited<ReturnType<typeof loadSdk>>;

const text = (message: string): CallToolResult => ({ content: [{ type: 'text', text: message }] });

/** Timeouts of the view's waits: a still screen is an answer, not a failure. */
const isTimeout = (error: unknown) => error instanceof TimeoutError;

/** Registers every tool on `server`; `screen()` is the connected screen (joined on first need). */
export function registerTools(server: McpServerClass, z: Sdk['z'], screen: () => Promise<RemoteScreen>): void {
  // X11 coordinates are 16-bit; the screen's own bound is checked at the call (checkPoint).
  const px = (what: string) => z.number().int().min(0).max(32_767).describe(what);
  const button = z.enum(['left', 'middle', 'right']).optional().describe('mouse button (default left)');
  const sizeText = (s: RemoteScreen) => {
    const { width, height } = s.size();
    return `The screen is ${width}x${height} pixels; x runs 0-${width - 1} left to right, y 0-${height - 1} top to bottom.`;
  };
  const act = async (f: (s: RemoteScreen) => Promise<string>): Promise<CallToolResult> => text(await f(await screen()));

  server.registerTool(
    'screenshot',
    {
      title: 'Screenshot',
      description: 'Take a screenshot of the remote computer\'s screen, as it is now (a frame no older than the call), at its full resolution. Coordinates for the other tools are pixels of this image, origin at its top-left corner.',
      inputSchema: { format: z.enum(['png', 'jpeg']).optional().describe('image format (default png; jpeg is smaller)') },
      annotations: { readOnlyHint: true },
    },
    async ({ format }) => {
      const s = await screen();
      const f = format ?? 'png';
      const image = await s.view.screenshot({ format: f });
      return { content: [{ type: 'image', data: image.toString('base64'), mimeType: `image/${f}` }, { type: 'text', text: sizeText(s) }] };
    },
  );
  server.registerTool(
    'click',
    {
      title: 'Click',
      description: 'Click the mouse at a point of the screen (pixels of the screenshot). Resolves once the click was injected on the remote computer.',
      inputSchema: { x: px('x in screen pixels, from the left'), y: px('y in screen pixels, from the top'), button, count: z.number().int().min(1).max(3).optional().describe('clicks: 2 for a double click (default 1)') },
    },
    ({ x, y, button: b, count }) =>
      act(async (s) => {
        checkPoint(x, y, s.size());
        await s.input.click(x, y, { ...(b ? { button: b } : {}), ...(count ? { count } : {}) });
        return `clicked ${b ?? 'left'}${count && count > 1 ? ` x${count}` : ''} at (${x}, ${y})`;
      }),
  );
  server.registerTool(
    'move',
    {
      title: 'Move the pointer',
      description: 'Move the mouse pointer to a point of the screen without clicking (hover).',
      inputSchema: { x: px('x in screen pixels, from the left'), y: px('y in screen pixels, from the top') },
    },
    ({ x, y }) =>
      act(async (s) => {
        checkPoint(x, y, s.size());
        await s.input.move(x, y);
        return `pointer at (${x}, ${y})`;
      }),
  );
  server.registerTool(
    'drag',
    {
      title: 'Drag',
      description: 'Press a mouse button at one point, move to another and release it there (drag and drop, selecting text, moving a window).',
      inputSchema: { from_x: px('start x in screen pixels'), from_y: px('start y in screen pixels'), to_x: px('end x in screen pixels'), to_y: px('end y in screen pixels'), button },
    },
    ({ from_x, from_y, to_x, to_y, button: b }) =>
      act(async (s) => {
        checkPoint(from_x, from_y, s.size(), 'the start');
        checkPoint(to_x, to_y, s.size(), 'the end');
        await s.input.drag({ x: from_x, y: from_y }, { x: to_x, y: to_y }, b ? { button: b } : {});
        return `dragged from (${from_x}, ${from_y}) to (${to_x}, ${to_y})`;
      }),
  );
  server.registerTool(
    'scroll',
    {
      title: 'Scroll',
      description: 'Turn the mouse wheel, in notches: dy > 0 scrolls down, dy < 0 up, dx > 0 right, dx < 0 left. With x and y the pointer moves there first (scroll what is under it).',
      inputSchema: {
        dx: z.number().int().min(-50).max(50).describe('horizontal notches (positive: right)'),
        dy: z.number().int().min(-50).max(50).describe('vertical notches (positive: down)'),
        x: px('where to scroll: x in screen pixels').optional(),
        y: px('where to scroll: y in screen pixels').optional(),
      },
    },
    ({ dx, dy, x, y }) =>
      act(async (s) => {
        if ((x === undefined) !== (y === undefined)) throw new UsageError('give both x and y to scroll at a point, or neither');
        if (x !== undefined && y !== undefined) checkPoint(x, y, s.size());
        await s.input.scroll(dx, dy, x !== undefined && y !== undefined ? { x, y } : {});
        return `scrolled (${dx}, ${dy})${x !== undefined ? ` at (${x}, ${y})` : ''}`;
      }),
  );
  server.registerTool(
    'type',
    {
      title: 'Type text',
      description: 'Type text on the keyboard into whatever has the focus (click a field first). Any Unicode characters; a newline is typed as Enter. For shortcuts and special keys use the key tool.',
      inputSchema: { text: z.string().min(1).max(10_000).describe('the text to type') },
    },
    ({ text: t }) =>
      act(async (s) => {
        await s.input.type(t);
        return `typed ${t.length} characters`;
      }),
  );
  server.registerTool(
    'key',
    {
      title: 'Press a key or combination',
      description: 'Press and release a key or a key combination: modifiers joined with +, then the key. Examples: "Enter", "Tab", "Escape", "BackSpace", "ctrl+a", "ctrl+shift+t", "alt+F4", "Up", "PageDown".',
      inputSchema: { combo: z.string().min(1).max(64).describe('the key or combination, e.g. ctrl+c') },
    },
    ({ combo }) =>
      act(async (s) => {
        await s.input.key(combo);
        return `pressed ${combo}`;
      }),
  );
  server.registerTool(
    'clipboard_read',
    { title: 'Read the clipboard', description: 'Read the remote computer\'s clipboard text (what was last copied there).', inputSchema: {}, annotations: { readOnlyHint: true } },
    () => act(async (s) => s.input.clipboard.read()),
  );
  server.registerTool(
    'clipboard_write',
    {
      title: 'Write the clipboard',
      description: 'Put text on the remote computer\'s clipboard, to paste there (e.g. with key ctrl+v). Faster than typing long text.',
      inputSchema: { text: z.string().max(65_536).describe('the text to put on the clipboard') },
    },
    ({ text: t }) =>
      act(async (s) => {
        await s.input.clipboard.write(t);
        return `clipboard set (${t.length} characters)`;
      }),
  );
  const region = z
    .object({ x: px('left'), y: px('top'), width: z.number().int().min(1), height: z.number().int().min(1) })
    .optional()
    .describe('watch only this rectangle (screen pixels); default the whole screen');
  server.registerTool(
    'wait_for_change',
    {
      title: 'Wait for the screen to change',
      description: 'Wait until the screen (or a region of it) changes, e.g. after an action whose effect takes time. Answers "changed" or "no change" after timeout_ms; take a screenshot then to see it.',
      inputSchema: { timeout_ms: z.number().int().min(1).max(120_000).optional().describe('how long to wait (default 5000)'), region },
      annotations: { readOnlyHint: true },
    },
    async ({ timeout_ms, region: r }) => {
      const s = await screen();
      const timeoutMs = timeout_ms ?? 5000;
      const started = Date.now();
      try {
        await s.view.waitForChange({ ...(r ? { region: r } : {}), timeoutMs });
        return text(`changed after ${Date.now() - started} ms`);
      } catch (error) {
        if (isTimeout(error)) return text(`no change within ${timeoutMs} ms`);
        throw error;
      }
    },
  );
  server.registerTool(
    'wait_for_still',
    {
      title: 'Wait for the screen to settle',
      description: 'Wait until the screen has not changed for still_ms (a page finished loading, an animation ended), up to timeout_ms.',
      inputSchema: {
        still_ms: z.number().int().min(50).max(10_000).optional().describe('how long it must stay unchanged (default 500)'),
        timeout_ms: z.number().int().min(1).max(120_000).optional().describe('how long to wait at most (default 10000)'),
      },
      annotations: { readOnlyHint: true },
    },
    async ({ still_ms, timeout_ms }) => {
      const s = await screen();
      const ms = still_ms ?? 500;
      const timeoutMs = timeout_ms ?? 10_000;
      const started = Date.now();
      try {
        await s.view.waitForStill({ ms, timeoutMs });
        return text(`still for ${ms} ms after ${Date.now() - started} ms`);
      } catch (error) {
        if (isTimeout(error)) return text(`the screen kept changing for ${timeoutMs} ms`);
        throw error;
      }
    },
  );
}

/** The screen, joined once on first need; a failed join is tried again at the next tool call. */
function lazyScreen(target: Target, log: ReturnType<typeof stderrLogger>): { get: () => Promise<RemoteScreen>; close: () => Promise<void> } {
  let pending: Promise<RemoteScreen> | undefined;
  return {
    get: () =>
      (pending ??= openScreen(target, { log }).catch((error: unknown) => {
        pending = undefined;
        throw error;
      })),
    close: async () => {
      const p = pending;
      pending = undefined;
      await p?.then((s) => s.close(), () => {});
    },
  };
}

/** Runs `mcp`; resolves with -1 (keeps serving until stdin closes), or an exit code on a usage error. */
export async function mcp(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // stdout carries JSON-RPC only: anything printed by mistake would corrupt the protocol.
  console.log = console.error;
  console.info = console.error;
  let target: Target;
  let sdk: Sdk;
  let level: 'warn' | 'info' | 'debug';
  try {
    const { values, positionals } = parseAgentArgs(argv, { 'log-level': { type: 'string' } });
    if (values.help) {
      process.stderr.write(`${MCP_USAGE}\n`);
      return 0;
    }
    if (positionals.length) throw new UsageError(`mcp takes no arguments, only options: ${positionals.join(' ')}`);
    const l = values['log-level'] ?? (values.verbose ? 'debug' : 'warn');
    if (l !== 'warn' && l !== 'info' && l !== 'debug') throw new UsageError(`--log-level must be warn, info or debug, not ${JSON.stringify(l)}`);
    level = l;
    target = resolveTarget(values, env);
    sdk = await loadSdk();
  } catch (error) {
    const code = agentExitCode(error);
    process.stderr.write(`webrtcbin mcp: ${(error as Error).message}${error instanceof UsageError && !(error as Error).message.startsWith(SDK_MISSING) ? `\n\n${MCP_USAGE}` : ''}\n${exitAdvice(code)}\n`);
    return code;
  }
  const log = stderrLogger(level);
  const connection = lazyScreen(target, log);
  const server = new sdk.McpServer(
    { name: 'webrtcbin', version: '1' },
    {
      instructions: `The screen of a remote computer (session "${target.session}"), seen and driven over WebRTC. Take a screenshot first: it says the screen's size, and every coordinate is a pixel of it (origin top-left). After an action, wait_for_change or wait_for_still, then take a screenshot to see its effect.`,
    },
  );
  registerTools(server, sdk.z, connection.get);
  // Join now, so the first screenshot does not wait for negotiation; a failure is reported to the tool call.
  void connection.get().catch((error: unknown) => log.warn({ error: (error as Error).message }, 'not connected to the session yet; the next tool call tries again'));

  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ why }, 'stopping');
    await server.close().catch(() => {});
    await connection.close();
    // The view and the SDK's stdin listener are gone: the process ends by itself.
    process.exitCode = EXIT.ok;
  };
  const transport = new sdk.StdioServerTransport();
  transport.onclose = () => void stop('the client closed the connection');
  process.stdin.once('end', () => void stop('stdin ended'));
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  await server.connect(transport);
  log.info({ session: target.session }, 'MCP server ready on stdio');
  return -1;
}
