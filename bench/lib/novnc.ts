// The peer this project replaces: x11vnc on the same X display, websockify serving Debian's noVNC page
// and bridging its WebSocket to VNC. Stock settings on both sides, as people deploy them.
import { createConnection } from 'node:net';
import { start, stop, waitFor } from './processes.js';

function listening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startNoVnc(display: string, options: { webPort: number; vncPort: number }): Promise<{ urlFor: (host: string) => string; close: () => Promise<void> }> {
  const vnc = start('x11vnc', ['-display', display, '-rfbport', String(options.vncPort), '-localhost', '-forever', '-shared', '-nopw', '-quiet']);
  await waitFor('x11vnc', () => listening(options.vncPort));
  const web = start('websockify', ['--web', '/usr/share/novnc', String(options.webPort), `127.0.0.1:${options.vncPort}`]);
  await waitFor('websockify', () => listening(options.webPort));
  return {
    // vnc_lite.html connects at once to the host and port it was served from.
    urlFor: (host) => `http://${host}:${options.webPort}/vnc_lite.html?host=${host}&port=${options.webPort}`,
    close: async () => {
      await stop(web);
      await stop(vnc);
    },
  };
}

/** Opens noVNC's page in `browser` and reads the clock row from its canvas for `frames` updates. */
export async function measureNoVnc(browser: import('playwright-core').Browser, url: string, frames: number, timeoutMs: number): Promise<import('./readers.js').Reading> {
  const { installCanvasReader, record } = await import('./readers.js');
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  try {
    await page.goto(url);
    await installCanvasReader(page);
    await waitFor('noVNC canvas', () => page.evaluate(() => (document.querySelector('canvas')?.width ?? 0) > 0), 15_000);
    await new Promise((r) => setTimeout(r, 1500)); // first full update done
    return await record(page, frames, timeoutMs);
  } finally {
    await page.close();
  }
}
