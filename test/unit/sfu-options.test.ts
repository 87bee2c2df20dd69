// The Janus relay's options: checked before anything connects, secrets from the environment.
import t from 'tap';
import { janusOptions } from '../../lib/sfu/janus-relay.js';
import { JanusRelayError } from '../../lib/sfu/relay-error.js';

t.test('bad options are refused with what to give', async (t) => {
  t.throws(() => janusOptions({ janus: 'http://janus:8088', room: 1 }), /WebSocket URL/);
  t.throws(() => janusOptions({ janus: 'ws://janus:8188', room: 0 }), /sfu\.room/);
  t.throws(() => janusOptions({ janus: 'ws://janus:8188', room: 1.5 }), /sfu\.room/);
  t.throws(() => janusOptions({ janus: 'ws://janus:8188', room: 1, firFreq: -1 }), /sfu\.firFreq/);
  t.throws(() => janusOptions(undefined as never), /janus/);
});

t.test('pin, secret and API secret come from the environment unless given', async (t) => {
  const env = { WEBRTCBIN_JANUS_PIN: 'p', WEBRTCBIN_JANUS_SECRET: 's', WEBRTCBIN_JANUS_API_SECRET: 'a' };
  t.match(janusOptions({ janus: 'ws://j:8188', room: 7 }, env), { pin: 'p', secret: 's', apiSecret: 'a' });
  t.match(janusOptions({ janus: 'wss://j', room: 7, pin: 'mine' }, env), { pin: 'mine', secret: 's' });
  t.match(janusOptions({ janus: 'ws://j:8188', room: 7 }, {}), { pin: undefined, secret: undefined, apiSecret: undefined });
});

t.test('JanusRelayError says whether it retries', async (t) => {
  const e = new JanusRelayError('connection-lost', 'gone; retrying in 500 ms', { retryInMs: 500 });
  t.equal(e.name, 'JanusRelayError');
  t.equal(e.code, 'ERR_JANUS_RELAY');
  t.equal(e.retryInMs, 500);
  t.equal(new JanusRelayError('unauthorized', 'refused', { janusCode: 433 }).retryInMs, undefined);
});
