// Firefox ESR (Debian's firefox-esr, headful on Xvfb, driven over WebDriver BiDi) opens the daemon's
// viewer page of a real publisher and plays: judged by frames painted (requestVideoFrameCallback,
// mozPaintedFrames) and a canvas read-back that changes, since Firefox leaves totalVideoFrames at 0 for
// WebRTC. VP8 and H.264; the page's stats line; clicks and keys reaching the VM's display.
import t, { type Test } from 'tap';
import { assertClickAndTyping, startXev } from '../helpers/xev.js';
import { publish, type PublishOptions } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import type { VideoCodec } from '../../lib/types.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { ENTER, Firefox, measurePainting, waitForViewerFrames, type FirefoxPage, type Painting } from '../helpers/firefox.js';
import { startXvfb } from '../helpers/xvfb.js';

const PLAYOUT_DELAY_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay';

const daemon = await startDaemon();
t.teardown(() => daemon.app.close());
const firefox = await Firefox.launch({ width: 640, height: 480 });
t.teardown(() => firefox.close());

let sessions = 0;
function startPublisher(t: Test, options: Partial<PublishOptions>): { session: string; errors: string[] } {
  const session = `ff${sessions++}`;
  const errors: string[] = [];
  const publisher = publish({ url: daemon.url, session, token: mintToken({ secret: SECRET, session, role: 'publisher' }), source: { kind: 'test', pattern: 'ball' }, video: { width: 320, height: 240 }, ...options });
  publisher.on('error', (e) => errors.push(e.message));
  t.teardown(() => publisher.close());
  return { session, errors };
}

async function openViewer(t: Test, browser: Firefox, session: string, control = false): Promise<FirefoxPage> {
  const page = await browser.open(`${daemon.http}/?session=${session}&token=${mintToken({ secret: SECRET, session, role: 'viewer', control })}`);
  t.teardown(() => page.close());
  return page;
}

// The video m-line of Firefox's answer (the viewer page's local description), or '' before it has one.
function answerVideo(page: FirefoxPage): Promise<string> {
  return page.evaluate(() => {
    const sdp = (window as unknown as { __viewer?: { pc?: RTCPeerConnection } }).__viewer?.pc?.currentLocalDescription?.sdp ?? '';
    return sdp.split(/\r\n(?=m=)/).find((s) => s.startsWith('m=video')) ?? '';
  });
}

/**
 * Asserts the page paints a moving picture: frames presented, mozPaintedFrames, pictures that change.
 * Judged against what Firefox decoded in the same window, since a loaded machine decodes far below 30 fps;
 * a frozen picture presents none and reads back one picture.
 */
async function assertPlays(t: Test, page: FirefoxPage, what: string): Promise<Painting> {
  await waitForViewerFrames(page, 30, 30_000);
  const p = await measurePainting(page, 3000);
  t.comment(`${what}: ${p.fps.toFixed(1)} fps presented, ${p.painted} painted, ${p.decodedFps.toFixed(1)} fps decoded, ${p.distinctPictures} distinct pictures in 30 read-backs, jitter buffer ${p.jitterBufferMs?.toFixed(1)} ms/frame`);
  t.ok(p.decodedFps >= 2, `${what}: Firefox decodes (${p.decodedFps.toFixed(1)} fps)`);
  t.ok(p.fps >= Math.max(2, p.decodedFps / 2), `${what}: Firefox presents the frames it decodes (${p.fps.toFixed(1)} of ${p.decodedFps.toFixed(1)} per second)`);
  t.ok((p.painted ?? 0) >= Math.max(6, (p.decodedFps * 3) / 2), `${what}: mozPaintedFrames advances (${p.painted} in 3 s)`);
  // The ball pattern moves every frame: each new frame presented is a new picture.
  t.ok(p.distinctPictures >= 4, `${what}: the picture read back from a canvas changes (${p.distinctPictures} distinct of 30)`);
  return p;
}

async function codecTest(t: Test, browser: Firefox, codec: VideoCodec, mime: string): Promise<void> {
  const { session, errors } = startPublisher(t, { video: { width: 320, height: 240, codec } });
  const page = await openViewer(t, browser, session);
  // Firefox offers to receive H.264 only with a decoder: its OpenH264 plugin (downloaded from Mozilla at
  // first run, which this profile, like an offline machine, never does) or the platform's
  // (media.webrtc.hw.h264.enabled, through the system's libavcodec). Without one it rejects the m-line.
  const receivable = await page.evaluate((mime: string) => RTCRtpReceiver.getCapabilities('video')?.codecs.map((c) => c.mimeType) ?? [], `video/${mime}`);
  if (!receivable.some((m) => m.toLowerCase() === `video/${codec}`)) {
    // What the person at this Firefox sees instead: another codec playing, or the page's message.
    const seen = await page
      .waitFor('the page to play or say why not', 15_000, () => {
        const w = window as unknown as { __viewerStats?: { codec?: string; framesDecoded?: number } | null };
        const message = document.querySelector('webrtcbin-viewer')?.shadowRoot?.getElementById('message');
        if (message && !message.hidden) return `the page says "${(message.textContent ?? '').replace(/\s+/g, ' ').trim()}"`;
        if ((w.__viewerStats?.framesDecoded ?? 0) > 0) return `the page plays ${w.__viewerStats?.codec} instead`;
        return '';
      })
      .catch(() => 'the page shows nothing within 15 s');
    t.fail(
      `this Firefox cannot receive ${mime}: it decodes ${receivable.join(', ')}; ${seen}; publisher: ${errors.at(-1) ?? 'no error'}. ` +
        "Debian's firefox-esr decodes H.264 only with the OpenH264 plugin it downloads from Mozilla, or with the pref " +
        'media.webrtc.hw.h264.enabled (the system libavcodec)',
    );
    return;
  }
  await assertPlays(t, page, codec);
  const stats = await page.evaluate(() => (window as unknown as { __viewerStats?: { codec?: string } | null }).__viewerStats?.codec ?? null);
  t.equal(stats, mime, `the page's stats name the codec (${mime})`);
}

t.test('VP8 with the publisher defaults (the playout-delay extension on): Firefox plays, not a frozen first frame', async (t) => {
  await codecTest(t, firefox, 'vp8', 'VP8');
});

// firefox-esr as Debian installs it has no H.264 decoder (no OpenH264 plugin, no download): the
// publisher's default codec list reaches it as VP8, and a publisher held to H.264 says why it cannot.
t.test('firefox-esr as Debian installs it (no H.264 decoder) gets a codec it decodes from a default publisher', async (t) => {
  const { session } = startPublisher(t, { video: { width: 320, height: 240 } });
  const page = await openViewer(t, firefox, session);
  const receivable = await page.evaluate(() => RTCRtpReceiver.getCapabilities('video')?.codecs.map((c) => c.mimeType.toLowerCase()) ?? []);
  t.notOk(receivable.includes('video/h264'), `stock firefox-esr decodes no H.264 here (${receivable.join(', ')})`);
  const p = await assertPlays(t, page, 'the default publisher');
  t.ok(p, 'plays');
  const codec = await page.evaluate(() => (window as unknown as { __viewerStats?: { codec?: string } | null }).__viewerStats?.codec ?? null);
  t.ok(codec !== null && codec !== 'H264' && receivable.includes(`video/${codec.toLowerCase()}`), `the page plays a codec it decodes (${codec})`);
});

t.test('firefox-esr without an H.264 decoder and a publisher held to H.264: the page names both sides\' codecs', async (t) => {
  const { session } = startPublisher(t, { video: { width: 320, height: 240, codec: 'h264' } });
  const page = await openViewer(t, firefox, session);
  const said = await page.waitFor('the page to say why it cannot play', 20_000, () => {
    const message = document.querySelector('webrtcbin-viewer')?.shadowRoot?.getElementById('message');
    return message && !message.hidden ? (message.textContent ?? '').replace(/\s+/g, ' ').trim() : '';
  });
  t.match(said, /H\.?264/i, `the message names the publisher's codec: "${said}"`);
  t.match(said, /VP8/, "and the codecs this browser decodes");
  t.notMatch(said, /relay=1|firewall/i, 'and does not blame the network');
});

t.test('H.264 with Firefox decoding through the platform (media.webrtc.hw.h264.enabled: libavcodec)', async (t) => {
  const platform = await Firefox.launch({ width: 640, height: 480, prefs: { 'media.webrtc.hw.h264.enabled': true } });
  t.teardown(() => platform.close());
  await codecTest(t, platform, 'h264', 'H264');
});

t.test('the playout-delay extension Firefox accepted carries values it renders (0/0 freezes it)', async (t) => {
  // Explicitly {0, 0}: "render as soon as decoded", which Firefox must be given in a form it plays.
  const { session } = startPublisher(t, { video: { width: 320, height: 240, codec: 'vp8' }, playoutDelay: { minMs: 0, maxMs: 0 } });
  const page = await openViewer(t, firefox, session);
  await waitForViewerFrames(page, 1, 30_000);
  t.match(await answerVideo(page), PLAYOUT_DELAY_URI, 'Firefox kept the extension in its answer');
  await assertPlays(t, page, 'playoutDelay {0, 0}');
});

t.test("the page's stats line reads Firefox's stats", async (t) => {
  const { session } = startPublisher(t, { video: { width: 320, height: 240, codec: 'vp8' } });
  const page = await openViewer(t, firefox, session);
  await waitForViewerFrames(page, 30, 30_000);
  const line = await page.waitFor('a stats line with fps', 10_000, () => {
    const text = document.querySelector('webrtcbin-viewer')?.shadowRoot?.getElementById('stats')?.textContent ?? '';
    return /\d+ fps/.test(text) ? text : '';
  });
  t.comment(`stats line: ${line}`);
  t.match(line, /^VP8 · 320×240 · \d+ fps · \d+ kb\/s · rtt \d+ ms · jb \d+ ms · dec \d+ ms · ≈\d+ ms$/, 'codec, size, fps, bitrate, rtt, jitter buffer, decode time and estimate all filled');
  const fps = Number(/(\d+) fps/.exec(line)?.[1]);
  t.ok(fps >= 10, `fps in the line is the decoded rate (${fps})`);
});

t.test('clicks and keys from Firefox reach the VM display', async (t) => {
  const x = await startXvfb('640x480x24');
  t.teardown(() => x.kill());
  const xev = await startXev(x.display, '640x480', ['button', 'keyboard']);
  t.teardown(() => xev.kill());
  const { session } = startPublisher(t, { source: { kind: 'x11', display: x.display }, video: { width: 640, height: 480, codec: 'vp8' } });
  const page = await openViewer(t, firefox, session, true);
  await page.setViewport(640, 480);
  await waitForViewerFrames(page, 6, 30_000);
  await page.click(100, 120);
  await page.type(`hi${ENTER}`);
  await assertClickAndTyping(t, xev, 100, 120);
});
