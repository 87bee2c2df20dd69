// Child processes a benchmark starts and must stop: each is killed by its own pid (and its process
// group), never by name, and all are stopped on exit even when the benchmark throws.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const children = new Set<ChildProcess>();

export function start(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  // Own process group: a wrapper's children (ip netns exec, Chromium's zygotes) go with it.
  const child = spawn(command, args, { stdio: 'ignore', detached: true, ...options });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => kill(child, 'SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    kill(child, signal);
  });
}

function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    child.kill(signal);
  }
}

process.once('exit', () => {
  for (const child of children) kill(child, 'SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: ${what} not ready within ${timeoutMs} ms`);
    await sleep(50);
  }
}
