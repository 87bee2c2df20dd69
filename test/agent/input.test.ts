// An agent drives a VM session through RemoteInput: a real daemon, publish() on Xvfb, a Node viewer
// peer that receives the publisher's "input" channel, and xev (a real X client) recording what arrives.
// Each method resolves after the publisher's acknowledgement, so xev has the events right after.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { publish } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { InvalidArgumentError, InvalidStateError } from '../../lib/errors.js';
import type { DataChannel } from '../../lib/peer/data-channel.js';
import { RemoteInput } from '../../lib/agent/remote-input.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { nodeViewer } from '../helpers/node-viewer.js';
import { waitFor } from '../helpers/wait.js';
import { startXev, type Xev } from '../helpers/xev.js';
import { startXvfb } from '../helpers/xvfb.js';

const run = promisify(execFile);
const SCREEN = { width: 640, height: 480 };

interface XEvent {
  kind: string;
  x: number;
  y: number;
  state: number;
  button?: number;
  keysym?: number;
  text?: string;
}

// xev prints one block per event, blocks separated by a blank line.
function events(xev: Xev, from = 0): XEvent[] {
  return xev.text
    .slice(from)
    .split(/\n\s*\n/)
    .flatMap((block) => {
      const kind = /^(\w+) event/m.exec(block.trim())?.[1];
      const at = /root:\((-?\d+),(-?\d+)\)/.exec(block); // screen pixels (xev's window has a border)
      if (!kind || !at) return [];
      const event: XEvent = { kind, x: Number(at[1]), y: Number(at[2]), state: Number.parseInt(/state 0x([0-9a-f]+)/.exec(block)?.[1] ?? '0', 16) };
      const button = /button (\d+)/.exec(block);
      if (button) event.button = Number(button[1]);
      const keysym = /keysym 0x([0-9a-f]+)/.exec(block);
      if (keysym) event.keysym = Number.parseInt(keysym[1]!, 16);
      const text = /XLookupString gives \d+ bytes: (?:\([0-9a-f ]*\) )?"(.*)"/.exec(block);
      if (text) event.text = text[1];
      return [event];
    });
}

/** The text the KeyPresses since `from` typed (XLookupString of each, control characters left out). */
function typed(xev: Xev, from: number): string {
  return events(xev, from)
    .filter((e) => e.kind === 'KeyPress' && e.text && [...e.text].every((c) => c.codePointAt(0)! >= 0x20))
    .map((e) => e.text)
    .join('');
}

async function inputChannel(peer: { on(event: 'datachannel', listener: (c: DataChannel) => void): unknown }): Promise<DataChannel> {
  return new Promise((resolve) => peer.on('datachannel', (c) => c.label === 'input' && resolve(c)));
}

t.test('RemoteInput: acknowledged clicks, drags, scrolls, Unicode typing, combos and clipboard reach X', async (t) => {
  const x = await startXvfb('640x480x24');
  t.teardown(() => x.kill());
  const xev = await startXev(x.display, '640x480', ['mouse', 'keyboard']);
  t.teardown(() => xev.kill());
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = publish({
    url: daemon.url,
    session: 'desk',
    token: mintToken({ secret: SECRET, session: 'desk', role: 'publisher' }),
    source: { kind: 'x11', display: x.display },
    video: { width: 640, height: 480 },
    resize: true,
  });
  t.teardown(() => publisher.close());

  const join = async (control: boolean) => {
    const viewer = nodeViewer(daemon.url, 'desk', mintToken({ secret: SECRET, session: 'desk', role: 'viewer', control }));
    t.teardown(() => viewer.close());
    const channel = await inputChannel(viewer.peer);
    const input = new RemoteInput(channel, { screen: () => SCREEN });
    t.teardown(() => input.close());
    return Object.assign(input, { channel });
  };
  const input = await join(true);

  t.test('click at a pixel, with the button and count asked for', async (t) => {
    const from = xev.text.length;
    await input.click(100, 120);
    t.ok(input.controlling, 'control was taken before the first input');
    await input.click(300, 200, { button: 'right', count: 2 });
    // Acknowledged means the X server has the events; xev prints them a moment later.
    await waitFor('three releases at xev', () => events(xev, from).filter((e) => e.kind === 'ButtonRelease').length >= 3, 5000).catch(() => {});
    const presses = events(xev, from).filter((e) => e.kind === 'ButtonPress');
    t.same(presses.map((e) => [e.button, e.x, e.y]), [[1, 100, 120], [3, 300, 200], [3, 300, 200]], 'a left click at (100,120), then two right presses at (300,200)');
    t.same(events(xev, from).filter((e) => e.kind === 'ButtonRelease').map((e) => e.button), [1, 3, 3], 'each released');
    await t.rejects(input.click(640, 10), InvalidArgumentError, 'x = 640 is off a 640-pixel screen');
    await t.rejects(input.click(10, 10, { button: 'side' as 'left' }), InvalidArgumentError);
  });

  t.test('drag: press at one point, motion with the button held, release at the other', async (t) => {
    const from = xev.text.length;
    await input.drag({ x: 50, y: 60 }, { x: 250, y: 160 }, { steps: 5 });
    await waitFor('the release at xev', () => events(xev, from).some((e) => e.kind === 'ButtonRelease'), 5000).catch(() => {});
    const seen = events(xev, from);
    const press = seen.find((e) => e.kind === 'ButtonPress');
    const release = seen.find((e) => e.kind === 'ButtonRelease');
    t.same(press && [press.button, press.x, press.y], [1, 50, 60], 'pressed at the start');
    t.same(release && [release.button, release.x, release.y], [1, 250, 160], 'released at the end');
    const held = seen.filter((e) => e.kind === 'MotionNotify' && e.state & 0x100);
    t.ok(held.length >= 3, `${held.length} motions with Button1 held`);
    t.ok(held.some((e) => e.x > 50 && e.x < 250), 'including one between the ends');
  });

  t.test('scroll: wheel notches at a point, both directions and axes', async (t) => {
    const from = xev.text.length;
    await input.scroll(0, 3, { x: 320, y: 240 });
    await input.scroll(0, -1);
    await input.scroll(2, 0);
    await waitFor('six wheel presses at xev', () => events(xev, from).filter((e) => e.kind === 'ButtonPress').length >= 6, 5000).catch(() => {});
    const presses = events(xev, from).filter((e) => e.kind === 'ButtonPress');
    t.same(presses.map((e) => e.button), [5, 5, 5, 4, 7, 7], 'down ×3 (button 5), up (4), right ×2 (7)');
    t.same([presses[0]?.x, presses[0]?.y], [320, 240], 'at the point asked for');
  });

  t.test('type: accents, CJK and an emoji arrive as those characters', async (t) => {
    const from = xev.text.length;
    const text = 'héllo wörld ñ 日本 🙂';
    await input.type(text);
    await waitFor('the last key at xev', () => typed(xev, from).length >= text.length, 5000).catch(() => {});
    t.equal(typed(xev, from), text);
    const syms = events(xev, from).filter((e) => e.kind === 'KeyPress').map((e) => e.keysym);
    t.ok(syms.includes(0xe9) && syms.includes(0x10065e5) && syms.includes(0x101f642), 'é as its Latin-1 keysym, 日 and 🙂 as Unicode keysyms');
  });

  t.test('type: shifted characters (uppercase, symbols) and newlines come out right', async (t) => {
    const from = xev.text.length;
    const text = 'Hello, World! <A&B> ~_+? "Q" {x|y}';
    await input.type(`${text}\n`);
    await waitFor('the Return at xev', () => events(xev, from).some((e) => e.kind === 'KeyPress' && e.keysym === 0xff0d), 5000).catch(() => {});
    t.equal(typed(xev, from), text);
    t.ok(events(xev, from).some((e) => e.kind === 'KeyPress' && e.keysym === 0xff0d), 'the newline is Return');
    await t.rejects(input.type('bell\u0007'), InvalidArgumentError, 'a control character is refused before sending');
  });

  t.test("key('ctrl+a') arrives as the combination; named keys; an unknown name lists the valid ones", async (t) => {
    const from = xev.text.length;
    await input.key('ctrl+a');
    await input.key('ctrl+shift+t');
    await input.key('F5');
    await input.key('Escape');
    await waitFor('the Escape release at xev', () => events(xev, from).some((e) => e.kind === 'KeyRelease' && e.keysym === 0xff1b), 5000).catch(() => {});
    const keys = events(xev, from).filter((e) => e.kind === 'KeyPress');
    const a = keys.find((e) => e.keysym === 0x61);
    t.ok(keys[0]?.keysym === 0xffe3, 'Control_L pressed first');
    t.ok(a && a.state & 0x4, `'a' pressed with Control held (state 0x${a?.state.toString(16)})`);
    const tee = keys.find((e) => e.keysym === 0x54);
    t.ok(tee && (tee.state & 0x5) === 0x5, "ctrl+shift+t: 'T' with Control and Shift held");
    t.ok(keys.some((e) => e.keysym === 0xffc2), 'F5');
    t.ok(keys.some((e) => e.keysym === 0xff1b), 'Escape');
    const releases = events(xev, from).filter((e) => e.kind === 'KeyRelease');
    t.equal(releases.at(-1)?.keysym, 0xff1b, 'every key released, Escape last');
    await t.rejects(input.key('ctrl+Hyperdrive'), { name: 'InvalidArgumentError', message: /unknown key 'Hyperdrive'.*Enter, Tab, Escape/ });
  });

  t.test('clipboard both ways', async (t) => {
    await input.clipboard.write('from the agent ✓');
    const xclip = () => run('xclip', ['-selection', 'clipboard', '-o', '-display', x.display]).then((r) => r.stdout, () => '');
    t.equal(await xclip(), 'from the agent ✓', 'X reads what the agent wrote, once the write was acknowledged');
    t.equal(await input.clipboard.read(), 'from the agent ✓', 'and the agent reads it back');
    await new Promise<void>((resolve) => {
      const child = spawn('xclip', ['-selection', 'clipboard', '-i', '-display', x.display], { stdio: ['pipe', 'ignore', 'ignore'] });
      child.stdin.end('set in X — ñ');
      child.once('exit', () => resolve());
    });
    // xclip forks a child that owns the selection; its parent exits once it does.
    t.equal(await input.clipboard.read(), 'set in X — ñ', 'the agent reads what an X client set');
  });

  t.test('a view-only token is refused input with InvalidStateError; nothing reaches X', async (t) => {
    const watcher = await join(false);
    const from = xev.text.length;
    await t.rejects(watcher.click(10, 10), { name: 'InvalidStateError', message: /token does not allow control/ });
    await t.rejects(watcher.type('no'), InvalidStateError);
    await t.rejects(watcher.takeControl(), InvalidStateError);
    await new Promise((r) => setTimeout(r, 300));
    t.same(events(xev, from).filter((e) => e.kind === 'ButtonPress' || e.kind === 'KeyPress'), [], 'no press reached the display');
    t.notOk(watcher.controlling);
  });

  t.test('another viewer takes control: input is refused until takeControl()', async (t) => {
    const other = await join(true);
    await other.takeControl();
    await waitFor('the control event', () => !input.controlling, 5000);
    await t.rejects(input.click(20, 20), { name: 'InvalidStateError', message: /another viewer controls/ });
    await input.takeControl();
    t.ok(input.controlling, 'taken back');
    await input.move(30, 30);
  });

  t.test('resize: the screen takes the size, the answer says so', async (t) => {
    t.same(await input.resize(480, 360), { width: 480, height: 360 });
    const dims = /dimensions:\s+(\d+x\d+)/.exec((await run('xdpyinfo', ['-display', x.display])).stdout)?.[1];
    t.equal(dims, '480x360', 'Xvfb is 480x360');
    await t.rejects(input.resize(481, 360), InvalidArgumentError, 'odd sizes are refused before sending');
  });

  t.test('the publisher validates what a peer sends and answers each seq: invalid, unknown keys, too many waiting', async (t) => {
    const answers = new Map<number, { ok: boolean; code?: string; message?: string }>();
    input.channel.on('message', (data) => {
      const m = JSON.parse(String(data)) as { t: string; seq?: number; ok: boolean; code?: string; message?: string };
      if (m.t === 'ack' && m.seq !== undefined && m.seq >= 1e9) answers.set(m.seq, m);
    });
    const send = (m: object) => input.channel.send(JSON.stringify(m));
    send({ t: 'move', x: 3, y: 0, seq: 1e9 });
    send({ t: 'key', key: 'NoSuchKey', down: true, seq: 1e9 + 1 });
    send({ t: 'teleport', seq: 1e9 + 2 });
    send({ t: 'type', text: 'a\u0000b', seq: 1e9 + 3 });
    send({ t: 'move', x: 0.5, y: 0.5, seq: 1e9 + 4 });
    await waitFor('five answers', () => answers.size >= 5, 5000).catch(() => {});
    t.match(answers.get(1e9), { ok: false, code: 'invalid', message: /'move' message .* at \/x: must be <= 1/ }, 'a fraction above 1');
    t.match(answers.get(1e9 + 1), { ok: false, code: 'invalid', message: /no keysym for the key 'NoSuchKey'/ }, 'a key X does not know');
    t.match(answers.get(1e9 + 2), { ok: false, code: 'invalid', message: /unknown input message type "teleport"/ }, 'an unknown message');
    t.match(answers.get(1e9 + 3), { ok: false, code: 'invalid', message: /control character U\+0000/ }, 'a NUL in typed text');
    t.match(answers.get(1e9 + 4), { ok: true }, 'a good one after them is injected and acknowledged');

    // Typing more distinct characters off the keymap than it has empty keycodes waits before each rebind
    // (REMAP_GAP_MS), so a flood of type messages piles up: past the limit the publisher refuses instead
    // of queueing without bound.
    const distinct = '日本語中文字漢韓国の東京大阪名古屋横浜神戸福岡札幌仙台広島北海道沖縄奈良金沢';
    const flood = Array.from({ length: 300 }, (_, i) => 2e9 + i);
    for (const seq of flood) send({ t: 'type', text: distinct, seq }); // ~0.5 s each
    // Refusals come as the rest of the flood arrives: wait for 20 of them, not the first.
    await waitFor('the refusals', () => flood.filter((seq) => answers.get(seq)?.code === 'rate-limited').length >= 20, 5000).catch(() => {});
    const limited = flood.filter((seq) => answers.get(seq)?.code === 'rate-limited');
    t.ok(limited.length >= 20 && limited.length <= 300 - 256, `${limited.length} of 300 refused as rate-limited (the first few were typed while they arrived)`);
    t.match(answers.get(limited[0]!), { message: /256 input messages already wait/ });
    // The rest are still being typed when the publisher closes: typing stops there.
  });
});
