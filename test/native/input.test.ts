// Mouse and keyboard from a viewer reach an X client on the VM's display: a real Xvfb, a real X
// client recording its events (xev), the input data channel over a real WebRTC connection. A viewer
// whose token does not allow control sends the same and nothing happens.
import t from 'tap';
import { spawn } from 'node:child_process';
import { publish, type DataChannel } from '../../lib/index.js';
import { nodeViewer } from '../helpers/node-viewer.js';
import { mintToken } from '../../lib/signaling/token.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { once, waitFor } from '../helpers/wait.js';
import { startXvfb } from '../helpers/xvfb.js';

async function viewer(url: string, session: string, control: boolean): Promise<{ channel: DataChannel; close: () => Promise<void> }> {
  const v = nodeViewer(url, session, mintToken({ secret: SECRET, session, role: 'viewer', control }));
  const channel = await once<DataChannel>(v.peer, 'datachannel', 20_000);
  if (channel.readyState !== 'open') await once(channel, 'open');
  return { channel, close: v.close };
}

t.test('a click and a typed word arrive in an X client; a view-only viewer is refused', async (t) => {
  const x = await startXvfb('640x480x24');
  t.teardown(() => x.kill());
  const xev = spawn('xev', ['-display', x.display, '-geometry', '400x300+0+0', '-event', 'button', '-event', 'keyboard'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let events = '';
  xev.stdout.on('data', (d: Buffer) => (events += d));
  t.teardown(() => xev.kill());
  await new Promise((r) => setTimeout(r, 500)); // xev maps its window

  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session: 'desk', token: mintToken({ secret: SECRET, session: 'desk', role: 'publisher' }), source: { kind: 'x11', display: x.display }, video: { width: 320, height: 240 } });
  t.teardown(() => publisher.close());

  const watcher = await viewer(daemon.url, 'desk', false);
  t.teardown(() => watcher.close());
  const send = (ch: DataChannel, m: unknown) => ch.send(JSON.stringify(m));
  send(watcher.channel, { t: 'take-control' });
  send(watcher.channel, { t: 'button', button: 0, down: true, x: 50 / 639, y: 60 / 479 });
  send(watcher.channel, { t: 'button', button: 0, down: false, x: 50 / 639, y: 60 / 479 });
  await new Promise((r) => setTimeout(r, 800));
  t.notMatch(events, /ButtonPress/, 'the view-only viewer clicked: nothing happened');

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
  await waitFor('xev to see the input', () => /keysym 0xff0d, Return/.test(events), 10_000).catch(() => {});
  t.match(events, /ButtonPress event[^]*?\(100,120\)/, 'the click landed at (100,120) in screen pixels');
  t.match(events, /KeyPress event[^]*?keysym 0x68, h\)/, 'h typed');
  t.match(events, /KeyPress event[^]*?keysym 0x69, i\)/, 'i typed');
  t.match(events, /keysym 0xff0d, Return/, 'Enter typed');
  const presses = events.match(/ButtonPress/g)?.length ?? 0;
  t.equal(presses, 1, 'exactly one click: the view-only one never arrived');
});

t.test('control changes hands: the new controller is told, the old one is told and ignored', async (t) => {
  const x = await startXvfb('640x480x24');
  t.teardown(() => x.kill());
  const xev = spawn('xev', ['-display', x.display, '-geometry', '640x480+0+0', '-event', 'button'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let events = '';
  xev.stdout.on('data', (d: Buffer) => (events += d));
  t.teardown(() => xev.kill());
  await new Promise((r) => setTimeout(r, 500));
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session: 'hand', token: mintToken({ secret: SECRET, session: 'hand', role: 'publisher' }), source: { kind: 'x11', display: x.display }, video: { width: 320, height: 240 } });
  t.teardown(() => publisher.close());
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
  t.same(toA.filter((m) => (m as { t: string }).t === 'control'), [{ t: 'control', controlling: true }]);
  b.channel.send(JSON.stringify({ t: 'take-control' }));
  await waitFor('the hand-over reaches both', () => toA.length >= 2 && toB.some((m) => (m as { t: string }).t === 'control'));
  t.same(toA.filter((m) => (m as { t: string }).t === 'control').at(-1), { t: 'control', controlling: false }, 'A lost control');
  t.same(toB.filter((m) => (m as { t: string }).t === 'control'), [{ t: 'control', controlling: true }], 'B has it');
  click(a, 111);
  click(b, 222);
  await waitFor('B\'s click', () => /ButtonPress event[^]*?\(222,/.test(events), 10_000).catch(() => {});
  await new Promise((r) => setTimeout(r, 300));
  t.match(events, /ButtonPress event[^]*?\(222,/, 'the new controller\'s click arrives');
  t.notMatch(events, /\(111,/, 'the old controller\'s click does not');
});
