// Glass-to-glass latency: a headful Chromium paints the wall-clock time as a row of blocks on an Xvfb
// display (bench/pages/clock.html); the agent streams that display; a headless Chromium viewer reads
// the blocks from every frame it shows and subtracts them from its own clock. noVNC (x11vnc +
// websockify) on the same display is measured in the same run, interleaved, as is the painter's own
// paint→capture delay (ximagesrc alone), which is in every figure and not ours to cut. Beside the
// painted figure, the built-in probe (abs-capture-time) on the same frames, and painted − probe.
//   node --import tsx bench/run.ts latency [--quick] [--sizes 1280x720,1920x1080] [--fps 30,60]
//     [--codecs vp8,h264] [--frames 300] [--no-novnc] [--no-wan] [--wan-only] [--playout-delay both|on|off]
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';
import type { VideoCodec } from '../lib/index.js';
import { CHROMIUM_FLAGS, launchChromium } from '../test/helpers/browser.js';
import { startXvfb } from '../test/helpers/xvfb.js';
import { measureCaptureLatency } from './lib/capture-clock.js';
import { measureNoVnc, startNoVnc } from './lib/novnc.js';
import { ensureBenchPackages } from './lib/packages.js';
import { startPainter } from './lib/painter.js';
import { sleep } from './lib/processes.js';
import type { Reading } from './lib/readers.js';
import { appendResult, describeMachine } from './lib/results.js';
import type { Summary } from './lib/stats.js';
import { formatTable } from './lib/table.js';
import { HOST_ADDRESS, startWanLink, WAN_DEFAULT } from './lib/wan.js';
import { measureWebRtc, type EncoderRates, type ReceiverStats } from './lib/webrtc-viewer.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    sizes: { type: 'string' },
    fps: { type: 'string' },
    codecs: { type: 'string' },
    frames: { type: 'string' },
    'no-novnc': { type: 'boolean' },
    'no-wan': { type: 'boolean' },
    'wan-only': { type: 'boolean' },
    'playout-delay': { type: 'string' },
  },
});
const quick = values.quick === true;
const sizes = (values.sizes ?? (quick ? '1280x720' : '1280x720,1920x1080')).split(',').map((s) => s.split('x').map(Number) as [number, number]);
const fpsList = (values.fps ?? '30,60').split(',').map(Number);
const codecs = (values.codecs ?? 'vp8,h264').split(',') as VideoCodec[];
const frames = Number(values.frames ?? 300);
const withNoVnc = values['no-novnc'] !== true;
const withWan = values['no-wan'] !== true;
const lanToo = values['wan-only'] !== true;
// The lever: each WebRTC point with and without the playout-delay extension (min = max = 0).
const playoutDelay = values['playout-delay'] ?? 'both';
const variants = [...(playoutDelay !== 'on' ? [false] : []), ...(playoutDelay !== 'off' ? [true] : [])];
const peerName = (codec: VideoCodec, pd: boolean) => `webrtc ${codec}${pd ? ' +playout-delay 0' : ''}`;

interface Row {
  network: 'loopback' | 'wan';
  size: string;
  fps: number;
  peer: string; // "webrtc vp8", "noVNC", "paint→capture"
  latency: Summary;
  received?: Summary;
  probe?: Reading['probe'];
  paintToCapture?: Reading['paintToCapture'];
  deliveredFps: number;
  misread: number;
  receiver?: ReceiverStats;
  encoder?: EncoderRates;
}
const rows: Row[] = [];
const ms = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(1));

function add(row: Row): void {
  rows.push(row);
  const r = row.receiver;
  console.log(
    `  ${row.network} ${row.size}@${row.fps} ${row.peer}: p50 ${ms(row.latency.p50)} p95 ${ms(row.latency.p95)} max ${ms(row.latency.max)} ms ` +
      `(n=${row.latency.n}, ${row.deliveredFps.toFixed(1)} fps, ${row.misread} misread)` +
      (row.received ? `, paint→received p50 ${ms(row.received.p50)}` : '') +
      (row.probe ? `, probe (capture→shown) p50 ${ms(row.probe.p50)} p95 ${ms(row.probe.p95)} (n=${row.probe.n})` : '') +
      (row.paintToCapture ? `, painted−probe p5/p50/p95 ${ms(row.paintToCapture.p5)}/${ms(row.paintToCapture.p50)}/${ms(row.paintToCapture.p95)} (${row.paintToCapture.negative} < 0)` : '') +
      (r ? `, jitter buffer ${ms(r.jitterBufferMs)} ms/frame, decode ${ms(r.decodeMs)} ms/frame, lost ${r.packetsLost}, nack ${r.nacks}, freezes ${r.freezes}` : '') +
      (row.encoder ? `, encoded ${row.encoder.encodedFps.toFixed(1)} fps (${row.encoder.unchangedFps.toFixed(1)}/s unchanged)` : ''),
  );
}

// A point that fails (no frames within the bound, a browser crash) is reported and the run goes on.
async function point(label: string, measure: () => Promise<Row>): Promise<void> {
  try {
    add(await measure());
  } catch (error) {
    console.log(`  ${label}: FAILED: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
}

function fromReading(network: Row['network'], size: string, fps: number, peer: string, reading: Reading & { receiver?: ReceiverStats; encoder?: EncoderRates }): Row {
  const { glass: latency, received, probe, paintToCapture, fps: deliveredFps, misread, receiver, encoder } = reading;
  return { network, size, fps, peer, latency, received, probe, paintToCapture, deliveredFps, misread, receiver, encoder };
}

async function loopback(viewer: Browser, width: number, height: number): Promise<void> {
  const size = `${width}x${height}`;
  const xvfb = await startXvfb(`${width}x${height}x24`);
  const painter = await startPainter(xvfb.display, width, height);
  const novnc = withNoVnc ? await startNoVnc(xvfb.display, { webPort: 6080 + (process.pid % 500), vncPort: 5900 + (process.pid % 500) }) : undefined;
  try {
    await sleep(2000); // the painter's first paint
    for (const fps of fpsList) {
      // Interleaved: the painter's own delay, then each codec, then noVNC, for each frame rate.
      await point(`${size}@${fps} paint→capture`, async () => {
        const capture = await measureCaptureLatency(xvfb.display, fps, frames);
        return { network: 'loopback', size, fps, peer: 'paint→capture', latency: capture.latency, deliveredFps: fps, misread: capture.misread };
      });
      for (const codec of codecs) {
        for (const pd of variants) {
          await point(`${size}@${fps} ${peerName(codec, pd)}`, async () =>
            fromReading('loopback', size, fps, peerName(codec, pd), await measureWebRtc(viewer, xvfb.display, { codec, width, height, fps, playoutDelayZero: pd }, frames)),
          );
        }
      }
      if (novnc) await point(`${size}@${fps} noVNC`, async () => fromReading('loopback', size, fps, 'noVNC', await measureNoVnc(viewer, novnc.urlFor('127.0.0.1'), frames, 30_000)));
    }
  } finally {
    await novnc?.close();
    await painter.close();
    await xvfb.kill();
  }
}

// 100 ms RTT, 1% loss, 10 Mbit/s, full-screen motion: the viewer's browser runs inside the namespace.
async function wan(width: number, height: number, fps: number): Promise<void> {
  const size = `${width}x${height}`;
  const link = await startWanLink(WAN_DEFAULT);
  const xvfb = await startXvfb(`${width}x${height}x24`);
  const painter = await startPainter(xvfb.display, width, height, { motion: true });
  const novnc = withNoVnc ? await startNoVnc(xvfb.display, { webPort: 6080 + (process.pid % 500), vncPort: 5900 + (process.pid % 500) }) : undefined;
  const viewer = await chromium.launch({ executablePath: link.chromiumWrapper, args: CHROMIUM_FLAGS, headless: true });
  try {
    await sleep(2000);
    await point('wan paint→capture', async () => {
      const capture = await measureCaptureLatency(xvfb.display, fps, frames);
      return { network: 'wan', size, fps, peer: 'paint→capture', latency: capture.latency, deliveredFps: fps, misread: capture.misread };
    });
    for (const codec of codecs) {
      for (const pd of variants) {
        await point(`wan ${peerName(codec, pd)}`, async () =>
          fromReading('wan', size, fps, peerName(codec, pd), await measureWebRtc(viewer, xvfb.display, { codec, width, height, fps, playoutDelayZero: pd }, frames)),
        );
      }
    }
    if (novnc) await point('wan noVNC', async () => fromReading('wan', size, fps, 'noVNC', await measureNoVnc(viewer, novnc.urlFor(HOST_ADDRESS), frames, 40_000)));
  } finally {
    await viewer.close();
    await novnc?.close();
    await painter.close();
    await xvfb.kill();
    await link.close();
  }
}

ensureBenchPackages();
console.log(`latency: ${describeMachine()}, ${new Date().toISOString()}`);
console.log(`  ${frames} frames per point; painter: headful Chromium on Xvfb; viewer: headless Chromium`);
if (lanToo) {
  const viewer = await launchChromium();
  try {
    for (const [w, h] of sizes) await loopback(viewer, w, h);
  } finally {
    await viewer.close();
  }
}
if (withWan) {
  try {
    await wan(1280, 720, 30);
  } catch (error) {
    console.log(`  wan profile: FAILED: ${error instanceof Error ? error.message : String(error)}`);
  }
}

console.log('\nglass-to-glass, ms (webrtc: until the frame is shown; noVNC: until its canvas has it; paint→capture: the painter alone)');
console.log(
  formatTable(
    ['network', 'size@fps', 'peer', 'p50', 'p95', 'max', 'fps shown', 'paint→received p50', 'jitter buf ms/f', 'decode ms/f', 'n', 'misread', 'probe p50', 'probe p95', 'painted−probe p5/p50/p95'],
    rows.map((r) => [
      r.network, `${r.size}@${r.fps}`, r.peer, ms(r.latency.p50), ms(r.latency.p95), ms(r.latency.max), r.deliveredFps.toFixed(1), ms(r.received?.p50), ms(r.receiver?.jitterBufferMs), ms(r.receiver?.decodeMs), r.latency.n, r.misread,
      ms(r.probe?.p50), ms(r.probe?.p95), r.paintToCapture ? `${ms(r.paintToCapture.p5)}/${ms(r.paintToCapture.p50)}/${ms(r.paintToCapture.p95)}` : '–',
    ]),
  ),
);
appendResult('latency', { rows });
