// Audio sent by one peer and decoded by another: the 440 Hz test tone arrives as PCM with the
// amplitude and pitch it was sent with, beside the video; an audio-only peer works too.
import t from 'tap';
import { WebRtcPeer, type AudioChunk } from '../../lib/index.js';
import { connectPair } from '../helpers/peers.js';
import { waitFor } from '../helpers/wait.js';

function collect(peer: WebRtcPeer): Int16Array[] {
  const chunks: Int16Array[] = [];
  peer.on('audio', (c: AudioChunk) => chunks.push(new Int16Array(c.data.buffer.slice(c.data.byteOffset, c.data.byteOffset + c.data.length))));
  return chunks;
}

// Pitch from the median distance between alternate swings past ±1000 of the first channel over the
// last second (the threshold ignores near-silence, the median shrugs off a dropout or two), and the
// peak amplitude.
function pitch(chunks: Int16Array[]): { peak: number; hz: number } {
  const mono: number[] = [];
  for (const c of chunks) for (let i = 0; i < c.length; i += 2) mono.push(c[i]!);
  const second = mono.slice(-48_000);
  const gaps: number[] = [];
  let side = 0; // +1 above +1000, -1 below -1000
  let last = -1;
  let peak = 0;
  for (let i = 0; i < second.length; i++) {
    const v = second[i]!;
    peak = Math.max(peak, Math.abs(v));
    const now = v > 1000 ? 1 : v < -1000 ? -1 : side;
    if (now !== side && side !== 0) {
      if (last >= 0) gaps.push(i - last);
      last = i;
    }
    side = now;
  }
  gaps.sort((a, b) => a - b);
  const half = gaps.length ? gaps[Math.floor(gaps.length / 2)]! : Infinity;
  return { peak, hz: Math.round(48_000 / (2 * half)) };
}

t.test('a test tone with the video arrives as the same tone', async (t) => {
  const sender = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 320, height: 240 }, audio: { source: 'test' } });
  const receiver = new WebRtcPeer({ video: { receive: true }, audio: { receive: true } });
  t.teardown(() => Promise.all([sender.close(), receiver.close()]));
  const chunks = collect(receiver);
  await connectPair(sender, receiver);
  await waitFor('1.5 s of audio', () => chunks.reduce((n, c) => n + c.length / 2, 0) >= 72_000);
  const { peak, hz } = pitch(chunks);
  t.ok(peak > 3000 && peak < 10_000, `amplitude of volume 0.2 (peak ${peak})`);
  t.ok(Math.abs(hz - 440) < 25, `440 Hz (measured ${hz})`);
  await waitFor('video frames', () => receiver.framesDecoded >= 5);
  t.pass('video alongside');
});

t.test('an audio-only peer', async (t) => {
  const sender = new WebRtcPeer({ audio: { source: { pipeline: 'audiotestsrc is-live=true freq=1000 volume=0.5' } } });
  const receiver = new WebRtcPeer({ audio: { receive: true } });
  t.teardown(() => Promise.all([sender.close(), receiver.close()]));
  const chunks = collect(receiver);
  await connectPair(sender, receiver);
  await waitFor('1.5 s of audio', () => chunks.reduce((n, c) => n + c.length / 2, 0) >= 72_000);
  const { hz } = pitch(chunks);
  t.ok(Math.abs(hz - 1000) < 60, `the pipeline's 1 kHz (measured ${hz})`);
});

t.test("audio: {source: 'pulse'} sends what the desktop plays (the default sink's monitor)", async (t) => {
  const { startPulse } = await import('../helpers/pulse.js');
  const pulse = await startPulse();
  t.teardown(() => pulse.stop());
  const previous = process.env.PULSE_SERVER;
  process.env.PULSE_SERVER = pulse.server; // pulsesrc reads it when the pipeline starts
  t.teardown(() => (previous === undefined ? delete process.env.PULSE_SERVER : (process.env.PULSE_SERVER = previous)));
  const stopTone = pulse.play(660);
  t.teardown(stopTone);
  await new Promise((r) => setTimeout(r, 500)); // the player connects to the sink first
  const sender = new WebRtcPeer({ audio: { source: 'pulse' } });
  sender.on('error', (e) => t.fail(`sender: ${e.message}`));
  const receiver = new WebRtcPeer({ audio: { receive: true } });
  t.teardown(() => Promise.all([sender.close(), receiver.close()]));
  const chunks = collect(receiver);
  await connectPair(sender, receiver);
  // A full second of the tone (the first buffers may still be the sink's silence).
  await waitFor('a second of the tone', () => chunks.reduce((n, c) => n + c.length / 2, 0) >= 72_000 && pitch(chunks).peak > 3000, 20_000);
  const { hz, peak } = pitch(chunks);
  t.ok(Math.abs(hz - 660) < 40, `the desktop's 660 Hz (measured ${hz}, peak ${peak})`);
});
