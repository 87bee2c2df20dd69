// Receiving on the VM side: a real Chromium with a fake camera publishes through the daemon (the
// examples/publish-webcam.html page) and through WHIP; receive() gets real, non-blank frames.
import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Frame } from '../../lib/index.js';
import { receive } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { FAKE_CAMERA_FLAGS, launchChromium } from '../helpers/browser.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const browser = await launchChromium(FAKE_CAMERA_FLAGS);
t.teardown(() => browser.close());
const token = (session: string, role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session, role, ttlSeconds: 600 });

// Distinct colours in a dense sample: a blank (black or uniform) frame has one or two. Chromium's fake
// camera draws a green field, a moving pie and a frame counter.
function distinctColours(frame: Frame): number {
  const seen = new Set<number>();
  for (let y = 0; y < frame.height; y += 4) {
    for (let x = 0; x < frame.width; x += 4) {
      const i = y * frame.stride + x * 4;
      seen.add((frame.data[i]! >> 4) * 256 + (frame.data[i + 1]! >> 4) * 16 + (frame.data[i + 2]! >> 4));
    }
  }
  return seen.size;
}

function firstFrames(agent: ReturnType<typeof receive>, count: number, timeoutMs = 20_000): Promise<Frame[]> {
  return new Promise((resolve, reject) => {
    const frames: Frame[] = [];
    const timer = setTimeout(() => reject(new Error(`${frames.length} of ${count} frames in ${timeoutMs} ms`)), timeoutMs);
    agent.on('frame', (frame) => {
      frames.push({ ...frame, data: Buffer.from(frame.data) });
      if (frames.length === count) {
        clearTimeout(timer);
        resolve(frames);
      }
    });
  });
}

t.test('a browser camera published through the daemon arrives as frames', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const agent = receive({ url: daemon.url, session: 'cam', token: token('cam', 'publisher'), video: { format: 'RGBA' } });
  t.teardown(() => agent.close());
  const frames = firstFrames(agent, 10);
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(`${daemon.http}/healthz?session=cam&token=${token('cam', 'viewer')}`);
  await page.setContent(readFileSync(path.join(root, 'examples', 'publish-webcam.html'), 'utf8'));
  const got = await frames;
  t.same([got[0]!.width, got[0]!.height], [640, 480], 'the camera size');
  const colours = distinctColours(got.at(-1)!);
  t.ok(colours >= 4, `the frame is not blank (${colours} distinct colours sampled)`);
});

t.test('WHIP: a browser publishes with plain fetch calls', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const agent = receive({ url: daemon.url, session: 'whip', token: token('whip', 'publisher') });
  t.teardown(() => agent.close());
  await new Promise((r) => setTimeout(r, 500)); // the agent joins
  const frames = firstFrames(agent, 10);
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(`${daemon.http}/healthz`);
  const status = await page.evaluate(async (bearer) => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } });
    const pc = new RTCPeerConnection();
    pc.addTransceiver(stream.getVideoTracks()[0]!, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    const response = await fetch('/whip/whip', { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${bearer}` }, body: pc.localDescription!.sdp });
    const location = response.headers.get('location')!;
    const etag = response.headers.get('etag')!;
    await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
    const mid = pc.getTransceivers()[0]!.mid;
    pc.onicecandidate = (e) => {
      const frag = e.candidate ? `a=mid:${mid}\r\na=${e.candidate.candidate}\r\n` : `a=mid:${mid}\r\na=end-of-candidates\r\n`;
      // RFC 9725 §4.3.1: trickle carries If-Match with the 201's ETag (428 without).
      void fetch(location, { method: 'PATCH', headers: { 'content-type': 'application/trickle-ice-sdpfrag', 'if-match': etag, authorization: `Bearer ${bearer}` }, body: frag });
    };
    (window as unknown as { pc: RTCPeerConnection }).pc = pc;
    return { status: response.status, location };
  }, token('whip', 'viewer'));
  t.equal(status.status, 201);
  t.match(status.location, /^\/whip\/whip\/v-/);
  const got = await frames;
  t.same([got[0]!.width, got[0]!.height], [320, 240]);
  const colours = distinctColours(got.at(-1)!);
  t.ok(colours >= 4, `not blank (${colours} distinct colours sampled)`);
});

t.test('a browser microphone arrives as PCM audio next to the video', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const agent = receive({ url: daemon.url, session: 'av', token: token('av', 'publisher'), audio: { format: 'S16LE', sampleRate: 48000, channels: 1 } });
  t.teardown(() => agent.close());
  const chunks: { data: Buffer; sampleRate: number; channels: number }[] = [];
  agent.on('audio', (chunk) => chunks.push({ ...chunk, data: Buffer.from(chunk.data) }));
  const frames = firstFrames(agent, 5);
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(`${daemon.http}/healthz?session=av&audio=1&token=${token('av', 'viewer')}`);
  await page.setContent(readFileSync(path.join(root, 'examples', 'publish-webcam.html'), 'utf8'));
  await frames;
  const deadline = Date.now() + 15_000;
  while (chunks.reduce((n, c) => n + c.data.length, 0) < 48000 * 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const bytes = chunks.reduce((n, c) => n + c.data.length, 0);
  t.ok(bytes >= 48000 * 2, `${(bytes / 96000).toFixed(2)} s of 48 kHz mono S16 received`);
  t.same([chunks[0]?.sampleRate, chunks[0]?.channels], [48000, 1]);
  // Chromium's fake microphone beeps: some samples are far from zero.
  let peak = 0;
  for (const c of chunks) for (let i = 0; i + 1 < c.data.length; i += 2) peak = Math.max(peak, Math.abs(c.data.readInt16LE(i)));
  t.ok(peak > 1000, `not silence (peak ${peak})`);
});
