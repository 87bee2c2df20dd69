// The aiortc client (test/fixtures/interop/aiortc_client.py): a WebRTC stack we did not write, in Python
// (Debian python3-aiortc, decoding with PyAV), as a WHEP/WHIP client or a protocol-v1 viewer.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const AIORTC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'interop', 'aiortc_client.py');
// Debian's interpreter: python3-aiortc is installed for it (a pyenv python3 on PATH would not see it).
const PYTHON = '/usr/bin/python3';

/** One JSON line of the client: `event` names it, `ms` is the time since the client started. */
export type AiortcEvent = Record<string, unknown> & { event: string; ms: number };

export interface AiortcRun {
  code: number | null;
  /** The last line of each event name. */
  events: Map<string, AiortcEvent>;
  /** Its stderr and any line that was not JSON, the last 2000 characters. */
  stderr: string;
}

/** Runs the client to its end (SIGKILLed after `timeoutMs`). */
export function aiortc(args: string[], timeoutMs = 60_000): Promise<AiortcRun> {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, [AIORTC, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const events = new Map<string, AiortcEvent>();
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      for (let newline = stdout.indexOf('\n'); newline >= 0; newline = stdout.indexOf('\n')) {
        const line = stdout.slice(0, newline);
        stdout = stdout.slice(newline + 1);
        try {
          const event = JSON.parse(line) as AiortcEvent;
          events.set(event.event, event);
        } catch {
          stderr += `${line}\n`;
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, events, stderr: stderr.slice(-2000) });
    });
  });
}
