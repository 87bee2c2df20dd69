// The agent's negotiation order under stress, where the founding team's agent broke: a publisher that
// sends every candidate before its offer (a scripted publisher over a raw socket, a real webrtcbin
// behind it), a publisher that restarts (a new peer, a new offer: frames resume in the same view), a
// refused token and a session without a publisher (typed, worded errors), and close() after which the
// process exits by itself.
import t from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebRtcPeer } from '../../lib/index.js';
import { publish, view, SignalingError, TimeoutError, type RemoteView } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { RawClient, SECRET, startDaemon } from '../helpers/daemon.js';
import { once, waitFor } from '../helpers/wait.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const token = (session: string, role: 'publisher' | 'viewer') => mintToken({ secret: SECRET, session, role });

function frameCounter(v: RemoteView): { count: () => number } {
  let n = 0;
  v.on('frame', () => n++);
  return { count: () => n };
}

t.test('a publisher that sends all its candidates before the offer, and never takes ours: the view connects', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const raw = await RawClient.open(daemon.url);
  t.teardown(() => raw.close());
  raw.send({ type: 'join', v: 1, session: 'early', role: 'publisher', token: token('early', 'publisher') });
  await raw.next('joined');

  const v = view({ url: daemon.url, session: 'early', token: token('early', 'viewer') });
  t.teardown(() => v.close());
  const joined = await raw.next('peer-joined', 10_000);
  const to = joined.peerId as string;

  // A real sending peer; every candidate is gathered and sent first, then the offer.
  const publisher = new WebRtcPeer({ source: { kind: 'test', pattern: 'ball' }, video: { width: 320, height: 240 } });
  t.teardown(() => publisher.close());
  const candidates: { candidate: string; sdpMid: string | null; sdpMLineIndex: number | null }[] = [];
  let gathered = false;
  publisher.on('icecandidate', (c) => {
    if (c) candidates.push({ candidate: c.candidate ?? '', sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null });
    else gathered = true;
  });
  const offer = await publisher.createOffer();
  await publisher.setLocalDescription(offer);
  await waitFor('the publisher to gather', () => gathered, 10_000);
  t.ok(candidates.length > 0, `${candidates.length} candidates gathered`);
  t.ok(candidates.every((c) => c.candidate.startsWith('candidate:')), 'they carry the candidate: prefix once');
  for (const candidate of candidates) raw.send({ type: 'candidate', to, candidate });
  raw.send({ type: 'candidate', to, candidate: null });
  await new Promise((r) => setTimeout(r, 300)); // the candidates reach the view well before the offer
  raw.send({ type: 'offer', to, sdp: offer.sdp });

  const answer = await raw.next('answer', 15_000);
  t.notMatch(String(answer.sdp), /candidate:candidate:/, 'the answer never doubles the prefix');
  await publisher.setRemoteDescription({ type: 'answer', sdp: answer.sdp as string });
  // The view's own candidates are read but never added here: only checks from the view, toward the
  // candidates it held before the offer, can connect this pair.
  await v.ready;
  t.equal(v.state, 'connected', 'connected through the candidates that came before the offer');
  t.equal(v.width, 320, 'and decoding frames');
  const sent = raw.messages.filter((m) => m.type === 'candidate' && m.candidate !== null) as { candidate: { candidate: string } }[];
  t.ok(sent.every((m) => !/candidate:candidate:/.test(m.candidate.candidate)), 'the view\'s own candidates never double the prefix');
});

t.test('a publisher that restarts: the view takes its new offer and frames resume', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const start = () => publish({ url: daemon.url, session: 'restart', token: token('restart', 'publisher'), source: { kind: 'test', pattern: 'ball' }, video: { width: 320, height: 240 } });
  let publisher = start();
  t.teardown(() => publisher.close());
  const v = view({ url: daemon.url, session: 'restart', token: token('restart', 'viewer') });
  t.teardown(() => v.close());
  const frames = frameCounter(v);
  await v.ready;
  await waitFor('frames before the restart', () => frames.count() > 3, 10_000);

  await publisher.close();
  await waitFor('the view to notice the publisher left', () => v.state !== 'connected', 10_000);
  const before = frames.count();
  publisher = start();
  await waitFor('frames after the restart', () => frames.count() > before + 3, 20_000);
  t.equal(v.state, 'connected', 'connected again, in the same view');
  const shot = await v.screenshot({ format: 'raw' });
  t.equal(shot.length, 320 * 240 * 4, 'a screenshot after the restart');
});

t.test('a daemon that restarts: signaling reconnects and frames resume in the same view', async (t) => {
  let daemon = await startDaemon();
  const port = daemon.port;
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session: 'daemon', token: token('daemon', 'publisher'), source: { kind: 'test', pattern: 'ball' }, video: { width: 320, height: 240 }, backoff: { initialMs: 100, maxMs: 500 } });
  t.teardown(() => publisher.close());
  const v = view({ url: daemon.url, session: 'daemon', token: token('daemon', 'viewer'), backoff: { initialMs: 100, maxMs: 500 } });
  t.teardown(() => v.close());
  const frames = frameCounter(v);
  await v.ready;

  await daemon.app.close();
  await new Promise((r) => setTimeout(r, 1000));
  const before = frames.count();
  daemon = await startDaemon({ port });
  await waitFor('frames after the daemon restart', () => frames.count() > before + 15, 30_000);
  await waitFor('connected after the daemon restart', () => v.state === 'connected', 10_000);
  t.pass(`frames resumed (${frames.count() - before} since the restart)`);
  t.equal((await v.screenshot({ format: 'raw' })).length, 320 * 240 * 4, 'a screenshot after it');
});

t.test('a refused token is a SignalingError; an empty session a TimeoutError that says so', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());

  const bad = view({ url: daemon.url, session: 'nobody', token: 'not-a-token' });
  const errors: Error[] = [];
  bad.on('error', (e) => errors.push(e));
  const closed = once(bad, 'close', 10_000);
  const refusal = await bad.ready.then(() => undefined, (e: Error) => e);
  t.type(refusal, SignalingError, 'ready rejects with a SignalingError');
  t.equal((refusal as SignalingError).reason, 'unauthorized');
  t.match(refusal!.message, /token/, 'worded: the token was refused');
  await closed;
  t.equal(errors.length, 1, 'and it was emitted as error');
  await t.rejects(bad.screenshot({ format: 'png' }), { code: 'ERR_INVALID_STATE' }, 'a closed view refuses a screenshot');

  const other = view({ url: daemon.url, session: 'other', token: token('nobody', 'viewer') });
  other.on('error', () => {});
  t.type(await other.ready.catch((e: Error) => e), SignalingError, 'a token for another session is refused too');

  const lonely = view({ url: daemon.url, session: 'empty', token: token('empty', 'viewer'), timeoutMs: 1500 });
  t.teardown(() => lonely.close());
  const late = await lonely.ready.then(() => undefined, (e: Error) => e);
  t.type(late, TimeoutError, 'no publisher: ready rejects with a TimeoutError');
  t.match(late!.message, /no publisher is in session "empty"/, 'that names the missing publisher');
});

t.test('after close() the process exits by itself (a child process with a view and a screenshot)', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session: 'exit', token: token('exit', 'publisher'), source: { kind: 'test', pattern: 'ball' }, video: { width: 320, height: 240 } });
  t.teardown(() => publisher.close());
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'view-then-close.ts'), daemon.url, 'exit', token('exit', 'viewer')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, 40_000);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  t.equal(code, 0, `the child exited on its own: ${out}`);
  t.match(out, /closed 320x240 png \d+ jpeg \d+/, 'after ready, screenshots and close()');
});
