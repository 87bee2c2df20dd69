// Capture of a real X display (Xvfb): frames at the requested size, and an X server that dies under
// a live stream. Without the capture guard libX11 exits this very process from ximagesrc's thread,
// so a regression fails the whole file.
import t from 'tap';
import { Streamer, WebRtcPeer, XDisplayLostError, livePeerCount } from '../../lib/index.js';
import { connectPair } from '../helpers/peers.js';
import { once, waitFor } from '../helpers/wait.js';
import { startXvfb } from '../helpers/xvfb.js';

t.test('an Xvfb display streams at the requested size', async (t) => {
  const x = await startXvfb('800x600x24');
  t.teardown(() => x.kill());
  const sender = new WebRtcPeer({ source: { kind: 'x11', display: x.display }, video: { width: 400, height: 300, fps: 15 } });
  const receiver = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => Promise.all([sender.close(), receiver.close()]));
  await connectPair(sender, receiver);
  const frame = await once<{ width: number; height: number }>(receiver, 'frame');
  t.same([frame.width, frame.height], [400, 300], 'scaled from 800×600 to 400×300');
  await waitFor('10 frames', () => receiver.framesDecoded >= 10);

  t.ok(receiver.framesDecoded >= 10, `${receiver.framesDecoded} frames of the X display decoded`);
});

t.test('an X server that dies under a peer: a typed error, a clean close, and a fresh start works', async (t) => {
  const before = livePeerCount();
  const x = await startXvfb('640x480x24');
  const sender = new WebRtcPeer({ source: { kind: 'x11', display: x.display }, video: { width: 320, height: 240, fps: 15 } });
  const receiver = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => Promise.all([sender.close(), receiver.close()]));
  await connectPair(sender, receiver);
  await waitFor('frames before the X server dies', () => receiver.framesDecoded >= 1);
  const lost = once<Error>(sender, 'error', 10_000);
  await x.kill();
  const error = await lost;
  t.ok(error instanceof XDisplayLostError, `a typed error: ${error.constructor.name}`);
  t.equal((error as XDisplayLostError).code, 'ERR_X_DISPLAY_LOST');
  t.match((error as XDisplayLostError).element, /^ximagesrc/, 'names the capture element');
  t.match(error.message, new RegExp(`X display ${x.display} is gone`), 'says which display');
  await Promise.all([sender.close(), receiver.close()]);
  await waitFor('the native peers to be finalized', () => livePeerCount() === before, 10_000);
  t.equal(livePeerCount(), before, 'nothing left behind');

  // The agent can start again on a new display.
  const x2 = await startXvfb('640x480x24');
  t.teardown(() => x2.kill());
  const again = new WebRtcPeer({ source: { kind: 'x11', display: x2.display }, video: { width: 320, height: 240, fps: 15 } });
  const viewer = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => Promise.all([again.close(), viewer.close()]));
  await connectPair(again, viewer);
  await waitFor('frames from the new display', () => viewer.framesDecoded >= 1);
  t.pass('a new capture streams after the loss');
});

t.test('an X server that dies under a shared encoder: the Streamer reports it and closes cleanly', async (t) => {
  const x = await startXvfb('640x480x24');
  const streamer = new Streamer({ source: { kind: 'x11', display: x.display }, video: { width: 320, height: 240, fps: 15 } });
  const sender = streamer.createPeer();
  const receiver = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => Promise.all([sender.close(), receiver.close(), streamer.close()]));
  await connectPair(sender, receiver);
  await waitFor('frames before the X server dies', () => receiver.framesDecoded >= 1);
  const lost = once<Error>(streamer, 'error', 10_000);
  await x.kill();
  t.ok((await lost) instanceof XDisplayLostError, 'the streamer emits XDisplayLostError');
  await Promise.all([sender.close(), receiver.close(), streamer.close()]);
  t.pass('closed without hanging');
});

t.test('the input injector outlives its X server', async (t) => {
  const { InputInjector } = await import('../../lib/input/injector.js');
  const x = await startXvfb('640x480x24');
  const injector = new InputInjector(x.display);
  t.ok(injector.apply({ t: 'move', x: 0.5, y: 0.5 }), 'moves the pointer while the display lives');
  await x.kill();
  await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < 3; i++) injector.apply({ t: 'button', button: 0, down: i % 2 === 0 });
  injector.close();
  injector.close();
  t.pass('no exit, no throw, close twice');
});

t.test('the clipboard outlives its X server: ERR_X_DISPLAY_LOST, then a clean close', async (t) => {
  const { XClipboard } = await import('../../lib/input/clipboard.js');
  const x = await startXvfb('640x480x24');
  const clipboard = new XClipboard(x.display);
  clipboard.setText('before');
  const lost = once<Error & { code?: string }>(clipboard, 'error', 10_000);
  await x.kill();
  t.equal((await lost).code, 'ERR_X_DISPLAY_LOST', 'a typed error');
  await clipboard.close();
  await clipboard.close();
  t.pass('closed twice, the process lives on');
});

t.test('a region of the screen: only that rectangle is captured, at its own size', async (t) => {
  const { startPainter } = await import('../helpers/painter.js');
  const x = await startXvfb('800x600x24');
  t.teardown(() => x.kill());
  // 2×2 cells of 400×300: red, green / blue, white. The region sits inside the blue cell.
  const painter = await startPainter(x.display, 2, 2, ['ff0000', '00ff00', '0000ff', 'ffffff']);
  t.teardown(() => painter.kill());
  const region = { x: 40, y: 340, width: 320, height: 240 };
  const sender = new WebRtcPeer({ source: { kind: 'x11', display: x.display, showPointer: false, region }, video: { width: 320, height: 240, fps: 15 } });
  const receiver = new WebRtcPeer({ video: { receive: true, format: 'RGBA' } });
  t.teardown(() => Promise.all([sender.close(), receiver.close()]));
  await connectPair(sender, receiver);
  const frame = await once<{ width: number; height: number; data: Buffer; stride: number }>(receiver, 'frame', 15_000);
  t.same([frame.width, frame.height], [320, 240], 'the region size');
  let sum = [0, 0, 0];
  for (const [px, py] of [[10, 10], [160, 120], [310, 230]] as const) {
    const i = py * frame.stride + px * 4;
    sum = sum.map((v, c) => v + frame.data[i + c]!);
  }
  const avg = sum.map((v) => Math.round(v / 3));
  t.ok(avg[0]! < 30 && avg[1]! < 30 && avg[2]! > 220, `all blue: rgb(${avg.join(',')})`);
  t.throws(() => new WebRtcPeer({ source: { kind: 'x11', display: x.display, region: { x: -1, y: 0, width: 100, height: 100 } } }), /source\.region must be/);
});

t.test('keys: names and numbers; a keysym not on the keymap borrows a keycode, given back on close', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const { loadBinding } = await import('../../lib/native/binding.js');
  const x = await startXvfb('320x240x24');
  t.teardown(() => x.kill());
  const keymap = () => execFileSync('xmodmap', ['-display', x.display, '-pke'], { encoding: 'utf8' });
  // Another client stays connected: Xvfb resets (keymap included) when its last client leaves.
  const holder = new (loadBinding().NativeXScreen)(x.display);
  t.teardown(() => holder.close());
  const before = keymap();
  const input = new (loadBinding().NativeXInput)(x.display);
  t.teardown(() => input.close());
  t.equal(input.key('Return', true) && input.key('Return', false), true, 'a keysym name (XStringToKeysym)');
  t.equal(input.key('NoSuchKeysymName', true), false, 'an unknown name is refused');
  // 'A' and 'a' share a keycode: found by the case rule, no remap.
  t.equal(input.key(0x41, true) && input.key(0x41, false), true, 'an uppercase letter');
  t.equal(keymap(), before, 'keys on the keymap leave it as it was');
  t.equal(input.key(0x20ac, true) && input.key(0x20ac, false), true, 'EuroSign, not on the keymap');
  t.match(keymap(), /EuroSign/, 'a keycode now types it');
  input.close();
  t.equal(keymap(), before, 'close gave the borrowed keycode back');
});

// Presses Shift until xev reads a key (its window mapped and focused under load), then returns where its text stands.
async function focusedXev(xev: { readonly text: string }, injector: { apply(m: { t: 'key'; key: string; down: boolean }): boolean }): Promise<number> {
  for (let i = 0; i < 100 && !/KeyPress/.test(xev.text); i++) {
    injector.apply({ t: 'key', key: 'Shift', down: true });
    injector.apply({ t: 'key', key: 'Shift', down: false });
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 100)); // the last Shift's release
  return xev.text.length;
}

t.test('a pool of spare keycodes: distinct characters off the keymap typed back to back all come out right', async (t) => {
  const { InputInjector } = await import('../../lib/input/injector.js');
  const { typingPlan } = await import('../../lib/input/keysyms.js');
  const { startXev } = await import('../helpers/xev.js');
  const x = await startXvfb('320x240x24');
  t.teardown(() => x.kill());
  const xev = await startXev(x.display, '320x240', ['keyboard']);
  t.teardown(() => xev.kill());
  const { execFileSync } = await import('node:child_process');
  const keymap = () => execFileSync('xmodmap', ['-display', x.display, '-pke'], { encoding: 'utf8' });
  const before = keymap();
  const injector = new InputInjector(x.display);
  t.teardown(() => injector.close());
  // 40 distinct characters, none on Xvfb's keymap: with one spare keycode, rebinding it before xev read
  // the previous press made xev read the new character.
  const text = [...'日本語中文字漢韓国の東京大阪名古屋横浜神戸福岡札幌仙台広島北海道沖縄京都奈良'].slice(0, 34).join('') + '🙂🚀🎉✓€ß';
  // As many as the keymap has empty keycodes go straight through; the rest wait for a rebind.
  const { loadBinding } = await import('../../lib/native/binding.js');
  const probe = new (loadBinding().NativeXInput)(x.display);
  const spares = probe.spares();
  probe.close();
  t.ok(spares >= 8, `${spares} empty keycodes on Xvfb's keymap`);
  const chars = [...text];
  const from = await focusedXev(xev, injector);
  const started = performance.now();
  t.equal(await injector.type(typingPlan(chars.slice(0, spares).join('')), () => true), spares, 'a pool full typed');
  const took = performance.now() - started;
  t.ok(took < (spares - 1) * 30, `not paced: ${Math.round(took)} ms for ${spares} characters (one spare keycode waited 30 ms between them)`);
  t.equal(await injector.type(typingPlan(chars.slice(spares).join('')), () => true), chars.length - spares, 'and the rest, rebinding');
  const read = () =>
    xev.text
      .slice(from)
      .split(/\n\s*\n/)
      .map((block) => /KeyPress event[^]*XLookupString gives \d+ bytes: (?:\([0-9a-f ]*\) )?"(.*)"/.exec(block)?.[1] ?? '')
      .join('');
  const { waitFor } = await import('../helpers/wait.js');
  await waitFor('every character at xev', () => [...read()].length >= [...text].length, 10_000).catch(() => {});
  t.equal(read(), text, 'xev read each character as typed');
  injector.close();
  t.equal(keymap(), before, 'close gave every borrowed keycode back');
});

t.test('Shift comes from the keymap: a layout with other shifted symbols types them right', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const { InputInjector } = await import('../../lib/input/injector.js');
  const { typingPlan } = await import('../../lib/input/keysyms.js');
  const { startXev } = await import('../helpers/xev.js');
  const { waitFor } = await import('../helpers/wait.js');
  const x = await startXvfb('320x240x24');
  t.teardown(() => x.kill());
  const xev = await startXev(x.display, '320x240', ['keyboard']);
  t.teardown(() => xev.kill());
  // A German-like key 2: '2' plain, '"' shifted; and key 7: '7' plain, '/' shifted (US has them elsewhere).
  execFileSync('xmodmap', ['-display', x.display, '-e', 'keycode 11 = 2 quotedbl', '-e', 'keycode 16 = 7 slash', '-e', 'keycode 61 = minus underscore']);
  const injector = new InputInjector(x.display);
  t.teardown(() => injector.close());
  const text = '"/2Ab_';
  const from = await focusedXev(xev, injector);
  await injector.type(typingPlan(text), () => true);
  // One block per event, blocks apart by a blank line: [block, state, keycode, text].
  const presses = () =>
    xev.text.slice(from).split(/\n\s*\n/).flatMap((block) => {
      const m = /KeyPress event[^]*state 0x([0-9a-f]+), keycode (\d+)[^]*XLookupString gives \d+ bytes: (?:\([0-9a-f ]*\) )?"(.*)"/.exec(block);
      return m ? [m] : [];
    });
  await waitFor('every character at xev', () => presses().filter((m) => m[3] !== '').length >= text.length, 10_000).catch(() => {});
  const chars = presses().filter((m) => m[3] !== '');
  t.equal(chars.map((m) => m[3]).join(''), text, 'xev read the text');
  const quote = chars.find((m) => m[3] === '"');
  t.equal(quote?.[2], '11', '" typed on the key the keymap has it on');
  t.ok(quote && Number.parseInt(quote[1]!, 16) & 1, 'with Shift held');
  t.equal(chars.find((m) => m[3] === '/')?.[2], '16', "'/' typed as Shift+7, where this keymap has it");
});

t.test('a keymap changed by another client while the injector runs is followed (the cached keymap is read again)', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const { InputInjector } = await import('../../lib/input/injector.js');
  const { typingPlan } = await import('../../lib/input/keysyms.js');
  const { startXev } = await import('../helpers/xev.js');
  const { waitFor } = await import('../helpers/wait.js');
  const x = await startXvfb('320x240x24');
  t.teardown(() => x.kill());
  const xev = await startXev(x.display, '320x240', ['keyboard']);
  t.teardown(() => xev.kill());
  const injector = new InputInjector(x.display);
  t.teardown(() => injector.close());
  const from = await focusedXev(xev, injector); // the injector has read the keymap (US: '"' is Shift+' on keycode 48)
  // Another client moves '"' onto key 2's shifted level, and takes it off keycode 48.
  execFileSync('xmodmap', ['-display', x.display, '-e', 'keycode 11 = 2 quotedbl', '-e', 'keycode 48 = apostrophe apostrophe']);
  await injector.type(typingPlan('"'), () => true);
  const presses = () =>
    xev.text.slice(from).split(/\n\s*\n/).flatMap((block) => {
      const m = /KeyPress event[^]*keycode (\d+)[^]*XLookupString gives \d+ bytes: (?:\([0-9a-f ]*\) )?"(.*)"/.exec(block);
      return m && m[2] !== '' ? [m] : [];
    });
  await waitFor('the character at xev', () => presses().length >= 1, 10_000).catch(() => {});
  t.equal(presses()[0]?.[2], '"', 'xev read the quote');
  t.equal(presses()[0]?.[1], '11', 'typed where the keymap has it now, not where it was when the injector read it');
});
