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

export async function measureWebRtc(browser: Browser, display: string, config: StreamConfig, frames: number): Promise<Reading & { receiver: ReceiverStats }> {
  const streamer = new Streamer({ source: { kind: 'x11', display, showPointer: false }, video: config });
  const peer = streamer.createPeer();
  const viewer = await BrowserPeer.open(browser);
  try {
    await installVideoReader(viewer.page);
    await nodeOffersToBrowser(peer, viewer);
    await viewer.waitForFrames(10, 20_000);
    await sleep(1500); // past the first keyframe and the bitrate ramp
    const before = await inbound(viewer);
    const reading = await record(viewer.page, frames, (frames / config.fps) * 1000 * 3 + 5000);
    const after = await inbound(viewer);
    return { ...reading, receiver: receiverStats(before, after) };
  } finally {
    await viewer.close();
    await peer.close();
    await streamer.close();
  }
}
