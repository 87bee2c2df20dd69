// What every benchmark records beside its numbers: the machine and versions, printed as a header and
// appended as one JSON line to bench/results/NAME.jsonl, so runs from different days compare honestly.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBinding } from '../../lib/native/binding.js';

export interface MachineFacts {
  cpu: string;
  cores: number;
  memGiB: number;
  kernel: string;
  node: string;
  gstreamer: string;
  chromium: string;
  /** 1-minute load average when the facts were taken: other work on these 2 cores skews every figure. */
  load1: number;
}

function chromiumVersion(): string {
  try {
    // Debian's /usr/bin/chromium is a shell wrapper that may print noise on stderr: keep the version line.
    const out = execFileSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return /Chromium [\d.]+/.exec(out)?.[0] ?? out.trim();
  } catch {
    return 'not installed';
  }
}

export function machineFacts(): MachineFacts {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    gstreamer: loadBinding().gstVersion(),
    chromium: chromiumVersion(),
    load1: Math.round(loadavg()[0]! * 100) / 100,
  };
}

export function describeMachine(facts: MachineFacts = machineFacts()): string {
  return `${facts.cores}× ${facts.cpu}, ${facts.memGiB} GiB, Linux ${facts.kernel}, Node ${facts.node}, ${facts.gstreamer}, ${facts.chromium}, load ${facts.load1}`;
}

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** Appends `{bench, date, machine, args, …record}` to bench/results/NAME.jsonl. */
export function appendResult(bench: string, record: Record<string, unknown>): void {
  mkdirSync(resultsDir, { recursive: true });
  const line = { bench, date: new Date().toISOString(), machine: machineFacts(), args: process.argv.slice(2), ...record };
  appendFileSync(join(resultsDir, `${bench}.jsonl`), JSON.stringify(line) + '\n');
}
