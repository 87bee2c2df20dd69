// Small X clients written in C for tests and benches (test/fixtures/*.c, bench/support/*.c): compiled on
// first use with the system cc (rootfs/packages-dev.txt), cached in the temp dir by source hash.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/** The binary of `source` (a C file linked with libX11), built once per source version; its path. */
export async function buildXClient(source: string): Promise<string> {
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16);
  const binary = path.join(os.tmpdir(), `webrtcbin-${path.basename(source, '.c')}-${hash}`);
  if (existsSync(binary)) return binary;
  // Build under a private name, then rename: a concurrent run never executes a half-written file.
  const partial = `${binary}.${process.pid}.tmp`;
  await promisify(execFile)('cc', ['-O2', '-Wall', '-o', partial, source, '-lX11']);
  renameSync(partial, binary);
  return binary;
}
