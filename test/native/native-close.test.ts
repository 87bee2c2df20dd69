// close() straight on the native classes, without the TS layer's cached promise: every call, from
// a later call stack (and after a GC), returns one promise that is valid there and resolves once.
// And what keeps a native peer from being collected: open and ref()ed, nothing else is needed.
import t from 'tap';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadBinding } from '../../lib/native/binding.js';
import { startXvfb } from '../helpers/xvfb.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

t.test('NativePeer: close() twice, each from its own call, both resolve to the same close', async (t) => {
  const binding = loadBinding();
  const peer = new binding.NativePeer({
    receiveCaps: 'application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000',
  });
  const first = peer.close();
  await nextTurn(); // the first call's handle scope is gone
  gc();
  const second = peer.close();
  t.equal(second, first, 'the second call returns the same promise');
  t.equal(await first, undefined, 'the first close resolves');
  t.equal(await second, undefined, 'the second close resolves');
  t.equal(binding.livePeers(), 0, 'the pipeline is gone once the close resolved');
  const third = peer.close();
  t.equal(third, first, 'after it settled, close() still returns that promise');
  t.equal(await third, undefined);
  t.throws(() => peer.createOffer(), { code: 'ERR_INVALID_STATE' }, 'calls after close throw');
});

t.test('NativeXClipboard: close() twice through the binding, both resolve', async (t) => {
  const x = await startXvfb('320x240x24');
  t.teardown(() => x.kill());
  const clipboard = new (loadBinding().NativeXClipboard)(x.display);
  const first = clipboard.close();
  await nextTurn();
  gc();
  const second = clipboard.close();
  t.equal(second, first, 'the second call returns the same promise');
  t.equal(await first, undefined);
  t.equal(await second, undefined);
  t.equal(clipboard.close(), first, 'after it settled, close() still returns that promise');
});

t.test('NativePeer: open and ref()ed it stays reachable though nothing refers to it; unref()ed it may be collected', async (t) => {
  const binding = loadBinding();
  const caps = 'application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000';
  const held = new WeakRef(new binding.NativePeer({ receiveCaps: caps }));
  const loose = new WeakRef(new binding.NativePeer({ receiveCaps: caps }));
  loose.deref()!.unref();
  for (let i = 0; i < 10 && loose.deref(); i++) {
    await nextTurn();
    gc();
  }
  t.ok(held.deref(), 'the ref()ed open peer was not collected (like a socket: its events keep coming)');
  t.notOk(loose.deref(), 'the unref()ed one was');
  await held.deref()!.close();
  for (let i = 0; i < 100 && binding.livePeers() > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    gc();
  }
  t.equal(binding.livePeers(), 0, 'both pipelines are gone (the collected one torn down from its destructor)');
});
