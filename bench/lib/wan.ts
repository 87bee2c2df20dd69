// The WAN profile: shared/tools/wan-link joins a network namespace to this one through a userspace
// link with delay, loss and a rate limit (this kernel has no netem). We stay at 10.77.0.1; whatever
// runs inside the namespace (the viewer's browser) is at 10.77.0.2.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, stop, waitFor } from './processes.js';

export const WAN_TOOL = process.env.WAN_LINK ?? '/work/shared/tools/wan-link';
export const HOST_ADDRESS = '10.77.0.1';

export interface WanProfile {
  delayMs: number; // one way: RTT is twice this
  lossPercent: number;
  rateMbit: number;
}
export const WAN_DEFAULT: WanProfile = { delayMs: 50, lossPercent: 1, rateMbit: 10 };

export interface WanLink {
  namespace: string;
  /** An executable that runs Chromium inside the namespace (for playwright's executablePath). */
  chromiumWrapper: string;
  close: () => Promise<void>;
}

export async function startWanLink(profile: WanProfile = WAN_DEFAULT): Promise<WanLink> {
  if (!existsSync(WAN_TOOL)) throw new Error(`bench: the WAN profile needs ${WAN_TOOL} (set WAN_LINK)`);
  // wan-link always uses 10.77.0.1/2, so only one link can exist at a time (tests use it too): wait.
  await waitFor('10.77.0.1 to be free (another wan-link is up)', () => !execFileSync('ip', ['-br', 'addr'], { encoding: 'utf8' }).includes(`${HOST_ADDRESS}/`), 120_000);
  // Short: wan-link names its TUN device "wan-" + NS, and Linux allows 15 characters.
  const namespace = `blat${process.pid % 100000}`;
  const child = start(WAN_TOOL, ['up', namespace, '--delay', String(profile.delayMs), '--loss', String(profile.lossPercent), '--rate', String(profile.rateMbit)], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor('wan-link', () => {
    if (child.exitCode !== null) {
      execFileSync(WAN_TOOL, ['down', namespace], { stdio: 'ignore' }); // what it made before failing
      throw new Error(`bench: wan-link exited with ${child.exitCode}`);
    }
    try {
      // Ready once the far end has its address (no ping on this image).
      return execFileSync('ip', ['netns', 'exec', namespace, 'ip', '-br', 'addr'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes('10.77.0.2/');
    } catch {
      return false;
    }
  }, 15_000);
  const dir = mkdtempSync(join(tmpdir(), 'bench-wan-'));
  const chromiumWrapper = join(dir, 'chromium-in-netns');
  writeFileSync(chromiumWrapper, `#!/bin/sh\nexec ip netns exec ${namespace} ${process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'} "$@"\n`);
  chmodSync(chromiumWrapper, 0o755);
  return { namespace, chromiumWrapper, close: () => stop(child, 'SIGTERM', 5000) };
}
