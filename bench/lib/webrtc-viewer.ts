// One WebRTC viewer for the latency benchmark: our Streamer (what publish() runs) capturing the X
// display, offering to a Chromium RTCPeerConnection that reads the clock row from every frame it shows.
import type { Browser } from 'playwright-core';
import { Streamer, type VideoCodec } from '../../lib/index.js';
import { BrowserPeer } from '../../test/helpers/browser.js';
import { nodeOffersToBrowser } from '../../test/helpers/peers.js';
import { sleep } from './processes.js';
import { installVideoReader, record, type Reading } from './readers.js';

export interface StreamConfig {
  codec: VideoCodec;
  width: number;
  height: number;
  fps: number;
  /** kbit/s; the library's default (2000) when omitted. */
  bitrate?: number;
  /** Send the playout-delay header extension with min = max = 0 (the lever under test). */
  playoutDelayZero?: boolean;
}

export interface ReceiverStats {
  /** Chrome's jitter buffer, ms per frame (jitterBufferDelay / jitterBufferEmittedCount). */
  jitterBufferMs: number;
  /** Chrome's decode, ms per frame (totalDecodeTime / framesDecoded). */
  decodeMs: number;
  framesDropped: number;
  packetsLost: number;
  nacks: number;
  freezes: number;
}

type Inbound = Record<string, number>;

async function inbound(peer: BrowserPeer): Promise<Inbound> {
  return peer.page.evaluate(async () => {
    const stats = await (window as unknown as { pc: RTCPeerConnection }).pc.getStats();
    let found: Record<string, number> = {};
    stats.forEach((s: Record<string, unknown>) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') found = s as Record<string, number>;
    });
    const keys = ['jitterBufferDelay', 'jitterBufferEmittedCount', 'totalDecodeTime', 'framesDecoded', 'framesDropped', 'packetsLost', 'nackCount', 'freezeCount'];
    return Object.fromEntries(keys.map((k) => [k, Number(found[k] ?? 0)]));
  });
}

function receiverStats(a: Inbound, b: Inbound): ReceiverStats {
  const d = (k: string) => (b[k] ?? 0) - (a[k] ?? 0);
  return {
    jitterBufferMs: (d('jitterBufferDelay') / Math.max(1, d('jitterBufferEmittedCount'))) * 1000,
    decodeMs: (d('totalDecodeTime') / Math.max(1, d('framesDecoded'))) * 1000,
    framesDropped: d('framesDropped'),
    packetsLost: d('packetsLost'),
    nacks: d('nackCount'),
    freezes: d('freezeCount'),
  };
}

export interface EncoderRates {
  /** Frames per second the shared encoder encoded, and the captured frames it skipped as unchanged. */
  encodedFps: number;
  unchangedFps: number;
}

export async function measureWebRtc(browser: Browser, display: string, config: StreamConfig, frames: number): Promise<Reading & { receiver: ReceiverStats; encoder: EncoderRates }> {
  const { playoutDelayZero, ...video } = config;
  const streamer = new Streamer({ source: { kind: 'x11', display, showPointer: false }, video });
  const peer = streamer.createPeer(playoutDelayZero ? { playoutDelay: { minMs: 0, maxMs: 0 } } : {});
  const viewer = await BrowserPeer.open(browser);
  try {
    await installVideoReader(viewer.page);
    await nodeOffersToBrowser(peer, viewer);
    if (playoutDelayZero && !/playout-delay/.test(peer.remoteDescription?.sdp ?? '')) throw new Error('bench: the viewer did not accept the playout-delay extension');
    await viewer.waitForFrames(10, 20_000);
    await sleep(1500); // past the first keyframe and the bitrate ramp
    const before = await inbound(viewer);
    const encoded0 = streamer.stats;
    const t0 = performance.now();
    const reading = await record(viewer.page, frames, (frames / config.fps) * 1000 * 3 + 5000);
    const seconds = (performance.now() - t0) / 1000;
    const encoded1 = streamer.stats;
    const after = await inbound(viewer);
    const encoder = {
      encodedFps: (encoded1.framesEncoded - encoded0.framesEncoded) / seconds,
      unchangedFps: (encoded1.framesUnchanged - encoded0.framesUnchanged) / seconds,
    };
    return { ...reading, receiver: receiverStats(before, after), encoder };
  } finally {
    await viewer.close();
    await peer.close();
    await streamer.close();
  }
}
