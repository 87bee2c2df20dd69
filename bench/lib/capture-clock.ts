// Paint→capture latency: how old the clock row is when ximagesrc hands a frame over. This is the
// painting application's own paint→X delay plus the wait for the next capture tick, before any of our
// code runs; glass-to-glass minus this ≈ encode + network + the viewer's browser.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CLOCK } from './clock.js';
import { summarize, type Summary } from './stats.js';

const script = fileURLToPath(new URL('./capture_clock.py', import.meta.url));

export async function measureCaptureLatency(display: string, fps: number, frames: number): Promise<{ latency: Summary; misread: number }> {
  // Debian's python3 (python3-gi lives there), not whatever python3 is first on PATH.
  const child = spawn('/usr/bin/python3', [script, display, String(fps), String(frames)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`bench: capture_clock.py exited with ${code}`);
  const data = Buffer.concat(chunks);
  const ages: number[] = [];
  let misread = 0;
  for (let o = 0; o + 16 <= data.length; ) {
    const arrived = data.readDoubleLE(o);
    const width = data.readUInt32LE(o + 8);
    const size = data.readUInt32LE(o + 12);
    const value = CLOCK.decode(data.subarray(o + 16, o + 16 + size), width);
    o += 16 + size;
    if (value === null) misread++;
    else ages.push(CLOCK.age(value, arrived));
  }
  // The first frames may predate the page (no clock yet): they count as misreads, not as samples.
  return { latency: summarize(ages), misread };
}
