// Codecs negotiated, not imposed (issue 14): real publish(), the real viewer page in Chromium made to
// decode only some codecs (its RTCRtpReceiver.getCapabilities and setCodecPreferences restricted by an
// init script, as a browser without an H.264 decoder is), WHEP from Chromium, and a viewer that does
// not list its codecs and rejects what it is offered.
import t from 'tap';
import type { Browser, Page } from 'playwright-core';
import { publish, type Publisher } from '../../lib/publish/publisher.js';
import type { Logger } from '../../lib/signaling/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { launchChromium, waitForViewerFrames } from '../helpers/browser.js';
import { RawClient, SECRET, startDaemon } from '../helpers/daemon.js';

const browser: Browser = await launchChromium();
t.teardown(() => browser.close());
const token = (session: string, role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session, role, ttlSeconds: 600 });

// Warnings the publisher logs, kept for the assertions; the rest is dropped.
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const noop = () => {};
  return { warnings, debug: noop, info: noop, error: noop, warn: (_obj, msg) => void warnings.push(msg ?? '') };
}

// Makes the page's browser decode only `allowed` (names such as 'VP8'): what getCapabilities reports,
// and what every answer accepts (setCodecPreferences before createAnswer).
async function decodeOnly(page: Page, allowed: string[]): Promise<void> {
  await page.addInitScript((names: string[]) => {
    const original = RTCRtpReceiver.getCapabilities.bind(RTCRtpReceiver);
    const keep = (caps: RTCRtpCapabilities | null) =>
      caps && { ...caps, codecs: caps.codecs.filter((c) => names.includes(c.mimeType.replace(/^video\//i, '').toUpperCase()) || /\/(rtx|red|ulpfec)$/i.test(c.mimeType)) };
    RTCRtpReceiver.getCapabilities = (kind: string) => (kind === 'video' ? keep(original('video')) : original(kind));
    const createAnswer = RTCPeerConnection.prototype.createAnswer;
    RTCPeerConnection.prototype.createAnswer = async function (this: RTCPeerConnection, ...args: unknown[]) {
      for (const tr of this.getTransceivers()) {
        if (tr.receiver.track.kind === 'video') tr.setCodecPreferences(keep(original('video'))!.codecs);
      }
      return (createAnswer as (...a: unknown[]) => Promise<RTCSessionDescriptionInit>).apply(this, args);
    } as typeof RTCPeerConnection.prototype.createAnswer;
  }, allowed);
}

async function openViewer(http: string, session: string, allowed?: string[]): Promise<Page> {
  const page = await browser.newPage();
  if (allowed) await decodeOnly(page, allowed);
  await page.goto(`${http}/?session=${session}&token=${token(session, 'viewer')}`);
  return page;
}

const inboundCodec = (page: Page) => page.evaluate(() => (window as unknown as { __viewerStats?: { codec?: string | null } | null }).__viewerStats?.codec ?? null);

async function waitFor(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function startPublisher(url: string, session: string, logger?: Logger): Publisher {
  // No video.codec: the default desktop codec (H.264 where x264 is installed) comes first, every
  // installed encoder is offered.
  const publisher = publish({ url, session, token: token(session, 'publisher'), source: { kind: 'test', pattern: 'ball' }, video: { width: 320, height: 240 }, ...(logger ? { logger } : {}) });
  publisher.on('error', () => {});
  return publisher;
}

t.test('a VP8-only viewer gets VP8 from a publisher whose default is H.264; two codecs at once, VP8\'s encoder closed with its last viewer, the warm H.264 one idle', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = startPublisher(daemon.url, 'mixed');
  t.teardown(() => publisher.close());

  const vp8 = await openViewer(daemon.http, 'mixed', ['VP8']);
  t.teardown(() => vp8.close());
  await waitForViewerFrames(vp8, 10);
  t.equal(await inboundCodec(vp8), 'VP8', 'the restricted Chromium decodes VP8');
  t.same([...publisher.viewerCodecs.values()], ['vp8'], 'the publisher chose VP8 for it');

  const h264 = await openViewer(daemon.http, 'mixed');
  t.teardown(() => h264.close());
  await waitForViewerFrames(h264, 10);
  t.equal(await inboundCodec(h264), 'H264', 'an unrestricted Chromium gets the cheapest codec, H.264');
  const encoders = publisher.encoders;
  t.same([...encoders.keys()].sort(), ['h264', 'vp8'], 'one shared encoder per codec in use');
  t.equal(encoders.get('vp8')?.viewers, 1);
  t.equal(encoders.get('h264')?.viewers, 1);
  const before = await vp8.evaluate(() => (window as unknown as { __viewerStats?: { framesDecoded: number } }).__viewerStats!.framesDecoded);
  await waitForViewerFrames(vp8, before + 10);
  t.pass('both viewers keep decoding at once');

  await vp8.close();
  await waitFor('the VP8 encoder to close with its last viewer', () => !publisher.encoders.has('vp8'));
  t.same([...publisher.encoders.keys()], ['h264'], 'the H.264 encoder goes on');
  const h264Frames = await h264.evaluate(() => (window as unknown as { __viewerStats?: { framesDecoded: number } }).__viewerStats!.framesDecoded);
  await waitForViewerFrames(h264, h264Frames + 10);
  t.pass('the H.264 viewer still decodes');
  await h264.close();
  // H.264 is the publisher's first codec: its encoder is warm, kept idle for the next viewer.
  await waitFor('the last viewer to leave its encoder', () => publisher.encoders.get('h264')?.viewers === 0 && publisher.encoderStats?.subscribers === 0);
  t.same([...publisher.encoders.keys()], ['h264'], 'no viewer: only the warm encoder, idle');
});

t.test('no codec in common on the WebSocket path: a clear bye, the page says so, one warning', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const logger = recordingLogger();
  const publisher = startPublisher(daemon.url, 'nothing', logger);
  t.teardown(() => publisher.close());
  await new Promise((r) => setTimeout(r, 300)); // the publisher joins
  const page = await openViewer(daemon.http, 'nothing', ['AV1']);
  t.teardown(() => page.close());
  await page.waitForFunction(() => (window as unknown as { __viewerState?: string }).__viewerState === 'failed', undefined, { timeout: 15_000 });
  const reason = await page.evaluate(() => (window as unknown as { __viewer?: { failureReason: string | null } }).__viewer?.failureReason ?? '');
  t.match(reason, /cannot decode/, 'the viewer knows why');
  t.match(reason, /H264/, 'naming the publisher\'s codecs');
  t.match(reason, /AV1/, 'and its own');
  // The page is the <webrtcbin-viewer> element: what it shows is in its shadow root.
  const text = `${await page.textContent('webrtcbin-viewer >> #message')} ${await page.textContent('webrtcbin-viewer >> #detail')}`;
  t.match(text, /cannot decode/i, 'the page shows it');
  t.notMatch(text, /relay=1|firewall/i, 'not blaming the network');
  t.equal(publisher.viewers, 0, 'no peer was built');
  t.same([...publisher.encoders.values()].map((e) => e.viewers), [0], 'nor an encoder for it (the warm one has no viewer)');
  const codecWarnings = logger.warnings.filter((w) => /no video codec in common/.test(w));
  t.equal(codecWarnings.length, 1, `one warning on the publisher: ${codecWarnings[0]}`);
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(logger.warnings.filter((w) => /no video codec in common/.test(w)).length, 1, 'the viewer does not retry');
});

t.test('a viewer that does not list its codecs and rejects the one offered gets the same clear bye', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const logger = recordingLogger();
  const publisher = startPublisher(daemon.url, 'old', logger);
  t.teardown(() => publisher.close());
  await new Promise((r) => setTimeout(r, 300));
  // Chromium decoding VP8 only, joined by hand without join.codecs (an older client).
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await decodeOnly(page, ['VP8']);
  await page.goto(`${daemon.http}/healthz`);
  const viewer = await RawClient.open(daemon.url);
  t.teardown(() => viewer.close());
  viewer.send({ type: 'join', session: 'old', role: 'viewer', token: token('old', 'viewer') });
  await viewer.next('joined');
  const offer = (await viewer.next('offer')) as { from: string; sdp: string };
  t.match(offer.sdp, /H264\/90000/, 'without a list the publisher offers its first codec');
  const answer = await page.evaluate(async (sdp: string) => {
    const pc = new RTCPeerConnection();
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    return pc.localDescription!.sdp;
  }, offer.sdp);
  t.match(answer, /^m=video 0 /m, 'Chromium without H.264 rejects the m-line');
  viewer.send({ type: 'answer', to: offer.from, sdp: answer });
  const bye = (await viewer.next('bye')) as { reason?: string; codecs?: { publisher: string[]; viewer: string[] }; message?: string };
  t.equal(bye.reason, 'no-common-codec');
  t.same(bye.codecs?.publisher, ['H264', 'VP9', 'VP8'], 'the bye names what the publisher encodes');
  t.match(bye.message, /cannot decode H264/);
  t.equal(logger.warnings.filter((w) => /cannot decode/.test(w)).length, 1, 'one warning, no error');
  await waitFor('the rejected peer to be dropped', () => publisher.viewers === 0);
  t.pass('its peer is gone (webrtcbin never saw the rejected answer)');
});

t.test('WHEP: a browser\'s offer is answered with its first codec we encode; none in common is 422 with the reason', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = startPublisher(daemon.url, 'whep');
  t.teardown(() => publisher.close());
  await new Promise((r) => setTimeout(r, 300));
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(`${daemon.http}/healthz`);
  const whep = (only: string[]) =>
    page.evaluate(
      async ({ bearer, only }) => {
        const pc = new RTCPeerConnection();
        const tr = pc.addTransceiver('video', { direction: 'recvonly' });
        const codecs = RTCRtpReceiver.getCapabilities('video')!.codecs.filter((c) => only.includes(c.mimeType.replace(/^video\//i, '').toUpperCase()));
        if (codecs.length === 0) return { status: 0, body: `this Chromium has none of ${only.join(', ')}`, codec: null, frames: 0 };
        tr.setCodecPreferences(codecs);
        await pc.setLocalDescription(await pc.createOffer());
        await new Promise<void>((resolve) => {
          if (pc.iceGatheringState === 'complete') resolve();
          pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
          setTimeout(resolve, 2000);
        });
        const response = await fetch('/whep/whep', { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${bearer}` }, body: pc.localDescription!.sdp });
        const body = await response.text();
        if (response.status !== 201) return { status: response.status, body, codec: null, frames: 0 };
        await pc.setRemoteDescription({ type: 'answer', sdp: body });
        const deadline = Date.now() + 15_000;
        let frames = 0;
        let codec: string | null = null;
        while (Date.now() < deadline && frames < 10) {
          await new Promise((r) => setTimeout(r, 200));
          const stats = await pc.getStats();
          stats.forEach((s) => {
            if (s.type === 'inbound-rtp' && s.kind === 'video') {
              frames = s.framesDecoded ?? 0;
              const c = s.codecId ? stats.get(s.codecId) : undefined;
              if (c) codec = c.mimeType;
            }
          });
        }
        pc.close();
        return { status: response.status, body: '', codec, frames };
      },
      { bearer: token('whep', 'viewer'), only },
    );

  const vp8 = await whep(['VP8', 'VP9']);
  t.equal(vp8.status, 201, vp8.body);
  t.equal(vp8.codec, 'video/VP8', 'the offer\'s first codec we encode (VP8 before VP9 in its order), not our first');
  t.ok(vp8.frames >= 10, `decoded ${vp8.frames} frames`);

  const none = await whep(['AV1']);
  t.equal(none.status, 422, 'no codec in common: 422 (RFC 9725 §4.4.3), not the bare 400 of other refusals');
  t.match(JSON.parse(none.body), { error: /no video codec in common: the publisher encodes H264, VP9, VP8, the viewer decodes AV1/ }, 'the body names both sides');
});
