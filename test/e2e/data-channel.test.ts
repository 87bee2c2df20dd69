// Data channels against a real headless Chromium: each side's channels behave as the browser's, and
// message sizes follow the SCTP negotiation both ways (RFC 8841's a=max-message-size).
import t from 'tap';
import type { Page } from 'playwright-core';
import { InvalidStateError, WebRtcPeer, type DataChannel } from '../../lib/index.js';
import { BrowserPeer, launchChromium } from '../helpers/browser.js';
import { nodeOffersToBrowser } from '../helpers/peers.js';
import { once, waitFor } from '../helpers/wait.js';

const browser = await launchChromium();
t.teardown(() => browser.close());

// What the page's channel received, kept in window.received: strings as they are, binary as
// {bytes, sum} (a byte sum checks the content without moving it through the test driver).
type Received = string | { bytes: number; sum: number };

// Byte `i` of a test message.
const byteAt = (i: number) => (i * 31 + 7) & 0xff;
function pattern(size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = byteAt(i);
  return out;
}
const sumOf = (bytes: Uint8Array) => bytes.reduce((sum, x) => sum + x, 0);

// Opens the page's channel `label` (created by the page or announced to it) to the test.
async function watchPageChannel(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as Record<string, unknown>;
    w.received = [] as unknown[];
    w.events = [] as string[];
    const watch = (dc: RTCDataChannel) => {
      w.dc = dc;
      dc.binaryType = 'arraybuffer';
      dc.onmessage = (e) => {
        const data = e.data as string | ArrayBuffer;
        (w.received as unknown[]).push(typeof data === 'string' ? data : { bytes: data.byteLength, sum: new Uint8Array(data).reduce((s, x) => s + x, 0) });
      };
      for (const type of ['open', 'closing', 'close', 'error']) dc.addEventListener(type, () => (w.events as string[]).push(type));
    };
    w.watch = watch;
    (w.pc as RTCPeerConnection).ondatachannel = (e) => watch(e.channel);
  });
}

const received = (page: Page) => page.evaluate(() => (window as unknown as { received: Received[] }).received);

t.test('Chromium offers with its channel: we get it open with its options, maxMessageSize the smaller of both descriptions', async (t) => {
  const peer = new WebRtcPeer({});
  t.teardown(() => peer.close());
  const page = await BrowserPeer.open(browser);
  t.teardown(() => page.close());
  await watchPageChannel(page.page);
  let handedState = '';
  let sendError: unknown;
  let opens = 0;
  const announced = new Promise<DataChannel>((resolve) =>
    peer.on('datachannel', (channel) => {
      handedState = channel.readyState;
      channel.on('open', () => opens++);
      try {
        channel.send('hello from the datachannel handler');
      } catch (error) {
        sendError = error;
      }
      resolve(channel);
    }),
  );
  peer.on('icecandidate', (c) => void page.addCandidate(c && { candidate: c.candidate!, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex }).catch(() => {}));
  page.onCandidate((c) => void peer.addIceCandidate(c).catch(() => {}));
  const offer = await page.page.evaluate(async () => {
    const w = window as unknown as { pc: RTCPeerConnection; watch(dc: RTCDataChannel): void };
    w.watch(w.pc.createDataChannel('chat', { ordered: false, maxRetransmits: 2, protocol: 'json' }));
    await w.pc.setLocalDescription(await w.pc.createOffer());
    return { type: 'offer' as const, sdp: w.pc.localDescription!.sdp };
  });
  await peer.setRemoteDescription(offer);
  await peer.setLocalDescription(await peer.createAnswer());
  await page.setRemote(peer.localDescription!);
  const channel = await announced;

  t.equal(handedState, 'open', "the channel is 'open' when handed over");
  t.equal(sendError, undefined, 'send() inside the datachannel handler does not throw');
  const pageChannel = await page.page.evaluate(() => {
    const { dc, pc } = window as unknown as { dc: RTCDataChannel; pc: RTCPeerConnection };
    return { id: dc.id, maxMessageSize: pc.sctp?.maxMessageSize };
  });
  t.same(
    { label: channel.label, id: channel.id, ordered: channel.ordered, maxRetransmits: channel.maxRetransmits, maxPacketLifeTime: channel.maxPacketLifeTime, protocol: channel.protocol, negotiated: channel.negotiated },
    { label: 'chat', id: pageChannel.id, ordered: false, maxRetransmits: 2, maxPacketLifeTime: null, protocol: 'json', negotiated: false },
    "the browser's options read back on our side",
  );
  await page.page.waitForFunction(() => (window as unknown as { received: unknown[] }).received.length >= 1, undefined, { timeout: 10_000 });
  t.same(await received(page.page), ['hello from the datachannel handler'], 'send() inside the datachannel handler reached the browser');

  // Chromium's offer says a=max-message-size:262144, our answer (webrtcbin's) nothing: RFC 8841's
  // 65536 for Chromium, and webrtcbin takes the smaller of the two, so 65536 both ways.
  t.match(offer.sdp, /a=max-message-size:262144/);
  t.equal(pageChannel.maxMessageSize, 65536, 'Chromium reads our answer as RFC 8841 65536');
  t.equal(peer.sctp?.maxMessageSize, 65536, 'peer.sctp.maxMessageSize is what webrtcbin lets us send');
  t.equal(channel.maxMessageSize, 65536);
  const full = pattern(65536);
  channel.send(full);
  t.throws(() => channel.send(Buffer.alloc(65537)), { name: 'TypeError', message: /65537 bytes .* maxMessageSize of 65536 bytes/ });
  channel.send('after the big one');
  await page.page.waitForFunction(() => (window as unknown as { received: unknown[] }).received.length >= 3, undefined, { timeout: 15_000 });
  t.same((await received(page.page)).slice(1), [{ bytes: full.length, sum: sumOf(full) }, 'after the big one'], 'Chromium received 64 KiB as one message, intact, then the next one');
  await new Promise((r) => setTimeout(r, 200));
  t.equal(opens, 0, "no 'open' after the handover");
});

t.test('we offer: 256 KiB each way within max-message-size; a larger message throws on both sides', async (t) => {
  const peer = new WebRtcPeer({});
  t.teardown(() => peer.close());
  const page = await BrowserPeer.open(browser);
  t.teardown(() => page.close());
  await watchPageChannel(page.page);
  const ours = peer.createDataChannel('upload');
  await nodeOffersToBrowser(peer, page);
  if (ours.readyState !== 'open') await once(ours, 'open');
  // Neither description says a=max-message-size (Chromium answers an offer without one without one).
  t.notMatch(peer.remoteDescription!.sdp, /a=max-message-size/);
  t.equal(peer.sctp?.maxMessageSize, 65536, 'RFC 8841: 65536 when the descriptions say nothing');
  await page.page.waitForFunction(() => (window as unknown as { dc?: RTCDataChannel }).dc?.readyState === 'open');

  // Ours to Chromium: 256 KiB as four messages of the largest size allowed; one byte more throws.
  const big = pattern(256 * 1024);
  t.throws(() => ours.send(big), { name: 'TypeError', message: /262144 bytes .* maxMessageSize of 65536 bytes/ });
  t.throws(() => ours.send(big.subarray(0, 65537)), { name: 'TypeError', message: /65537 bytes .* 65536 bytes/ });
  for (let offset = 0; offset < big.length; offset += 65536) ours.send(big.subarray(offset, offset + 65536));
  await page.page.waitForFunction(() => (window as unknown as { received: unknown[] }).received.length >= 4, undefined, { timeout: 15_000 });
  const pieces = await received(page.page);
  t.same(pieces, [0, 1, 2, 3].map((i) => ({ bytes: 65536, sum: sumOf(big.subarray(i * 65536, (i + 1) * 65536)) })), 'Chromium received the 256 KiB intact, in four messages');

  // Chromium to us: the same, and its own too-large send throws there as ours does here.
  const messages: (string | Buffer)[] = [];
  ours.on('message', (m) => messages.push(m));
  const result = await page.page.evaluate(async () => {
    const { dc, pc } = window as unknown as { dc: RTCDataChannel; pc: RTCPeerConnection };
    const max = pc.sctp!.maxMessageSize;
    const all = new Uint8Array(256 * 1024);
    for (let i = 0; i < all.length; i++) all[i] = (i * 31 + 7) & 0xff;
    let tooLarge = '';
    try {
      dc.send(all);
    } catch (error) {
      tooLarge = (error as Error).name;
    }
    for (let offset = 0; offset < all.length; offset += max) dc.send(all.subarray(offset, offset + max));
    dc.send('text ✓');
    return { max, tooLarge };
  });
  t.equal(result.max, 65536, "Chromium's maxMessageSize is the same 65536");
  t.equal(result.tooLarge, 'TypeError', "Chromium's own send above max-message-size throws TypeError, as ours does");
  await waitFor('256 KiB and the text', () => messages.length === 5, 15_000);
  const binary = messages.slice(0, 4);
  t.ok(binary.every((m) => Buffer.isBuffer(m) && m.length === 65536), 'four binary messages of 64 KiB, each a Buffer');
  t.ok(Buffer.concat(binary as Buffer[]).equals(big), 'the 256 KiB arrive intact and in order');
  t.equal(messages[4], 'text ✓', 'text arrives as a string');
});

t.test('our channel with Chromium: options reach the browser, bufferedamountlow, close seen on both sides', async (t) => {
  const peer = new WebRtcPeer({});
  t.teardown(() => peer.close());
  const page = await BrowserPeer.open(browser);
  t.teardown(() => page.close());
  await watchPageChannel(page.page);
  const ours = peer.createDataChannel('telemetry', { ordered: false, maxPacketLifeTime: 500, protocol: 'bin' });
  t.equal(ours.readyState, 'connecting');
  t.throws(() => ours.send('too early'), InvalidStateError, 'send() before open throws InvalidStateError');
  await nodeOffersToBrowser(peer, page);
  await once(ours, 'open');
  const seen = await page.page.evaluate(async () => {
    const w = window as unknown as { dc?: RTCDataChannel };
    while (!w.dc) await new Promise((r) => setTimeout(r, 20));
    const dc = w.dc;
    return { label: dc.label, id: dc.id, ordered: dc.ordered, maxPacketLifeTime: dc.maxPacketLifeTime, maxRetransmits: dc.maxRetransmits, protocol: dc.protocol };
  });
  t.same(seen, { label: 'telemetry', id: ours.id, ordered: false, maxPacketLifeTime: 500, maxRetransmits: null, protocol: 'bin' }, 'Chromium sees our options');

  ours.bufferedAmountLowThreshold = 65536;
  const lows: number[] = [];
  ours.on('bufferedamountlow', () => lows.push(ours.bufferedAmount));
  const chunk = pattern(60_000);
  let peak = 0;
  for (let i = 0; i < 40; i++) {
    ours.send(chunk);
    peak = Math.max(peak, ours.bufferedAmount);
  }
  t.ok(peak > 65536, `bufferedAmount rose above the threshold (peak ${peak})`);
  await waitFor('bufferedamountlow', () => lows.length > 0);
  t.ok(lows.every((amount) => amount <= 65536), `bufferedamountlow at or below the threshold (${lows.join(', ')})`);
  await page.page.waitForFunction(() => (window as unknown as { received: unknown[] }).received.length >= 40, undefined, { timeout: 20_000 });
  const got = await received(page.page);
  t.ok(got.every((m) => typeof m === 'object' && m.bytes === 60_000 && m.sum === sumOf(chunk)), 'Chromium received 40 intact 60 kB messages');

  const closes: string[] = [];
  ours.on('close', () => closes.push('close'));
  ours.close();
  ours.close();
  t.equal(ours.readyState, 'closing');
  await once(ours, 'close', 10_000).catch(() => {});
  t.equal(ours.readyState, 'closed');
  await page.page.waitForFunction(() => (window as unknown as { dc: RTCDataChannel }).dc.readyState === 'closed', undefined, { timeout: 10_000 });
  t.same(await page.page.evaluate(() => (window as unknown as { events: string[] }).events.filter((e) => e !== 'open')), ['closing', 'close'], "Chromium's channel went closing → close");
  t.equal(closes.length, 1);
});

t.test("Chromium closes its channel: ours goes closing → close and refuses send()", async (t) => {
  const peer = new WebRtcPeer({});
  t.teardown(() => peer.close());
  const page = await BrowserPeer.open(browser);
  t.teardown(() => page.close());
  await watchPageChannel(page.page);
  const ours = peer.createDataChannel('short');
  await nodeOffersToBrowser(peer, page);
  await once(ours, 'open');
  await page.page.waitForFunction(() => (window as unknown as { dc?: RTCDataChannel }).dc?.readyState === 'open');
  const events: string[] = [];
  ours.on('closing', () => events.push(`closing ${ours.readyState}`));
  ours.on('close', () => events.push(`close ${ours.readyState}`));
  await page.page.evaluate(() => (window as unknown as { dc: RTCDataChannel }).dc.close());
  await waitFor('our channel closed', () => ours.readyState === 'closed', 10_000);
  t.same(events, ['closing closing', 'close closed']);
  t.throws(() => ours.send('x'), InvalidStateError);
});
