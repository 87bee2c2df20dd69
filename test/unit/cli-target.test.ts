// The agent commands' --url: a daemon WebSocket URL as is, or the viewer page's address (what `start`
// prints), whose signaling endpoint and query (session, token) are read from it.
import t from 'tap';
import { UsageError, resolveTarget, signalingTarget } from '../../lib/cli/remote-screen.js';

t.test('signalingTarget: ws URLs as given; page addresses to v1/ws beside the page', async (t) => {
  t.same(signalingTarget('ws://h:8080/v1/ws'), { url: 'ws://h:8080/v1/ws' });
  t.same(signalingTarget('wss://h/v1/ws'), { url: 'wss://h/v1/ws' });
  t.same(signalingTarget('http://127.0.0.1:8080/?session=demo&token=v1.abc'), { url: 'ws://127.0.0.1:8080/v1/ws', session: 'demo', token: 'v1.abc' });
  t.same(signalingTarget('https://ctl.example/webrtc/?session=s'), { url: 'wss://ctl.example/webrtc/v1/ws', session: 's' }, 'a daemon under a prefix');
  t.same(signalingTarget('http://h:8080'), { url: 'ws://h:8080/v1/ws' });
  t.throws(() => signalingTarget('ftp://h/'), UsageError);
  t.throws(() => signalingTarget('controller:8080'), /must start with ws:\/\/, wss:\/\/, http:\/\/ or https:\/\//);
  t.throws(() => signalingTarget('not a url'), /is not a URL/);
});

t.test('resolveTarget: flags before the page query before the environment', async (t) => {
  const env = { WEBRTCBIN_TOKEN: 'from-env', WEBRTCBIN_SESSION: 'env-session' };
  const page = 'http://h:8080/?session=page&token=from-page';
  const write = process.stderr.write;
  const warnings: string[] = [];
  process.stderr.write = ((chunk: string) => (warnings.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    t.same(resolveTarget({ url: page }, env), { url: 'ws://h:8080/v1/ws', session: 'page', token: 'from-page', timeoutMs: 20_000 });
    t.match(warnings.join(''), /"flag":"--token"/, 'a token on argv inside --url is warned about');
    t.notMatch(warnings.join(''), /from-page/, 'without its value');
    t.same(resolveTarget({ url: page, session: 'flag', token: 'flag-token' }, env), { url: 'ws://h:8080/v1/ws', session: 'flag', token: 'flag-token', timeoutMs: 20_000 });
    warnings.length = 0;
    t.same(resolveTarget({}, { ...env, WEBRTCBIN_URL: page }), { url: 'ws://h:8080/v1/ws', session: 'page', token: 'from-page', timeoutMs: 20_000 });
    t.equal(warnings.length, 0, 'a page address from the environment is not argv: no warning');
    t.same(resolveTarget({ url: 'ws://h/v1/ws' }, env), { url: 'ws://h/v1/ws', session: 'env-session', token: 'from-env', timeoutMs: 20_000 });
  } finally {
    process.stderr.write = write;
  }
  t.throws(() => resolveTarget({}, {}), /--url \(WEBRTCBIN_URL\) is required/);
});
