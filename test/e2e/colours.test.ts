// An X client paints a grid of known colours on Xvfb; a Chromium viewer, through the daemon, decodes the
// stream and reads the frame back from a canvas. Right colours in the right cells, and cell edges where
// they belong, prove capture, scaling and colour conversion end to end, for VP8 and H.264. A swapped
// R/B, a mirrored or cropped picture or a wrong output size fails.
import t from 'tap';
import { publish } from '../../lib/client.js';
import type { VideoCodec } from '../../lib/types.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { launchChromium, waitForViewerFrames } from '../helpers/browser.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { startPainter } from '../helpers/painter.js';
import { startXvfb } from '../helpers/xvfb.js';

const SCREEN = { width: 1280, height: 720 };
const COLS = 4;
const ROWS = 2;
// Row by row from the top left. Every neighbour pair differs strongly (edges are measurable), and no
// two cells trade places under a mirror, a rotation or an R/B swap without changing colour.
const GRID: [name: string, hex: string][] = [
  ['red', 'ff0000'], ['green', '00ff00'], ['blue', '0000ff'], ['yellow', 'ffff00'],
  ['cyan', '00ffff'], ['magenta', 'ff00ff'], ['white', 'ffffff'], ['black', '000000'],
];
// Per channel, 0..255. Observed: at most 5 off (4:2:0 chroma, lossy codecs). A BT.709/BT.601 mix-up is
// 16-25 off, a wrong channel order or a wrong cell ~255.
const TOLERANCE = 12;
// Edge position, in output pixels: scaling rounds, codecs blur symmetrically.
const EDGE_TOLERANCE = 2;
const PATCH = 9;

// capture 'damage': our own source converts to I420 itself (src-native/x11/frame_store.h), only the
// rows that changed; its BT.601 must reach the browser as videoconvert's did (native and scaled).
const CASES: { codec: VideoCodec; width: number; height: number; capture?: 'damage' }[] = [
  { codec: 'vp8', width: 640, height: 360 },
  { codec: 'h264', width: 640, height: 360 },
  { codec: 'vp8', width: SCREEN.width, height: SCREEN.height },
  { codec: 'h264', width: SCREEN.width, height: SCREEN.height },
  { codec: 'vp9', width: SCREEN.width, height: SCREEN.height },
  { codec: 'h264', width: SCREEN.width, height: SCREEN.height, capture: 'damage' },
  { codec: 'vp8', width: 640, height: 360, capture: 'damage' },
];

type RGB = [number, number, number];

interface Sample {
  width: number;
  height: number;
  /** Mean colour of a PATCH×PATCH square at each cell's centre, row by row. */
  patches: RGB[];
  /** Pixels along the horizontal line through each cell row's centre (flattened RGB). */
  rowLines: number[][];
  /** Pixels along the vertical line through each cell column's centre (flattened RGB). */
  colLines: number[][];
}

const rgbOf = (hex: string): RGB => [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)) as RGB;
const dist2 = (a: RGB, b: RGB) => (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2;

/**
 * Where the edge between colours `a` and `b` lies on `line` (flattened RGB), searched within half a
 * cell of `expected`: the window start plus the number of pixels nearer `a` (robust to a noisy pixel).
 */
function edgeAt(line: number[], expected: number, halfWindow: number, a: RGB, b: RGB): number {
  const start = Math.round(expected - halfWindow);
  const end = Math.round(expected + halfWindow);
  let nearA = 0;
  for (let i = start; i < end; i++) {
    const p: RGB = [line[i * 3]!, line[i * 3 + 1]!, line[i * 3 + 2]!];
    if (dist2(p, a) < dist2(p, b)) nearA++;
  }
  return start + nearA;
}

t.test('a Chromium viewer sees the painted colours at the right places (capture, scale, convert)', async (t) => {
  const x = await startXvfb(`${SCREEN.width}x${SCREEN.height}x24`);
  t.teardown(() => x.kill());
  const painter = await startPainter(x.display, COLS, ROWS, GRID.map(([, hex]) => hex));
  t.teardown(() => painter.kill());
  t.same({ width: painter.width, height: painter.height }, SCREEN, 'the painter covers the whole screen');
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const browser = await launchChromium();
  t.teardown(() => browser.close());

  for (const { codec, width, height, capture } of CASES) {
    const label = `${codec} ${width}x${height}${width === SCREEN.width ? ' (native)' : ' (scaled)'}${capture ? `, capture ${capture}` : ''}`;
    await t.test(label, async (t) => {
      const session = `colours-${codec}-${width}${capture ? `-${capture}` : ''}`;
      const publisher = publish({
        url: daemon.url,
        session,
        token: mintToken({ secret: SECRET, session, role: 'publisher' }),
        // No pointer: Xvfb parks it mid-screen, on top of the picture being checked.
        source: { kind: 'x11', display: x.display, showPointer: false, ...(capture ? { capture } : {}) },
        video: { codec, width, height },
        input: false,
      });
      t.teardown(() => publisher.close());
      const page = await browser.newPage({ viewport: { width: 640, height: 360 } });
      t.teardown(() => page.close());
      await page.goto(`${daemon.http}/?session=${session}&token=${mintToken({ secret: SECRET, session, role: 'viewer' })}`);
      await waitForViewerFrames(page, 1, 20_000);

      const sample: Sample = await page.evaluate(
        async ({ cols, rows, patch }) => {
          const video = document.getElementById('video') as HTMLVideoElement;
          // Two more presented frames: the picture on screen is a whole, current one.
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('no frame presented within 10 s')), 10_000);
            let n = 0;
            const next = () => {
              if (++n >= 2) {
                clearTimeout(timer);
                resolve();
              } else video.requestVideoFrameCallback(next);
            };
            video.requestVideoFrameCallback(next);
          });
          const width = video.videoWidth;
          const height = video.videoHeight;
          const canvas = document.createElement('canvas');
          canvas.width = width;
          canvas.height = height;
          const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
          ctx.drawImage(video, 0, 0, width, height);
          const data = ctx.getImageData(0, 0, width, height).data;
          const at = (x: number, y: number) => [data[(y * width + x) * 4]!, data[(y * width + x) * 4 + 1]!, data[(y * width + x) * 4 + 2]!];
          const patches: [number, number, number][] = [];
          for (let r = 0; r < rows; r++) {
            for (let c = 0; c < cols; c++) {
              const cx = Math.floor(((c + 0.5) * width) / cols);
              const cy = Math.floor(((r + 0.5) * height) / rows);
              const sum: [number, number, number] = [0, 0, 0];
              for (let dy = -(patch >> 1); dy <= patch >> 1; dy++) {
                for (let dx = -(patch >> 1); dx <= patch >> 1; dx++) {
                  const [red, green, blue] = at(cx + dx, cy + dy);
                  sum[0] += red!;
                  sum[1] += green!;
                  sum[2] += blue!;
                }
              }
              patches.push(sum.map((s) => Math.round(s / (patch * patch))) as [number, number, number]);
            }
          }
          const rowLines = Array.from({ length: rows }, (_, r) => {
            const y = Math.floor(((r + 0.5) * height) / rows);
            return Array.from({ length: width }, (_, x) => at(x, y)).flat();
          });
          const colLines = Array.from({ length: cols }, (_, c) => {
            const x = Math.floor(((c + 0.5) * width) / cols);
            return Array.from({ length: height }, (_, y) => at(x, y)).flat();
          });
          return { width, height, patches, rowLines, colLines };
        },
        { cols: COLS, rows: ROWS, patch: PATCH },
      );

      t.same({ width: sample.width, height: sample.height }, { width, height }, 'the video has the requested size');

      let worst = 0;
      const measured: string[] = [];
      GRID.forEach(([name, hex], i) => {
        const want = rgbOf(hex);
        const got = sample.patches[i]!;
        const deviation = Math.max(...got.map((v, k) => Math.abs(v - want[k]!)));
        worst = Math.max(worst, deviation);
        measured.push(`${name}=(${got.join(',')}) Δ${deviation}`);
        t.ok(deviation <= TOLERANCE, `cell ${i} (row ${Math.floor(i / COLS)}, col ${i % COLS}) is ${name}: got rgb(${got.join(',')}), off by ${deviation}`);
      });
      t.comment(`${label} colours: ${measured.join(' ')}; worst channel deviation ${worst}`);

      const edges: string[] = [];
      let worstEdge = 0;
      const checkEdge = (what: string, got: number, expected: number) => {
        const off = Math.abs(got - expected);
        worstEdge = Math.max(worstEdge, off);
        edges.push(`${got}/${expected}`);
        t.ok(off <= EDGE_TOLERANCE, `${what} at ${got}, expected ${expected}`);
      };
      const cellW = width / COLS;
      const cellH = height / ROWS;
      for (let r = 0; r < ROWS; r++) {
        for (let c = 0; c + 1 < COLS; c++) {
          const [a, b] = [GRID[r * COLS + c]!, GRID[r * COLS + c + 1]!];
          checkEdge(`row ${r}: ${a[0]}|${b[0]} edge`, edgeAt(sample.rowLines[r]!, (c + 1) * cellW, cellW / 2, rgbOf(a[1]), rgbOf(b[1])), (c + 1) * cellW);
        }
      }
      for (let c = 0; c < COLS; c++) {
        for (let r = 0; r + 1 < ROWS; r++) {
          const [a, b] = [GRID[r * COLS + c]!, GRID[(r + 1) * COLS + c]!];
          checkEdge(`column ${c}: ${a[0]}/${b[0]} edge`, edgeAt(sample.colLines[c]!, (r + 1) * cellH, cellH / 2, rgbOf(a[1]), rgbOf(b[1])), (r + 1) * cellH);
        }
      }
      t.comment(`${label} edges (measured/expected px): ${edges.join(' ')}; worst ${worstEdge} px`);
    });
  }
});
