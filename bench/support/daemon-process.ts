// The parent side of bench/support/daemon-child.mjs: start a daemon in its own process (optionally
// pinned to CPUs with taskset), send it the child's commands and read the answers, stop it.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { BENCH_DIR } from './common.js';

export interface LoopReading {
  delay: { p50: number; p99: number; p999: number; max: number; samples: number };
  gc: { count: number; major: number; totalMs: number; maxMs: number; over10ms: number };
}

export class DaemonProcess {
  readonly #lines: Interface;
  readonly #waiting: ((line: string) => void)[] = [];

  private constructor(readonly child: ChildProcess, readonly port: number, lines: Interface) {
    this.#lines = lines;
    lines.on('line', (line) => this.#waiting.shift()?.(line));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /**
   * `options`: daemon-child's JSON argument; `cpus`: a taskset CPU list (e.g. '0') or undefined for any;
   * `nodeFlags`: flags for its node (e.g. V8 heap sizes).
   */
  static async start(options: Record<string, unknown>, cpus?: string, nodeFlags: string[] = []): Promise<DaemonProcess> {
    const node = [process.execPath, ...nodeFlags, path.join(BENCH_DIR, 'support/daemon-child.mjs'), JSON.stringify(options)];
    const command = cpus === undefined ? node : ['taskset', '-c', cpus, ...node];
    const child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! });
    const port = await new Promise<number>((resolve, reject) => {
      lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
      child.once('exit', (code) => reject(new Error(`daemon exited with ${code} before listening`)));
    });
    return new DaemonProcess(child, port, lines);
  }

  /** One daemon-child command; its JSON answer (an `error` answer throws). */
  async command<T = Record<string, unknown>>(line: string): Promise<T> {
    const answer = new Promise<string>((resolve) => this.#waiting.push(resolve));
    this.child.stdin!.write(line + '\n');
    const value = JSON.parse(await answer) as T & { error?: string };
    if (value.error) throw new Error(`daemon ${this.pid}: ${value.error}`);
    return value;
  }

  async stats(): Promise<LoopReading> {
    return (await this.command<{ stats: LoopReading }>('stats')).stats;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    this.#lines.close();
  }
}
