// The cursor test client (test/fixtures/cursor-client.c): compiled on first use with the system cc,
// cached in the temp dir by source hash; a full-screen window whose cursor a test switches.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SOURCE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'cursor-client.c');

async function build(): Promise<string> {
  const hash = createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 16);
  const binary = path.join(os.tmpdir(), `webrtcbin-cursor-client-${hash}`);
  if (existsSync(binary)) return binary;
  const partial = `${binary}.${process.pid}.tmp`;
  await promisify(execFile)('cc', ['-O2', '-Wall', '-o', partial, SOURCE, '-lX11']);
  renameSync(partial, binary);
  return binary;
}

export interface CursorClient {
  /** 'a': the 16×16 test bitmap, hotspot (3, 5); 'w': the font's watch; 'h': transparent. Resolves once X has it. */
  show(cursor: 'a' | 'w' | 'h'): Promise<void>;
  kill: () => Promise<void>;
}

/** A full-screen window of `colour` (RRGGBB) on `display`, its cursor switched by show(). */
export async function startCursorClient(display: string, colour = '808080'): Promise<CursorClient> {
  const binary = await build();
  const child: ChildProcess = spawn(binary, [colour], { env: { ...process.env, DISPLAY: display }, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let buffer = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    let i;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      const next = waiting.shift();
      if (next) next(line);
      else lines.push(line);
    }
  });
  const line = () =>
    new Promise<string>((resolve, reject) => {
      const ready = lines.shift();
      if (ready !== undefined) return resolve(ready);
      const timer = setTimeout(() => reject(new Error('the cursor client did not answer within 10 s')), 10_000);
      waiting.push((l) => {
        clearTimeout(timer);
        resolve(l);
      });
    });
  if ((await line()) !== 'ready') throw new Error('the cursor client did not start');
  return {
    async show(cursor) {
      child.stdin!.write(`${cursor}\n`);
      await line();
    },
    kill: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
