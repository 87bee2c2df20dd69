// The side-by-side senders as child processes with one JSON-lines protocol (see
// bench/baselines/node-sender.mjs): ours (the compiled library, Streamer + one peer per viewer) and
// the plain-webrtcbin Python baseline; plus the gst-launch encoder floor (no WebRTC at all).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { planSend } from '../../lib/media/send.js';
import type { SendVideoOptions, SourceOptions } from '../../lib/types.js';
import { ROOT, nowMs } from './common.js';

export type SenderKind = 'ours' | 'python';

export interface SenderMessage {
  type: string;
  id?: string;
  sdp?: string;
  candidate?: { candidate?: string; sdpMid?: string | null; sdpMLineIndex?: number | null } | null;
  state?: string;
  message?: string;
  [key: string]: unknown;
}

export const PYTHON = '/usr/bin/python3'; // Debian's, with python3-gi (not a pyenv shim)

export class SenderProcess<K extends string = SenderKind> {
  readonly kind: K;
  readonly child: ChildProcess;
  readonly startedAt = nowMs();
  readyAt: number | undefined;
  readonly #listeners = new Map<string, (m: SenderMessage) => void>();
  readonly #waiters: { match: (m: SenderMessage) => boolean; resolve: (m: SenderMessage) => void }[] = [];
  readonly errors: string[] = [];

  /** `spawn`: any other sender speaking the same JSON-lines protocol (e.g. bench/peers/werift/sender.mjs). */
  constructor(
    kind: K,
    source: SourceOptions,
    video: SendVideoOptions,
    options: { shared?: boolean; warm?: boolean; env?: NodeJS.ProcessEnv; pythonDescription?: string; spawn?: { command: string; args: string[] } } = {},
  ) {
    this.kind = kind;
    if (options.spawn) {
      this.child = spawn(options.spawn.command, options.spawn.args, { stdio: ['pipe', 'pipe', 'inherit'] });
    } else if (kind !== 'python') {
      // Every other kind is our node-sender (its build chosen by env WEBRTCBIN_BENCH_LIB: first-frame's
      // "main"). Before, only 'ours' was: first-frame's "main" column silently ran the Python sender.
      this.child = spawn(process.execPath, [path.join(ROOT, 'bench/baselines/node-sender.mjs'), JSON.stringify({ source, video, shared: options.shared !== false, warm: options.warm === true })], {
        stdio: ['pipe', 'pipe', 'inherit'],
        env: { ...process.env, ...options.env },
      });
    } else {
      const description = options.pythonDescription ?? planSend(source, video).description;
      this.child = spawn(PYTHON, [path.join(ROOT, 'bench/baselines/python-sender.py'), description], { stdio: ['pipe', 'pipe', 'inherit'] });
    }
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let message: SenderMessage;
      try {
        message = JSON.parse(line) as SenderMessage;
      } catch {
        return;
      }
      if (message.type === 'ready') this.readyAt = nowMs();
      if (message.type === 'error') this.errors.push(`${message.id ?? ''}: ${message.message}`);
      if (message.id !== undefined) this.#listeners.get(message.id)?.(message);
      for (let i = 0; i < this.#waiters.length; i++) {
        const w = this.#waiters[i]!;
        if (w.match(message)) {
          this.#waiters.splice(i, 1);
          w.resolve(message);
          break;
        }
      }
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  send(message: SenderMessage): void {
    this.child.stdin!.write(JSON.stringify(message) + '\n');
  }

  /** Messages for one viewer id. */
  listen(id: string, listener: (m: SenderMessage) => void): void {
    this.#listeners.set(id, listener);
  }

  unlisten(id: string): void {
    this.#listeners.delete(id);
  }

  wait(match: (m: SenderMessage) => boolean, timeoutMs = 20_000): Promise<SenderMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.kind} sender: timed out (${this.errors.join('; ')})`)), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  ready(): Promise<SenderMessage> {
    if (this.readyAt !== undefined) return Promise.resolve({ type: 'ready' });
    return this.wait((m) => m.type === 'ready');
  }

  async request(message: SenderMessage, reply: string): Promise<SenderMessage> {
    const waiting = this.wait((m) => m.type === reply && (message.id === undefined || m.id === message.id));
    this.send(message);
    return waiting;
  }

  async quit(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send({ type: 'quit' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** The encoder floor: the same source, conversion and encoder as planSend(), into fakesink. */
export function encoderFloorDescription(source: SourceOptions, video: SendVideoOptions, extraEncoderProps = ''): string {
  const description = planSend(source, video).description;
  // planSend: <raw> ! queue … ! <encoder…> ! <payloader> ! capsfilter … — keep everything before the payloader.
  const cut = description.search(/ ! rtp\w+pay /);
  let encoder = description.slice(0, cut);
  if (extraEncoderProps) encoder = encoder.replace(/(vp8enc|vp9enc|x264enc) /, `$1 ${extraEncoderProps} `);
  // fpsdisplaysink counts what reached the sink (gst-launch -v prints it), so CPU can be read per frame.
  return `${encoder} ! fpsdisplaysink video-sink=fakesink text-overlay=false sync=false fps-update-interval=500`;
}

export interface GstLaunch {
  child: ChildProcess;
  /** Frames rendered by the fpsdisplaysink so far (from gst-launch -v's last-message). */
  rendered(): number;
}

export function startGstLaunch(description: string): GstLaunch {
  // gst-launch-1.0 splits its arguments itself; quoted caps survive as one argv entry each.
  const args = description.match(/(?:[^\s"]+|"[^"]*")+/g)!.map((a) => a.replace(/"/g, ''));
  const child = spawn('gst-launch-1.0', ['-v', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let rendered = 0;
  let tail = '';
  child.stdout!.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-4096);
    const all = [...tail.matchAll(/rendered: (\d+)/g)];
    if (all.length) rendered = Number(all[all.length - 1]![1]);
  });
  return { child, rendered: () => rendered };
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
