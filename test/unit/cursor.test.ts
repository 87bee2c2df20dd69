// The pointer as data, without X: the cursor messages belong to the publisher only, shapes are bounded
// (scaled into CURSOR_LIMITS, a PNG that always fits one message), and publish({pointer}) is checked.
import t from 'tap';
import { CURSOR_LIMITS, checkAgentMessage, checkViewerMessage } from '../../lib/input/protocol.js';
import { toShape } from '../../lib/input/cursor.js';
import { publish } from '../../lib/publish/publisher.js';
import { view } from '../../lib/agent/remote-view.js';
import { InvalidArgumentError } from '../../lib/errors.js';
import { decodePng } from '../helpers/png.js';

const shapeMessage = { t: 'cursor-shape', id: 7, width: 16, height: 16, xhot: 3, yhot: 5, png: 'iVBORw0KGgo=' };
const cursorMessage = { t: 'cursor', x: 10, y: 20, width: 640, height: 480, id: 7, visible: true };

t.test('publisher → viewer only: a viewer cannot send cursor messages', async (t) => {
  t.ok(checkAgentMessage.Check(shapeMessage), 'cursor-shape is an agent message');
  t.ok(checkAgentMessage.Check(cursorMessage), 'cursor is an agent message');
  t.notOk(checkViewerMessage.Check(shapeMessage), 'cursor-shape from a viewer is refused');
  t.notOk(checkViewerMessage.Check(cursorMessage), 'cursor from a viewer is refused');
  t.notOk(checkViewerMessage.Check({ ...cursorMessage, seq: 1 }), 'with a seq too');
  t.notOk(checkAgentMessage.Check({ ...shapeMessage, width: CURSOR_LIMITS.maxSide + 1 }), 'wider than the limit');
  t.notOk(checkAgentMessage.Check({ ...shapeMessage, png: 'x'.repeat(CURSOR_LIMITS.maxPngChars + 1) }), 'a PNG over the limit');
  t.notOk(checkAgentMessage.Check({ ...cursorMessage, visible: 'yes' }), 'visible is a boolean');
  t.notOk(checkAgentMessage.Check({ ...cursorMessage, extra: 1 }), 'no unknown fields');
});

function image(width: number, height: number, pixel: (x: number, y: number) => [number, number, number, number]): Uint8Array {
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) rgba.set(pixel(x, y), (y * width + x) * 4);
  return rgba;
}

t.test('shapes: PNG of the pixels, visible unless fully transparent, scaled into the limits', async (t) => {
  const small = toShape({ serial: 1, width: 4, height: 2, xhot: 1, yhot: 1, rgba: image(4, 2, (x) => (x < 2 ? [255, 0, 0, 255] : [0, 0, 255, 128])) });
  const png = decodePng(Buffer.from(small.png, 'base64'));
  t.same([png.width, png.height], [4, 2]);
  t.same([...png.pixels.subarray(0, 4)], [255, 0, 0, 255], 'the pixels as given');
  t.same([...png.pixels.subarray(12, 16)], [0, 0, 255, 128], 'straight alpha kept');
  t.same([small.xhot, small.yhot, small.visible], [1, 1, true]);
  t.equal(toShape({ serial: 2, width: 2, height: 2, xhot: 0, yhot: 0, rgba: new Uint8Array(16) }).visible, false, 'transparent: not visible');

  const big = toShape({ serial: 3, width: 256, height: 200, xhot: 255, yhot: 100, rgba: image(256, 200, () => [0, 0, 0, 255]) });
  t.same([big.width, big.height, big.xhot, big.yhot], [128, 100, 127, 50], 'a 256×200 cursor is halved, its hotspot with it');

  // Noise does not compress: 128×128 RGBA is 64 KiB raw, over the limit in base64; halved until it fits.
  let seed = 1;
  const noise = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
  const noisy = toShape({ serial: 4, width: 128, height: 128, xhot: 64, yhot: 64, rgba: image(128, 128, () => [noise(), noise(), noise(), noise() | 1]) });
  t.ok(noisy.png.length <= CURSOR_LIMITS.maxPngChars, `a noisy shape fits one message (${noisy.png.length} base64 characters)`);
  t.ok(noisy.width < 128 && noisy.width >= 64, `scaled down to ${noisy.width}×${noisy.height}`);
  t.ok(checkAgentMessage.Check({ t: 'cursor-shape', id: 4, width: noisy.width, height: noisy.height, xhot: noisy.xhot, yhot: noisy.yhot, png: noisy.png }), 'and its message passes the schema');
});

t.test("publish({pointer}): 'auto', 'video' or 'channel'; auto and channel need an x11 source with input, auto the shared encoder", async (t) => {
  const base = { url: 'ws://127.0.0.1:1/v1/ws', session: 's' };
  t.throws(() => publish({ ...base, source: { kind: 'x11', display: ':0' }, pointer: 'css' as 'video' }), /pointer must be 'auto', 'video' or 'channel'/);
  t.throws(() => publish({ ...base, source: { kind: 'test' }, pointer: 'channel' }), /needs an x11 source/);
  t.throws(() => publish({ ...base, source: { kind: 'test' }, pointer: 'auto' }), /pointer: 'auto' needs an x11 source/);
  t.throws(() => publish({ ...base, source: { kind: 'x11', display: ':0' }, input: false, pointer: 'channel' }), /leave input on/);
  t.throws(() => publish({ ...base, source: { kind: 'x11', display: ':0' }, input: false, pointer: 'auto' }), /leave input on/);
  t.throws(() => publish({ ...base, source: { kind: 'x11', display: ':0' }, shareEncoder: false, pointer: 'auto' }), /with shareEncoder: false use 'video' or 'channel'/);
  t.throws(() => publish({ ...base, source: { kind: 'x11', display: ':0', showPointer: false }, pointer: 'auto' }), /source.showPointer is false/);
  t.throws(() => publish({ ...base, source: { kind: 'x11', display: ':0' }, pointer: 'css' as 'video' }), InvalidArgumentError, 'a typed error');
  t.throws(() => view({ ...base, pointer: 'overlay' as 'data' }), /view\(\): pointer must be 'data' .* or 'picture'/);
});

t.test("the viewer's cursor-draw and the agent's cursor-picture: each one way, strictly shaped", async (t) => {
  t.ok(checkViewerMessage.Check({ t: 'cursor-draw', draws: true }), 'a viewer says it draws the pointer');
  t.ok(checkViewerMessage.Check({ t: 'cursor-draw', draws: false }), 'or that it needs it in the picture');
  t.notOk(checkViewerMessage.Check({ t: 'cursor-draw' }), 'draws is required');
  t.notOk(checkViewerMessage.Check({ t: 'cursor-draw', draws: 1 }), 'draws is a boolean');
  t.ok(checkViewerMessage.Check({ t: 'cursor-draw', draws: true, seq: 1 }), 'a seq, like every viewer message');
  t.notOk(checkViewerMessage.Check({ t: 'cursor-draw', draws: true, extra: 1 }), 'no unknown fields');
  t.notOk(checkAgentMessage.Check({ t: 'cursor-draw', draws: true }), 'not an agent message');
  t.ok(checkAgentMessage.Check({ t: 'cursor-picture', shown: true }), 'the agent says whether the picture has it');
  t.notOk(checkAgentMessage.Check({ t: 'cursor-picture', shown: 'yes' }), 'shown is a boolean');
  t.notOk(checkViewerMessage.Check({ t: 'cursor-picture', shown: false }), 'a viewer cannot send it');
});
