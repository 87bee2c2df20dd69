// With TURN configured, a WHEP answer comes as soon as the publisher's gathering ends, and says so
// with a=end-of-candidates (RFC 9725 §4.3.2: the answer holds the full list of the server's
// candidates). The publisher sends `candidate: null` when webrtcbin's ice-gathering-state is
// `complete`; the daemon answers then rather than at its 2 s bound. coturn listens on this machine's
// own non-loopback address (libnice reaches a loopback-only TURN server from only some of its
// addresses and gives up on the others after ~2 s, which is not what a deployment sees).
import t from 'tap';
import { networkInterfaces } from 'node:os';
import { publish } from '../../lib/publish/publisher.js';
import { WebRtcPeer } from '../../lib/index.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { startCoturn } from '../helpers/coturn.js';
import { waitFor } from '../helpers/wait.js';

const address = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

t.test('with TURN: the 201 comes when the publisher has gathered, with its relay candidate and a=end-of-candidates', { skip: address ? false : 'no non-loopback IPv4 address on this machine' }, async (t) => {
  const turnSecret = `whep-turn-${Math.random().toString(36).slice(2)}`;
  const turn = await startCoturn({ secret: turnSecret }, address);
  t.teardown(() => turn.stop());
  const daemon = await startDaemon({ ice: { turn: [`turn:${address}:${turn.port}`], turnSecret } });
  t.teardown(() => daemon.app.close());
  const token = (role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session: 'turn', role, ttlSeconds: 600 });
  const publisher = publish({ url: daemon.url, session: 'turn', token: token('publisher'), source: { kind: 'test' }, video: { width: 160, height: 120 } });
  publisher.on('error', () => {});
  t.teardown(() => publisher.close());
  await waitFor('the publisher to join', () => publisher.client.state === 'joined', 10_000);

  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const player = new WebRtcPeer({ video: { receive: true } });
    t.teardown(() => player.close());
    await player.setLocalDescription(await player.createOffer());
    const started = Date.now();
    const created = await fetch(`${daemon.http}/whep/turn`, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token('viewer')}` }, body: player.localDescription!.sdp });
    const answer = await created.text();
    times.push(Date.now() - started);
    t.equal(created.status, 201);
    t.match(answer, /^a=candidate:.* typ relay/m, 'the answer carries the publisher\'s relay candidate');
    t.match(answer, /^a=end-of-candidates\r$/m, 'and a=end-of-candidates: the publisher said it was done');
    await fetch(`${daemon.http}${created.headers.get('location')}`, { method: 'DELETE', headers: { authorization: `Bearer ${token('viewer')}` } }).then((r) => r.text());
    await player.close();
  }
  // The first viewer also starts the encoder; the later ones show the gathering alone.
  t.ok(Math.min(...times.slice(1)) < 1500, `answered in ${times.join(', ')} ms: before the daemon's 2 s bound, once gathering ended`);
  t.ok(turn.allocations() >= 3, `coturn granted ${turn.allocations()} allocations (one per answer at least)`);
});
