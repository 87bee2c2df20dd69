// A real Xvfb display for capture tests, on a display number Xvfb finds free itself.
import { spawn, type ChildProcess } from 'node:child_process';

export interface Xvfb {
  display: string;
  kill: () => Promise<void>;
}

export async function startXvfb(size = '640x480x24'): Promise<Xvfb> {
  // -displayfd: Xvfb takes the first free display itself and writes its number once it accepts
  // connections, so two suites never pick the same number and nothing polls for the socket.
  const child: ChildProcess = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', size, '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  const display = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('Xvfb did not start within 10 s')), 10_000);
    child.stdio[3]!.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes('\n')) return;
      clearTimeout(timer);
      resolve(`:${out.trim()}`);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited with ${code} before it was ready`));
    });
  });
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
