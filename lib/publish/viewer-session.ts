// One viewer of a publisher: its peer and the negotiation with it through the daemon. We offer, or
// answer the viewer's offer (WHEP); candidates go both ways, ours held back until our description is
// out; a viewer not connected in time is dropped. What to do when a step fails, and when a viewer is
// no longer the current one, is the publisher's (ViewerHost).
import type { WebRtcPeer } from '../peer/peer.js';
import type { DataChannel } from '../peer/data-channel.js';
import type { Logger, SignalingClient } from '../signaling/client.js';
import type { CandidateInit } from '../signaling/protocol/messages.js';
import type { VideoCodec } from '../types.js';
import { errorMessage } from '../util/emit.js';
import { videoRejected } from './codecs.js';
import { toWire } from './ice.js';

/** What a viewer's session needs of its publisher. */
export interface ViewerHost {
  readonly client: SignalingClient;
  readonly log: Logger;
  /** The publisher still has this session for its viewer and is not closing. */
  isCurrent(viewer: ViewerSession): boolean;
  /** A negotiation step failed: the viewer is dropped and the error reported. */
  fail(viewer: ViewerSession, what: string, error: unknown): void;
  /** Closes and forgets the viewer; `bye` tells it so through the daemon. */
  drop(viewer: ViewerSession, reason: string, bye: boolean): void;
  /** The viewer's answer refused our video: it cannot decode the codec we offered. */
  rejected(viewer: ViewerSession): void;
  /** The description as it goes on the wire (lib/media/sdp.ts, tidySdp). */
  tidy(sdp: string, type: 'offer' | 'answer'): string;
}

export class ViewerSession {
  readonly id: string;
  readonly peer: WebRtcPeer;
  /** The viewer's token lets it send input. */
  readonly control: boolean;
  /** The video codec it receives (undefined for a receiving publisher). */
  readonly codec: VideoCodec | undefined;
  /** `data`: the input channel only, no media (join.media; the viewer watches elsewhere, e.g. Janus). */
  readonly media: 'all' | 'data';
  /** Its input channel, for the agent's answers (clipboard text, resize results). */
  input?: DataChannel;
  readonly #host: ViewerHost;
  // Negotiation steps of one viewer run one after another, in arrival order.
  #queue: Promise<void> = Promise.resolve();
  // Our candidates wait until the description they belong to has been sent: a browser refuses a
  // candidate that arrives before the offer.
  #described = false;
  readonly #pending: CandidateInit[] = [];
  #connected = false;
  /** Closes the peer unless it is connected in time. */
  readonly #deadline: NodeJS.Timeout;

  constructor(id: string, peer: WebRtcPeer, control: boolean, host: ViewerHost, timeoutMs: number, codec?: VideoCodec, media: 'all' | 'data' = 'all') {
    this.id = id;
    this.media = media;
    this.peer = peer;
    this.control = control;
    this.codec = codec;
    this.#host = host;
    this.#deadline = setTimeout(() => {
      if (!host.isCurrent(this) || this.#connected) return;
      host.log.warn({ viewer: id, timeoutMs, state: peer.connectionState }, 'publisher: viewer not connected in time; dropping it');
      host.drop(this, `not connected within ${timeoutMs} ms`, true);
    }, timeoutMs);
    this.#deadline.unref(); // the signaling socket keeps the process alive, not a pending deadline
    peer.on('icecandidate', (candidate) => {
      if (!host.isCurrent(this)) return;
      if (this.#described) this.#sendCandidate(toWire(candidate));
      else this.#pending.push(toWire(candidate));
    });
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** The peer reached 'connected': the deadline is off. False when it already had. */
  markConnected(): boolean {
    if (this.#connected) return false;
    this.#connected = true;
    clearTimeout(this.#deadline);
    return true;
  }

  offer(): void {
    this.#enqueue('creating the offer', async () => {
      const offer = await this.peer.createOffer();
      if (!this.#host.isCurrent(this)) return;
      await this.peer.setLocalDescription(offer);
      if (!this.#host.isCurrent(this)) return;
      this.#sendDescription('offer', offer.sdp);
    });
  }

  answer(sdp: string): void {
    this.#enqueue('answering the offer', async () => {
      await this.peer.setRemoteDescription({ type: 'offer', sdp });
      if (!this.#host.isCurrent(this)) return;
      const answer = await this.peer.createAnswer();
      if (!this.#host.isCurrent(this)) return;
      await this.peer.setLocalDescription(answer);
      if (!this.#host.isCurrent(this)) return;
      this.#sendDescription('answer', answer.sdp);
    });
  }

  /** The viewer's answer to our offer. */
  applyAnswer(sdp: string): void {
    this.#enqueue('applying the answer', async () => {
      // webrtcbin 1.22 fails on a rejected m-line ("media 0 is missing or contains an empty
      // 'ice-ufrag'"): a viewer that cannot decode our codec is told so instead.
      // A data-only viewer was offered no video: there is nothing of it to reject.
      if (this.codec && this.media !== 'data' && videoRejected(sdp)) return this.#host.rejected(this);
      await this.peer.setRemoteDescription({ type: 'answer', sdp });
    });
  }

  addRemoteCandidate(candidate: CandidateInit): void {
    // One bad candidate does not doom the connection: the other candidates may still work.
    this.peer.addIceCandidate(candidate).catch((error: unknown) => {
      if (this.#host.isCurrent(this)) this.#host.log.warn({ viewer: this.id, err: errorMessage(error) }, 'publisher: remote candidate refused');
    });
  }

  /**
   * Whether the viewer is still there, judged by the media alone (no signaling): RTCP reports from it,
   * or media it sends, moved within `windowMs`. webrtcbin keeps a peer 'connected' for a long time after
   * the browser closed it (no ICE consent checks), so its state alone cannot tell.
   */
  async remoteAlive(windowMs: number): Promise<boolean> {
    const first = await this.#remoteCounters();
    await new Promise((resolve) => setTimeout(resolve, windowMs).unref());
    const second = await this.#remoteCounters();
    // Only a stream seen both times counts: one that merely appeared between the samples proves nothing.
    for (const [id, value] of second) if (first.has(id) && first.get(id) !== value) return true;
    return false;
  }

  // What the viewer last told us, per stream: its receiver reports (each one changes them, if only the
  // delay since our last sender report) and what it sends us. Empty once the peer is closed.
  async #remoteCounters(): Promise<Map<string, string>> {
    const counters = new Map<string, string>();
    try {
      for (const stat of (await this.peer.getStats()).values()) {
        if (stat.type === 'remote-inbound-rtp') {
          const rb = (stat.gstRtpsourceStats ?? {}) as Record<string, unknown>;
          counters.set(stat.id, JSON.stringify([rb.rbExthighestseq, rb.rbLsr, rb.rbDlsr, rb.rbJitter, rb.rbPacketslost]));
        } else if (stat.type === 'inbound-rtp') {
          counters.set(stat.id, JSON.stringify([stat.packetsReceived, stat.bytesReceived]));
        }
      }
    } catch {
      // closed meanwhile: nothing heard
    }
    return counters;
  }

  /** Stops the deadline and closes the peer; never rejects (a failure is logged). */
  close(): Promise<void> {
    clearTimeout(this.#deadline);
    return this.peer.close().catch((error: unknown) => {
      this.#host.log.warn({ viewer: this.id, err: errorMessage(error) }, 'publisher: closing a peer failed');
    });
  }

  // Runs one negotiation step after the viewer's previous ones; a failure drops the viewer. The chain
  // itself never rejects.
  #enqueue(what: string, step: () => Promise<void>): void {
    this.#queue = this.#queue.then(async () => {
      if (!this.#host.isCurrent(this)) return;
      try {
        await step();
      } catch (error) {
        // A peer closed meanwhile rejects its pending operations; that is expected, not a failure.
        if (this.#host.isCurrent(this)) this.#host.fail(this, what, error);
      }
    });
  }

  #sendDescription(type: 'offer' | 'answer', sdp: string): void {
    // send() returns false only while disconnected; 'disconnected' drops this viewer anyway.
    const sent = this.#host.client.send({ type, to: this.id, sdp: this.#host.tidy(sdp, type) });
    this.#host.log.debug({ viewer: this.id, type, sdpBytes: sdp.length, sent }, 'publisher: description sent');
    this.#described = true;
    for (const candidate of this.#pending.splice(0)) this.#sendCandidate(candidate);
  }

  #sendCandidate(candidate: CandidateInit): void {
    try {
      this.#host.client.send({ type: 'candidate', to: this.id, candidate });
    } catch (error) {
      // e.g. a candidate line over the protocol's length limit: skip that one.
      this.#host.log.warn({ viewer: this.id, err: errorMessage(error) }, 'publisher: local candidate not sent');
    }
  }
}
