// A real headless Chromium (Debian's /usr/bin/chromium) holding one RTCPeerConnection, driven through
// playwright-core. Nothing here is mocked: ICE, DTLS and SRTP run in the browser.
import { chromium, type Browser, type Page, type Route } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface CandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

export interface InboundVideo {
  framesDecoded: number;
  frameWidth?: number;
  frameHeight?: number;
  codec?: string;
}

export class BrowserPeer {
  readonly page: Page;
  readonly candidates: (CandidateInit | null)[] = [];
  #onCandidate: ((c: CandidateInit | null) => void) | undefined;

  private constructor(page: Page) {
    this.page = page;
  }

  static async open(browser: Browser, config: RTCConfiguration = {}): Promise<BrowserPeer> {
    const page = await browser.newPage();
    const peer = new BrowserPeer(page);
    await page.exposeFunction('__candidate', (c: CandidateInit | null) => {
      peer.candidates.push(c);
      peer.#onCandidate?.(c);
    });
    await page.evaluate((cfg) => {
      const w = window as unknown as Record<string, unknown>;
      const pc = new RTCPeerConnection(cfg);
      w.pc = pc;
      w.states = [] as string[];
      pc.onicecandidate = (e) => (w.__candidate as (c: unknown) => void)(e.candidate ? e.candidate.toJSON() : null);
      pc.onconnectionstatechange = () => (w.states as string[]).push(pc.connectionState);
      pc.ontrack = (e) => {
        const video = document.createElement('video');
        video.muted = true;
        video.autoplay = true;
        video.srcObject = e.streams[0] ?? new MediaStream([e.track]);
        document.body.appendChild(video);
      };
    }, config as never);
    return peer;
  }

  /** Receives every local candidate (past and future). */
  onCandidate(listener: (c: CandidateInit | null) => void): void {
    this.#onCandidate = listener;
    for (const c of this.candidates) listener(c);
  }

  async answer(offer: { type: string; sdp: string }): Promise<{ type: 'answer'; sdp: string }> {
    return this.page.evaluate(async (o) => {
      const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
      await pc.setRemoteDescription(o as RTCSessionDescriptionInit);
      await pc.setLocalDescription(await pc.createAnswer());
      return { type: 'answer' as const, sdp: pc.localDescription!.sdp };
    }, offer);
  }

  async offerToReceiveVideo(options: { audio?: boolean } = {}): Promise<{ type: 'offer'; sdp: string }> {
    return this.page.evaluate(async (audio) => {
      const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
      pc.addTransceiver('video', { direction: 'recvonly' });
      if (audio) pc.addTransceiver('audio', { direction: 'recvonly' });
      await pc.setLocalDescription(await pc.createOffer());
      return { type: 'offer' as const, sdp: pc.localDescription!.sdp };
    }, options.audio === true);
  }


  async setRemote(description: { type: string; sdp: string }): Promise<void> {
    await this.page.evaluate(async (d) => {
      await (window as unknown as { pc: RTCPeerConnection }).pc.setRemoteDescription(d as RTCSessionDescriptionInit);
    }, description);
  }

  async addCandidate(candidate: CandidateInit | null): Promise<void> {
    await this.page.evaluate(async (c) => {
      await (window as unknown as { pc: RTCPeerConnection }).pc.addIceCandidate(c ?? undefined);
    }, candidate);
  }

  async connectionState(): Promise<string> {
    return this.page.evaluate(() => (window as unknown as { pc: RTCPeerConnection }).pc.connectionState);
  }

  // The inbound-rtp stats of one kind, with its codec's mime type.
  #inbound(kind: 'video' | 'audio'): Promise<{ stats: Record<string, unknown>; codec: string | undefined } | undefined> {
    return this.page.evaluate(async (k) => {
      const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
      const stats = await pc.getStats();
      let inbound: Record<string, unknown> | undefined;
      const codecs = new Map<string, string>();
      stats.forEach((s: Record<string, unknown>) => {
        if (s.type === 'inbound-rtp' && s.kind === k) inbound = s;
        if (s.type === 'codec') codecs.set(s.id as string, s.mimeType as string);
      });
      return inbound ? { stats: inbound, codec: codecs.get(inbound.codecId as string) } : undefined;
    }, kind);
  }

  async inboundVideo(): Promise<InboundVideo | undefined> {
    const inbound = await this.#inbound('video');
    if (!inbound) return undefined;
    const s = inbound.stats;
    return { framesDecoded: (s.framesDecoded as number) ?? 0, frameWidth: s.frameWidth as number | undefined, frameHeight: s.frameHeight as number | undefined, codec: inbound.codec };
  }

  /** Chromium's inbound audio counters (undefined before an audio stream exists). */
  async inboundAudio(): Promise<InboundAudio | undefined> {
    const inbound = await this.#inbound('audio');
    if (!inbound) return undefined;
    const s = inbound.stats;
    return {
      packetsReceived: (s.packetsReceived as number) ?? 0,
      totalSamplesReceived: (s.totalSamplesReceived as number) ?? 0,
      concealedSamples: (s.concealedSamples as number) ?? 0,
      totalAudioEnergy: (s.totalAudioEnergy as number) ?? 0,
      codec: inbound.codec,
    };
  }
  /** Resolves once framesDecoded reaches `count`; rejects after `timeoutMs`. */
  async waitForFrames(count: number, timeoutMs = 20_000): Promise<InboundVideo> {
    const deadline = Date.now() + timeoutMs;
    let last: InboundVideo | undefined;
    while (Date.now() < deadline) {
      last = await this.inboundVideo();
      if (last && last.framesDecoded >= count) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`browser decoded ${last?.framesDecoded ?? 0} of ${count} frames within ${timeoutMs} ms (state ${await this.connectionState()})`);
  }

  async close(): Promise<void> {
    await this.page.close();
  }
}

export interface InboundAudio {
  packetsReceived: number;
  totalSamplesReceived: number;
  concealedSamples: number;
  totalAudioEnergy: number;
  codec: string | undefined;
}

/**
 * Chromium for the tests. Every page or context it opens gets the viewer's test build (with its
 * window.__viewer* hooks) in place of the daemon's /viewer.js: the daemon's own response (status and
 * headers, CSP and all) with the test bundle as its body. The production bundle has no hooks.
 */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return withTestViewer(await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_FLAGS, ...extraArgs], headless: true }));
}

/** Every page or context `browser` opens from now on gets the viewer's test build (see launchChromium). */
export function withTestViewer(browser: Browser): Browser {
  const newPage = browser.newPage.bind(browser);
  const newContext = browser.newContext.bind(browser);
  browser.newPage = async (options) => {
    const page = await newPage(options);
    await page.route(VIEWER_SCRIPT, serveTestViewer);
    await page.addInitScript(KEEP_NAMES_SHIM);
    await page.evaluate(KEEP_NAMES_SHIM); // the blank page it opened with
    return page;
  };
  browser.newContext = async (options) => {
    const context = await newContext(options);
    await context.route(VIEWER_SCRIPT, serveTestViewer);
    await context.addInitScript(KEEP_NAMES_SHIM);
    return context;
  };
  return browser;
}

// Test files loaded through tsx (esbuild keepNames) wrap nested functions in __name(); the functions
// page.evaluate/waitForFunction send as text then need it in the page (test/helpers/firefox.ts does the
// same for Firefox). A string, so that it is not itself wrapped.
const KEEP_NAMES_SHIM = 'globalThis.__name ??= (f) => f;';

// The daemon serves the page's script at /viewer.js, or <prefix>/viewer.js (lib/signaling/daemon/server.ts).
const VIEWER_SCRIPT = (url: URL) => url.pathname.endsWith('/viewer.js');
let testViewerScript: Promise<string> | undefined;

async function serveTestViewer(route: Route): Promise<void> {
  testViewerScript ??= import('../../scripts/build-viewer.mjs').then((m: { bundleViewerScript(o: { test: boolean }): Promise<string> }) => m.bundleViewerScript({ test: true }));
  const response = await route.fetch();
  if (response.status() !== 200) return route.fulfill({ response });
  await route.fulfill({ response, body: await testViewerScript });
}

/** Chromium's fake camera (a moving test pattern) with permission granted. */
export const FAKE_CAMERA_FLAGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

/** Frames the viewer page (lib/viewer) has decoded so far, from its `window.__viewerStats`. */
export function viewerFrames(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { __viewerStats?: { framesDecoded?: number } | null }).__viewerStats?.framesDecoded ?? 0);
}

/** Waits until the viewer page has decoded at least `count` frames. */
export async function waitForViewerFrames(page: Page, count: number, timeoutMs = 20_000): Promise<void> {
  await page.waitForFunction((n) => ((window as unknown as { __viewerStats?: { framesDecoded?: number } | null }).__viewerStats?.framesDecoded ?? 0) >= n, count, { timeout: timeoutMs });
}
