// A test window that records its X events (xev, covering the screen from the top-left), so tests can
// check what input reached the VM's display.
import { spawn } from 'node:child_process';

export interface Xev {
  /** Everything xev printed so far. */
  readonly text: string;
  kill: () => void;
}

export async function startXev(display: string, geometry: string, kinds: ('button' | 'keyboard')[]): Promise<Xev> {
  const args = ['-display', display, '-geometry', `${geometry}+0+0`, ...kinds.flatMap((k) => ['-event', k])];
  const child = spawn('xev', args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
