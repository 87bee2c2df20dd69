// Token roles that say what their holder does (docs/protocol.md, Tokens): a WHIP client sends with a
// `sender` token, the receive() agent takes the publisher seat with a `receiver` token; the old
// pairings (`viewer` on WHIP, `publisher` for receive()) keep working; nothing else crosses over.
import t from 'tap';
import { mintToken, verifyToken, type TokenRole } from '../../lib/signaling/daemon/token.js';
import { RawClient, SECRET, startDaemon } from '../helpers/daemon.js';

const OFFER =
  'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n' +
  'a=ice-ufrag:EsAw\r\na=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r\na=mid:0\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n';
const ANSWER = 'v=0\r\no=- 2 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=ice-ufrag:srv1\r\na=ice-pwd:serverpassword0000000000\r\na=mid:0\r\n';

const token = (role: TokenRole, session = 'cam') => mintToken({ secret: SECRET, session, role, ttlSeconds: 600 });

/** Joins the publisher seat with this token and answers every offer at once; undefined if refused. */
async function seat(url: string, role: TokenRole): Promise<RawClient | { refused: Record<string, unknown> }> {
  const pub = await RawClient.open(url);
  pub.send({ type: 'join', session: 'cam', role: 'publisher', token: token(role) });
  const reply = await Promise.race([pub.next('joined').then(() => undefined), pub.next('error')]);
  if (reply) return { refused: reply };
  pub.answerEveryOffer(ANSWER);
  return pub;
}

t.test('the publisher seat takes a publisher or a receiver token, nothing else', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  for (const role of ['viewer', 'sender'] as const) {
    const refused = await seat(daemon.url, role);
    t.match(refused, { refused: { code: 'unauthorized', message: new RegExp(`role ${role}, not publisher or receiver`) } }, `a ${role} token cannot take the publisher seat`);
  }
  const receiver = await seat(daemon.url, 'receiver');
  t.ok(receiver instanceof RawClient, 'a receiver token takes it (receive() with a token that says what it does)');
  if (receiver instanceof RawClient) receiver.close();
  await new Promise((r) => setTimeout(r, 100));
  const publisher = await seat(daemon.url, 'publisher');
  t.ok(publisher instanceof RawClient, 'and a publisher token still does');
  if (publisher instanceof RawClient) publisher.close();
});

t.test('a viewer seat takes only a viewer token: a sender cannot watch', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  for (const [role, ok] of [['sender', false], ['receiver', false], ['viewer', true]] as const) {
    const client = await RawClient.open(daemon.url);
    t.teardown(() => client.close());
    client.send({ type: 'join', session: 'cam', role: 'viewer', token: token(role) });
    const reply = await Promise.race([client.next('joined'), client.next('error')]);
    t.equal(reply.type, ok ? 'joined' : 'error', `a ${role} token joining as a viewer: ${ok ? 'joined' : 'unauthorized'}`);
  }
});

t.test('WHIP takes a sender token (and an old viewer one); WHEP takes a viewer token only', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const agent = await seat(daemon.url, 'receiver');
  if (!(agent instanceof RawClient)) throw new Error('the receiver was refused');
  t.teardown(() => agent.close());
  const post = async (kind: string, role: TokenRole) => {
    const r = await fetch(`${daemon.http}/${kind}/cam`, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token(role)}` }, body: OFFER });
    const body = await r.text();
    return { status: r.status, body };
  };
  t.equal((await post('whip', 'sender')).status, 201, 'WHIP with a sender token: 201');
  t.equal((await post('whip', 'viewer')).status, 201, 'WHIP with a viewer token (minted before sender existed): 201');
  const whipPublisher = await post('whip', 'publisher');
  t.equal(whipPublisher.status, 401, 'WHIP with a publisher token: 401');
  t.match(JSON.parse(whipPublisher.body), { error: /role publisher, not sender or viewer/ }, 'the 401 names the roles that would do');
  t.equal((await post('whip', 'receiver')).status, 401, 'WHIP with a receiver token: 401');
  t.equal((await post('whep', 'viewer')).status, 201, 'WHEP with a viewer token: 201');
  const whepSender = await post('whep', 'sender');
  t.equal(whepSender.status, 401, 'WHEP with a sender token: 401 (a webcam\'s token does not let it watch)');
  t.match(JSON.parse(whepSender.body), { error: /role sender, not viewer/ });
});

t.test('/v1/ice-servers takes a token of any role', async (t) => {
  const daemon = await startDaemon({ ice: { stun: ['stun:stun.example.net:3478'] } });
  t.teardown(() => daemon.app.close());
  for (const role of ['publisher', 'viewer', 'sender', 'receiver'] as const) {
    const r = await fetch(`${daemon.http}/v1/ice-servers`, { headers: { authorization: `Bearer ${token(role)}` } });
    t.equal(r.status, 200, `a ${role} token: 200`);
    t.same(await r.json(), { iceServers: [{ urls: ['stun:stun.example.net:3478'] }] });
  }
});

t.test('mintToken and verifyToken: the roles and what each seat accepts', async (t) => {
  t.throws(() => mintToken({ secret: SECRET, session: 'cam', role: 'watcher' as TokenRole }), /one of publisher, viewer, sender, receiver/);
  const accepts = (seatRole: TokenRole, tokenRole: TokenRole) => {
    try {
      verifyToken(token(tokenRole), { secret: SECRET, session: 'cam', role: seatRole });
      return true;
    } catch {
      return false;
    }
  };
  const roles: TokenRole[] = ['publisher', 'viewer', 'sender', 'receiver'];
  const table = Object.fromEntries(roles.map((s) => [s, roles.filter((r) => accepts(s, r))]));
  t.same(table, { publisher: ['publisher', 'receiver'], viewer: ['viewer'], sender: ['viewer', 'sender'], receiver: ['receiver'] });
});
