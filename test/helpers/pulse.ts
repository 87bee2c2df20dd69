// A private PulseAudio server with one null sink ("desk"): what a VM's desktop plays goes to that sink,
// and its monitor (@DEFAULT_MONITOR@) is what `audio: {source: 'pulse'}` captures.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface Pulse {
  /** Set as PULSE_SERVER for every client (this process's pulsesrc included). */
  server: string;
  /** Plays a sine of `hz` into the sink until the returned function is called. */
  play: (hz: number) => () => void;
  stop: () => Promise<void>;
}

export async function startPulse(): Promise<Pulse> {
  const dir = mkdtempSync(path.join(tmpdir(), 'webrtcbin-pulse-'));
  const env = { ...process.env, HOME: dir, XDG_RUNTIME_DIR: dir, PULSE_RUNTIME_PATH: dir };
  const daemon = spawn(
    'pulseaudio',
    ['-n', '--daemonize=no', '--exit-idle-time=-1', '--disallow-exit', '--use-pid-file=no', '-L', 'module-null-sink sink_name=desk', '-L', 'module-native-protocol-unix auth-anonymous=1'],
    { env, stdio: 'ignore' },
  );
  const server = `unix:${path.join(dir, 'native')}`;
  const deadline = Date.now() + 10_000;
  while (spawnSync('pactl', ['info'], { env: { ...env, PULSE_SERVER: server } }).status !== 0) {
    if (daemon.exitCode !== null || Date.now() > deadline) throw new Error('pulseaudio did not start (is the pulseaudio package installed?)');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    server,
    play(hz) {
      const player = spawn('gst-launch-1.0', ['-q', 'audiotestsrc', 'is-live=true', `freq=${hz}`, 'volume=0.3', '!', 'pulsesink'], { env: { ...env, PULSE_SERVER: server }, stdio: 'ignore' });
      return () => player.kill('SIGTERM');
    },
    stop: () =>
      new Promise((resolve) => {
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (daemon.exitCode !== null) return done();
        daemon.once('exit', done);
        daemon.kill('SIGTERM');
      }),
  };
}
