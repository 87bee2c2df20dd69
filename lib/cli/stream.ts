// `webrtcbin stream`: the agent a VM runs. Streams its X display (or an Xvfb it starts) to viewers through
// a signaling daemon elsewhere (a controller), until SIGINT/SIGTERM. The image's systemd unit
// (rootfs/webrtcbin-agent.service) runs it with the environment of rootfs/webrtcbin-agent.env.
//
//   webrtcbin stream --url wss://controller/v1/ws --session vm-42 --token-file /run/secrets/publisher-token
//        [--display :0 | --xvfb] [--codec vp8|vp9|h264] [--bitrate 2000] [--fps 30]
//        [--width 1280 --height 720] [--audio pulse|test] [--viewer-base https://controller/]
// Every flag may come from the environment instead: WEBRTCBIN_URL, WEBRTCBIN_SESSION, WEBRTCBIN_TOKEN_FILE
// (or WEBRTCBIN_TOKEN; under systemd the credential webrtcbin-token, LoadCredential=),
// DISPLAY, WEBRTCBIN_XVFB=1, WEBRTCBIN_CODEC, WEBRTCBIN_BITRATE, WEBRTCBIN_FPS, WEBRTCBIN_WIDTH,
// WEBRTCBIN_HEIGHT, WEBRTCBIN_AUDIO, WEBRTCBIN_VIEWER_BASE. `--audio pulse` sends what the desktop plays
// (PulseAudio/PipeWire monitor). Exits 0 on SIGINT/SIGTERM, 2 on bad usage or when the daemon refuses the
// token (expired, forged: retrying with it cannot help, so no restart loop; a new token and a restart do),
// 3 when the X display is lost (so a service manager restarts the agent and its Xvfb).
import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { XDisplayLostError } from '../errors.js';
import { SignalingError } from '../signaling/client.js';
import { publish } from '../publish/publisher.js';
import { startXvfb } from './xvfb.js';
import type { VideoCodec } from '../types.js';
import { SECRETS, resolveSecret, warnArgvSecret } from './secrets.js';

/** Starts streaming; resolves once running (the process then lives until a signal). */
export async function stream(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      session: { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      display: { type: 'string' },
      xvfb: { type: 'boolean' },
      codec: { type: 'string' },
      bitrate: { type: 'string' },
      fps: { type: 'string' },
      width: { type: 'string' },
      height: { type: 'string' },
      audio: { type: 'string' },
      'viewer-base': { type: 'string' },
    },
  });
  const url = values.url ?? env.WEBRTCBIN_URL;
  const session = values.session ?? env.WEBRTCBIN_SESSION;
  if (!url || !session) {
    console.error('webrtcbin stream: --url (WEBRTCBIN_URL) and --session (WEBRTCBIN_SESSION) are required');
    process.exit(2);
  }
  // The token: a file (read once, now) rather than argv, which every local user can read.
  let token: string | undefined;
  try {
    const resolved = resolveSecret(SECRETS.token, { value: values.token, file: values['token-file'] }, env);
    if (resolved.onArgv) warnArgvSecret(SECRETS.token);
    token = resolved.value;
  } catch (error) {
    console.error(`webrtcbin stream: ${(error as Error).message}`);
    process.exit(2);
  }
  const number = (flag: string | undefined, fallback: number) => (flag === undefined || flag === '' ? fallback : Number(flag));
  const width = number(values.width ?? env.WEBRTCBIN_WIDTH, 1280);
  const height = number(values.height ?? env.WEBRTCBIN_HEIGHT, 720);

  let xvfb: ChildProcess | undefined;
  let display = values.display ?? env.DISPLAY;
  if (values.xvfb || /^(1|true|yes)$/i.test(env.WEBRTCBIN_XVFB ?? '')) {
    display = values.display ?? env.DISPLAY ?? ':99';
    try {
      xvfb = await startXvfb(display, `${width}x${height}x24`);
    } catch (error) {
      console.error(`webrtcbin stream: ${(error as Error).message}`);
      process.exit(1);
    }
  }
  if (!display) {
    console.error('webrtcbin stream: no X display: pass --display :0, set DISPLAY, or use --xvfb (WEBRTCBIN_XVFB=1)');
    process.exit(2);
  }

  const audio = values.audio ?? env.WEBRTCBIN_AUDIO;
  if (audio !== undefined && audio !== '' && audio !== 'pulse' && audio !== 'test' && audio !== 'none') {
    console.error('webrtcbin stream: --audio (WEBRTCBIN_AUDIO) must be pulse, test or none');
    process.exit(2);
  }
  const publisher = publish({
    url,
    session,
    token,
    source: { kind: 'x11', display },
    video: {
      // Unset: each viewer gets the first codec both sides have (the cheapest installed one first).
      codec: (values.codec ?? env.WEBRTCBIN_CODEC) as VideoCodec | undefined,
      bitrate: number(values.bitrate ?? env.WEBRTCBIN_BITRATE, 2000),
      fps: number(values.fps ?? env.WEBRTCBIN_FPS, 30),
      width,
      height,
    },
    ...(audio === 'pulse' || audio === 'test' ? { audio: { source: audio } } : {}),
  });
  publisher.on('viewer-connected', (id: string) => console.log(`viewer ${id} connected (${publisher.viewers} watching)`));
  publisher.on('viewer-left', (id: string, reason: string) => console.log(`viewer ${id} left: ${reason}`));
  publisher.on('error', (error: Error) => {
    console.error(`error: ${error.message}`);
    if (error instanceof XDisplayLostError) void stop('display lost', 3);
    // Refused at join or ended at its `exp`: the same token cannot help, so no restart loop.
    if (error instanceof SignalingError && error.reason === 'unauthorized') void stop('the daemon refused the token (write a new one to the token file)', 2);
    if (error instanceof SignalingError && error.reason === 'token-expired') void stop('the token expired and the daemon ended the stream (write a new one to the token file, then restart)', 2);
  });
  const base = values['viewer-base'] ?? env.WEBRTCBIN_VIEWER_BASE;
  console.log(`streaming ${display} to session "${session}" via ${url.replace(/\?.*$/, '')}`);
  if (base) console.log(`viewers open: ${base.replace(/\/$/, '')}/?session=${encodeURIComponent(session)}&token=<viewer token>`);

  let stopping = false;
  async function stop(reason: string, code = 0): Promise<void> {
    if (stopping) return;
    stopping = true;
    console.log(`${reason}: stopping`);
    await publisher.close();
    xvfb?.kill();
    process.exit(code);
  }
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
