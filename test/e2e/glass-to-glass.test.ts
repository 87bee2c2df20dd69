// The built-in glass-to-glass probe in real browsers: the publisher writes abs-capture-time, the page
// reads it (Chromium: getSynchronizationSources' captureTimestamp, matched to presented frames by
// requestVideoFrameCallback's rtpTimestamp) with the clock offset from `clock` exchanges on the input
// channel, and its stats and toolbar say "glass-to-glass". Firefox reports no capture times: the page
// says the receiver's share instead, and says so.
import t from 'tap';
import { publish, view } from '../../lib/client.js';
import type { Frame } from '../../lib/index.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import type { ViewerStats } from '../../lib/viewer/viewer.js';
import { launchChromium } from '../helpers/browser.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { Firefox, waitForViewerFrames } from '../helpers/firefox.js';

const token = (session: string, role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session, role, ttlSeconds: 600 });
const daemon = await startDaemon();
t.teardown(() => daemon.app.close());

function publishTest(session: string) {
  // A test pattern with the input channel on (it carries the clock exchange; no X display needed for it).
  return publish({ url: daemon.url, session, token: token(session, 'publisher'), source: { kind: 'test', pattern: 'ball' }, video: { width: 640, height: 360 }, input: true });
}

t.test("a Node view() of a publish: frames carry the publisher's capture time (shared encoder, x-ntp meta across)", async (t) => {
  const p = publishTest('g2g-node');
  t.teardown(() => p.close());
  const v = view({ url: daemon.url, session: 'g2g-node', token: token('g2g-node', 'viewer') });
  t.teardown(() => v.close());
  // The first second may bring frames decoded before a keyframe settled the stream (repeated, no
  // capture time): the last 30 of the first 90 are measured.
  const frames: (number | undefined)[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${frames.length} of 90 frames within 30 s`)), 30_000);
    v.on('frame', (frame: Frame) => {
      frames.push(frame.captureTime === undefined ? undefined : Date.now() - frame.captureTime);
      if (frames.length === 90) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const last = frames.slice(-30);
  t.ok(last.every((age) => age !== undefined), `every frame has one once the stream runs (${last.filter((a) => a !== undefined).length}/30)`);
  // Same host, same clock: capture → encode → loopback → decode → here, more than nothing, under a second.
  t.ok(last.every((age) => age !== undefined && age >= 0 && age < 1000), `capture → frame in [0, 1000) ms: ${last.map((a) => a?.toFixed(0)).join(' ')}`);
});

type StatsPage = { stats: ViewerStats | null; shadowRoot: ShadowRoot };

t.test('Chromium: stats.glassToGlassMs is a plausible figure, and the stats line and toolbar say glass-to-glass', async (t) => {
  const p = publishTest('g2g-chromium');
  t.teardown(() => p.close());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${daemon.http}/?session=g2g-chromium&token=${token('g2g-chromium', 'viewer')}`);
  const handle = await page
    .waitForFunction(() => (document.querySelector('webrtcbin-viewer') as unknown as StatsPage).stats?.glassToGlassMs ?? null, undefined, { timeout: 30_000 })
    .catch(() => null);
  const stats = await page.evaluate(() => (document.querySelector('webrtcbin-viewer') as unknown as StatsPage).stats);
  t.ok(handle, `glassToGlassMs appeared (stats: ${JSON.stringify(stats)}${pageErrors.length ? `; page errors: ${pageErrors.join('; ')}` : ''})`);
  // Causality within the clock offset's error: loopback reads 3-5 ms, a loaded run once -0.6 ± 1.7.
  const floor = -(stats?.glassToGlassUncertaintyMs ?? 0) - 1;
  t.ok(stats && typeof stats.glassToGlassMs === 'number' && stats.glassToGlassMs > floor && stats.glassToGlassMs < 1000, `${floor.toFixed(1)} < glassToGlassMs < 1000 (${stats?.glassToGlassMs})`);
  t.ok(stats && typeof stats.glassToGlassUncertaintyMs === 'number' && stats.glassToGlassUncertaintyMs < 50, `the clock offset is known within ${stats?.glassToGlassUncertaintyMs} ms (loopback)`);
  const shown = await page.evaluate(() => {
    const root = (document.querySelector('webrtcbin-viewer') as unknown as StatsPage).shadowRoot;
    const line = root.getElementById('stats')!;
    return { line: line.textContent, title: line.title, latency: root.getElementById('latency')!.textContent, status: root.getElementById('status')!.title };
  });
  t.match(shown.line, /glass-to-glass ≈ \d+ ms/, `the stats line: ${shown.line}`);
  t.match(shown.title, /abs-capture-time/, 'its tooltip says where the figure comes from');
  t.match(shown.latency, /glass-to-glass ≈ \d+ ms/, `the toolbar: ${shown.latency}`);
  t.match(shown.status, /Glass to glass/, 'the toolbar tooltip says which figure it is');
});

t.test('Firefox: no capture times reported; the page shows the receiver share and says so', async (t) => {
  const p = publishTest('g2g-firefox');
  t.teardown(() => p.close());
  const firefox = await Firefox.launch({ width: 800, height: 600 });
  t.teardown(() => firefox.close());
  const page = await firefox.open(`${daemon.http}/?session=g2g-firefox&token=${token('g2g-firefox', 'viewer')}`);
  await waitForViewerFrames(page, 30, 30_000);
  // What Firefox supports, asserted: no captureTimestamp from its receiver, so no glass-to-glass figure.
  const seen = await page.evaluate(() => {
    const el = document.querySelector('webrtcbin-viewer') as unknown as StatsPage & { video: HTMLVideoElement };
    const line = el.shadowRoot.getElementById('stats')!;
    return {
      stats: el.stats,
      line: line.textContent,
      title: line.title,
      rvfc: typeof (el.video as unknown as { requestVideoFrameCallback?: unknown }).requestVideoFrameCallback === 'function',
      headerExtensionsApi: typeof (RTCRtpTransceiver.prototype as unknown as { setHeaderExtensionsToNegotiate?: unknown }).setHeaderExtensionsToNegotiate === 'function',
    };
  });
  t.comment(`Firefox: requestVideoFrameCallback ${seen.rvfc}, setHeaderExtensionsToNegotiate ${seen.headerExtensionsApi}`);
  t.equal(seen.stats?.glassToGlassMs, null, 'no glass-to-glass figure');
  t.ok(typeof seen.stats?.latencyEstimateMs === 'number', `the receiver's share instead (${seen.stats?.latencyEstimateMs} ms)`);
  t.match(seen.line, /≈\d+ ms/, `the stats line shows it: ${seen.line}`);
  t.notMatch(seen.line, /glass-to-glass/, 'not called glass-to-glass');
  t.match(seen.title, /this browser's share only/, 'its tooltip says which figure it is');
});
