// Mouse and keyboard from a viewer reach an X client on the VM's display: a real Xvfb, a real X
// client recording its events (xev), the input data channel over a real WebRTC connection. A viewer
// whose token does not allow control sends the same and nothing happens.
import t, { type Test } from 'tap';
import type { DataChannel } from '../../lib/index.js';
import { publish } from '../../lib/client.js';
import { nodeViewer } from '../helpers/node-viewer.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { once, waitFor } from '../helpers/wait.js';
import { startXev } from '../helpers/xev.js';
import { startXvfb } from '../helpers/xvfb.js';

async function viewer(url: string, session: string, control: boolean): Promise<{ channel: DataChannel; close: () => Promise<void> }> {
  const v = nodeViewer(url, session, mintToken({ secret: SECRET, session, role: 'viewer', control }));
  const channel = await once<DataChannel>(v.peer, 'datachannel', 20_000);
  if (channel.readyState !== 'open') await once(channel, 'open');
  return { channel, close: v.close };
}

// A display with an event-recording window, a daemon and a publisher streaming that display.
async function desk(t: Test, session: string, kinds: ('button' | 'keyboard')[], geometry = '640x480') {
  const x = await startXvfb('640x480x24');
  t.teardown(() => x.kill());
  const xev = await startXev(x.display, geometry, kinds);
  t.teardown(() => xev.kill());
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session, token: mintToken({ secret: SECRET, session, role: 'publisher' }), source: { kind: 'x11', display: x.display }, video: { width: 320, height: 240 } });
  t.teardown(() => publisher.close());
  return { xev, daemon, publisher };
}

t.test('a click and a typed word arrive in an X client; a view-only viewer is refused', async (t) => {
  const { xev, daemon } = await desk(t, 'desk', ['button', 'keyboard'], '400x300');

  const watcher = await viewer(daemon.url, 'desk', false);
  t.teardown(() => watcher.close());
  const send = (ch: DataChannel, m: unknown) => ch.send(JSON.stringify(m));
  send(watcher.channel, { t: 'take-control' });
  send(watcher.channel, { t: 'button', button: 0, down: true, x: 50 / 639, y: 60 / 479 });
  send(watcher.channel, { t: 'button', button: 0, down: false, x: 50 / 639, y: 60 / 479 });
  await new Promise((r) => setTimeout(r, 800));
  t.notMatch(xev.text, /ButtonPress/, 'the view-only viewer clicked: nothing happened');

  const controller = await viewer(daemon.url, 'desk', true);
  t.teardown(() => controller.close());
  send(controller.channel, { t: 'take-control' });
  send(controller.channel, { t: 'move', x: 100 / 639, y: 120 / 479 });
  send(controller.channel, { t: 'button', button: 0, down: true, x: 100 / 639, y: 120 / 479 });
  send(controller.channel, { t: 'button', button: 0, down: false, x: 100 / 639, y: 120 / 479 });
  for (const key of ['h', 'i', 'Enter']) {
    send(controller.channel, { t: 'key', key, down: true });
    send(controller.channel, { t: 'key', key, down: false });
  }
  send(controller.channel, { t: 'nonsense' });
  await waitFor('xev to see the input', () => /keysym 0xff0d, Return/.test(xev.text), 10_000).catch(() => {});
  t.match(xev.text, /ButtonPress event[^]*?\(100,120\)/, 'the click landed at (100,120) in screen pixels');
  t.match(xev.text, /KeyPress event[^]*?keysym 0x68, h\)/, 'h typed');
  t.match(xev.text, /KeyPress event[^]*?keysym 0x69, i\)/, 'i typed');
  t.match(xev.text, /keysym 0xff0d, Return/, 'Enter typed');
  const presses = xev.text.match(/ButtonPress/g)?.length ?? 0;
  t.equal(presses, 1, 'exactly one click: the view-only one never arrived');
});

t.test('control changes hands: the new controller is told, the old one is told and ignored', async (t) => {
  const { xev, daemon } = await desk(t, 'hand', ['button']);
  const a = await viewer(daemon.url, 'hand', true);
  t.teardown(() => a.close());
  const b = await viewer(daemon.url, 'hand', true);
  t.teardown(() => b.close());
  const said = (v: { channel: DataChannel }) => {
    const got: unknown[] = [];
    v.channel.on('message', (d) => typeof d === 'string' && got.push(JSON.parse(d)));
    return got;
  };
  const toA = said(a);
  const toB = said(b);
  const click = (v: { channel: DataChannel }, px: number) => {
    v.channel.send(JSON.stringify({ t: 'button', button: 0, down: true, x: px / 639, y: 0.5 }));
    v.channel.send(JSON.stringify({ t: 'button', button: 0, down: false, x: px / 639, y: 0.5 }));
  };
  a.channel.send(JSON.stringify({ t: 'take-control' }));
  await waitFor('A is told it controls', () => toA.some((m) => (m as { t: string }).t === 'control'));
  const controlOf = (got: unknown[]) => got.filter((m) => (m as { t: string }).t === 'control') as { controlling: boolean; holder?: string }[];
  t.match(controlOf(toA), [{ t: 'control', controlling: true, holder: /\S/ }], 'A is told it holds control');
  const aId = controlOf(toA)[0]!.holder;
  // B may control too, so it is told who holds control.
  await waitFor('B is told A holds control', () => controlOf(toB).length >= 1);
  t.same(controlOf(toB), [{ t: 'control', controlling: false, holder: aId }], 'B is told A holds it');
  b.channel.send(JSON.stringify({ t: 'take-control' }));
  await waitFor('the hand-over reaches both', () => controlOf(toA).length >= 2 && controlOf(toB).length >= 2);
  const bId = controlOf(toB).at(-1)!.holder;
  t.not(bId, aId, 'a new holder');
  t.same(controlOf(toA).at(-1), { t: 'control', controlling: false, holder: bId }, 'A lost control, to B');
  t.same(controlOf(toB).at(-1), { t: 'control', controlling: true, holder: bId }, 'B has it');
  click(a, 111);
  click(b, 222);
  await waitFor('B\'s click', () => /ButtonPress event[^]*?\(222,/.test(xev.text), 10_000).catch(() => {});
  await new Promise((r) => setTimeout(r, 300));
  t.match(xev.text, /ButtonPress event[^]*?\(222,/, 'the new controller\'s click arrives');
  t.notMatch(xev.text, /\(111,/, 'the old controller\'s click does not');
});

t.test('garbage on the input channel is dropped; the controller keeps working', async (t) => {
  const { xev, daemon, publisher } = await desk(t, 'junk', ['button']);
  const errors: Error[] = [];
  publisher.on('error', (e) => errors.push(e));
  const v = await viewer(daemon.url, 'junk', true);
  t.teardown(() => v.close());
  let seed = 20261121;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const junk = (): string => {
    const shapes = [
      () => '{',
      () => 'null',
      () => '"take-control"',
      () => JSON.stringify({ t: 'move', x: rand() * 10 - 5, y: 'a' }),
      () => JSON.stringify({ t: 'button', button: Math.floor(rand() * 100) - 50, down: 1 }),
      () => JSON.stringify({ t: 'key', key: 'x'.repeat(Math.floor(rand() * 100)), down: true }),
      () => JSON.stringify({ t: 'key', key: '', down: false }),
      () => JSON.stringify({ t: 'wheel', dx: 1e308, dy: -1e308 }),
      () => JSON.stringify({ t: 'clipboard', text: 'y'.repeat(70_000) }),
      () => JSON.stringify({ t: 'resize', width: 99999, height: -3 }),
      () => '{"__proto__":{"polluted":true},"t":"move","x":0.5,"y":0.5}',
      () => JSON.stringify({ t: 'move', x: 0.5, y: 0.5, extra: true }),
      () => '[' .repeat(5000),
    ];
    return shapes[Math.floor(rand() * shapes.length)]!();
  };
  for (let i = 0; i < 500; i++) {
    // A message over the channel's maxMessageSize (the 70 000-char clipboard) throws TypeError at the
    // sender, as in a browser: it never reaches the agent.
    try {
      v.channel.send(junk());
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
    }
  }
  v.channel.send(JSON.stringify({ t: 'take-control' }));
  v.channel.send(JSON.stringify({ t: 'button', button: 0, down: true, x: 300 / 639, y: 0.5 }));
  v.channel.send(JSON.stringify({ t: 'button', button: 0, down: false, x: 300 / 639, y: 0.5 }));
  await waitFor('the valid click', () => /ButtonPress event[^]*?\(300,/.test(xev.text), 10_000).catch(() => {});
  t.match(xev.text, /ButtonPress event[^]*?\(300,/, 'the click after 500 bad messages arrives');
  t.equal((xev.text.match(/ButtonPress/g) ?? []).length, 1, 'none of the garbage clicked');
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
  t.same(errors, [], 'no publisher error');
  t.equal(publisher.viewers, 1, 'the viewer is still there');
});
