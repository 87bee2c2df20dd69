// The VM image, end to end (`npm run test:rootfs`; heavy, not part of `npm test`): rootfs/build.sh
// from an empty cache (debootstrap, apt, npm), again with the cache, rootfs/verify.sh on the tree and on
// the ext4 image (no compiler, the prebuilt addon, doctor, real negotiations), a boot of the tree with
// systemd (systemd-nspawn) whose agent streams to a daemon here, and verify.sh failing on a broken tree.
// WEBRTCBIN_ROOTFS_TEST_CACHE=DIR reuses a cache (the "cold" build is then not cold); else a temporary
// one under /var/tmp is used and removed.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync, statSync, writeFileSync, chmodSync, unlinkSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function run(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    // As from a shell: without the test runner's loaders in NODE_OPTIONS.
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const child = spawn('bash', args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, seconds: Math.round((Date.now() - started) / 1000) });
    });
  });
}

if (process.getuid?.() !== 0 || !has('debootstrap') || !has('mkfs.ext4')) {
  t.pass('skipped: needs root, debootstrap and mkfs.ext4 (rootfs/install-packages.sh --dev)', { skip: true });
} else {
  const given = process.env.WEBRTCBIN_ROOTFS_TEST_CACHE;
  const cache = given ?? mkdtempSync('/var/tmp/webrtcbin-rootfs-test.');
  if (!given) t.teardown(() => rmSync(cache, { recursive: true, force: true }));
  const tree = path.join(cache, 'rootfs');
  const image = path.join(cache, 'rootfs.ext4');
  const build = ['rootfs/build.sh', '--cache', cache, '--image', image];

  t.test(`build from ${given ? 'the given cache' : 'an empty cache'}`, async (t) => {
    const r = await run(build, 40 * 60_000);
    t.equal(r.code, 0, r.out);
    t.comment(`build, ${given ? 'given' : 'cold'} cache: ${r.seconds} s`);
    t.ok(existsSync(path.join(tree, 'usr/local/bin/webrtcbin')), 'webrtcbin installed in the tree');
    t.ok(statSync(image).size > 100 * 1024 * 1024, `image ${Math.round(statSync(image).size / 2 ** 20)} MiB`);
    t.comment(r.out.split('\n').filter((l) => /done|unpacked/.test(l)).join('\n'));
  });

  t.test('build again with an overlay: both stages cached', async (t) => {
    const overlay = path.join(cache, 'overlay');
    mkdirSync(path.join(overlay, 'etc/webrtcbin'), { recursive: true });
    writeFileSync(path.join(overlay, 'etc/webrtcbin/agent.env'), 'WEBRTCBIN_URL=wss://controller.example/v1/ws\nWEBRTCBIN_SESSION=vm-1\n');
    writeFileSync(path.join(overlay, 'etc/agent-marker'), 'from the overlay\n');
    const r = await run([...build, '--overlay', overlay], 20 * 60_000);
    t.equal(r.code, 0, r.out);
    t.match(r.out, /base system: cached/);
    t.match(r.out, /packages: cached/);
    t.notMatch(r.out, /debootstrap --variant/);
    t.equal(readFileSync(path.join(tree, 'etc/agent-marker'), 'utf8'), 'from the overlay\n', 'overlay files are in the tree');
    t.match(readFileSync(path.join(tree, 'etc/webrtcbin/agent.env'), 'utf8'), /^WEBRTCBIN_SESSION=vm-1$/m, "the overlay's agent.env replaced the template");
    t.comment(`build, cached: ${r.seconds} s`);
  });

  t.test('verify.sh passes on the tree: no compiler, prebuilt addon, doctor, selftest, agent unit', async (t) => {
    const r = await run(['rootfs/verify.sh', tree], 10 * 60_000);
    t.equal(r.code, 0, r.out);
    t.match(r.out, /ok {4}no compiler/);
    t.match(r.out, /ok {4}the addon is the prebuild: .*prebuilds\/linux-x64\/.*\.node/);
    t.match(r.out, /ok {4}no .*\/build: nothing was compiled/);
    t.match(r.out, /selftest: all 7 checks passed/);
    t.match(r.out, /all checks passed/);
    t.comment(`verify, tree: ${r.seconds} s`);
  });

  t.test('verify.sh passes on the ext4 image, mounted read-only', async (t) => {
    const r = await run(['rootfs/verify.sh', image], 10 * 60_000);
    t.equal(r.code, 0, r.out);
    t.match(r.out, /verifying image/);
    t.match(r.out, /all checks passed/);
    t.equal(spawnSync('findmnt', ['-rn', '-S', image]).status, 1, 'the image is unmounted afterwards');
  });

  t.test('the tree boots with systemd and its agent streams to a daemon', { skip: has('systemd-nspawn') ? false : 'no systemd-nspawn (apt-get install systemd-container)' }, async (t) => {
    const { startDaemon, SECRET } = await import('../helpers/daemon.js');
    const { mintToken } = await import('../../lib/signaling/daemon/token.js');
    const { nodeViewer } = await import('../helpers/node-viewer.js');
    const daemon = await startDaemon();
    t.teardown(() => daemon.app.close());
    const env = path.join(cache, 'agent.env');
    writeFileSync(env, [
      `WEBRTCBIN_URL=${daemon.url}`,
      'WEBRTCBIN_SESSION=vm',
      `WEBRTCBIN_TOKEN=${mintToken({ secret: SECRET, session: 'vm', role: 'publisher' })}`,
      'WEBRTCBIN_XVFB=1',
      `DISPLAY=:${500 + Math.floor(Math.random() * 400)}`, // the host's abstract X sockets are shared
      'WEBRTCBIN_WIDTH=320',
      'WEBRTCBIN_HEIGHT=240',
      '',
    ].join('\n'));
    chmodSync(env, 0o644);
    // The host's network (the daemon is on its loopback); the tree stays as it is (an overlay on tmpfs).
    const container = spawn('systemd-nspawn', ['-D', tree, '--boot', '--register=no', '--keep-unit', '--volatile=overlay', `--bind-ro=${env}:/etc/webrtcbin/agent.env`, '--console=pipe'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    container.stdout.on('data', (d: Buffer) => (out += d));
    container.stderr.on('data', (d: Buffer) => (out += d));
    const exited = new Promise<number | null>((resolve) => container.on('exit', (code) => resolve(code)));
    t.teardown(() => void (container.exitCode === null && container.kill('SIGKILL')));

    const viewer = nodeViewer(daemon.url, 'vm', mintToken({ secret: SECRET, session: 'vm', role: 'viewer' }));
    t.teardown(() => viewer.close());
    // Nothing draws on the container's Xvfb: the shared encoder sends a still screen as a refresh about
    // every 2 s, so a few frames are the proof (boot, then the agent, then a negotiation, then decoding).
    const started = Date.now();
    while (viewer.peer.framesDecoded < 3 && Date.now() - started < 120_000) await new Promise((r) => setTimeout(r, 200));
    t.ok(viewer.peer.framesDecoded >= 3, `a viewer here decoded ${viewer.peer.framesDecoded} frames from the booted agent: ${out}`);
    t.equal(viewer.peer.connectionState, 'connected');
    t.comment(`boot to 3 decoded frames: ${Math.round((Date.now() - started) / 1000)} s`);
    await viewer.close();
    container.kill('SIGTERM'); // nspawn halts the container: systemd stops the agent (SIGTERM) and powers off
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 30_000))]);
    t.not(code, 'timeout', 'the container halted within 30 s');
  });

  t.test('verify.sh fails on a tree with a plugin removed and a compiler added', async (t) => {
    const pluginDir = path.join(tree, 'usr/lib/x86_64-linux-gnu/gstreamer-1.0');
    const nice = readdirSync(pluginDir).find((f) => /^libgstnice\.so/.test(f));
    t.ok(nice, 'the image has the libnice plugin');
    // Put the tree back afterwards: with WEBRTCBIN_ROOTFS_TEST_CACHE it is someone's build.
    const plugin = path.join(pluginDir, nice!);
    const saved = { data: readFileSync(plugin), mode: statSync(plugin).mode };
    const cc = path.join(tree, 'usr/local/bin/cc');
    t.teardown(() => {
      writeFileSync(plugin, saved.data, { mode: saved.mode });
      rmSync(cc, { force: true });
    });
    unlinkSync(plugin);
    writeFileSync(cc, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const r = await run(['rootfs/verify.sh', tree, '--seconds', '1'], 10 * 60_000);
    t.equal(r.code, 1, r.out);
    t.match(r.out, /FAIL {2}a toolchain is installed: \/usr\/local\/bin\/cc/);
    t.match(r.out, /FAIL {2}webrtcbin doctor/);
    t.match(r.out, /apt-get install gstreamer1\.0-nice/);
    t.match(r.out, /FAIL {2}webrtcbin selftest/);
    t.match(r.out, /\d+ check\(s\) failed/);
    t.equal(spawnSync('sh', ['-c', `findmnt -rn -o TARGET | grep -c '^${tree}/'`]).stdout.toString().trim(), '0', 'nothing left mounted');
  });
}
