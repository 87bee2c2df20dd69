// A long-lived TypeScript fixture in a child process (run with tsx), whose stdout lines a test watches.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export class Proc {
  readonly lines: string[] = [];
  exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  stderr = '';
  readonly child: ChildProcess;

  constructor(file: string, args: string[]) {
    this.child = spawn(process.execPath, ['--import', 'tsx', path.resolve(file), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      const text = partial + d.toString();
      const parts = text.split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts);
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.child.on('exit', (code, signal) => (this.exited = { code, signal }));
  }

  /** The last line matching `re` (its match), or undefined. */
  last(re: RegExp): RegExpMatchArray | undefined {
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const m = this.lines[i]!.match(re);
      if (m) return m;
    }
    return undefined;
  }

  /** Frames counted so far (fixtures print `frames N`). */
  get frames(): number {
    return Number(this.last(/^frames (\d+)/)?.[1] ?? 0);
  }

  async waitLine(re: RegExp, timeoutMs = 20_000, from = 0): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < this.lines.length; i++) {
        const m = this.lines[i]!.match(re);
        if (m) return m;
      }
      if (this.exited) throw new Error(`process exited (${JSON.stringify(this.exited)}) before ${re}; stderr: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no line ${re} within ${timeoutMs} ms; last lines: ${this.lines.slice(-5).join(' | ')}; stderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async waitFrames(count: number, timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames < count) {
      if (this.exited) throw new Error(`process exited before ${count} frames; stderr: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`${this.frames} of ${count} frames within ${timeoutMs} ms; last lines: ${this.lines.slice(-5).join(' | ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.frames;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill(signal);
    });
  }
}
