// The cursor test client (test/fixtures/cursor-client.c): compiled on first use with the system cc,
// cached in the temp dir by source hash; a full-screen window whose cursor a test switches.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildXClient } from './x-client.js';

const SOURCE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'cursor-client.c');

const build = () => buildXClient(SOURCE);

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
