// `webrtcbin relay`: push a screen (or a test pattern) once into a Janus VideoRoom and let Janus serve the
// audience (docs/sfu.md), without a signaling daemon. Runs until SIGINT/SIGTERM, then leaves the room.
//
//   webrtcbin relay --janus ws://janus:8188 --room 1234 [--display :0 | --xvfb | --test]
//        [--codec h264|vp8|vp9] [--bitrate 2000] [--fps 30] [--width 1280 --height 720]
//        [--janus-pin-file FILE] [--janus-secret-file FILE] [--janus-api-secret-file FILE]
// From the environment: WEBRTCBIN_JANUS, WEBRTCBIN_JANUS_ROOM, DISPLAY, WEBRTCBIN_CODEC, and the secrets
// as WEBRTCBIN_JANUS_PIN(_FILE), WEBRTCBIN_JANUS_SECRET(_FILE), WEBRTCBIN_JANUS_API_SECRET(_FILE) or
// systemd credentials webrtcbin-janus-pin, -secret, -api-secret. Secrets are never printed.
// Exit codes as `stream`: 2 fix the configuration (usage, a codec or source that cannot work, a pin the
// room refuses), 3 the X display was lost, 0 on a signal. Janus being away is waited out (retried).
import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { XDisplayLostError } from '../errors.js';
import type { VideoCodec } from '../types.js';
import { EXIT, exitAdvice, exitCodeFor } from './exit-codes.js';
import { SECRETS, resolveSecret, warnArgvSecret } from './secrets.js';
import { startXvfb } from './xvfb.js';

export const RELAY_USAGE = `usage: webrtcbin relay --janus WS_URL --room N [options]
  --janus WS_URL (WEBRTCBIN_JANUS)  --room N (WEBRTCBIN_JANUS_ROOM): the VideoRoom, created if absent
  --display :N (DISPLAY)  --xvfb  --test (a test pattern, no X)
  --codec h264|vp8|vp9 (WEBRTCBIN_CODEC, h264)  --bitrate KBPS (2000)  --fps N (30)  --width W --height H (1280x720)
  --janus-pin-file FILE (WEBRTCBIN_JANUS_PIN_FILE or WEBRTCBIN_JANUS_PIN): the room's pin
  --janus-secret-file FILE (WEBRTCBIN_JANUS_SECRET…): the room's secret, to create it
  --janus-api-secret-file FILE (WEBRTCBIN_JANUS_API_SECRET…): Janus's api_secret`;

export async function relayCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      janus: { type: 'string' },
      room: { type: 'string' },
      display: { type: 'string' },
      xvfb: { type: 'boolean' },
      test: { type: 'boolean' },
      codec: { type: 'string' },
      bitrate: { type: 'string' },
      fps: { type: 'string' },
      width: { type: 'string' },
      height: { type: 'string' },
      'janus-pin': { type: 'string' },
      'janus-pin-file': { type: 'string' },
      'janus-secret': { type: 'string' },
      'janus-secret-file': { type: 'string' },
      'janus-api-secret': { type: 'string' },
      'janus-api-secret-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(RELAY_USAGE);
    return EXIT.ok;
  }
  const fail = (message: string, code: number = EXIT.config): number => {
    console.error(`webrtcbin relay: ${message}\n${exitAdvice(code)}`);
    return code;
  };
  const janus = values.janus ?? env.WEBRTCBIN_JANUS;
  const roomText = values.room ?? env.WEBRTCBIN_JANUS_ROOM;
  if (!janus || !roomText) return fail(`--janus (WEBRTCBIN_JANUS) and --room (WEBRTCBIN_JANUS_ROOM) are required\n${RELAY_USAGE}`);
  let pin: string | undefined, secret: string | undefined, apiSecret: string | undefined;
  try {
    const take = (spec: (typeof SECRETS)[keyof typeof SECRETS], value?: string, file?: string) => {
      const resolved = resolveSecret(spec, { value, file }, env);
      if (resolved.onArgv) warnArgvSecret(spec);
      return resolved.value;
    };
    pin = take(SECRETS.janusPin, values['janus-pin'], values['janus-pin-file']);
    secret = take(SECRETS.janusSecret, values['janus-secret'], values['janus-secret-file']);
    apiSecret = take(SECRETS.janusApiSecret, values['janus-api-secret'], values['janus-api-secret-file']);
  } catch (error) {
    return fail((error as Error).message);
  }
  const number = (text: string | undefined, fallback: number) => (text === undefined || text === '' ? fallback : Number(text));
  const width = number(values.width, 1280);
  const height = number(values.height, 720);
  let xvfb: ChildProcess | undefined;
  let display = values.display ?? env.DISPLAY;
  if (values.xvfb) {
    display = values.display ?? ':99';
    xvfb = await startXvfb(display, `${width}x${height}x24`);
  }
  if (!values.test && !display) return fail('no X display: pass --display :0, set DISPLAY, use --xvfb, or --test for a test pattern');

  const { relay } = await import('../sfu/relay.js');
  let running: ReturnType<typeof relay>;
  try {
    running = relay({
      janus,
      room: Number(roomText),
      pin,
      secret,
      apiSecret,
      source: values.test ? { kind: 'test', pattern: 'ball' } : { kind: 'x11', display },
      video: {
        codec: ((values.codec ?? env.WEBRTCBIN_CODEC) || 'h264') as VideoCodec,
        bitrate: number(values.bitrate, 2000),
        fps: number(values.fps, 30),
        width,
        height,
      },
    });
  } catch (error) {
    xvfb?.kill();
    return fail(`cannot relay: ${(error as Error).message}`, exitCodeFor(error));
  }
  const where = `room ${roomText} of ${janus.replace(/\?.*$/, '')}`;
  let stopping = false;
  const stop = async (reason: string, code: number = EXIT.ok): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log(`${reason}: stopping`);
    await running.close();
    xvfb?.kill();
    process.exitCode = code;
  };
  running.on('published', ({ feed }) => console.log(`published into ${where} as feed ${feed}`));
  running.on('error', (error) => {
    console.error(`error: ${error.message}`);
    if (error instanceof XDisplayLostError) void stop('display lost', EXIT.displayLost);
    else if ((error as { retryInMs?: number }).retryInMs === undefined) void stop(`the relay cannot go on; ${exitAdvice(EXIT.config)}`, EXIT.config);
  });
  console.log(`relaying ${values.test ? 'a test pattern' : display} into ${where}`);
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  return -1;
}
