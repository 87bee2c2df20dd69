// A plain page of another origin that imports the package's viewer module (`node-webrtcbin/viewer`, as
// bundled) and holds `body`: how a page author embeds <webrtcbin-viewer>, nothing copied.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';

/** Serves the page on a free loopback port until the test ends; returns its URL. */
export async function modulePageServer(t: Test, body: string): Promise<string> {
  const { bundleViewerScript } = (await import('../../scripts/build-viewer.mjs')) as { bundleViewerScript(o: { entry: 'index.ts' }): Promise<string> };
  const module = await bundleViewerScript({ entry: 'index.ts' });
  const server = http.createServer((req, res) => {
    if (req.url === '/module.js') {
      res.setHeader('content-type', 'text/javascript');
      res.end(module);
      return;
    }
    res.setHeader('content-type', 'text/html');
    res.end(`<!doctype html><html><head><script type="module" src="/module.js"></script></head><body style="margin:0">${body}</body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}
