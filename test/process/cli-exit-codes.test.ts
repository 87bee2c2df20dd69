// `webrtcbin stream` and `webrtcbin start` fail fast and say which kind of failure it was, in the exit
// code a service manager acts on: 2 "fix the configuration" (a codec or source that cannot work, a
// refused token, a URL that points at the wrong thing) and 75 "try later" (the daemon down, the session
// taken by another publisher, the X display not open). The compiled CLI (dist/) is run as a user runs it.
import t from 'tap';
import { mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { SignalingClient } from '../../lib/signaling/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { runNode, type FixtureResult } from '../helpers/fixture.js';
import { freePort } from '../helpers/coturn.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'dist', 'lib', 'cli', 'cli.js');
const token = (session: string, role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session, role, ttlSeconds: 600 });

// A private display for the agent (it starts Xvfb itself with --xvfb), 320×240.
function displayNumber(): string {
  let n = 300 + Math.floor(Math.random() * 200);
  while (existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`)) n++;
  return `:${n}`;
}

function stream(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 40_000): Promise<FixtureResult> {
  return runNode([cli, 'stream', '--width', '320', '--height', '240', ...args], {
    timeoutMs,
    env: { WEBRTCBIN_TOKEN: '', WEBRTCBIN_TOKEN_FILE: '', WEBRTCBIN_URL: '', WEBRTCBIN_SESSION: '', WEBRTCBIN_CONNECT_TIMEOUT: '', DISPLAY: '', ...env },
  });
}

const said = (r: FixtureResult) => `exit ${r.code}${r.timedOut ? ' (timed out)' : ''}; stdout: ${r.stdout.slice(-600)}; stderr: ${r.stderr.slice(-600)}`;

t.test('--help documents the two exit codes', async (t) => {
  const r = await runNode([cli, '--help'], { timeoutMs: 20_000 });
  t.equal(r.code, 0);
  t.match(r.stdout, /exit codes[\s\S]*\b2\b[\s\S]*fix the configuration[\s\S]*\b75\b[\s\S]*try (again )?later/i);
});

t.test('stream: a codec that does not exist is refused before connecting: exit 2', async (t) => {
  const r = await stream(['--url', 'ws://127.0.0.1:1/v1/ws', '--session', 's', '--xvfb', '--display', displayNumber(), '--codec', 'h265']);
  t.equal(r.code, 2, said(r));
  t.match(r.stderr, /video\.codec must be "vp8", "vp9" or "h264"/);
  t.match(r.stderr, /fix the configuration/);
  t.notMatch(r.stdout + r.stderr, /ECONNREFUSED/, 'it never tried to connect');
});

t.test('stream: --pointer takes auto, video or channel; anything else is refused before connecting: exit 2', async (t) => {
  const r = await stream(['--url', 'ws://127.0.0.1:1/v1/ws', '--session', 's', '--display', displayNumber(), '--pointer', 'css']);
  t.equal(r.code, 2, said(r));
  t.match(r.stderr, /--pointer \(WEBRTCBIN_POINTER\) must be auto .*, video .* or channel .*; got "css"/);
  const help = await runNode([cli, '--help'], { timeoutMs: 20_000 });
  t.match(help.stdout, /--pointer auto\|video\|channel/, '--help lists it');
});

t.test('stream: an X display that does not open is named, before connecting: exit 75', async (t) => {
  const r = await stream(['--url', 'ws://127.0.0.1:1/v1/ws', '--session', 's', '--display', displayNumber()]);
  t.equal(r.code, 75, said(r));
  t.match(r.stderr, /X display :\d+ could not be opened/);
  t.match(r.stderr, /try again later/);
  t.notMatch(r.stdout + r.stderr, /ECONNREFUSED/, 'it never tried to connect');
});

t.test('stream: a token the daemon refuses: exit 2, at once', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const r = await stream(['--url', daemon.url, '--session', 'bad', '--token', token('other-session', 'publisher'), '--xvfb', '--display', displayNumber()]);
  t.equal(r.code, 2, said(r));
  t.match(r.stdout + r.stderr, /refused the token/);
});

t.test('stream: the daemon is down: the reason while it retries, then exit 75 at --connect-timeout', async (t) => {
  const port = await freePort();
  const r = await stream(['--url', `ws://127.0.0.1:${port}/v1/ws`, '--session', 's', '--token', 'x', '--xvfb', '--display', displayNumber(), '--connect-timeout', '3']);
  t.equal(r.code, 75, said(r));
  t.match(r.stderr, new RegExp(`connection refused \\(ECONNREFUSED\\) by 127\\.0\\.0\\.1:${port}`));
  t.match(r.stderr, /is the daemon running/);
  t.ok(r.stderr.split('\n').filter((l) => /^signaling: .*ECONNREFUSED/.test(l)).length <= 2, 'not a line per retry');
});

t.test('stream: a wrong path (HTTP 404 on the upgrade): the hint, then exit 2', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const r = await stream(['--url', `${daemon.http.replace('http', 'ws')}/ws`, '--session', 's', '--token', token('s', 'publisher'), '--xvfb', '--display', displayNumber(), '--connect-timeout', '3']);
  t.equal(r.code, 2, said(r));
  t.match(r.stderr, /HTTP 404/);
  t.match(r.stderr, /is the daemon mounted at ws:\/\/127\.0\.0\.1:\d+\/ws\?/);
});

t.test('stream: the session already has a publisher: exit 75, no retry loop', async (t) => {
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const first = new SignalingClient({ url: daemon.url, session: 'taken', role: 'publisher', token: token('taken', 'publisher') }).connect();
  t.teardown(() => first.close());
  await new Promise((resolve) => first.once('joined', resolve));
  const r = await stream(['--url', daemon.url, '--session', 'taken', '--token', token('taken', 'publisher'), '--xvfb', '--display', displayNumber()]);
  t.equal(r.code, 75, said(r));
  t.match(r.stdout + r.stderr, /already has a publisher/);
  t.ok(r.ms < 30_000, `ended in ${r.ms} ms`);
});

// A plugin directory with every system plugin but the two H.264 encoders, and a registry of its own:
// the machine as it is without gstreamer1.0-plugins-ugly and openh264.
function withoutH264Encoders(): NodeJS.ProcessEnv {
  const system = '/usr/lib/x86_64-linux-gnu/gstreamer-1.0';
  const dir = mkdtempSync(path.join(tmpdir(), 'webrtcbin-plugins-'));
  for (const file of readdirSync(system)) {
    if (!file.endsWith('.so') || file === 'libgstx264.so' || file === 'libgstopenh264.so') continue;
    symlinkSync(path.join(system, file), path.join(dir, file));
  }
  return { GST_PLUGIN_SYSTEM_PATH_1_0: dir, GST_PLUGIN_PATH_1_0: '', GST_REGISTRY_1_0: path.join(dir, 'registry.bin') };
}

t.test('start --codec h264 without an H.264 encoder: refused before the daemon starts, exit 2', { skip: existsSync('/usr/lib/x86_64-linux-gnu/gstreamer-1.0') ? false : 'not a Debian x86-64 GStreamer layout' }, async (t) => {
  const port = await freePort();
  const r = await runNode([cli, 'start', '--port', String(port), '--host', '127.0.0.1', '--codec', 'h264'], { timeoutMs: 60_000, env: { ...withoutH264Encoders(), DISPLAY: '' } });
  t.equal(r.code, 2, said(r));
  t.match(r.stderr, /'openh264enc' is not available/, 'names the encoder');
  t.match(r.stderr, /apt-get install/, 'and the package');
  t.notMatch(r.stdout, /Open in a browser/, 'no URL was printed');
});
