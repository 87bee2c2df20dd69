// The viewer page's headers (CSP, Referrer-Policy, nosniff, framing) and what they do in real Chromium:
// the page still plays under its CSP, a stranger cannot frame it unless the operator allows that
// origin, and a link whose token expires stops with a message instead of reconnecting.
import t from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Frame } from 'playwright-core';
import { publish } from '../../lib/publish/publisher.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { InvalidArgumentError } from '../../lib/errors.js';
import { launchChromium, waitForViewerFrames } from '../helpers/browser.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';

const token = (session: string, role: 'viewer' | 'publisher', ttlSeconds = 600) => mintToken({ secret: SECRET, session, role, ttlSeconds });

t.test('the page and its script carry the security headers', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const page = await fetch(`${daemon.http}/?session=s&token=x`);
  const csp = page.headers.get('content-security-policy') ?? '';
  t.match(csp, /default-src 'none'/);
  t.match(csp, /script-src 'self'(;|$)/, 'only our own script');
  t.match(csp, /style-src 'sha256-[A-Za-z0-9+/=]+'/, 'the inline style by hash');
  t.notMatch(csp, /unsafe-inline|unsafe-eval/);
  t.match(csp, new RegExp(`connect-src 'self' ws://127\\.0\\.0\\.1:${daemon.port} wss://127\\.0\\.0\\.1:${daemon.port}`));
  t.match(csp, /frame-ancestors 'self'(;|$)/);
  t.equal(page.headers.get('x-frame-options'), 'SAMEORIGIN');
  t.equal(page.headers.get('referrer-policy'), 'no-referrer');
  t.equal(page.headers.get('x-content-type-options'), 'nosniff');
  const script = await fetch(`${daemon.http}/viewer.js`);
  t.equal(script.headers.get('referrer-policy'), 'no-referrer');
  t.equal(script.headers.get('x-content-type-options'), 'nosniff');
  // A Host header that is not a host name is not echoed into the policy.
  const odd = await new Promise<string>((resolve) =>
    http.get({ host: '127.0.0.1', port: daemon.port, path: '/', headers: { host: "evil; script-src *" } }, (res) => {
      res.resume();
      resolve(String(res.headers['content-security-policy']));
    }),
  );
  t.notMatch(odd, /evil|script-src \*/);
});

t.test('frameAncestors opens framing to a controller origin, and bad values are refused', async (t) => {
  const daemon = await startDaemon({ frameAncestors: ["'self'", 'https://controller.example.org'] });
  t.teardown(() => daemon.app.close());
  const page = await fetch(`${daemon.http}/`);
  t.match(page.headers.get('content-security-policy'), /frame-ancestors 'self' https:\/\/controller\.example\.org(;|$)/);
  t.equal(page.headers.get('x-frame-options'), null, 'no X-Frame-Options (it cannot name an origin)');
  for (const bad of [[], ['*'], ['https://x.example; script-src *'], ["'none'", "'self'"], ['javascript:alert(1)']]) {
    await t.rejects(startDaemon({ frameAncestors: bad }), InvalidArgumentError, `refused: ${JSON.stringify(bad)}`);
  }
});

t.test('in Chromium: the page plays under its CSP; framing follows the policy; an expired link stops', async (t) => {
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  // Another origin (another port) that embeds the viewer page in a frame.
  const embedder = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(`<!doctype html><iframe id="f" src="${decodeURIComponent((req.url ?? '/').slice(2))}"></iframe>`);
  });
  await new Promise<void>((resolve) => embedder.listen(0, '127.0.0.1', resolve));
  t.teardown(() => embedder.close());
  const embedderUrl = `http://127.0.0.1:${(embedder.address() as AddressInfo).port}`;

  const defaultDaemon = await startDaemon();
  t.teardown(() => defaultDaemon.app.close());
  const openDaemon = await startDaemon({ frameAncestors: ["'self'", embedderUrl] });
  t.teardown(() => openDaemon.app.close());
  const publisher = publish({ url: defaultDaemon.url, session: 'csp', token: token('csp', 'publisher'), source: { kind: 'test', pattern: 'ball' }, video: { width: 320, height: 240 } });
  t.teardown(() => publisher.close());
  publisher.on('error', () => {});

  const page = await browser.newPage();
  t.teardown(() => page.close());
  const violations: string[] = [];
  page.on('console', (m) => /Content Security Policy|Refused to/i.test(m.text()) && violations.push(m.text()));
  await page.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => console.error(`Refused to (CSP) ${e.violatedDirective} ${e.blockedURI}`)));
  await page.goto(`${defaultDaemon.http}/?session=csp&token=${token('csp', 'viewer')}`);
  await waitForViewerFrames(page, 5);
  t.pass('the viewer decoded frames under the CSP');
  t.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(0, 0, 0)', 'the inline style (allowed by hash) applies');
  t.same(violations, [], 'no CSP violation');

  const viewerState = (frame: Frame) => frame.evaluate(() => (window as unknown as { __viewerState?: string }).__viewerState).catch(() => undefined);
  const framed = async (daemon: { http: string }) => {
    const outer = await browser.newPage();
    t.teardown(() => outer.close());
    await outer.goto(`${embedderUrl}/?${encodeURIComponent(`${daemon.http}/?session=csp&token=${token('csp', 'viewer')}`)}`);
    await outer.waitForTimeout(1000);
    const frame = outer.frames().find((f) => f !== outer.mainFrame());
    return frame ? viewerState(frame) : undefined;
  };
  t.equal(await framed(defaultDaemon), undefined, 'by default another origin cannot frame the page');
  t.ok(await framed(openDaemon), 'with frameAncestors naming it, it can');

  // A link that expires while watching: the page stops and says to get a new one.
  const before = (await fetch(`${defaultDaemon.http}/metrics`).then((r) => r.text())).match(/webrtcbin_connections_total (\d+)/)![1];
  const expiring = await browser.newPage();
  t.teardown(() => expiring.close());
  await expiring.goto(`${defaultDaemon.http}/?session=csp&token=${token('csp', 'viewer', 3)}`);
  await expiring.waitForFunction(() => (window as unknown as { __viewerState?: string }).__viewerState === 'failed', undefined, { timeout: 10_000 });
  t.match(await expiring.textContent('#message'), /link has expired/i, 'the page says the link expired');
  await expiring.waitForTimeout(1500);
  const after = (await fetch(`${defaultDaemon.http}/metrics`).then((r) => r.text())).match(/webrtcbin_connections_total (\d+)/)![1];
  t.equal(Number(after) - Number(before), 1, 'one WebSocket for the expiring page: it did not reconnect');
  t.equal(await expiring.evaluate(() => (window as unknown as { __viewerState?: string }).__viewerState), 'failed');
});

t.test('webrtcbin signal --frame-ancestors sets the page\'s framing policy', async (t) => {
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const cli = fileURLToPath(new URL('../../lib/cli/cli.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'signal', '--port', '0', '--insecure', '--frame-ancestors', 'self', '--frame-ancestors', 'https://controller.example.org/'], {
    env: { ...process.env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => child.kill('SIGTERM'));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error(`the daemon exited: ${out}`)));
  });
  const res = await fetch(`http://127.0.0.1:${port}/`);
  t.match(res.headers.get('content-security-policy'), /frame-ancestors 'self' https:\/\/controller\.example\.org(;|$)/);
});
