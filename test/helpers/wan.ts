// A WAN link to a network namespace (test/helpers/wan-link.py: delay, loss, a rate cap; changeable
// while it runs) and a headless Chromium that lives inside that namespace.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_FLAGS, CHROMIUM_PATH, withTestViewer } from './browser.js';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'wan-link.py');
/** This side of the link; the namespace side is 10.77.0.2. */
export const HOST_ADDRESS = '10.77.0.1';

export interface LinkSettings {
  /** One-way delay, ms (RTT is twice this). */
  delay?: number;
  jitter?: number;
  /** Random loss each way, percent. */
  loss?: number;
  /** Mbit/s each way; 0 = unlimited. */
  rate?: number;
  /** Tail-drop queue at the link rate, ms. */
  queue?: number;
}

export interface WanLink {
  ns: string;
  /** Changes the link in place (the namespace and everything in it stay). */
  set(settings: LinkSettings): Promise<void>;
  stop(): Promise<void>;
}

/** Why a link cannot be made here (not root, no TUN device), or undefined when it can. */
export function wanLinkUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, TUN devices)';
  return undefined;
}

function args(settings: LinkSettings): string[] {
  return Object.entries(settings).flatMap(([key, value]) => (value === undefined ? [] : [`--${key}`, String(value)]));
}

export async function startWanLink(ns: string, settings: LinkSettings): Promise<WanLink> {
  const child: ChildProcess = spawn('/usr/bin/python3', [SCRIPT, ns, ...args(settings)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const waiters: (() => void)[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    output += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waitFor = async (pattern: RegExp, from: number, what: string) => {
    const deadline = Date.now() + 10_000;
    while (!pattern.test(output.slice(from))) {
      if (child.exitCode !== null) throw new Error(`wan-link exited while ${what}: ${output}`);
      if (Date.now() > deadline) throw new Error(`wan-link: no answer while ${what}: ${output}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  await waitFor(/^ready$/m, 0, 'starting');
  return {
    ns,
    async set(next) {
      const from = output.length;
      const line = Object.entries(next).map(([k, v]) => `${k}=${v}`).join(' ');
      child.stdin!.write(`set ${line}\n`);
      await waitFor(/^(ok|error).*$/m, from, `setting ${line}`);
      if (/^error/m.test(output.slice(from))) throw new Error(`wan-link refused "${line}": ${output.slice(from)}`);
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/**
 * Chromium inside namespace `ns`: playwright starts a wrapper that enters the namespace first (the
 * DevTools pipe, fds 3 and 4, is inherited across `ip netns exec`).
 */
export async function launchChromiumIn(ns: string, extraArgs: string[] = []): Promise<Browser> {
  const dir = mkdtempSync(path.join(tmpdir(), 'chromium-netns-'));
  const wrapper = path.join(dir, 'chromium');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} ${CHROMIUM_PATH} "$@"\n`);
  chmodSync(wrapper, 0o755);
  try {
    return withTestViewer(await chromium.launch({ executablePath: wrapper, args: [...CHROMIUM_FLAGS, ...extraArgs], headless: true }));
  } finally {
    // The wrapper has exec'd into Chromium by now.
    rmSync(dir, { recursive: true, force: true });
  }
}
