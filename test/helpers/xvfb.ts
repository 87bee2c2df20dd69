// A real Xvfb display for capture tests, on a display number nobody uses.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface Xvfb {
  display: string;
  kill: () => Promise<void>;
}

export async function startXvfb(size = '640x480x24'): Promise<Xvfb> {
  let n = 90 + Math.floor(Math.random() * 100);
  while (existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`)) n++;
  const display = `:${n}`;
  const child: ChildProcess = spawn('Xvfb', [display, '-screen', '0', size, '-nolisten', 'tcp'], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!existsSync(`/tmp/.X11-unix/X${n}`)) {
    if (child.exitCode !== null) throw new Error(`Xvfb ${display} exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`Xvfb ${display} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    display,
    kill: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
