// Shared by the cost benchmarks (first-frame, cpu, daemon-load, churn): the bench lock, machine facts,
// result files, /proc readings, percentiles and table printing. Benchmarks report numbers; nothing
// here fails on speed.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBinding } from '../../lib/native/binding.js';

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = path.resolve(BENCH_DIR, '..');
export const LOCK = '/tmp/webrtcbin-bench.lock';

/**
 * Every measurement runs under `flock /tmp/webrtcbin-bench.lock` so benchmarks of different helpers never
 * share these cores. When the script was not started under the lock, it re-executes itself under it.
 */
export function ensureBenchLock(): void {
  if (process.env.WEBRTCBIN_BENCH_LOCKED === '1') return;
  const args = [LOCK, process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  console.error(`(waiting for ${LOCK}: flock ${args.slice(1).map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')})`);
  const r = spawnSync('flock', args, { stdio: 'inherit', env: { ...process.env, WEBRTCBIN_BENCH_LOCKED: '1' } });
  process.exit(r.status ?? 1);
}

export interface Machine {
  cpu: string;
  cores: number;
  memGiB: number;
  kernel: string;
  os: string;
  node: string;
  gstreamer: string;
  chromium?: string;
  date: string;
  /** /proc/loadavg when the run started: the cores are shared with other work (tests, builds). */
  loadavg: string;
}

export function machine(extra: Partial<Machine> = {}): Machine {
  let osName = os.type();
  try {
    osName = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? osName;
  } catch {
    /* keep os.type() */
  }
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    os: osName,
    node: process.version,
    gstreamer: loadBinding().gstVersion(),
    date: new Date().toISOString(),
    loadavg: readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' '),
    ...extra,
  };
}

export function describeMachine(m: Machine): string {
  return `${m.cores} cores (${m.cpu}), ${m.memGiB} GiB, ${m.os}, kernel ${m.kernel}, Node ${m.node}, ${m.gstreamer}${m.chromium ? `, Chromium ${m.chromium}` : ''}, ${m.date}, load average ${m.loadavg}`;
}

/** Appends one JSON line to bench/results/NAME.jsonl. */
export function writeResult(name: string, record: Record<string, unknown>): string {
  const dir = path.join(BENCH_DIR, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.jsonl`);
  appendFileSync(file, JSON.stringify(record) + '\n');
  return file;
}

const TICK = 100; // getconf CLK_TCK on Linux

/** CPU seconds (user + system, every thread) a process has used so far. */
export function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime 15.
  return (Number(fields[11]) + Number(fields[12])) / TICK;
}

export function procStatus(pid: number): { rssMiB: number; threads: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const threads = Number(/Threads:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { rssMiB: rss / 1024, threads };
}

export function fdCount(pid: number | 'self' = 'self'): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Samples a process's CPU over a window: % of one core. */
export class CpuMeter {
  readonly #pid: number;
  #cpu0 = 0;
  #t0 = 0n;
  constructor(pid: number) {
    this.#pid = pid;
  }
  start(): void {
    this.#cpu0 = procCpuSeconds(this.#pid);
    this.#t0 = process.hrtime.bigint();
  }
  stop(): { percent: number; seconds: number } {
    const cpu = procCpuSeconds(this.#pid) - this.#cpu0;
    const seconds = Number(process.hrtime.bigint() - this.#t0) / 1e9;
    return { percent: (cpu / seconds) * 100, seconds };
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export const median = (values: number[]) => percentile(values, 50);

export function fmt(value: number | undefined, digits = 1): string {
  if (value === undefined || Number.isNaN(value)) return '–';
  return value.toFixed(digits);
}

export function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '–';
  return `${(a / b).toFixed(2)}×`;
}

/** A Markdown table (also readable on a terminal). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Wall clock in ms with sub-ms precision, comparable with a browser page's performance.timeOrigin + now(). */
export const nowMs = () => performance.timeOrigin + performance.now();

export const loadavg = () => readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' ');
