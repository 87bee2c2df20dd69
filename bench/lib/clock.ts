// The clock row's encoder/decoder (bench/pages/clock-code.js) for Node: the same file the pages run,
// evaluated here, so there is one implementation of the format.
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';

export const CLOCK_CODE_PATH = new URL('../pages/clock-code.js', import.meta.url).pathname;

export interface Clock {
  block: number;
  blocks: number;
  now(): number;
  decode(data: Uint8Array, width: number): number | null;
  age(value: number, ms: number): number;
}

export const CLOCK = runInNewContext(`${readFileSync(CLOCK_CODE_PATH, 'utf8')}; CLOCK`, { performance }) as Clock;
