// A view-only viewer answers the publisher's offer with an SDP line that aborted webrtcbin 1.22
// (a second session-level ICE credential, in the three spellings GStreamer's parser accepts), then a
// WHEP client POSTs an offer carrying the same lines. The
// publisher runs in its own process through the real daemon; a second, honest viewer keeps decoding.
// The publisher must survive each answer and the honest viewer's frame count must keep rising.
import t from 'tap';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { RawClient, SECRET, startDaemon } from '../helpers/daemon.js';
import { Proc } from '../helpers/proc.js';

const PUBLISHER = new URL('../faults/fixtures/publisher.ts', import.meta.url).pathname;
const VIEWER = new URL('../faults/fixtures/viewer.ts', import.meta.url).pathname;
const SESSION = 'hostile';
const token = (role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session: SESSION, role, ttlSeconds: 600 });

// The offer turned into an answer a browser could have sent, whose m-line takes its ICE ufrag or pwd
// from the session level, where `extra` puts a second one.
function hostileAnswer(offer: string, key: 'ice-ufrag' | 'ice-pwd', extra: string, setup = 'active'): string {
  const lines = offer
    .split('\r\n')
    .filter((l) => l !== '' && !l.startsWith(`a=${key}:`))
    .map((l) => (l === 'a=sendonly' ? 'a=recvonly' : l === 'a=setup:actpass' ? `a=setup:${setup}` : l));
  const firstMedia = lines.findIndex((l) => l.startsWith('m='));
  const value = key === 'ice-ufrag' ? 'abcd' : 'abcdabcdabcdabcdabcdabcd';
  lines.splice(firstMedia, 0, `a=${key}:${value}`, extra);
  return `${lines.join('\r\n')}\r\n`;
}

const SPELLINGS: { key: 'ice-ufrag' | 'ice-pwd'; extra: string }[] = [
  { key: 'ice-ufrag', extra: 'a=ice-ufrag' },
  { key: 'ice-ufrag', extra: 'a= ice-ufrag:x' },
  { key: 'ice-pwd', extra: 'a=ice-pwd' },
];

t.test('a viewer answering (WebSocket) or offering (WHEP) with a second session-level ICE credential does not take the publisher down', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = new Proc(PUBLISHER, [daemon.url, SESSION, token('publisher')]);
  t.teardown(() => publisher.kill());
  await publisher.waitLine(/^joined /);
  const honest = new Proc(VIEWER, [daemon.url, SESSION, token('viewer')]);
  t.teardown(() => honest.kill());
  await honest.waitFrames(10, 30_000);

  let publisherOffer = '';
  for (const { key, extra } of SPELLINGS) {
    const hostile = await RawClient.open(daemon.url);
    hostile.send({ type: 'join', v: 1, session: SESSION, role: 'viewer', token: token('viewer') });
    await hostile.next('joined');
    const offer = await hostile.next('offer', 15_000);
    publisherOffer = String(offer.sdp);
    hostile.send({ type: 'answer', sdp: hostileAnswer(String(offer.sdp), key, extra) });
    // The publisher logs and drops that viewer; an abort would end its process here.
    const before = honest.frames;
    await honest.waitFrames(before + 15, 20_000).catch(() => {});
    t.equal(publisher.exited, undefined, `the publisher is alive after "${extra}" (${publisher.exited ? JSON.stringify(publisher.exited) + ' ' + publisher.stderr.split('\n').find((l) => /assert/.test(l)) : 'running'})`);
    t.ok(honest.frames >= before + 15, `the honest viewer keeps decoding (${honest.frames - before} frames since "${extra}" was sent)`);
    hostile.close();
    if (publisher.exited) break;
  }

  // The same lines in a WHEP POST (a viewer's offer, which the publisher answers).
  for (const { key, extra } of publisher.exited ? [] : SPELLINGS) {
    const response = await fetch(`${daemon.http}/whep/${SESSION}`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token('viewer')}` },
      body: hostileAnswer(publisherOffer, key, extra, 'actpass'),
    });
    const body = await response.text();
    const before = honest.frames;
    await honest.waitFrames(before + 15, 20_000).catch(() => {});
    t.equal(response.status, 400, `WHEP POST with "${extra}" is refused (${response.status} ${body.slice(0, 160)})`);
    t.equal(publisher.exited, undefined, `the publisher is alive after the WHEP offer with "${extra}"`);
    t.ok(honest.frames >= before + 15, `the honest viewer keeps decoding (${honest.frames - before} frames)`);
    if (publisher.exited) break;
  }
});
