// `webrtcbin input`: one input action on a VM's screen from a shell, for scripts and operators. Joins the
// session as a viewer (its token needs the control claim: `webrtcbin token --control`), takes control,
// sends the action, exits once the publisher has acknowledged it ("clicked" means clicked).
//
//   webrtcbin input --url ws://controller/v1/ws --session vm-42 --token-file ctl.token click 640 360
import { exitAdvice } from './exit-codes.js';
import { TARGET_USAGE, UsageError, agentExitCode, checkPoint, numberArg, openScreen, parseAgentArgs, resolveTarget, stderrLogger, type RemoteScreen } from './remote-screen.js';

export const INPUT_USAGE = `usage: webrtcbin input [options] ACTION   (coordinates in the VM screen's pixels, origin top-left)
${TARGET_USAGE}
actions:
  click X Y [--button left|middle|right] [--count N (2: a double click)]
  move X Y
  drag X1 Y1 X2 Y2 [--button left|middle|right]
  scroll DX DY        wheel notches: DY > 0 down, DX > 0 right (at the pointer)
  type TEXT           any Unicode text (quote it; -- before a TEXT that starts with -)
  key COMBO           e.g. Enter, ctrl+a, ctrl+shift+t, alt+F4
  clipboard read      prints the VM's clipboard text
  clipboard write TEXT
  resize W H          asks the VM screen to take this size`;

const BUTTONS = ['left', 'middle', 'right'] as const;
type Button = (typeof BUTTONS)[number];

/** What to do once connected; checked before connecting, so a typo costs no session join. */
type Action = (screen: RemoteScreen) => Promise<string | undefined>;

function button(text: string | undefined): Button | undefined {
  if (text === undefined) return undefined;
  if (!(BUTTONS as readonly string[]).includes(text)) throw new UsageError(`--button must be one of ${BUTTONS.join(', ')}, not ${JSON.stringify(text)}`);
  return text as Button;
}

function arity(action: string, args: string[], names: string[]): void {
  if (args.length !== names.length) throw new UsageError(`${action} takes ${names.join(' ')}${args.length ? `, not: ${args.join(' ')}` : ''}`);
}

/** The action named by the positionals, checked. */
export function parseAction(positionals: string[], flags: { button?: string; count?: string }): Action {
  const [name, ...args] = positionals;
  const point = (i: number) => ({ x: numberArg(args[i], 'X'), y: numberArg(args[i + 1], 'Y') });
  if (name !== 'click' && name !== 'drag' && (flags.button !== undefined || flags.count !== undefined)) throw new UsageError(`--button and --count go with click (and --button with drag), not ${name ?? 'no action'}`);
  switch (name) {
    case 'click': {
      arity(name, args, ['X', 'Y']);
      const { x, y } = point(0);
      const b = button(flags.button);
      const count = flags.count === undefined ? undefined : numberArg(flags.count, '--count');
      if (count !== undefined && (count < 1 || count > 3)) throw new UsageError(`--count must be 1, 2 or 3, not ${count}`);
      return async (s) => {
        checkPoint(x, y, s.size());
        await s.input.click(x, y, { ...(b ? { button: b } : {}), ...(count ? { count } : {}) });
        return undefined;
      };
    }
    case 'move': {
      arity(name, args, ['X', 'Y']);
      const { x, y } = point(0);
      return async (s) => {
        checkPoint(x, y, s.size());
        await s.input.move(x, y);
        return undefined;
      };
    }
    case 'drag': {
      arity(name, args, ['X1', 'Y1', 'X2', 'Y2']);
      const from = point(0);
      const to = point(2);
      const b = button(flags.button);
      return async (s) => {
        checkPoint(from.x, from.y, s.size(), 'the start');
        checkPoint(to.x, to.y, s.size(), 'the end');
        await s.input.drag(from, to, b ? { button: b } : {});
        return undefined;
      };
    }
    case 'scroll': {
      arity(name, args, ['DX', 'DY']);
      const dx = numberArg(args[0], 'DX');
      const dy = numberArg(args[1], 'DY');
      return async (s) => {
        await s.input.scroll(dx, dy);
        return undefined;
      };
    }
    case 'type': {
      if (args.length === 0) throw new UsageError('type takes the TEXT to type');
      const text = args.join(' ');
      return async (s) => {
        await s.input.type(text);
        return undefined;
      };
    }
    case 'key': {
      arity(name, args, ['COMBO']);
      const combo = args[0]!;
      return async (s) => {
        await s.input.key(combo);
        return undefined;
      };
    }
    case 'clipboard': {
      if (args[0] === 'read') {
        arity('clipboard read', args.slice(1), []);
        return async (s) => s.input.clipboard.read();
      }
      if (args[0] === 'write') {
        if (args.length < 2) throw new UsageError('clipboard write takes the TEXT to put on the clipboard');
        const text = args.slice(1).join(' ');
        return async (s) => {
          await s.input.clipboard.write(text);
          return undefined;
        };
      }
      throw new UsageError(`clipboard takes read or write TEXT${args[0] ? `, not ${JSON.stringify(args[0])}` : ''}`);
    }
    case 'resize': {
      arity(name, args, ['W', 'H']);
      const w = numberArg(args[0], 'W');
      const h = numberArg(args[1], 'H');
      return async (s) => {
        await s.input.resize(w, h);
        return undefined;
      };
    }
    case undefined:
      throw new UsageError('input needs an ACTION (click, move, drag, scroll, type, key, clipboard, resize)');
    default:
      throw new UsageError(`unknown action ${JSON.stringify(name)}: click, move, drag, scroll, type, key, clipboard or resize`);
  }
}

/** Runs `input`; resolves with the exit code. */
export async function input(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let close: (() => Promise<void>) | undefined;
  try {
    const { values, positionals } = parseAgentArgs(argv, { button: { type: 'string' }, count: { type: 'string' } });
    if (values.help) {
      console.log(INPUT_USAGE);
      return 0;
    }
    const action = parseAction(positionals, values);
    const target = resolveTarget(values, env);
    const screen = await openScreen(target, values.verbose ? { log: stderrLogger('debug') } : {});
    close = screen.close;
    const output = await action(screen);
    if (output !== undefined) process.stdout.write(process.stdout.isTTY ? `${output}\n` : output);
    return 0;
  } catch (error) {
    const code = agentExitCode(error);
    console.error(`webrtcbin input: ${(error as Error).message}${error instanceof UsageError ? `\n\n${INPUT_USAGE}` : ''}\n${exitAdvice(code)}`);
    return code;
  } finally {
    await close?.();
  }
}
