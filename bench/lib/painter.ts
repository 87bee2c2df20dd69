// The application being streamed: a headful Chromium showing bench/pages/clock.html full-screen on the
// Xvfb display. Its own paint→X delay is part of what a viewer sees, so it is measured apart
// (capture-clock.ts), never hidden.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from '../../test/helpers/browser.js';
import { start, stop } from './processes.js';

const page = pathToFileURL(new URL('../pages/clock.html', import.meta.url).pathname).href;

/**
 * `motion`: full-screen noise scrolled behind the clock (true), or fresh noise every frame ('fresh': the
 * encoder spends every bit it is given).
 */
export async function startPainter(display: string, width: number, height: number, options: { motion?: boolean | 'fresh' } = {}): Promise<{ close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'bench-painter-'));
  const args = [
    ...CHROMIUM_FLAGS.filter((f) => f !== '--headless'),
    `--user-data-dir=${profile}`,
    '--kiosk',
    `--app=${page}?motion=${options.motion === 'fresh' ? 2 : options.motion ? 1 : 0}`,
    '--window-position=0,0',
    `--window-size=${width},${height}`,
    // No window manager on Xvfb: keep Chromium from treating the window as hidden and throttling it.
    '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows',
    '--hide-scrollbars',
    '--noerrdialogs',
  ];
  const child = start(CHROMIUM_PATH, args, { env: { ...process.env, DISPLAY: display } });
  return {
    close: async () => {
      await stop(child);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
