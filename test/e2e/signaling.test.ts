// End to end through the daemon: publish() on the VM side, the bundled viewer page in real headless
// Chromium, WHEP with plain fetch calls, and a TURN-only path with credentials from /v1/ice-servers.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import type { Page } from 'playwright-core';
import { publish } from '../../lib/publish/publisher.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { launchChromium, viewerFrames } from '../helpers/browser.js';
import { startCoturn } from '../helpers/coturn.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';

const browser = await launchChromium();
t.teardown(() => browser.close());
const token = (session: string, role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session, role, ttlSeconds: 600 });

const framesDecoded = viewerFrames;

async function waitForFrames(page: Page, count: number, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let n = 0;
  while (Date.now() < deadline) {
    n = await framesDecoded(page);
    if (n >= count) return n;
    await new Promise((r) => setTimeout(r, 200));
  }
  const state = await page.evaluate(() => (window as unknown as { __viewerState?: string }).__viewerState);
  throw new Error(`viewer decoded ${n} of ${count} frames in ${timeoutMs} ms (state ${state})`);
}

t.test('the viewer page shows the published stream; reload and daemon restart recover', async (t) => {
  let daemon = await startDaemon();
  const port = daemon.port;
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session: 'desk', token: token('desk', 'publisher'), source: { kind: 'test', pattern: 'ball' }, video: { width: 640, height: 360 } });
  t.teardown(() => publisher.close());
  const page = await browser.newPage();
  t.teardown(() => page.close());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${daemon.http}/?session=desk&token=${token('desk', 'viewer')}`);
  const first = await waitForFrames(page, 10);
  t.ok(first >= 10, `viewer decoded ${first} frames`);
  t.equal(publisher.viewers, 1, 'the publisher has one viewer');

  await page.reload();
  t.ok((await waitForFrames(page, 10)) >= 10, 'after a reload the viewer connects again');
  const deadline = Date.now() + 10_000;
  while (publisher.viewers !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.equal(publisher.viewers, 1, 'the old viewer peer was cleaned up');

  await daemon.app.close();
  daemon = await startDaemon({ port });
  t.equal(daemon.port, port);
  const before = await framesDecoded(page);
  const after = await waitForFrames(page, before + 10, 40_000);
  t.ok(after >= before + 10, 'after a daemon restart the publisher rejoined and the viewer recovered');
  t.same(errors, [], 'no page errors');
});

t.test('WHEP: Chromium with plain fetch calls gets video', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session: 'whep', token: token('whep', 'publisher'), source: { kind: 'test' }, video: { width: 320, height: 240 } });
  t.teardown(() => publisher.close());
  await new Promise((r) => setTimeout(r, 500)); // the publisher joins
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(`${daemon.http}/healthz`);
  const result = await page.evaluate(async (bearer) => {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    const response = await fetch('/whep/whep', { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${bearer}` }, body: pc.localDescription!.sdp });
    const location = response.headers.get('location');
    const etag = response.headers.get('etag')!;
    await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
    // Trickle our candidates with PATCH as they come.
    const mid = pc.getTransceivers()[0]!.mid;
    pc.onicecandidate = (e) => {
      const frag = e.candidate ? `a=mid:${mid}\r\na=${e.candidate.candidate}\r\n` : `a=mid:${mid}\r\na=end-of-candidates\r\n`;
      // RFC 9725 §4.3.1: trickle carries If-Match with the 201's ETag (428 without).
      void fetch(location!, { method: 'PATCH', headers: { 'content-type': 'application/trickle-ice-sdpfrag', 'if-match': etag, authorization: `Bearer ${bearer}` }, body: frag });
    };
    const deadline = Date.now() + 20_000;
    let frames = 0;
    while (Date.now() < deadline && frames < 10) {
      await new Promise((r) => setTimeout(r, 200));
      (await pc.getStats()).forEach((s: Record<string, unknown>) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') frames = (s.framesDecoded as number) ?? 0;
      });
    }
    const del = await fetch(location!, { method: 'DELETE', headers: { authorization: `Bearer ${bearer}` } });
    return { status: response.status, location, frames, deleted: del.status };
  }, token('whep', 'viewer'));
  t.equal(result.status, 201);
  t.match(result.location, /^\/whep\/whep\/v-/);
  t.ok(result.frames >= 10, `${result.frames} frames decoded over WHEP`);
  t.equal(result.deleted, 200);
  const unauthorized = await fetch(`${daemon.http}/whep/whep`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\n' });
  t.equal(unauthorized.status, 401, 'no token, no stream');
});

t.test('TURN-only: Chromium relay-only through coturn with credentials from /v1/ice-servers', async (t) => {
  const turnSecret = 'turn-shared-secret-' + Math.random().toString(36).slice(2);
  const turn = await startCoturn({ secret: turnSecret });
  t.teardown(() => turn.stop());
  const daemon = await startDaemon({ ice: { turn: [`turn:127.0.0.1:${turn.port}`], turnSecret } });
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session: 'relay', token: token('relay', 'publisher'), source: { kind: 'test' }, video: { width: 320, height: 240 } });
  t.teardown(() => publisher.close());
  const ice = await fetch(`${daemon.http}/v1/ice-servers`, { headers: { authorization: `Bearer ${token('relay', 'viewer')}` } }).then((r) => r.json()) as { iceServers: { urls: string[] }[] };
  t.same(ice.iceServers[0]!.urls, [`turn:127.0.0.1:${turn.port}`]);
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(`${daemon.http}/?session=relay&relay=1&token=${token('relay', 'viewer')}`);
  t.ok((await waitForFrames(page, 10, 30_000)) >= 10, 'frames over a relay-only path');
  const pairs = await page.evaluate(async () => {
    const pc = (window as unknown as { __viewer?: { pc?: RTCPeerConnection } }).__viewer?.pc;
    const types: string[] = [];
    if (!pc) return types;
    const stats = await pc.getStats();
    stats.forEach((s: Record<string, unknown>) => {
      if (s.type === 'local-candidate') types.push(s.candidateType as string);
    });
    return types;
  });
  if (pairs.length) t.same([...new Set(pairs)], ['relay'], 'the browser used only relay candidates');
  t.ok(turn.allocations() >= 1, `coturn granted ${turn.allocations()} allocations`);
});

t.test('four Chromium viewers share one encoder', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session: 'many', token: token('many', 'publisher'), source: { kind: 'test', pattern: 'ball' }, video: { width: 640, height: 360 } });
  t.teardown(() => publisher.close());
  // The first viewer runs in a browser of its own, so it can be killed outright later (pages of one
  // browser share a renderer process: crashing one page would take all four).
  const marker = `webrtcbin-victim-${process.pid}-${Date.now()}`;
  const victim = await launchChromium([`--class=${marker}`]);
  t.teardown(() => victim.close().catch(() => {}));
  const pages = await Promise.all([victim, browser, browser, browser].map((b) => b.newPage()));
  t.teardown(() => Promise.all(pages.map((p) => p.close().catch(() => {}))));
  await Promise.all(pages.map((p) => p.goto(`${daemon.http}/?session=many&token=${token('many', 'viewer')}`)));
  const decoded = await Promise.all(pages.map((p) => waitForFrames(p, 10, 30_000)));
  t.ok(decoded.every((n) => n >= 10), `frames decoded per viewer: ${decoded.join(', ')}`);
  t.same(publisher.encoderStats?.subscribers, 4, 'one encoder, four subscribers');
  t.equal(publisher.viewers, 4);

  // One viewer's browser is killed (no bye, no pagehide): the others keep decoding and its peer goes.
  execFileSync('pkill', ['-KILL', '-f', marker]);
  const before = await Promise.all(pages.slice(1).map((p) => framesDecoded(p)));
  await new Promise((r) => setTimeout(r, 2000));
  const after = await Promise.all(pages.slice(1).map((p) => framesDecoded(p)));
  t.ok(after.every((n, i) => n - before[i]! >= 15), `the other three kept decoding (+${after.map((n, i) => n - before[i]!).join(', +')} frames in 2 s)`);
  const deadline = Date.now() + 15_000;
  while (publisher.viewers !== 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.equal(publisher.viewers, 3, 'the killed viewer was removed');

  // A late joiner is fed by the running encoder (a keyframe requested for it) and decodes.
  const late = await browser.newPage();
  t.teardown(() => late.close());
  await late.goto(`${daemon.http}/?session=many&token=${token('many', 'viewer')}`);
  t.ok((await waitForFrames(late, 5, 20_000)) >= 5, 'the late joiner decodes');
  t.equal(publisher.encoderStats?.subscribers, 4, 'still one encoder: four subscribers again');
});

t.test('when WebRTC cannot connect the page says so and fires its fallback hook', async (t) => {
  const daemon = await startDaemon(); // no TURN server: relay-only cannot work
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session: 'blocked', token: token('blocked', 'publisher'), source: { kind: 'test' }, video: { width: 320, height: 240 } });
  t.teardown(() => publisher.close());
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(`${daemon.http}/?session=blocked&relay=1&token=${token('blocked', 'viewer')}`);
  await page.waitForFunction(() => (window as unknown as { __viewerFallback?: string }).__viewerFallback !== undefined, undefined, { timeout: 20_000 });
  const reason = await page.evaluate(() => (window as unknown as { __viewerFallback?: string }).__viewerFallback);
  t.match(reason, /could not connect within 10 s/i, `fallback reason: ${reason}`);
  t.match(await page.textContent('webrtcbin-viewer >> #message'), /not getting through/, 'a clear message on the page');
  t.equal(await framesDecoded(page), 0);
});
