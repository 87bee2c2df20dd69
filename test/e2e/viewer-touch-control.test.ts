// Quality and who-controls, from the viewer module in real Chromium: setMaxBitrate() lowers that
// viewer's bitrate at the publisher (clamped into its range, out-of-range refused, bursts coalesced),
// from a view-only viewer too, and with an encoder per viewer only that viewer receives less; and when one viewer takes control, every viewer allowed control is told
// who holds it (a view-only one is not), down to nobody once it releases control.
import t from 'tap';
import type { Browser, Page } from 'playwright-core';
import { publish } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { launchChromium } from '../helpers/browser.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { startXvfb } from '../helpers/xvfb.js';
import { serveViewerApp } from '../helpers/viewer-app.js';
import { waitFor } from '../helpers/wait.js';

const PAGE = `<!doctype html><body style="margin:0"><video muted autoplay playsinline style="width:640px;height:480px"></video>
<script type="module" src="/app.js"></script></body>`;

declare global {
  interface Window {
    probe: {
      viewer: import('../../lib/viewer/viewer.js').Viewer;
      controls: import('../../lib/viewer/viewer.js').ControlDetail[];
      qualities: import('../../lib/viewer/viewer.js').QualityDetail[];
    };
  }
}

async function desk(t: { teardown(fn: () => unknown): void }, session: string) {
  const x = await startXvfb('640x480x24');
  t.teardown(() => x.kill());
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = publish({
    url: daemon.url,
    session,
    token: mintToken({ secret: SECRET, session, role: 'publisher' }),
    source: { kind: 'x11', display: x.display },
    video: { width: 640, height: 480, bitrate: 2000 },
  });
  t.teardown(() => publisher.close());
  const app = await serveViewerApp('touch.ts', PAGE);
  t.teardown(() => app.close());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const open = async (control: boolean): Promise<Page> => {
    const page = await (browser as Browser).newPage({ viewport: { width: 640, height: 480 } });
    const token = mintToken({ secret: SECRET, session, role: 'viewer', control });
    await page.goto(`${app.url}?ws=${encodeURIComponent(daemon.url)}&session=${session}&token=${token}`);
    await page.waitForFunction(() => (window.probe?.viewer.stats?.framesDecoded ?? 0) >= 3, undefined, { timeout: 30_000 });
    await page.waitForFunction(() => (window.probe.viewer as unknown as { input: RTCDataChannel | null }).input?.readyState === 'open', undefined, { timeout: 10_000 });
    return page;
  };
  return { publisher, open };
}

const lastQuality = (page: Page) => page.evaluate(() => window.probe.qualities.at(-1) ?? null);
const qualityCount = (page: Page) => page.evaluate(() => window.probe.qualities.length);

t.test('setMaxBitrate(): the publisher caps this viewer, clamps into its range, refuses out of range, coalesces bursts', async (t) => {
  const { publisher, open } = await desk(t, 'quality');
  // A view-only viewer: its own stream's quality is still its to choose.
  const page = await open(false);
  await waitFor('the encoder at its configured bitrate', () => publisher.videoBitrate === 2000, 10_000);

  let n = await qualityCount(page);
  await page.evaluate(() => window.probe.viewer.setMaxBitrate(500_000));
  await page.waitForFunction((k) => window.probe.qualities.length > k, n);
  t.same(await lastQuality(page), { ok: true, maxBitrate: 500_000 }, 'the publisher answers with the ceiling in force');
  await waitFor('the encoder at 500 kbit/s', () => publisher.videoBitrate === 500, 5000).catch(() => {});
  t.equal(publisher.videoBitrate, 500, "the (shared) encoder follows this viewer's ceiling: 500 kbit/s");

  // Below the adaptive-bitrate range (150 kbit/s minimum): clamped; the shared encoder's floor (300) holds.
  n = await qualityCount(page);
  await page.evaluate(() => window.probe.viewer.setMaxBitrate(60_000));
  await page.waitForFunction((k) => window.probe.qualities.length > k, n);
  t.same(await lastQuality(page), { ok: true, maxBitrate: 150_000 }, '60 kbit/s is clamped to the publisher\'s minimum, 150 kbit/s');
  await waitFor('the encoder at its floor', () => publisher.videoBitrate === 300, 5000).catch(() => {});
  t.equal(publisher.videoBitrate, 300, 'a shared encoder does not go below its floor (300 kbit/s)');

  // Out of range on the wire (a page that skips the module's check): refused, nothing changes.
  n = await qualityCount(page);
  await page.evaluate(() => window.probe.viewer.sendInput({ t: 'quality', maxBitrate: 1e12 }));
  await page.waitForFunction((k) => window.probe.qualities.length > k, n);
  t.match(await lastQuality(page), { ok: false, code: 'out-of-range', message: /maxBitrate must be a whole number of bits per second from 50000 to 100000000/ }, 'a ceiling of 1 Tbit/s is refused');
  t.equal(publisher.videoBitrate, 300, 'and the bitrate stays');
  const thrown = await page.evaluate(() => {
    try {
      window.probe.viewer.setMaxBitrate(-5);
      return 'sent';
    } catch (e) {
      return (e as Error).name;
    }
  });
  t.equal(thrown, 'RangeError', 'setMaxBitrate() refuses it before sending');

  // A burst (a slider dragged): at most one a 500 ms is applied, and the newest wins.
  await new Promise((r) => setTimeout(r, 600));
  n = await qualityCount(page);
  await page.evaluate(() => {
    for (let i = 0; i < 30; i++) window.probe.viewer.setMaxBitrate(1_000_000 - i * 10_000);
    window.probe.viewer.setMaxBitrate(800_000);
  });
  await page.waitForFunction((k) => window.probe.qualities.at(-1)?.maxBitrate === 800_000 && window.probe.qualities.length > k, n, { timeout: 5000 });
  await new Promise((r) => setTimeout(r, 1200));
  const answers = (await qualityCount(page)) - n;
  t.ok(answers <= 2, `31 messages in a burst: ${answers} applied (the first, then the newest)`);
  t.same(await lastQuality(page), { ok: true, maxBitrate: 800_000 }, 'the newest ceiling is the one in force');
  await waitFor('the encoder at 800 kbit/s', () => publisher.videoBitrate === 800, 5000).catch(() => {});
  t.equal(publisher.videoBitrate, 800, 'the encoder follows it');

  // Lifted: back up to what the link allows (here the configured 2000).
  await page.evaluate(() => window.probe.viewer.setMaxBitrate(undefined));
  await page.waitForFunction(() => window.probe.qualities.at(-1)?.ok === true && window.probe.qualities.at(-1)?.maxBitrate === undefined, undefined, { timeout: 5000 });
  await waitFor('the encoder back above the ceiling', () => (publisher.videoBitrate ?? 0) > 800, 5000).catch(() => {});
  t.ok((publisher.videoBitrate ?? 0) > 800, `without a ceiling the encoder goes back up (${publisher.videoBitrate} kbit/s)`);
});

t.test('the control holder: every viewer allowed control is told who holds it; view-only viewers are not', async (t) => {
  const { open } = await desk(t, 'holder');
  const a = await open(true);
  const b = await open(true);
  const watcher = await open(false);
  const controls = (page: Page) => page.evaluate(() => window.probe.controls);

  await a.evaluate(() => window.probe.viewer.takeControl());
  await b.waitForFunction(() => window.probe.controls.length >= 1, undefined, { timeout: 10_000 });
  await a.waitForFunction(() => window.probe.controls.length >= 1, undefined, { timeout: 10_000 });
  const [toA] = await controls(a);
  const [toB] = await controls(b);
  t.match(toA, { controlling: true, holder: { id: /\S/, self: true } }, 'A is told it holds control');
  t.same(toB, { controlling: false, holder: { id: toA!.holder!.id, self: false } }, 'B is told A holds it');
  t.same(await b.evaluate(() => window.probe.viewer.control), toB, 'viewer.control keeps the latest');

  await b.evaluate(() => window.probe.viewer.takeControl());
  await a.waitForFunction(() => window.probe.controls.length >= 2, undefined, { timeout: 10_000 });
  await b.waitForFunction(() => window.probe.controls.length >= 2, undefined, { timeout: 10_000 });
  const bId = (await controls(b))[1]!.holder?.id;
  t.match((await controls(b))[1], { controlling: true, holder: { self: true } }, 'B took control');
  t.same((await controls(a))[1], { controlling: false, holder: { id: bId, self: false } }, 'A is told B holds it now');
  t.not(bId, toA!.holder!.id, 'a different holder');

  await b.evaluate(() => window.probe.viewer.releaseControl());
  await a.waitForFunction(() => window.probe.controls.length >= 3, undefined, { timeout: 10_000 });
  await b.waitForFunction(() => window.probe.controls.length >= 3, undefined, { timeout: 10_000 });
  t.same((await controls(a))[2], { controlling: false }, 'after release, A is told nobody holds control');
  t.same((await controls(b))[2], { controlling: false }, 'and so is B');

  // A newcomer allowed control, while A holds it again, learns who does as soon as its channel opens.
  await a.evaluate(() => window.probe.viewer.takeControl());
  await a.waitForFunction(() => window.probe.controls.length >= 4, undefined, { timeout: 10_000 });
  const c = await open(true);
  await c.waitForFunction(() => window.probe.controls.length >= 1, undefined, { timeout: 10_000 });
  t.same((await controls(c))[0], { controlling: false, holder: { id: toA!.holder!.id, self: false } }, 'a newcomer is told A holds control');

  await new Promise((r) => setTimeout(r, 500));
  t.same(await controls(watcher), [], 'a view-only viewer is told nothing');
});

t.test('with an encoder per viewer, only the viewer that set a ceiling receives less', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  // Noise: every encoder runs at its target, so what a browser receives is what its encoder was told.
  const publisher = publish({
    url: daemon.url,
    session: 'own',
    token: mintToken({ secret: SECRET, session: 'own', role: 'publisher' }),
    source: { kind: 'test', pattern: 'snow' },
    video: { width: 320, height: 240, bitrate: 1500 },
    input: true,
    shareEncoder: false,
  });
  t.teardown(() => publisher.close());
  const app = await serveViewerApp('touch.ts', PAGE);
  t.teardown(() => app.close());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const open = async () => {
    const page = await browser.newPage({ viewport: { width: 640, height: 480 } });
    await page.goto(`${app.url}?ws=${encodeURIComponent(daemon.url)}&session=own&token=${mintToken({ secret: SECRET, session: 'own', role: 'viewer' })}`);
    await page.waitForFunction(() => (window.probe?.viewer.stats?.framesDecoded ?? 0) >= 3, undefined, { timeout: 30_000 });
    await page.waitForFunction(() => (window.probe.viewer as unknown as { input: RTCDataChannel | null }).input?.readyState === 'open', undefined, { timeout: 10_000 });
    return page;
  };
  const a = await open();
  const b = await open();
  // Mean received bitrate over the next `seconds` stats reports.
  const received = (page: Page, seconds: number) =>
    page.evaluate(async (n) => {
      const rates: number[] = [];
      for (let i = 0; i < n; i++) {
        await new Promise((r) => window.probe.viewer.addEventListener('stats', r, { once: true }));
        rates.push(window.probe.viewer.stats?.bitrateKbps ?? 0);
      }
      return rates.reduce((s, r) => s + r, 0) / rates.length;
    }, seconds);

  await a.evaluate(() => window.probe.viewer.setMaxBitrate(300_000));
  await a.waitForFunction(() => window.probe.qualities.at(-1)?.maxBitrate === 300_000, undefined, { timeout: 5000 });
  await new Promise((r) => setTimeout(r, 2000)); // the encoder's rate control settles
  const [toA, toB] = await Promise.all([received(a, 4), received(b, 4)]);
  t.ok(toA < 450, `A, capped at 300 kbit/s, receives ${Math.round(toA)} kbit/s`);
  t.ok(toB > 800, `B, uncapped, still receives ${Math.round(toB)} kbit/s`);
});
