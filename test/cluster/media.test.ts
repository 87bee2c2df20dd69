// Real media across instances: publish() (a videotestsrc pipeline) on A, view() on B decodes frames,
// Chromium on C gets video over WHEP (its offer relayed to A, A's answer back), all through one Redis.
import t from 'tap';
import { publish, view } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { launchChromium } from '../helpers/browser.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { RedisServer } from '../helpers/redis.js';

t.test('publisher on A, view() on B, WHEP in Chromium on C', async (t) => {
  const redis = await RedisServer.start();
  t.teardown(() => redis.close());
  const [a, b, c] = await Promise.all([0, 1, 2].map(() => startDaemon({ redis: { url: redis.url, heartbeatMs: 500, ttlMs: 1500 } })));
  t.teardown(() => Promise.all([a, b, c].map((d) => d!.app.close())));
  const token = (role: 'publisher' | 'viewer', ttlSeconds = 600) => mintToken({ secret: SECRET, session: 'desk', role, ttlSeconds });

  const publisher = publish({ url: a!.url, session: 'desk', token: token('publisher'), source: { kind: 'test', pattern: 'ball' }, video: { width: 320, height: 240 } });
  t.teardown(() => publisher.close());
  const v = view({ url: b!.url, session: 'desk', token: token('viewer'), timeoutMs: 30_000 });
  t.teardown(() => v.close());
  let frames = 0;
  v.on('frame', () => frames++);
  await v.ready;
  const deadline = Date.now() + 20_000;
  while (frames < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.ok(frames >= 10, `view() on B decoded ${frames} frames from the publisher on A`);
  t.equal(v.width, 320, 'at the published size');

  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(`${c!.http}/healthz`);
  const result = await page.evaluate(async (bearer) => {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    // Non-trickle: the offer carries every candidate, so no PATCH is needed.
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
    });
    const response = await fetch('/whep/desk', { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${bearer}` }, body: pc.localDescription!.sdp });
    if (response.status !== 201) return { status: response.status, frames: 0, deleted: 0 };
    const location = response.headers.get('location')!;
    await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
    const until = Date.now() + 20_000;
    let frames = 0;
    while (Date.now() < until && frames < 10) {
      await new Promise((r) => setTimeout(r, 200));
      (await pc.getStats()).forEach((s: Record<string, unknown>) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') frames = (s.framesDecoded as number) ?? 0;
      });
    }
    const del = await fetch(location, { method: 'DELETE', headers: { authorization: `Bearer ${bearer}` } });
    pc.close();
    return { status: response.status, frames, deleted: del.status };
  }, token('viewer', 900));
  t.equal(result.status, 201, 'the WHEP POST on C is answered by the publisher on A');
  t.ok(result.frames >= 10, `${result.frames} frames decoded over WHEP on C`);
  t.equal(result.deleted, 200, 'DELETE on C ends it');
  t.ok(publisher.viewers >= 1, 'the view() viewer on B still has its peer');
});
