// TURN through a real coturn, relay-only: credentials with awkward characters and coturn's REST
// (shared-secret) credentials, whose usernames contain ':' and whose passwords are base64.
import t from 'tap';
import { WebRtcPeer } from '../../lib/index.js';
import { restCredentials, startCoturn } from '../helpers/coturn.js';
import { connectPair } from '../helpers/peers.js';
import { waitFor } from '../helpers/wait.js';

async function relayedPair(t: { teardown: (fn: () => unknown) => void }, iceServers: { urls: string; username: string; credential: string }[]) {
  const sender = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 160, height: 120 }, iceServers, iceTransportPolicy: 'relay' });
  const receiver = new WebRtcPeer({ video: { receive: true }, iceServers, iceTransportPolicy: 'relay' });
  t.teardown(() => Promise.all([sender.close(), receiver.close()]));
  const types = new Set<string>();
  for (const p of [sender, receiver]) p.on('icecandidate', (c) => c?.candidate && types.add(/ typ (\w+)/.exec(c.candidate)![1]!));
  await connectPair(sender, receiver);
  await waitFor('frames over TURN', () => receiver.framesDecoded >= 10, 20_000);
  return { sender, receiver, types };
}

t.test('relay-only with long-term credentials full of special characters', async (t) => {
  const user = 'agent@vm-1/x%41+é';
  const password = 'p@ss:w/rd%2F?#& é';
  const turn = await startCoturn({ user, password });
  t.teardown(() => turn.stop());
  const { receiver, types } = await relayedPair(t, [{ urls: `turn:127.0.0.1:${turn.port}?transport=udp`, username: user, credential: password }]);
  t.same([...types], ['relay'], 'only relay candidates were gathered');
  t.ok(turn.allocations() >= 2, `coturn granted ${turn.allocations()} allocations`);
  t.ok(receiver.framesDecoded >= 10, 'frames decoded through the relay');
});

t.test('relay-only with coturn REST (use-auth-secret) credentials', async (t) => {
  const secret = 'test-secret-' + Math.random().toString(36).slice(2);
  const turn = await startCoturn({ secret });
  t.teardown(() => turn.stop());
  const { username, credential } = restCredentials(secret, 'vm-agent');
  t.match(username, /^\d+:vm-agent$/);
  const { receiver, types } = await relayedPair(t, [{ urls: `turn:127.0.0.1:${turn.port}`, username, credential }]);
  t.same([...types], ['relay']);
  t.ok(receiver.framesDecoded >= 10);
});

t.test('TURN over TCP (?transport=tcp) when UDP to the TURN server is not wanted', async (t) => {
  const turn = await startCoturn({ user: 'tcp-user', password: 'secret' });
  t.teardown(() => turn.stop());
  const { types } = await relayedPair(t, [{ urls: `turn:127.0.0.1:${turn.port}?transport=tcp`, username: 'tcp-user', credential: 'secret' }]);
  t.same([...types], ['relay']);
  t.match(turn.log(), /TCP/, 'coturn saw a TCP client');
});

t.test('a wrong TURN password never connects relay-only (the test above can fail)', async (t) => {
  const turn = await startCoturn({ user: 'u', password: 'right' });
  t.teardown(() => turn.stop());
  const iceServers = [{ urls: `turn:127.0.0.1:${turn.port}`, username: 'u', credential: 'wrong' }];
  const sender = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 160, height: 120 }, iceServers, iceTransportPolicy: 'relay' });
  const receiver = new WebRtcPeer({ video: { receive: true }, iceServers, iceTransportPolicy: 'relay' });
  t.teardown(() => Promise.all([sender.close(), receiver.close()]));
  const candidates: unknown[] = [];
  sender.on('icecandidate', (c) => c && candidates.push(c));
  await connectPair(sender, receiver);
  await new Promise((r) => setTimeout(r, 3000));
  t.equal(candidates.length, 0, 'no relay candidate without valid credentials');
  t.equal(receiver.framesDecoded, 0);
  t.not(receiver.connectionState, 'connected');
});
