// `webrtcbin stream`: the agent a VM runs. Streams its X display (or an Xvfb it starts) to viewers through
// a signaling daemon elsewhere (a controller), until SIGINT/SIGTERM. The image's systemd unit
// (rootfs/webrtcbin-agent.service) runs it with the environment of rootfs/webrtcbin-agent.env.
//
//   webrtcbin stream --url wss://controller/v1/ws --session vm-42 --token-file /run/secrets/publisher-token
//        [--display :0 | --xvfb] [--codec vp8|vp9|h264] [--bitrate 2000] [--fps 30] [--capture damage|fixed]
//        [--width 1280 --height 720] [--audio pulse|test] [--pointer auto|video|channel] [--viewer-base https://controller/]
//        [--janus ws://janus:8188 --janus-room 1234 [--janus-pin-file FILE]] (also into Janus: docs/sfu.md)
// Every flag may come from the environment instead: WEBRTCBIN_URL, WEBRTCBIN_SESSION, WEBRTCBIN_TOKEN_FILE
// (or WEBRTCBIN_TOKEN; under systemd the credential webrtcbin-token, LoadCredential=),
// DISPLAY, WEBRTCBIN_XVFB=1, WEBRTCBIN_CODEC, WEBRTCBIN_BITRATE, WEBRTCBIN_FPS, WEBRTCBIN_WIDTH,
// WEBRTCBIN_HEIGHT, WEBRTCBIN_CAPTURE, WEBRTCBIN_AUDIO, WEBRTCBIN_POINTER, WEBRTCBIN_VIEWER_BASE, WEBRTCBIN_CONNECT_TIMEOUT. `--audio pulse`
// sends what the desktop plays (PulseAudio/PipeWire monitor).
// It fails fast: the capture and the encoder are started once before connecting (publish()'s check), and
// the first join must succeed within --connect-timeout. Exit codes (lib/cli/exit-codes.ts): 0 on
// SIGINT/SIGTERM; 2 "fix the configuration" (bad usage, a codec or source that cannot work, a token the
// daemon refuses or that expired, an upgrade refused with 401/403 or 404: no restart loop, a fix and a
// restart help); 3 the X display was lost (a service manager restarts the agent and its Xvfb); 75 "try
// later" (the daemon unreachable until the timeout, the display not open yet, another publisher streams
// the session).
import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { XDisplayLostError } from '../errors.js';
import { REPEATED_FAILURES, SignalingError, type DisconnectInfo } from '../signaling/client.js';
import { publish, type Publisher } from '../publish/publisher.js';
import { EXIT, exitAdvice, exitCodeFor } from './exit-codes.js';
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
      capture: { type: 'string' },
      width: { type: 'string' },
      height: { type: 'string' },
      audio: { type: 'string' },
      'viewer-base': { type: 'string' },
      'connect-timeout': { type: 'string' },
      pointer: { type: 'string' },
      janus: { type: 'string' },
      'janus-room': { type: 'string' },
      'janus-pin-file': { type: 'string' },
      'janus-secret-file': { type: 'string' },
      'janus-api-secret-file': { type: 'string' },
    },
  });
  const url = values.url ?? env.WEBRTCBIN_URL;
  const session = values.session ?? env.WEBRTCBIN_SESSION;
  if (!url || !session) {
    console.error('webrtcbin stream: --url (WEBRTCBIN_URL) and --session (WEBRTCBIN_SESSION) are required');
    process.exit(EXIT.config);
  }
  // The token: a file (read once, now) rather than argv, which every local user can read.
  let token: string | undefined;
  try {
    const resolved = resolveSecret(SECRETS.token, { value: values.token, file: values['token-file'] }, env);
    if (resolved.onArgv) warnArgvSecret(SECRETS.token);
    token = resolved.value;
  } catch (error) {
    console.error(`webrtcbin stream: ${(error as Error).message}`);
    process.exit(EXIT.config);
  }
  // Also into a Janus VideoRoom (docs/sfu.md): its secrets from files, the environment or credentials.
  const janus = values.janus ?? env.WEBRTCBIN_JANUS;
  const janusRoom = values['janus-room'] ?? env.WEBRTCBIN_JANUS_ROOM;
  let sfu: { janus: string; room: number; pin?: string; secret?: string; apiSecret?: string } | undefined;
  if (janus) {
    if (!janusRoom) {
      console.error('webrtcbin stream: --janus needs --janus-room N (WEBRTCBIN_JANUS_ROOM)');
      process.exit(EXIT.config);
    }
    try {
      sfu = {
        janus,
        room: Number(janusRoom),
        pin: resolveSecret(SECRETS.janusPin, { file: values['janus-pin-file'] }, env).value,
        secret: resolveSecret(SECRETS.janusSecret, { file: values['janus-secret-file'] }, env).value,
        apiSecret: resolveSecret(SECRETS.janusApiSecret, { file: values['janus-api-secret-file'] }, env).value,
      };
    } catch (error) {
      console.error(`webrtcbin stream: ${(error as Error).message}`);
      process.exit(EXIT.config);
    }
  }
  const connectTimeoutText = values['connect-timeout'] ?? env.WEBRTCBIN_CONNECT_TIMEOUT;
  const connectTimeoutS = connectTimeoutText === undefined || connectTimeoutText === '' ? 60 : Number(connectTimeoutText);
  if (!Number.isFinite(connectTimeoutS) || connectTimeoutS < 0) {
    console.error('webrtcbin stream: --connect-timeout (WEBRTCBIN_CONNECT_TIMEOUT) must be a number of seconds (0: wait for ever)');
    process.exit(EXIT.config);
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
      process.exit(EXIT.failed);
    }
  }
  if (!display) {
    console.error('webrtcbin stream: no X display: pass --display :0, set DISPLAY, or use --xvfb (WEBRTCBIN_XVFB=1)');
    process.exit(EXIT.config);
  }

  // 'damage' (the agent's default: a frame when the screen changes, a viewer's first keyframe refined
  // within half a second; docs/benchmarks.md) or 'fixed' (--fps a second), checked with the other source
  // options (a wrong word exits 2 with their message).
  const capture = (values.capture ?? env.WEBRTCBIN_CAPTURE) || 'damage';
  const audio = values.audio ?? env.WEBRTCBIN_AUDIO;
  if (audio !== undefined && audio !== '' && audio !== 'pulse' && audio !== 'test' && audio !== 'none') {
    console.error('webrtcbin stream: --audio (WEBRTCBIN_AUDIO) must be pulse, test or none');
    process.exit(EXIT.config);
  }
  const pointer = values.pointer ?? env.WEBRTCBIN_POINTER;
  if (pointer !== undefined && pointer !== '' && pointer !== 'auto' && pointer !== 'video' && pointer !== 'channel') {
    console.error(`webrtcbin stream: --pointer (WEBRTCBIN_POINTER) must be auto (the default: drawn by the page, in the picture only while a viewer that cannot draw it watches), video (always in the picture) or channel (always as data); got ${JSON.stringify(pointer)}`);
    process.exit(EXIT.config);
  }
  // publish() starts the capture and the encoder once before it connects: what cannot work ends here.
  let publisher: Publisher;
  try {
    publisher = publish({
      url,
      session,
      token,
      source: { kind: 'x11', display, capture: capture as 'damage' | 'fixed' },
      video: {
        // Unset: each viewer gets the first codec both sides have (the cheapest installed one first).
        codec: (values.codec ?? env.WEBRTCBIN_CODEC) as VideoCodec | undefined,
        bitrate: number(values.bitrate ?? env.WEBRTCBIN_BITRATE, 2000),
        fps: number(values.fps ?? env.WEBRTCBIN_FPS, 30),
        width,
        height,
      },
      ...(audio === 'pulse' || audio === 'test' ? { audio: { source: audio } } : {}),
      ...(pointer === 'auto' || pointer === 'video' || pointer === 'channel' ? { pointer } : {}),
      ...(sfu ? { sfu } : {}),
    });
  } catch (error) {
    const code = exitCodeFor(error);
    console.error(`webrtcbin stream: cannot stream ${display}: ${(error as Error).message}\n${exitAdvice(code)}`);
    xvfb?.kill();
    process.exit(code);
  }
  publisher.on('viewer-connected', (id: string) => console.log(`viewer ${id} connected (${publisher.viewers} watching)`));
  publisher.on('sfu-published', ({ room, feed }) => console.log(`published into Janus room ${room} as feed ${feed}`));
  publisher.on('viewer-left', (id: string, reason: string) => console.log(`viewer ${id} left: ${reason}`));
  publisher.on('error', (error: Error) => {
    console.error(`error: ${error.message}`);
    if (error instanceof XDisplayLostError) void stop('display lost', EXIT.displayLost);
    // Refused at join or ended at its `exp`: the same token cannot help, so no restart loop.
    if (error instanceof SignalingError) {
      const code = exitCodeFor(error);
      if (error.reason === 'unauthorized') void stop(`the daemon refused the token (write a new one to the token file; after an HTTP 401/403, check the URL and any proxy in front of the daemon); ${exitAdvice(code)}`, code);
      else if (error.reason === 'token-expired') void stop(`the token expired and the daemon ended the stream (write a new one to the token file, then restart); ${exitAdvice(code)}`, code);
      else void stop(`the daemon will not take this publisher; ${exitAdvice(code)}`, code);
    }
  });
  // Say why the daemon cannot be reached: at the first failure, once more if it persists, not per retry.
  let everJoined = false;
  let lastFailure: DisconnectInfo | undefined;
  publisher.client.on('joined', () => {
    if (!everJoined || lastFailure) console.log(`joined session "${session}"`);
    everJoined = true;
    lastFailure = undefined;
  });
  publisher.client.on('disconnected', (info) => {
    if (info.retryInMs === undefined) return; // final: the 'error' above says it and exits
    lastFailure = info;
    const why = `${info.reason}${info.hint ? ` (${info.hint})` : ''}`;
    if (info.failedAttempts <= 1) console.error(`signaling: ${why}; retrying`);
    else if (info.failedAttempts === REPEATED_FAILURES) console.error(`signaling: still cannot reach the daemon after ${info.failedAttempts} attempts: ${why}; retrying`);
  });
  // The first join must happen in time: a wrong path or a daemon that is not there ends the agent with a
  // code saying which (once joined, a daemon restart is waited out for ever).
  if (connectTimeoutS > 0) {
    const timer = setTimeout(() => {
      if (everJoined) return;
      const refused = lastFailure?.status;
      // An HTTP answer that is not "busy" or "gateway" means the URL points at the wrong thing.
      const wrongUrl = refused !== undefined && refused >= 400 && refused < 500 && refused !== 408 && refused !== 429;
      const code = wrongUrl ? EXIT.config : EXIT.tempfail;
      const why = lastFailure ? `${lastFailure.reason}${lastFailure.hint ? ` (${lastFailure.hint})` : ''}` : 'no answer';
      void stop(`could not join ${url.replace(/\?.*$/, '')} within ${connectTimeoutS} s: ${why}; ${exitAdvice(code)}`, code);
    }, connectTimeoutS * 1000);
    timer.unref();
  }
  const base = values['viewer-base'] ?? env.WEBRTCBIN_VIEWER_BASE;
  console.log(`streaming ${display} to session "${session}" via ${url.replace(/\?.*$/, '')}`);
  if (base) console.log(`viewers open: ${base.replace(/\/$/, '')}/?session=${encodeURIComponent(session)}&token=<viewer token>`);

  let stopping = false;
  async function stop(reason: string, code: number = EXIT.ok): Promise<void> {
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
