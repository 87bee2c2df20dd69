// Congestion control on links that fill up: the receiver-report controller (lib/encoder/adaptive-bitrate.ts)
// against the delay-based one on TWCC feedback (lib/encoder/delay-based.ts), interleaved in one run.
// A headful Chromium paints the clock with moving content full-screen on Xvfb (bench/lib/painter.ts);
// a Streamer captures it (720p30 H.264 by default) and offers to a headless Chromium inside a network
// namespace behind the userspace WAN link (test/helpers/wan-link.py), which reads the clock from every
// frame it shows. PublisherBitrate (what publish() runs) drives the encoder with the chosen controller,
// from the moment the offer is answered (publish() starts it when the peer connects: no media before).
// Controllers: rr (receiver reports), twcc (the delay-based estimator as publish() runs it: starting at
// 1000 kbit/s, doubling while the link shows no queue), twcc-before (the same estimator as it was before
// that: starting at the configured bitrate, 25 %/s far from the capacity, a constant additive step near it,
// no bound at the link's rate), twcc-full (twcc whose increase runs up to the link's rate, not 0.9 of it).
// (The runs of 2026-12-07 evening named today's twcc-full "twcc" and today's twcc "twcc-share".)
// Profiles:
//   bloat    25 ms one way, 1.5 Mbit/s, 400 ms queue (a home uplink with bufferbloat; issue 18)
//   5m       25 ms one way, 5 Mbit/s, 200 ms queue
//   hostile  75 ms one way, 5 % loss, 1 Mbit/s, 50 ms queue (test/net/hostile.test.ts's link)
//   capdrop  25 ms one way, 6 Mbit/s, 200 ms queue; the cap drops to 1 Mbit/s for 15 s mid-stream and
//            comes back (recovery: from the lift until the target is back to 90 % of where it was);
//            fresh noise every frame (the painter's motion=2), so the encoder uses every bit it gets
// "start": the estimator's queueing delay over the first 5 s after the controller started (TWCC only).
//   node --import tsx bench/run.ts congestion [--profiles bloat,5m,hostile,capdrop] [--controllers rr,twcc-before,twcc]
//     [--rounds 2] [--seconds 20] [--codec h264]
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { Streamer, type VideoCodec } from '../lib/index.js';
import { PublisherBitrate } from '../lib/publish/bitrate.js';
import type { Logger } from '../lib/signaling/client.js';
import { BrowserPeer } from '../test/helpers/browser.js';
import { nodeOffersToBrowser } from '../test/helpers/peers.js';
import { launchChromiumIn, startWanLink, wanLinkUnavailable, type LinkSettings, type WanLink } from '../test/helpers/wan.js';
import { startXvfb } from '../test/helpers/xvfb.js';
import { measureCaptureLatency } from './lib/capture-clock.js';
import { ensureBenchPackages } from './lib/packages.js';
import { startPainter } from './lib/painter.js';
import { sleep } from './lib/processes.js';
import { installVideoReader, record, type Reading } from './lib/readers.js';
import { appendResult, describeMachine } from './lib/results.js';
import { summarize, type Summary } from './lib/stats.js';
import { formatTable } from './lib/table.js';

const { values } = parseArgs({
  options: {
    profiles: { type: 'string' },
    controllers: { type: 'string' },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    codec: { type: 'string' },
  },
});
type Controller = 'rr' | 'twcc-before' | 'twcc' | 'twcc-full';
const CONTROLLERS: Controller[] = ['rr', 'twcc-before', 'twcc', 'twcc-full'];
const profiles = (values.profiles ?? 'bloat,5m,hostile,capdrop').split(',');
const controllers = (values.controllers ?? CONTROLLERS.join(',')).split(',') as Controller[];
for (const c of controllers) if (!CONTROLLERS.includes(c)) throw new Error(`bench congestion: no controller "${c}" (${CONTROLLERS.join(', ')})`);
const rounds = Number(values.rounds ?? 2);
const seconds = Number(values.seconds ?? 20);
const codec = (values.codec ?? 'h264') as VideoCodec;
const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;

interface Profile {
  link: LinkSettings;
  /** The configured (maximum) video bitrate, kbit/s. */
  bitrate: number;
  /** The cap that drops mid-stream: Mbit/s while it holds, when it starts and how long it holds, s. */
  drop?: { rate: number; at: number; holds: number };
  /** What the painter shows behind the clock: scrolled noise (default) or fresh noise every frame. */
  content?: 'scroll' | 'fresh';
}
const PROFILES: Record<string, Profile> = {
  bloat: { link: { delay: 25, rate: 1.5, queue: 400 }, bitrate: 2000 },
  '5m': { link: { delay: 25, rate: 5, queue: 200 }, bitrate: 6000 },
  hostile: { link: { delay: 75, loss: 5, rate: 1, queue: 50 }, bitrate: 2000 },
  capdrop: { link: { delay: 25, rate: 6, queue: 200 }, bitrate: 5000, drop: { rate: 1, at: 10, holds: 15 }, content: 'fresh' },
};

interface Row {
  profile: string;
  controller: Controller;
  round: number;
  glass: Summary;
  /** Paint → the frame's last packet received (before the jitter buffer and decode). */
  received?: Summary;
  fps: number;
  misread: number;
  target: Summary;
  queueDelay?: Summary;
  /** The estimator's queueing delay over the first 5 s after the controller started. */
  startQueue?: Summary;
  recoverySeconds?: number;
  /** capdrop: the target (kbit/s) before the drop, at its end, and 5 and 15 s after the lift. */
  around?: { before: number; capped: number; after5: number; after15: number };
  cuts: number;
}
const rows: Row[] = [];
const label = (c: Controller) => ({ rr: 'receiver reports', 'twcc-before': 'TWCC as before', twcc: 'TWCC delay-based', 'twcc-full': 'TWCC up to the link' })[c];
/** How PublisherBitrate runs each controller. */
function bitrateOptions(c: Controller, max: number) {
  if (c === 'rr') return { controller: 'receiver-reports' as const };
  if (c === 'twcc-before') return { controller: 'twcc' as const, startKbps: max, estimator: { increasePerSecond: 0.25, fastRecovery: false, linkShare: 1 } };
  if (c === 'twcc-full') return { controller: 'twcc' as const, estimator: { linkShare: 1 } };
  return { controller: 'twcc' as const };
}

async function measure(browser: Browser, link: WanLink, display: string, name: string, profile: Profile, controller: Controller, round: number): Promise<Row> {
  await link.set({ loss: 0, jitter: 0, ...profile.link });
  const streamer = new Streamer({ source: { kind: 'x11', display, showPointer: false }, video: { codec, width: WIDTH, height: HEIGHT, fps: FPS, bitrate: profile.bitrate } });
  const peer = streamer.createPeer({});
  const viewer = await BrowserPeer.open(browser);
  let cuts = 0;
  const log: Logger = {
    debug: () => {},
    warn: () => {},
    error: () => {},
    info: (obj, msg) => {
      const change = obj as { from?: number; to?: number };
      if (msg === 'publisher: viewer bitrate target changed' && change.to! < change.from!) cuts++;
    },
  };
  const options = bitrateOptions(controller, profile.bitrate);
  const bitrate = new PublisherBitrate({ max: profile.bitrate, log, ...options });
  let sampling = true;
  let sampler: Promise<void> = Promise.resolve();
  try {
    await installVideoReader(viewer.page);
    await nodeOffersToBrowser(peer, viewer);
    // Both descriptions are set: the controller starts before any media, as publish()'s does at connect.
    bitrate.add('viewer', peer, streamer);
    const snapshot = () => bitrate.snapshot().get('viewer');
    if (snapshot()?.controller !== (controller === 'rr' ? 'receiver-reports' : 'twcc')) throw new Error(`bench: ${controller} did not start (got ${snapshot()?.controller})`);
    // Sample the target and the estimator's queueing delay four times a second from the start;
    // `since`: seconds since the controller started.
    const all: { since: number; target: number; queue?: number }[] = [];
    const started = performance.now();
    sampler = (async () => {
      while (sampling) {
        const s = snapshot();
        if (s) all.push({ since: (performance.now() - started) / 1000, target: s.target, queue: s.estimate?.queueDelayMs });
        await sleep(250);
      }
    })();
    await viewer.waitForFrames(10, 30_000);
    await sleep(3000); // the first keyframe, the first decisions
    cuts = 0;
    const windowStart = (performance.now() - started) / 1000;
    const total = profile.drop ? profile.drop.at + profile.drop.holds + 15 : seconds;
    const drop = profile.drop
      ? (async () => {
          await sleep(profile.drop!.at * 1000);
          await link.set({ rate: profile.drop!.rate });
          await sleep(profile.drop!.holds * 1000);
          await link.set({ rate: profile.link.rate! });
        })()
      : Promise.resolve();
    const reading: Reading = await record(viewer.page, total * FPS, total * 1000 + 5000);
    await drop;
    sampling = false;
    await sampler;
    const samples = all.filter((s) => s.since >= windowStart).map((s) => ({ ...s, at: s.since - windowStart }));
    const startQueues = all.filter((s) => s.since < 5).flatMap((s) => (s.queue === undefined ? [] : [s.queue]));
    let recoverySeconds: number | undefined;
    let around: Row['around'];
    if (profile.drop) {
      const at = (s: number) => samples.filter((x) => x.at <= s).at(-1)?.target ?? NaN;
      const lift = profile.drop.at + profile.drop.holds;
      around = { before: at(profile.drop.at), capped: at(lift), after5: at(lift + 5), after15: at(lift + 15) };
      const before = samples.filter((s) => s.at > profile.drop!.at - 5 && s.at < profile.drop!.at).map((s) => s.target);
      const goal = 0.9 * (before.length ? summarize(before).p50 : profile.bitrate);
      const back = samples.find((s) => s.at >= lift && s.target >= goal);
      recoverySeconds = back ? back.at - lift : Infinity;
    }
    const queues = samples.flatMap((s) => (s.queue === undefined ? [] : [s.queue]));
    return {
      profile: name,
      controller,
      round,
      glass: reading.glass,
      ...(reading.received ? { received: reading.received } : {}),
      fps: reading.fps,
      misread: reading.misread,
      target: summarize(samples.map((s) => s.target)),
      ...(queues.length ? { queueDelay: summarize(queues) } : {}),
      ...(startQueues.length ? { startQueue: summarize(startQueues) } : {}),
      ...(recoverySeconds !== undefined ? { recoverySeconds } : {}),
      ...(around ? { around } : {}),
      cuts,
    };
  } finally {
    sampling = false;
    await sampler;
    bitrate.close();
    await viewer.close();
    await peer.close();
    await streamer.close();
  }
}

const unavailable = wanLinkUnavailable();
if (unavailable) {
  console.error(`bench congestion: wan-link ${unavailable}`);
  process.exit(2);
}
ensureBenchPackages();
console.log(`congestion: ${describeMachine()}`);
console.log(`  ${WIDTH}x${HEIGHT}@${FPS} ${codec}, ${rounds} round(s) of ${controllers.join(' / ')} interleaved per profile, ${seconds} s per point`);

const ns = `bcc${process.pid % 100000}`;
const link = await startWanLink(ns, { delay: 25 });
const browser = await launchChromiumIn(ns);
const xvfb = await startXvfb(`${WIDTH}x${HEIGHT}x24`);
let painter: Awaited<ReturnType<typeof startPainter>> | undefined;
let painting: Profile['content'];
const f = (v: number | undefined, digits = 0) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
try {
  for (const name of profiles) {
    const profile = PROFILES[name];
    if (!profile) throw new Error(`bench congestion: no profile "${name}" (${Object.keys(PROFILES).join(', ')})`);
    const content = profile.content ?? 'scroll';
    if (!painter || painting !== content) {
      await painter?.close();
      painter = await startPainter(xvfb.display, WIDTH, HEIGHT, { motion: content === 'fresh' ? 'fresh' : true });
      painting = content;
      await sleep(2000); // the painter's first paint
    }
    for (let round = 1; round <= rounds; round++) {
      // The painter's own paint → capture delay: in every figure, not the link's nor the controller's.
      const capture = await measureCaptureLatency(xvfb.display, FPS, 150).catch(() => undefined);
      if (capture) console.log(`  ${name} #${round}: paint→capture alone p50 ${f(capture.latency.p50)} p95 ${f(capture.latency.p95)} max ${f(capture.latency.max)} ms`);
      for (const controller of controllers) {
        try {
          const row = await measure(browser, link, xvfb.display, name, profile, controller, round);
          rows.push(row);
          console.log(
            `  ${name} ${label(controller)} #${round}: paint→display p50 ${f(row.glass.p50)} p95 ${f(row.glass.p95)} max ${f(row.glass.max)} ms, ` +
              (row.received ? `paint→received p50 ${f(row.received.p50)} p95 ${f(row.received.p95)}, ` : '') +
              `${f(row.fps, 1)} fps, target p50 ${f(row.target.p50)} kbit/s (max ${f(row.target.max)}), ${row.cuts} cuts` +
              (row.queueDelay ? `, queue p50 ${f(row.queueDelay.p50)} p95 ${f(row.queueDelay.p95)} ms` : '') +
              (row.startQueue ? `, first 5 s queue p95 ${f(row.startQueue.p95)} max ${f(row.startQueue.max)} ms` : '') +
              (row.recoverySeconds !== undefined ? `, recovery ${f(row.recoverySeconds, 1)} s` : '') +
              (row.around ? ` (target ${row.around.before} before the drop, ${row.around.capped} at its end, ${row.around.after5} 5 s and ${row.around.after15} 15 s after the lift)` : ''),
          );
        } catch (error) {
          console.log(`  ${name} ${label(controller)} #${round}: FAILED: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
  }
} finally {
  await painter?.close();
  await xvfb.kill();
  await browser.close();
  await link.stop();
}

console.log('\npaint → display, ms; fps shown; the encoder target (kbit/s); the estimator\'s queueing delay (TWCC only) in the window and over the first 5 s');
console.log(
  formatTable(
    ['profile', 'controller', '#', 'p50', 'p95', 'max', 'recv p95', 'fps', 'target p50', 'cuts', 'queue p95', 'start queue max', 'recovery s'],
    rows.map((r) => [r.profile, label(r.controller), String(r.round), f(r.glass.p50), f(r.glass.p95), f(r.glass.max), f(r.received?.p95), f(r.fps, 1), f(r.target.p50), String(r.cuts), f(r.queueDelay?.p95), f(r.startQueue?.max), f(r.recoverySeconds, 1)]),
  ),
);
appendResult('congestion', { codec, width: WIDTH, height: HEIGHT, fps: FPS, rounds, seconds, rows });
