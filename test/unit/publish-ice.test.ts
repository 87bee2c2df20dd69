// lib/publish/ice.ts: the daemon's ICE servers a publisher's peers can take, logged without credentials,
// and candidates in the protocol's wire shape.
import t from 'tap';
import { toWire, urlsOf, usableIceServers } from '../../lib/publish/ice.js';
import type { Logger } from '../../lib/signaling/client.js';

function recordingLogger(): Logger & { warnings: object[] } {
  const warnings: object[] = [];
  const noop = () => {};
  return { warnings, debug: noop, info: noop, error: noop, warn: (obj) => void warnings.push(obj) };
}

t.test('toWire: no undefined fields; null stays null', async (t) => {
  t.equal(toWire(null), null);
  t.strictSame(toWire({ candidate: 'candidate:1 1 udp 1 192.0.2.1 9 typ host' }), { candidate: 'candidate:1 1 udp 1 192.0.2.1 9 typ host', sdpMid: null, sdpMLineIndex: null });
  t.strictSame(toWire({ candidate: 'c', sdpMid: '0', sdpMLineIndex: 0 }), { candidate: 'c', sdpMid: '0', sdpMLineIndex: 0 });
  t.strictSame(toWire({}), { candidate: '', sdpMid: null, sdpMLineIndex: null });
});

t.test('usableIceServers drops what a peer would refuse, and logs only URLs', async (t) => {
  const log = recordingLogger();
  const good = { urls: 'stun:stun.example.org' };
  const turn = { urls: ['turn:turn.example.org'], username: 'u', credential: 'secret-credential' };
  const noCredential = { urls: 'turn:turn.example.org' };
  const badPort = { urls: 'stun:example.org:0' };
  t.strictSame(usableIceServers([good, noCredential, turn, badPort], log), [good, turn]);
  t.equal(log.warnings.length, 2);
  t.match(log.warnings[0], { urls: ['turn:turn.example.org'] });
  t.notMatch(JSON.stringify(log.warnings), /secret-credential/, 'no credential in the log');
  t.strictSame(urlsOf([good, turn]), ['stun:stun.example.org', 'turn:turn.example.org']);
});
