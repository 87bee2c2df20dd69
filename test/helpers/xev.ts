// A test window that records its X events (xev, covering the screen from the top-left), so tests can
// check what input reached the VM's display.
import { spawn } from 'node:child_process';
import { waitFor } from './wait.js';

export interface Xev {
  /** Everything xev printed so far. */
  readonly text: string;
  kill: () => void;
}

export async function startXev(display: string, geometry: string, kinds: ('button' | 'keyboard' | 'mouse')[]): Promise<Xev> {
  const args = ['-display', display, '-geometry', `${geometry}+0+0`, ...kinds.flatMap((k) => ['-event', k])];
  // A UTF-8 locale: XLookupString then prints typed non-ASCII text as itself.
  const child = spawn('xev', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } });
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d));
  await new Promise((r) => setTimeout(r, 500)); // xev maps its window
  return {
    get text() {
      return text;
    },
    kill: () => child.kill(),
  };
}

/** Asserts a click at (x, y) (±2 px) and then "hi" + Enter arrived at the display, as the input tests send them. */
export async function assertClickAndTyping(t: { ok(v: unknown, m: string): void; match(s: string, re: RegExp, m: string): void }, xev: Xev, x: number, y: number): Promise<void> {
  await waitFor('the keys at the X client', () => /keysym 0xff0d, Return/.test(xev.text), 10_000).catch(() => {});
  const press = /ButtonPress event[^]*?\((\d+),(\d+)\)/.exec(xev.text);
  t.ok(press, 'a click arrived');
  t.ok(Math.abs(Number(press?.[1]) - x) <= 2 && Math.abs(Number(press?.[2]) - y) <= 2, `at (${press?.[1]},${press?.[2]}), expected (${x},${y})`);
  t.match(xev.text, /keysym 0x68, h\)[^]*keysym 0x69, i\)/, '"hi" typed in order');
  t.match(xev.text, /keysym 0xff0d, Return/, 'Enter');
}
