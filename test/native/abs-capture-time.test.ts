// abs-capture-time between two real webrtcbin peers: the sender writes each frame's capture instant,
// the receiver hands it on as Frame.captureTime (same host, same clock: a little before now). A remote
// that does not take the extension (its answer or its offer lacks the extmap) gets none, and its frames
// carry none.
import t from 'tap';
import { WebRtcPeer, type Frame } from '../../lib/index.js';
import { ABS_CAPTURE_TIME_URI } from '../../lib/media/abs-capture-time.js';
import { trickle } from '../helpers/peers.js';

const EXTMAP = new RegExp(`^a=extmap:\\d+ ${ABS_CAPTURE_TIME_URI.replace(/[./]/g, '\\$&')}\r?\n`, 'm');
const withoutExtmap = (sdp: string) => sdp.replace(new RegExp(EXTMAP.source, 'gm'), '');

function pair(t: { teardown: (fn: () => unknown) => void }) {
  const sender = new WebRtcPeer({ source: { kind: 'test', pattern: 'ball' }, video: { width: 320, height: 240 } });
  const receiver = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => Promise.all([sender.close(), receiver.close()]));
  trickle(sender, receiver);
  return { sender, receiver };
}

/** `count` frames once `skip` went by (the first may come before the answer enabled the extension). */
function frames(receiver: WebRtcPeer, count: number, skip = 10): Promise<(Frame & { receivedAt: number })[]> {
  const seen: (Frame & { receivedAt: number })[] = [];
  let skipped = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${seen.length} of ${count} frames within 20 s`)), 20_000);
    receiver.on('frame', (frame) => {
      if (skipped++ < skip) return;
      seen.push({ ...frame, data: Buffer.alloc(0), receivedAt: Date.now() });
      if (seen.length === count) {
        clearTimeout(timer);
        resolve(seen);
      }
    });
  });
}

t.test('we offer it, the answer keeps it: every frame has a captureTime a little before it arrived', async (t) => {
  const { sender, receiver } = pair(t);
  await sender.setLocalDescription(await sender.createOffer());
  t.match(sender.localDescription!.sdp, EXTMAP, 'our offer has the extmap');
  await receiver.setRemoteDescription(sender.localDescription!);
  await receiver.setLocalDescription(await receiver.createAnswer());
  t.match(receiver.localDescription!.sdp, EXTMAP, "the receiver's answer keeps it");
  await sender.setRemoteDescription(receiver.localDescription!);
  const got = await frames(receiver, 30);
  const ages = got.map((f) => (f.captureTime === undefined ? NaN : f.receivedAt - f.captureTime));
  t.ok(got.every((f) => typeof f.captureTime === 'number'), `every frame has one (${got.filter((f) => f.captureTime !== undefined).length}/30)`);
  // Capture → encode → loopback → jitter buffer → decode: more than nothing, under two seconds even on a loaded machine (a wrong clock or epoch is off by far more).
  t.ok(ages.every((age) => age >= 0 && age < 2000), `capture → here in [0, 2000) ms: ${ages.map((a) => a.toFixed(0)).join(' ')}`);
  const steps = got.slice(1).map((f, i) => f.captureTime! - got[i]!.captureTime!);
  t.ok(steps.every((step) => step > 0), `capture times advance frame by frame: ${steps.map((s) => s.toFixed(1)).join(' ')}`);
});

t.test('an answer without the extmap: nothing written, frames carry no captureTime', async (t) => {
  const { sender, receiver } = pair(t);
  await sender.setLocalDescription(await sender.createOffer());
  await receiver.setRemoteDescription(sender.localDescription!);
  await receiver.setLocalDescription(await receiver.createAnswer());
  // A remote that does not know the extension answers without it (the receiver itself still reads it).
  const answer = withoutExtmap(receiver.localDescription!.sdp);
  t.notMatch(answer, EXTMAP);
  await sender.setRemoteDescription({ type: 'answer', sdp: answer });
  const got = await frames(receiver, 20);
  t.equal(got.filter((f) => f.captureTime !== undefined).length, 0, 'no frame has a captureTime');
});

t.test('an offer without the extmap: our answer has none, nothing written', async (t) => {
  const { sender, receiver } = pair(t);
  await receiver.setLocalDescription(await receiver.createOffer());
  t.match(receiver.localDescription!.sdp, EXTMAP, 'a receiving peer offers it too');
  await sender.setRemoteDescription({ type: 'offer', sdp: withoutExtmap(receiver.localDescription!.sdp) });
  await sender.setLocalDescription(await sender.createAnswer());
  t.notMatch(sender.localDescription!.sdp, EXTMAP, 'our answer does not add it');
  await receiver.setRemoteDescription(sender.localDescription!);
  const got = await frames(receiver, 20);
  t.equal(got.filter((f) => f.captureTime !== undefined).length, 0, 'no frame has a captureTime');
});

t.test('the receiver offers it: our answer keeps its id, frames carry it', async (t) => {
  const { sender, receiver } = pair(t);
  await receiver.setLocalDescription(await receiver.createOffer());
  // Another id than ours (a browser numbers its own): the answer must follow the offer's.
  const offer = receiver.localDescription!.sdp.replace(EXTMAP, `a=extmap:3 ${ABS_CAPTURE_TIME_URI}\r\n`);
  await sender.setRemoteDescription({ type: 'offer', sdp: offer });
  await sender.setLocalDescription(await sender.createAnswer());
  t.match(sender.localDescription!.sdp, new RegExp(`^a=extmap:3 ${ABS_CAPTURE_TIME_URI.replace(/[./]/g, '\\$&')}`, 'm'), 'our answer keeps it under the offer\'s id');
  t.notMatch(sender.localDescription!.sdp, /^a=extmap:7 /m, 'and not under ours');
  await receiver.setRemoteDescription(sender.localDescription!);
  const got = await frames(receiver, 20);
  t.ok(got.filter((f) => f.captureTime !== undefined).length >= 18, `frames carry it (${got.filter((f) => f.captureTime !== undefined).length}/20)`);
});
