// The colour-grid X client (test/fixtures/paint-colours.c): compiled on first use with the system cc
// (rootfs/packages-dev.txt), cached in the temp dir by source hash, run on a test display.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildXClient } from './x-client.js';

const SOURCE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'paint-colours.c');

export async function buildPainter(): Promise<string> {
  return buildXClient(SOURCE);
}

export interface Painter {
  width: number;
  height: number;
  kill: () => Promise<void>;
}

/** Paints `colours` (RRGGBB, row by row) as a cols × rows grid over the whole screen of `display`. */
export async function startPainter(display: string, cols: number, rows: number, colours: string[]): Promise<Painter> {
  const binary = await buildPainter();
  const child: ChildProcess = spawn(binary, [String(cols), String(rows), ...colours], {
    env: { ...process.env, DISPLAY: display },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kill = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 10_000;
  let ready: RegExpExecArray | null;
  while (!(ready = /ready (\d+)x(\d+)/.exec(out))) {
    if (child.exitCode !== null) throw new Error(`paint-colours exited with ${child.exitCode}: ${out}`);
    if (Date.now() > deadline) {
      await kill();
      throw new Error(`paint-colours did not paint within 10 s: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { width: Number(ready[1]), height: Number(ready[2]), kill };
}
