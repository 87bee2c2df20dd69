// Starts Xvfb on a display and waits for its socket: for headless VMs (`webrtcbin start --xvfb`, the
// capture-and-stream example).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export async function startXvfb(display: string, size = '1280x720x24'): Promise<ChildProcess> {
  const n = display.replace(/^:/, '').split('.')[0];
  const child = spawn('Xvfb', [display, '-screen', '0', size, '-nolisten', 'tcp'], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!existsSync(`/tmp/.X11-unix/X${n}`)) {
    if (child.exitCode !== null) throw new Error(`Xvfb ${display} exited (${child.exitCode}); is that display in use?`);
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`Xvfb ${display} did not start within 10 s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}
