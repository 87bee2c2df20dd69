// `webrtcbin relay` as a process against a real Janus: it creates the room with the pin it reads from
// the environment (never printed), publishes a test pattern a subscriber with that pin decodes, leaves
// the room and exits 0 on SIGTERM on its own; a second relay with the wrong pin exits 2 (fix the
// configuration) instead of retrying for ever.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WebRtcPeer } from '../../lib/index.js';
import { peerAnswerer, startJanus, subscribe } from '../helpers/janus.js';
import { waitFor } from '../helpers/wait.js';

const CLI = fileURLToPath(new URL('../../lib/cli/cli.ts', import.meta.url));
const janus = await startJanus();
t.teardown(() => janus.stop());
const PIN = 'pin-4c1f9e-never-logged';
const WRONG = 'wrong-7e2a0d';

function run(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'relay', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, exited };
}

t.test('webrtcbin relay: publishes with a pin from the environment, leaves and exits on SIGTERM', async (t) => {
  const args = ['--janus', janus.url, '--room', '3003', '--test', '--width', '320', '--height', '240', '--fps', '15'];
  const relay = run(args, { WEBRTCBIN_JANUS_PIN: PIN });
  t.teardown(() => void relay.child.kill('SIGKILL'));
  await waitFor('published', () => /published into room 3003/.test(relay.out()), 30_000);
  const feed = Number(/as feed (\d+)/.exec(relay.out())![1]);

  const receiver = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => receiver.close());
  let frames = 0;
  receiver.on('frame', () => frames++);
  const stranger = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => stranger.close());
  await t.rejects(subscribe(janus.url, 3003, feed, peerAnswerer(stranger)), /pin/, 'the room was created with the pin: no pin, no subscription');
  const sub = await subscribe(janus.url, 3003, feed, peerAnswerer(receiver), PIN);
  t.teardown(() => sub.close());
  await waitFor('frames through Janus', () => frames >= 15, 20_000);
  t.pass(`a subscriber with the pin decoded ${frames} frames`);

  // A second relay into that room with the wrong pin: refused, exit 2, no retry loop.
  const wrong = run(args, { WEBRTCBIN_JANUS_PIN: WRONG });
  t.teardown(() => void wrong.child.kill('SIGKILL'));
  t.equal(await wrong.exited, 2, `the wrong pin exits 2: ${wrong.out().trim().split('\n').pop()}`);

  relay.child.kill('SIGTERM');
  const started = Date.now();
  t.equal(await relay.exited, 0, 'exit 0 on SIGTERM');
  t.ok(Date.now() - started < 10_000, `the process ended on its own (${Date.now() - started} ms)`);
  t.notOk(relay.out().includes(PIN) || wrong.out().includes(WRONG), 'no pin in either output');
  t.match(relay.out(), /SIGTERM: stopping/);
});
