// Pure unit tests for lib/media/ice-servers.ts: W3C RTCIceServer entries → webrtcbin stun/turn URIs.
import t from 'tap';
import { toWebrtcbinIce, redactIceUri } from '../../lib/media/ice-servers.js';
import { InvalidArgumentError, WebRtcBinError } from '../../lib/errors.js';

const invalid = (message: RegExp) => ({ name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT', message });

t.test('no servers: empty config', async (t) => {
  t.same(toWebrtcbinIce(), { turnServers: [], ignoredStun: [] });
  t.same(toWebrtcbinIce([]), { turnServers: [], ignoredStun: [] });
  t.equal(toWebrtcbinIce([]).stunServer, undefined);
});

t.test('stun: URL forms and default port', async (t) => {
  t.equal(toWebrtcbinIce([{ urls: 'stun:stun.l.google.com' }]).stunServer, 'stun://stun.l.google.com:3478');
  t.equal(toWebrtcbinIce([{ urls: 'stun:stun.l.google.com:19302' }]).stunServer, 'stun://stun.l.google.com:19302');
  t.equal(toWebrtcbinIce([{ urls: 'stun:192.0.2.10:3479' }]).stunServer, 'stun://192.0.2.10:3479');
  t.equal(toWebrtcbinIce([{ urls: ['stun:example.org'] }]).stunServer, 'stun://example.org:3478', 'urls as an array');
  t.equal(toWebrtcbinIce([{ urls: 'STUN:Example.org:1' }]).stunServer, 'stun://Example.org:1', 'scheme is case-insensitive, host kept');
  t.equal(toWebrtcbinIce([{ urls: '  stun:example.org  ' }]).stunServer, 'stun://example.org:3478', 'surrounding blanks trimmed');
  t.equal(toWebrtcbinIce([{ urls: 'stun:example.org:65535' }]).stunServer, 'stun://example.org:65535', 'highest port');
  t.same(toWebrtcbinIce([{ urls: 'stun:example.org' }]).turnServers, [], 'a STUN server adds no TURN server');
});

t.test('stun with IPv6 literal', async (t) => {
  t.equal(toWebrtcbinIce([{ urls: 'stun:[::1]' }]).stunServer, 'stun://[::1]:3478');
  t.equal(toWebrtcbinIce([{ urls: 'stun:[2001:db8::1]:19302' }]).stunServer, 'stun://[2001:db8::1]:19302');
});

t.test('only the first STUN server is used, the rest are listed in ignoredStun', async (t) => {
  const config = toWebrtcbinIce([
    { urls: ['stun:a.example.org', 'stun:b.example.org:1234'] },
    { urls: 'stun:c.example.org' },
  ]);
  t.equal(config.stunServer, 'stun://a.example.org:3478');
  t.same(config.ignoredStun, ['stun://b.example.org:1234', 'stun://c.example.org:3478']);
});

t.test('turn: and turns: URLs, default ports and transport', async (t) => {
  const creds = { username: 'user', credential: 'pass' };
  t.same(toWebrtcbinIce([{ urls: 'turn:turn.example.org', ...creds }]).turnServers, ['turn://user:pass@turn.example.org:3478']);
  t.same(toWebrtcbinIce([{ urls: 'turns:turn.example.org', ...creds }]).turnServers, ['turns://user:pass@turn.example.org:5349'], 'turns defaults to 5349');
  t.same(toWebrtcbinIce([{ urls: 'turn:turn.example.org:443', ...creds }]).turnServers, ['turn://user:pass@turn.example.org:443']);
  t.same(
    toWebrtcbinIce([{ urls: 'turn:turn.example.org:3478?transport=tcp', ...creds }]).turnServers,
    ['turn://user:pass@turn.example.org:3478?transport=tcp'],
  );
  t.same(
    toWebrtcbinIce([{ urls: 'turn:turn.example.org?transport=UDP', ...creds }]).turnServers,
    ['turn://user:pass@turn.example.org:3478'],
    'transport lower-cased, default port inserted before it',
  );
  t.same(toWebrtcbinIce([{ urls: 'turns:[::1]', ...creds }]).turnServers, ['turns://user:pass@[::1]:5349'], 'IPv6 with default turns port');
  t.same(
    toWebrtcbinIce([{ urls: 'turn:[::1]:3478?transport=tcp', ...creds }]).turnServers,
    ['turn://user:pass@[::1]:3478?transport=tcp'],
  );
  t.same(toWebrtcbinIce([{ urls: 'TURN:host', ...creds }]).turnServers, ['turn://user:pass@host:3478'], 'scheme lower-cased');
});

t.test('several URLs of one server share its credentials; STUN and TURN mixed', async (t) => {
  const config = toWebrtcbinIce([
    { urls: ['stun:turn.example.org', 'turn:turn.example.org?transport=udp', 'turn:turn.example.org?transport=tcp'], username: 'u', credential: 'c' },
    { urls: 'turns:other.example.org:443', username: 'u2', credential: 'c2' },
  ]);
  t.equal(config.stunServer, 'stun://turn.example.org:3478');
  t.same(config.ignoredStun, []);
  t.same(config.turnServers, [
    'turn://u:c@turn.example.org:3478',
    'turn://u:c@turn.example.org:3478?transport=tcp',
    'turns://u2:c2@other.example.org:443',
  ]);
});

t.test('credentials with any characters are percent-encoded exactly once', async (t) => {
  const cases: [string, string, string][] = [
    ['1700000000:alice', 'a/b+c=', '1700000000%3Aalice:a%2Fb%2Bc%3D'],
    ['me@example.org', 'p@ss:w/rd', 'me%40example.org:p%40ss%3Aw%2Frd'],
    ['100%', '%41%', '100%25:%2541%25'],
    ['with space', 'tab\there', 'with%20space:tab%09here'],
    ['jürgen', '密码🔑', 'j%C3%BCrgen:%E5%AF%86%E7%A0%81%F0%9F%94%91'],
    ['a?b#c', '[x]&y', 'a%3Fb%23c:%5Bx%5D%26y'],
  ];
  for (const [username, credential, userinfo] of cases) {
    const [uri] = toWebrtcbinIce([{ urls: 'turn:turn.example.org', username, credential }]).turnServers;
    t.equal(uri, `turn://${userinfo}@turn.example.org:3478`, `${JSON.stringify(username)} / ${JSON.stringify(credential)}`);
    // Decoding the userinfo once gives back the originals: encoded once, not twice.
    const m = /^turn:\/\/([^:@]*):([^@]*)@/.exec(uri!);
    t.ok(m, 'userinfo has exactly one unencoded ":" and "@"');
    t.equal(decodeURIComponent(m![1]!), username);
    t.equal(decodeURIComponent(m![2]!), credential);
  }
});

t.test('TURN without username or credential is rejected', async (t) => {
  t.throws(() => toWebrtcbinIce([{ urls: 'turn:turn.example.org' }]), invalid(/TURN server turn:turn\.example\.org needs a username and a credential/));
  t.throws(() => toWebrtcbinIce([{ urls: 'turns:turn.example.org', username: 'u' }]), invalid(/turns:turn\.example\.org needs a username and a credential/));
  t.throws(() => toWebrtcbinIce([{ urls: 'turn:turn.example.org', credential: 'c' }]), invalid(/needs a username and a credential/));
  t.throws(
    () => toWebrtcbinIce([{ urls: 'turn:h', username: 'u', credential: 42 as unknown as string }]),
    invalid(/needs a username and a credential \(strings\)/),
    'non-string credential',
  );
  t.throws(() => toWebrtcbinIce([{ urls: 'turn:h' }]), InvalidArgumentError);
  // STUN needs no credentials.
  t.equal(toWebrtcbinIce([{ urls: 'stun:h' }]).stunServer, 'stun://h:3478');
});

t.test('bad URLs are rejected with InvalidArgumentError', async (t) => {
  const bad = [
    'http://example.org',
    'stun://example.org',
    'stun:',
    'turn:',
    'example.org',
    'turn:user:pass@example.org',
    'turn:user@example.org',
    'stun:example.org:',
    'stun:example.org:123456',
    'stun:example.org:port',
    'stun:exa mple.org',
    'stun:example.org/path',
    'turn:example.org?transport=sctp',
    'turn:example.org?foo=bar',
    'stun:::1',
    'stun:[::1',
    'stun:[not-ipv6]',
    '',
  ];
  for (const url of bad) {
    t.throws(
      () => toWebrtcbinIce([{ urls: url, username: 'u', credential: 'c' }]),
      invalid(/is not of the form stun:host\[:port\] or turn\(s\):host\[:port\]\[\?transport=udp\|tcp\]/),
      JSON.stringify(url),
    );
  }
  t.throws(
    () => toWebrtcbinIce([{ urls: 'http://example.org' }]),
    { message: /ICE server URL "http:\/\/example\.org" is not of the form/ },
    'message quotes the URL',
  );
  t.throws(() => toWebrtcbinIce([{ urls: [42 as unknown as string] }]), invalid(/ICE server URL 42 is not of the form/), 'non-string url');
});

t.test('ports outside 1..65535 are rejected', async (t) => {
  t.throws(() => toWebrtcbinIce([{ urls: 'stun:example.org:0' }]), invalid(/stun:example\.org:0 has an invalid port/));
  t.throws(() => toWebrtcbinIce([{ urls: 'turn:example.org:65536', username: 'u', credential: 'c' }]), invalid(/has an invalid port/));
  t.throws(() => toWebrtcbinIce([{ urls: 'stun:example.org:99999' }]), invalid(/has an invalid port/));
});

t.test('malformed server entries', async (t) => {
  t.throws(() => toWebrtcbinIce('stun:x' as unknown as []), invalid(/iceServers must be an array/));
  t.throws(() => toWebrtcbinIce({ urls: 'stun:x' } as unknown as []), invalid(/iceServers must be an array/));
  t.throws(() => toWebrtcbinIce([null as unknown as { urls: string }]), invalid(/each ICE server needs `urls`/));
  t.throws(() => toWebrtcbinIce([{} as unknown as { urls: string }]), invalid(/each ICE server needs `urls`/));
  t.throws(() => toWebrtcbinIce([{ urls: 5 as unknown as string }]), invalid(/each ICE server needs `urls`/));
  const err = t.throws(() => toWebrtcbinIce([{ urls: 'nope' }])) as Error;
  t.type(err, InvalidArgumentError);
  t.type(err, WebRtcBinError);
});

t.test('a failing entry aborts the whole conversion (no partial result)', async (t) => {
  t.throws(() => toWebrtcbinIce([{ urls: 'stun:ok.example.org' }, { urls: 'turn:no-creds.example.org' }]), InvalidArgumentError);
});

t.test('redactIceUri hides credentials', async (t) => {
  t.equal(redactIceUri('turn://user:pass@turn.example.org:3478'), 'turn://***@turn.example.org:3478');
  t.equal(redactIceUri('turns://user:pass@[::1]:5349?transport=tcp'), 'turns://***@[::1]:5349?transport=tcp');
  t.equal(redactIceUri('stun://stun.example.org:3478'), 'stun://stun.example.org:3478', 'nothing to hide');
  t.equal(redactIceUri('turn://turn.example.org:3478'), 'turn://turn.example.org:3478', 'no userinfo: unchanged');
  // Round trip through toWebrtcbinIce with nasty credentials: nothing of them survives.
  const username = '1700000000:al@ice/x';
  const credential = 's3cr3t@:/%🔑';
  const [uri] = toWebrtcbinIce([{ urls: 'turn:turn.example.org?transport=tcp', username, credential }]).turnServers;
  const redacted = redactIceUri(uri!);
  t.equal(redacted, 'turn://***@turn.example.org:3478?transport=tcp');
  t.notMatch(redacted, /s3cr3t|al%40ice|1700000000/);
});

t.test('stuns: is refused with a remedy (webrtcbin has no STUN over TLS)', async (t) => {
  t.throws(() => toWebrtcbinIce([{ urls: 'stuns:stun.example.org' }]), /use stun: \(or turns: for TLS\)/);
});
