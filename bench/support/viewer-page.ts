// One headless Chromium page as the viewer of a SenderProcess: it answers the sender's offer, trickles
// candidates both ways, and time-stamps, in the page, what happens: offer applied, answer made, ICE
// connected, DTLS connected, first decoded frame (requestVideoFrameCallback, and getStats
// framesDecoded > 0 polled every 5 ms as a cross-check). The same page code serves every sender.
import type { Browser, Page } from 'playwright-core';
import { nowMs } from './common.js';
import type { SenderMessage, SenderProcess } from './senders.js';

export interface ViewerMarks {
  join: number;
  offer?: number; // we offer: the offer reached the page (before setRemoteDescription); the page offers: its offer is made
  answer?: number; // we offer: the answer was made (after setLocalDescription); the page offers: our answer is applied
  ice?: number; // iceConnectionState connected
  connected?: number; // connectionState connected (DTLS done)
  track?: number;
  frame?: number; // first requestVideoFrameCallback
  decoded?: number; // first getStats with framesDecoded > 0
}

let counter = 0;

const PAGE_SCRIPT = `(() => {
  const w = window;
  const marks = {};
  const mark = (k) => { if (!(k in marks)) marks[k] = performance.timeOrigin + performance.now(); };
  w.marks = marks;
  const pc = new RTCPeerConnection();
  w.pc = pc;
  const queued = [];
  w.addCandidate = (c) => {
    if (!c || !c.candidate) return;
    if (pc.remoteDescription) pc.addIceCandidate(c).catch(() => {});
    else queued.push(c);
  };
  pc.onicecandidate = (e) => w.__candidate(e.candidate ? e.candidate.toJSON() : null);
  pc.oniceconnectionstatechange = () => {
    if (pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed') mark('ice');
  };
  pc.onconnectionstatechange = () => { if (pc.connectionState === 'connected') mark('connected'); };
  pc.ontrack = (e) => {
    mark('track');
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    video.srcObject = e.streams[0] || new MediaStream([e.track]);
    document.body.appendChild(video);
    video.requestVideoFrameCallback(() => mark('frame'));
    w.video = video;
  };
  w.answer = async (sdp) => {
    mark('offer');
    await pc.setRemoteDescription({ type: 'offer', sdp });
    for (const c of queued.splice(0)) pc.addIceCandidate(c).catch(() => {});
    await pc.setLocalDescription(await pc.createAnswer());
    mark('answer');
    const poll = setInterval(async () => {
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0) { mark('decoded'); clearInterval(poll); }
      });
    }, 5);
    return pc.localDescription.sdp;
  };
  // publish()'s \`offers: true\` order: the page offers (receive-only video), we answer.
  w.offer = async () => {
    pc.addTransceiver('video', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    mark('offer');
    return pc.localDescription.sdp;
  };
  w.applyAnswer = async (sdp) => {
    await pc.setRemoteDescription({ type: 'answer', sdp });
    mark('answer');
    for (const c of queued.splice(0)) pc.addIceCandidate(c).catch(() => {});
    const poll = setInterval(async () => {
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0) { mark('decoded'); clearInterval(poll); }
      });
    }, 5);
  };
  w.framesDecoded = async () => {
    let n = 0;
    (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') n = s.framesDecoded || 0; });
    return n;
  };
})()`;

export class ViewerPage {
  readonly id: string;
  readonly page: Page;
  readonly sender: SenderProcess<string>;
  /** Page clock minus Node clock (ms), measured with a round trip when the page opened. */
  skew = 0;
  join = 0;

  private constructor(page: Page, sender: SenderProcess<string>) {
    this.page = page;
    this.sender = sender;
    this.id = `v${++counter}-${sender.kind}`;
  }

  static async open(browser: Browser, sender: SenderProcess<string>): Promise<ViewerPage> {
    const page = await browser.newPage();
    const viewer = new ViewerPage(page, sender);
    await page.exposeFunction('__candidate', (c: SenderMessage['candidate']) => sender.send({ type: 'candidate', id: viewer.id, candidate: c }));
    // A string, not a function: tsx would wrap inner functions in a helper the page does not have.
    await page.evaluate(PAGE_SCRIPT);
    // Clock skew between this page and Node: the middle of a round trip.
    const t1 = nowMs();
    const pageNow = await page.evaluate(() => performance.timeOrigin + performance.now());
    const t2 = nowMs();
    viewer.skew = pageNow - (t1 + t2) / 2;
    return viewer;
  }

  /**
   * Asks the sender for a peer and answers its offer; resolves once the answer was sent back. With
   * `pageOffers` the page offers instead (publish()'s `offers: true`) and it resolves once our answer is
   * applied.
   */
  async start(pageOffers = false): Promise<void> {
    const { sender, id, page } = this;
    let answered: () => void;
    let failed: (e: Error) => void;
    const done = new Promise<void>((resolve, reject) => {
      answered = resolve;
      failed = reject;
    });
    sender.listen(id, (m) => {
      if (m.type === 'offer' && !pageOffers) {
        page
          .evaluate((sdp) => (window as any).answer(sdp) as Promise<string>, m.sdp!)
          .then((sdp) => {
            sender.send({ type: 'answer', id, sdp });
            answered();
          })
          .catch((e: Error) => failed(e));
      } else if (m.type === 'answer' && pageOffers) {
        page
          .evaluate((sdp) => (window as any).applyAnswer(sdp) as Promise<void>, m.sdp!)
          .then(() => answered())
          .catch((e: Error) => failed(e));
      } else if (m.type === 'candidate') {
        void page.evaluate((c) => (window as any).addCandidate(c), m.candidate ?? null).catch(() => {});
      } else if (m.type === 'error') {
        failed(new Error(`${sender.kind}: ${m.message}`));
      }
    });
    this.join = nowMs();
    if (pageOffers) {
      const sdp = await page.evaluate(() => (window as any).offer() as Promise<string>);
      sender.send({ type: 'offer', id, sdp });
    } else {
      sender.send({ type: 'join', id });
    }
    const timer = setTimeout(() => failed(new Error(`${sender.kind}: no offer answered within 20 s`)), 20_000);
    try {
      await done;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The page's marks, on Node's clock, relative to the join. */
  async marks(): Promise<ViewerMarks> {
    const raw = await this.page.evaluate(() => (window as any).marks as Record<string, number>);
    const out: ViewerMarks = { join: 0 };
    for (const [k, v] of Object.entries(raw)) (out as unknown as Record<string, number>)[k] = v - this.skew - this.join;
    return out;
  }

  /** Waits for the first frame (rVFC or decoded), up to `timeoutMs`. */
  async firstFrame(timeoutMs = 15_000): Promise<ViewerMarks> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = await this.marks();
      if (m.frame !== undefined && m.decoded !== undefined) return m;
      if (Date.now() > deadline) {
        if (m.decoded !== undefined) return m; // rVFC did not fire
        throw new Error(`${this.id}: no frame within ${timeoutMs} ms (${JSON.stringify(m)}; ${this.sender.errors.join('; ')})`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  framesDecoded(): Promise<number> {
    return this.page.evaluate(() => (window as any).framesDecoded() as Promise<number>);
  }

  async close(): Promise<void> {
    this.sender.unlisten(this.id);
    const left = this.sender.request({ type: 'leave', id: this.id }, 'left').catch(() => {});
    // Bounded: a sender stuck in teardown (seen once with the Python baseline) must not stall the run.
    const bound = (p: Promise<unknown>) => Promise.race([p, new Promise((r) => setTimeout(r, 10_000))]);
    await bound(this.page.close().catch(() => {}));
    await bound(left);
  }
}
