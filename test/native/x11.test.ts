// Capture of a real X display (Xvfb): frames at the requested size.
// (A display that dies mid-stream makes libX11 exit the process from ximagesrc's thread; handling
// that belongs to the desktop-streaming work and is tracked there.)
import t from 'tap';
import { WebRtcPeer } from '../../lib/index.js';
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
