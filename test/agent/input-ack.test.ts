// RemoteInput resolves on the publisher's acknowledgement and on nothing else: a scripted publisher
// (a real webrtcbin peer holding the "input" channel, answering as the test says) delays, refuses or
// drops messages. Two data-only WebRtcPeers, connected through loopback.
import t from 'tap';
import { WebRtcPeer, type DataChannel } from '../../lib/index.js';
import { InvalidArgumentError, InvalidStateError } from '../../lib/errors.js';
import { InputError, RemoteInput } from '../../lib/agent/remote-input.js';
import { connectPair } from '../helpers/peers.js';

type Seen = { t: string; seq: number; [k: string]: unknown };

/** A publisher's side of the input channel; `answer` decides what each message gets back (nothing: undefined). */
async function scripted(t: { teardown(fn: () => unknown): void }, answer: (m: Seen, send: (reply: object) => void) => void) {
  const publisher = new WebRtcPeer({});
  const viewer = new WebRtcPeer({});
  t.teardown(() => Promise.all([publisher.close(), viewer.close()]));
  const ours = publisher.createDataChannel('input');
  const seen: Seen[] = [];
  ours.on('message', (data) => {
    const m = JSON.parse(String(data)) as Seen;
    seen.push(m);
    answer(m, (reply) => ours.send(JSON.stringify(reply)));
  });
  const theirs = new Promise<DataChannel>((resolve) => viewer.on('datachannel', resolve));
  await connectPair(publisher, viewer);
  const channel = await theirs;
  return { channel, seen, ours };
}

const screen = () => ({ width: 1000, height: 500 });
const ack = (m: Seen, send: (reply: object) => void, extra: object = {}) => send({ t: 'ack', seq: m.seq, ok: true, ...extra });

t.test('a click resolves only when its acknowledgement comes, however late', async (t) => {
  const { channel, seen } = await scripted(t, (m, send) => {
    if (m.t === 'take-control') {
      send({ t: 'control', controlling: true });
      return ack(m, send);
    }
    setTimeout(() => ack(m, send), 600); // the injection takes a while
  });
  const input = new RemoteInput(channel, { screen });
  t.teardown(() => input.close());
  const started = performance.now();
  let done = false;
  const click = input.click(999, 250).then(() => (done = true));
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(done, 'not resolved before the acknowledgement');
  await click;
  t.ok(performance.now() - started >= 590, `resolved after ${Math.round(performance.now() - started)} ms`);
  t.same(seen.map((m) => m.t), ['take-control', 'move', 'button', 'button'], 'control taken first, then the move and the press and release');
  t.same([seen[1]!.x, seen[1]!.y], [1, 250 / 499], 'pixels sent as fractions of the screen (the last pixel is 1)');
  t.ok(seen.every((m, i) => m.seq === i), 'each with its own seq');
  t.ok(input.controlling);
});

t.test('an input the publisher drops rejects with InputError (timeout); a refusal rejects typed', async (t) => {
  const { channel } = await scripted(t, (m, send) => {
    if (m.t === 'take-control') return ack(m, send);
    if (m.t === 'move') return; // dropped
    if (m.t === 'key') return send({ t: 'ack', seq: m.seq, ok: false, code: 'invalid', message: "X has no keysym for the key 'x'" });
    if (m.t === 'type') return send({ t: 'ack', seq: m.seq, ok: false, code: 'rate-limited', message: '256 input messages already wait' });
    if (m.t === 'clipboard') return send({ t: 'ack', seq: m.seq, ok: false, code: 'unsupported', message: 'this publisher does not share its clipboard' });
    if (m.t === 'clipboard-read') return send({ t: 'clipboard', text: 'on the VM', seq: m.seq });
    if (m.t === 'resize') return send({ t: 'resize-result', ok: false, width: 1000, height: 500, code: 'rate-limited', message: 'one resize per 1000 ms', seq: m.seq });
    if (m.t === 'wheel') return send({ t: 'ack', seq: m.seq, ok: false, code: 'not-in-control', message: 'another viewer controls the desktop' });
  });
  const input = new RemoteInput(channel, { screen, timeoutMs: 400 });
  t.teardown(() => input.close());
  await t.rejects(input.move(10, 10), { name: 'InputError', code: 'ERR_INPUT_TIMEOUT', reason: 'timeout', message: /move\(10, 10\) was not acknowledged by the publisher within 400 ms/ });
  await t.rejects(input.key('x'), InvalidArgumentError);
  await t.rejects(input.type('hello'), { name: 'InputError', code: 'ERR_INPUT_RATE_LIMITED' });
  await t.rejects(input.clipboard.write('x'), { name: 'InputError', code: 'ERR_INPUT_UNSUPPORTED' });
  t.equal(await input.clipboard.read(), 'on the VM', 'a read is answered by a clipboard message with its seq');
  await t.rejects(input.resize(800, 600), { name: 'InputError', reason: 'rate-limited' });
  await t.rejects(input.scroll(0, 1), { name: 'InvalidStateError', message: /another viewer controls the desktop; call takeControl\(\)/ });
});

t.test('losing control stops the automatic take; takeControl() takes it back', async (t) => {
  const { channel, seen, ours } = await scripted(t, (m, send) => {
    if (m.t === 'take-control') send({ t: 'control', controlling: true });
    ack(m, send);
  });
  const input = new RemoteInput(channel, { screen });
  t.teardown(() => input.close());
  const changes: boolean[] = [];
  input.on('control', (c) => changes.push(c));
  await input.move(1, 1);
  ours.send(JSON.stringify({ t: 'control', controlling: false }));
  await new Promise((r) => setTimeout(r, 200));
  t.same(changes, [true, false], 'control events');
  await input.move(2, 2);
  t.same(seen.map((m) => m.t), ['take-control', 'move', 'move'], 'no automatic take after another viewer took control');
  await input.takeControl();
  t.same(changes, [true, false, true]);
});

t.test('arguments are checked before anything is sent; close() rejects what waits and is idempotent', async (t) => {
  const { channel, seen } = await scripted(t, (m, send) => {
    if (m.t === 'take-control') ack(m, send);
  });
  const input = new RemoteInput(channel, { screen, timeoutMs: 10_000 });
  await t.rejects(input.click(1000, 0), { name: 'InvalidArgumentError', message: /x = 1000 is outside the screen \(0–999; it is 1000×500 pixels\)/ });
  await t.rejects(input.click(1, 1, { count: 0 }), InvalidArgumentError);
  await t.rejects(input.scroll(0, 0), InvalidArgumentError);
  await t.rejects(input.scroll(0.5, 1), InvalidArgumentError);
  await t.rejects(input.key(''), InvalidArgumentError);
  await t.rejects(input.key('ctrl+'), InvalidArgumentError);
  await t.rejects(input.key('a+ctrl'), { name: 'InvalidArgumentError', message: /'a' is not a modifier/ });
  await t.rejects(input.resize(321, 240), InvalidArgumentError);
  await t.rejects(input.clipboard.write('x'.repeat(70_000)), InvalidArgumentError);
  await t.rejects(input.type('\u001b[A'), InvalidArgumentError);
  t.same(seen, [], 'nothing was sent');
  const waiting = input.move(5, 5);
  await new Promise((r) => setTimeout(r, 300));
  input.close();
  input.close();
  await t.rejects(waiting, { name: 'InvalidStateError', message: /was not acknowledged: the RemoteInput was closed/ });
  await t.rejects(input.click(1, 1), InvalidStateError, 'calls after close() reject');
});

t.test('the channel closing rejects what waits with InvalidStateError', async (t) => {
  const { channel, ours } = await scripted(t, (m, send) => {
    if (m.t === 'take-control') ack(m, send);
  });
  const input = new RemoteInput(channel, { screen, timeoutMs: 10_000 });
  t.teardown(() => input.close());
  const waiting = input.type('never acknowledged');
  await new Promise((r) => setTimeout(r, 300));
  ours.close();
  await t.rejects(waiting, { name: 'InvalidStateError', message: /the input channel closed/ });
  t.type(new InputError('x', 'failed'), Error);
});
