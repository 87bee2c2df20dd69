// Issue 20's input-channel additions: `quality` and `release-control` from viewers, `quality-result`
// and the control holder from the agent; special-key names; a viewer's ceiling in PublisherBitrate.
import t from 'tap';
import { QUALITY_LIMITS, checkAgentMessage, checkViewerMessage } from '../../lib/input/protocol.js';
import { parseKeyCombo } from '../../lib/viewer/keyboard.js';
import { PublisherBitrate } from '../../lib/publish/bitrate.js';
import type { WebRtcPeer } from '../../lib/peer/peer.js';
import type { Streamer } from '../../lib/encoder/streamer.js';
import { keysymFor } from '../../lib/input/keysyms.js';

t.test('viewer → agent: quality and release-control', async (t) => {
  t.ok(checkViewerMessage.Check({ t: 'quality', maxBitrate: 500_000 }));
  t.ok(checkViewerMessage.Check({ t: 'quality' }), 'no maxBitrate: lift the ceiling');
  t.ok(checkViewerMessage.Check({ t: 'quality', maxBitrate: 1e12 }), 'the range is the agent\'s to check (it answers out-of-range)');
  t.notOk(checkViewerMessage.Check({ t: 'quality', maxBitrate: '500k' }), 'not a number');
  t.notOk(checkViewerMessage.Check({ t: 'quality', maxBitrate: 1, extra: 1 }), 'unknown field');
  t.ok(checkViewerMessage.Check({ t: 'release-control' }));
  t.notOk(checkViewerMessage.Check({ t: 'release-control', to: 'x' }));
  t.ok(QUALITY_LIMITS.minBitrate < QUALITY_LIMITS.maxBitrate && QUALITY_LIMITS.intervalMs > 0);
});

t.test('agent → viewer: the control holder and quality-result', async (t) => {
  t.ok(checkAgentMessage.Check({ t: 'control', controlling: true }), 'the old shape still passes');
  t.ok(checkAgentMessage.Check({ t: 'control', controlling: false, holder: 'peer-1' }));
  t.notOk(checkAgentMessage.Check({ t: 'control', controlling: false, holder: 7 }));
  t.ok(checkAgentMessage.Check({ t: 'quality-result', ok: true, maxBitrate: 150_000 }));
  t.ok(checkAgentMessage.Check({ t: 'quality-result', ok: true }), 'no ceiling');
  t.ok(checkAgentMessage.Check({ t: 'quality-result', ok: false, code: 'out-of-range', message: 'no' }));
  t.notOk(checkAgentMessage.Check({ t: 'quality-result', ok: false, code: 'rate-limited' }));
});

t.test('special keys: names → DOM key/code, each known to the agent\'s keysym table', async (t) => {
  t.same(parseKeyCombo('ctrl+alt+Delete'), [{ key: 'Control', code: 'ControlLeft' }, { key: 'Alt', code: 'AltLeft' }, { key: 'Delete', code: 'Delete' }]);
  t.same(parseKeyCombo('Super'), [{ key: 'Meta', code: 'MetaLeft' }]);
  t.same(parseKeyCombo('f24'), [{ key: 'F24', code: 'F24' }]);
  t.same(parseKeyCombo('Print'), [{ key: 'PrintScreen', code: 'PrintScreen' }]);
  t.same(parseKeyCombo('ctrl+c'), [{ key: 'Control', code: 'ControlLeft' }, { key: 'c', code: 'KeyC' }]);
  t.same(parseKeyCombo('ctrl++'), [{ key: 'Control', code: 'ControlLeft' }, { key: '+', code: 'Equal' }]);
  t.throws(() => parseKeyCombo('F25'), /RangeError|unknown key "F25"/);
  t.throws(() => parseKeyCombo(''), /give keys joined by "\+"/);
  for (const name of ['Control', 'Meta', 'PrintScreen', 'ArrowUp', 'ContextMenu', 'CapsLock', 'AltGraph', 'ctrl', 'alt', 'altgr', 'shift', 'super', 'delete', 'insert', 'print', 'esc', 'tab', 'enter', 'backspace', 'space', 'home', 'end', 'pageup', 'pagedown', 'up', 'down', 'left', 'right', 'menu', 'pause', 'F1', 'F24']) {
    const [stroke] = parseKeyCombo(name);
    t.not(keysymFor(stroke!.key), undefined, `${name} → ${stroke!.key} has an X keysym`);
  }
});

t.test("PublisherBitrate.cap: a viewer's ceiling on its own target", async (t) => {
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  const applied: number[] = [];
  const peer = { getStats: async () => new Map(), setBitrate: (kbps: number) => (applied.push(kbps), kbps) } as unknown as WebRtcPeer;
  const bitrate = new PublisherBitrate({ max: 2000, log });
  t.equal(bitrate.cap('v', 800), 800, 'before the viewer connects: kept');
  bitrate.add('v', peer, undefined);
  t.same(applied, [800], 'applied as it connects');
  t.equal(bitrate.cap('v', 50), 150, 'clamped to min');
  t.equal(bitrate.cap('v', 9000), 2000, 'clamped to max');
  t.equal(bitrate.cap('v', undefined), undefined, 'lifted');
  t.same(applied, [800, 150, 2000, 2000]);
  bitrate.remove('v');
  bitrate.add('v', peer, undefined);
  t.same(applied, [800, 150, 2000, 2000], 'a ceiling is forgotten with its viewer');

  // A shared encoder: the lowest of its viewers' capped targets, not below the floor.
  const encoder: number[] = [];
  const streamer = { setBitrate: (kbps: number) => (encoder.push(kbps), kbps), codec: 'VP8' } as unknown as Streamer;
  const shared = new PublisherBitrate({ max: 2000, floor: 300, log });
  shared.add('a', peer, streamer);
  shared.add('b', peer, streamer);
  shared.cap('a', 600);
  t.equal(encoder.at(-1), 600);
  shared.cap('b', 100);
  t.equal(encoder.at(-1), 300, 'not below the floor');
  shared.remove('b');
  t.equal(encoder.at(-1), 600, "b left: a's ceiling");
  bitrate.close();
  shared.close();
});
