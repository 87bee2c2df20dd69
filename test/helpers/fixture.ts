// Runs a TypeScript fixture in a child process (its own lifetime is what is being tested).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'process', 'fixtures');

export interface FixtureResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

export function runFixture(
  name: string,
  options: { args?: string[]; nodeArgs?: string[]; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<FixtureResult> {
  return runNode([...(options.nodeArgs ?? []), '--import', 'tsx', path.join(FIXTURES, `${name}.ts`), ...(options.args ?? [])], options);
}

/** Node with these arguments in a child process; its output and how it ended (SIGKILL after timeoutMs). */
export function runNode(args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<FixtureResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, ms: Date.now() - started });
    });
  });
}

/**
 * Runs the VM agent (`webrtcbin stream --xvfb`, from source) against a daemon with its token in a
 * 0600 file, as the image's unit does; a private display, 320×240.
 */
export async function runAgentWithTokenFile(options: { url: string; session: string; token: string; timeoutMs: number }): Promise<FixtureResult> {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'webrtcbin-agent-')), 'token');
  writeFileSync(file, `${options.token}\n`, { mode: 0o600 });
  const cli = fileURLToPath(new URL('../../lib/cli/cli.ts', import.meta.url));
  const display = `:${150 + Math.floor(Math.random() * 100)}`;
  const args = ['--import', 'tsx', cli, 'stream', '--url', options.url, '--session', options.session, '--token-file', file, '--xvfb', '--display', display, '--width', '320', '--height', '240'];
  return runNode(args, { timeoutMs: options.timeoutMs, env: { WEBRTCBIN_TOKEN: '', WEBRTCBIN_TOKEN_FILE: '' } });
}
