// The delay-based controller (TWCC) on a link that fills up: headless Chromium in a network namespace
// behind a userspace WAN link (test/helpers/wan-link.py) with a home uplink's bufferbloat — 25 ms one
// way, 1.5 Mbit/s, a 400 ms tail-drop queue — watching publish() through the daemon, content that uses
// every bit it gets (noise), a 3 Mbit/s configured bitrate. Behaviour, not timing figures:
//  - the viewer runs the TWCC controller, and the start-up does not fill the queue: before, the frames
//    encoded while DTLS was set up left as one burst at connect and the estimator read 325-383 ms of
//    queue in its first seconds (bench/congestion.ts); now the peer starts on the join's keyframe and
//    at most 70 ms of frames after it (src-native/encoder/start_gate.h; 8 frames read p95 192 ms here),
//    at 1000 kbit/s (a start at the configured 3000 read p95 ~113 ms here, the 1000 one ~41);
//  - the encoder goes under the link's rate;
//  - while the cap holds, the queueing delay the estimator reports stays bounded (nowhere near the
//    400 ms the queue could hold);
//  - once the cap lifts, the target climbs back to near the configured rate (generously bounded: the
//    estimator doubles while the link shows room; the figures are in bench/congestion.ts).
// Root only (network namespaces, TUN).
import t from 'tap';
import { publish } from '../../lib/publish/publisher.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import type { CongestionSnapshot } from '../../lib/encoder/twcc-bitrate.js';
import { viewerFrames } from '../helpers/browser.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { HOST_ADDRESS, launchChromiumIn, startWanLink, wanLinkUnavailable } from '../helpers/wan.js';
import { waitFor } from '../helpers/wait.js';

const unavailable = wanLinkUnavailable();
if (unavailable) {
  t.skip(`congestion tests skipped: wan-link ${unavailable}`);
  process.exit(0);
}

const LINK = { delay: 25, rate: 1.5, queue: 400 };
const MAX_KBPS = 3000;
const SOURCE = { kind: 'pipeline' as const, description: 'videotestsrc is-live=true pattern=snow' };
const VIDEO = { codec: 'h264' as const, width: 640, height: 360, fps: 30, bitrate: MAX_KBPS };

const ns = `cc${process.pid % 100000}`;
const link = await startWanLink(ns, LINK);
t.teardown(() => link.stop());
const browser = await launchChromiumIn(ns);
t.teardown(() => browser.close());
const daemon = await startDaemon({ host: HOST_ADDRESS });
t.teardown(() => daemon.app.close());
const token = (session: string, role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session, role, ttlSeconds: 600 });

t.test('bufferbloat link: the queue stays short while the cap holds, the target climbs once it lifts', async (t) => {
  const session = 'bloat';
  const publisher = publish({ url: daemon.url, session, token: token(session, 'publisher'), source: SOURCE, video: VIDEO });
  const errors: string[] = [];
  publisher.on('error', (e) => errors.push(e.message));
  t.teardown(() => publisher.close());
  const page = await browser.newPage();
  t.teardown(() => page.close());
  const viewer = (): CongestionSnapshot | undefined => [...publisher.congestion().values()][0];
  // From the first estimate on, the estimator's queueing delay over the first 5 s (the start-up).
  const startQueue: number[] = [];
  let firstEstimate: number | undefined;
  let watching = true;
  const startWatch = (async () => {
    while (watching) {
      const q = viewer()?.estimate?.queueDelayMs;
      if (q !== undefined) {
        firstEstimate ??= Date.now();
        if (Date.now() - firstEstimate > 5000) break;
        startQueue.push(q);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  t.teardown(async () => {
    watching = false;
    await startWatch;
  });
  await page.goto(`${daemon.http}/?session=${session}&token=${token(session, 'viewer')}`);
  const deadline = Date.now() + 30_000;
  while ((await viewerFrames(page)) < 1) {
    if (Date.now() > deadline) throw new Error(`no frame decoded within 30 s behind the link (publisher errors: ${JSON.stringify(errors)})`);
    await new Promise((r) => setTimeout(r, 250));
  }
  await waitFor('an estimate from TWCC feedback', () => viewer()?.estimate !== undefined, 15_000);
  t.equal(viewer()!.controller, 'twcc', 'Chromium negotiated transport-cc: the TWCC controller runs');
  await startWatch;
  startQueue.sort((a, b) => a - b);
  const startP95 = startQueue[Math.floor(startQueue.length * 0.95)] ?? Infinity;
  t.comment(`first 5 s: queueing delay p50 ${startQueue[Math.floor(startQueue.length / 2)]?.toFixed(0)} ms, p95 ${startP95.toFixed(0)}, max ${startQueue.at(-1)?.toFixed(0)}`);
  t.ok(startQueue.length > 20, 'the estimator reported through the start-up');
  t.ok(startP95 < 200, `the start-up leaves the queue short (p95 ${startP95.toFixed(0)} ms < 200 over the first 5 s; the queue holds 400)`);

  await waitFor(`the target under the link's ${LINK.rate * 1000} kbit/s`, () => (viewer()?.target ?? Infinity) < LINK.rate * 1000, 15_000, 100);
  // Let the start-up settle, then watch.
  await new Promise((r) => setTimeout(r, 5000));
  const queue: number[] = [];
  const targets: number[] = [];
  const watchUntil = Date.now() + 15_000;
  while (Date.now() < watchUntil) {
    const v = viewer();
    if (v?.estimate?.queueDelayMs !== undefined) queue.push(v.estimate.queueDelayMs);
    if (v) targets.push(v.target);
    await new Promise((r) => setTimeout(r, 200));
  }
  queue.sort((a, b) => a - b);
  const p95 = queue[Math.floor(queue.length * 0.95)] ?? Infinity;
  const capped = Math.max(...targets);
  t.comment(`while capped: queueing delay p50 ${queue[Math.floor(queue.length / 2)]?.toFixed(0)} ms, p95 ${p95.toFixed(0)}, max ${queue[queue.length - 1]?.toFixed(0)}; target ${Math.min(...targets)}–${capped} kbit/s`);
  t.ok(queue.length > 20, 'the estimator kept reporting');
  // The queue can hold 400 ms: a controller that waits for loss (receiver reports) fills it.
  t.ok(p95 < 150, `the queueing delay stays bounded while the cap holds (p95 ${p95.toFixed(0)} ms < 150; the queue holds 400)`);
  // GCC probes: an additive step may take the target a little past the link before the delay trend cuts it
  // (a run at load 15 peaked at 1.16×); a controller that ignores the cap climbs to MAX_KBPS (2×).
  // The median, not the peak: an encoder that undershoots its target (this content, at times) lets the
  // increase (bounded by 1.5 × what got through) probe above the link without a queue; what must not
  // happen is a target that sits there (one that ignored the link would sit at the 3000 kbit/s ceiling).
  const median = [...targets].sort((a, b) => a - b)[Math.floor(targets.length / 2)]!;
  t.ok(median <= LINK.rate * 1000 * 1.25, `the target stays near or under the link rate (median ${median} ≤ ${LINK.rate * 1000 * 1.25}; peak ${capped})`);

  await link.set({ rate: 0 });
  const lifted = Date.now();
  // The goal is 5 s back to the full rate; 15 s leaves a loaded machine room.
  const goal = MAX_KBPS * 0.9;
  await waitFor(`the target back to ${goal} kbit/s after the cap lifted`, () => (viewer()?.target ?? 0) >= goal, 15_000, 100);
  t.pass(`the target climbs back once the cap lifts: ${capped} → ${viewer()!.target} kbit/s in ${((Date.now() - lifted) / 1000).toFixed(1)} s`);
  t.ok((await viewerFrames(page)) > 0, 'still playing');
});
