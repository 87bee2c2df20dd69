// A page of our own that uses the viewer module (lib/viewer/index.ts) the way an app author does:
// its script bundled with esbuild from a fixture entry (test/fixtures/viewer-apps/), served over plain
// HTTP by a server of its own (another origin than the daemon's, as an embedding app is).
import { build } from 'esbuild';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ViewerApp {
  /** http://127.0.0.1:port/ : the page; query parameters reach its script. */
  url: string;
  close(): Promise<void>;
}

/**
 * Bundles `test/fixtures/viewer-apps/<entry>` and serves it in `html` (which loads /app.js).
 * `development`: React's development build (StrictMode then mounts every component twice).
 */
export async function serveViewerApp(entry: string, html: string, options: { development?: boolean } = {}): Promise<ViewerApp> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [path.join(ROOT, 'test', 'fixtures', 'viewer-apps', entry)],
    tsconfig: path.join(ROOT, 'lib', 'viewer', 'tsconfig.json'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    define: { 'process.env.NODE_ENV': options.development ? '"development"' : '"production"' },
    write: false,
    logLevel: 'warning',
  });
  const script = result.outputFiles[0]!.text;
  const server = createServer((request, response) => {
    const pathname = new URL(request.url ?? '/', 'http://x').pathname;
    if (pathname === '/app.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      response.end(script);
    } else if (pathname === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(html);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
