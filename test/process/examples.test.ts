// The examples run as they are.
import t from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function run(file: string, timeoutMs = 30_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, file)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

t.test('examples/loopback.ts connects, decodes and exits by itself', async (t) => {
  const r = await run('examples/loopback.ts');
  t.equal(r.code, 0, r.out);
  t.match(r.out, /first frame 640x360/);
  t.match(r.out, /\d+ frames decoded; connection connected/);
});

t.test('examples/capture-and-stream.ts streams an Xvfb it starts to a viewer, and stops on SIGTERM', async (t) => {
  const { startDaemon, SECRET } = await import('../helpers/daemon.js');
  const { mintToken } = await import('../../lib/signaling/daemon/token.js');
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const display = `:${150 + Math.floor(Math.random() * 50)}`;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'examples', 'capture-and-stream.ts'), '--url', daemon.url, '--session', 'vm', '--xvfb', '--display', display, '--width', '320', '--height', '240'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WEBRTCBIN_TOKEN: mintToken({ secret: SECRET, session: 'vm', role: 'publisher' }) },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => void (child.exitCode === null && child.kill('SIGKILL')));

  // A Node viewer: a receiving peer that answers the publisher's offer.
  const { nodeViewer } = await import('../helpers/node-viewer.js');
  const viewer = nodeViewer(daemon.url, 'vm', mintToken({ secret: SECRET, session: 'vm', role: 'viewer' }));
  t.teardown(() => viewer.close());
  const peer = viewer.peer;
  const deadline = Date.now() + 30_000;
  while (peer.framesDecoded < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.ok(peer.framesDecoded >= 10, `the viewer decoded ${peer.framesDecoded} frames of the Xvfb display`);
  t.match(out, new RegExp(`streaming ${display} to session "vm"`));
  child.kill('SIGTERM');
  t.equal(await exited, 0, `clean exit on SIGTERM: ${out.split('\n').slice(-3).join(' | ')}`);
});
