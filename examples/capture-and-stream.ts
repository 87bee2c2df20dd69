// The script a VM runs: stream its X display (or an Xvfb it starts) to viewers through a signaling
// daemon elsewhere (a controller), until SIGINT/SIGTERM.
//
//   node --import tsx examples/capture-and-stream.ts --url wss://controller/v1/ws --session vm-42 \
//        --token "$PUBLISHER_TOKEN" [--display :0 | --xvfb] [--codec vp8|vp9|h264] [--bitrate 2000]
//        [--fps 30] [--width 1280 --height 720] [--audio pulse|test] [--viewer-base https://controller/]
// Every flag may come from the environment instead: WEBRTCBIN_URL, WEBRTCBIN_SESSION, WEBRTCBIN_TOKEN,
// DISPLAY, WEBRTCBIN_CODEC, WEBRTCBIN_BITRATE, WEBRTCBIN_FPS, WEBRTCBIN_WIDTH, WEBRTCBIN_HEIGHT,
// WEBRTCBIN_AUDIO. `--audio pulse` sends what the desktop plays (PulseAudio/PipeWire monitor).
import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { XDisplayLostError, publish, type VideoCodec } from '../lib/index.js';
import { startXvfb } from '../lib/xvfb.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    session: { type: 'string' },
    token: { type: 'string' },
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
const env = process.env;
const url = values.url ?? env.WEBRTCBIN_URL;
const session = values.session ?? env.WEBRTCBIN_SESSION;
if (!url || !session) {
  console.error('capture-and-stream: --url (WEBRTCBIN_URL) and --session (WEBRTCBIN_SESSION) are required');
  process.exit(2);
}
const number = (flag: string | undefined, fallback: number) => (flag === undefined ? fallback : Number(flag));
const width = number(values.width ?? env.WEBRTCBIN_WIDTH, 1280);
const height = number(values.height ?? env.WEBRTCBIN_HEIGHT, 720);

let xvfb: ChildProcess | undefined;
let display = values.display ?? env.DISPLAY;
if (values.xvfb) {
  display = values.display ?? ':99';
  try {
    xvfb = await startXvfb(display, `${width}x${height}x24`);
  } catch (error) {
    console.error(`capture-and-stream: ${(error as Error).message}`);
    process.exit(1);
  }
}
if (!display) {
  console.error('capture-and-stream: no X display: pass --display :0, set DISPLAY, or use --xvfb');
  process.exit(2);
}

const audio = values.audio ?? env.WEBRTCBIN_AUDIO;
if (audio !== undefined && audio !== 'pulse' && audio !== 'test' && audio !== 'none') {
  console.error('capture-and-stream: --audio must be pulse, test or none');
  process.exit(2);
}
const publisher = publish({
  url,
  session,
  token: values.token ?? env.WEBRTCBIN_TOKEN,
  source: { kind: 'x11', display },
  video: {
    codec: (values.codec ?? env.WEBRTCBIN_CODEC ?? 'vp8') as VideoCodec,
    bitrate: number(values.bitrate ?? env.WEBRTCBIN_BITRATE, 2000),
    fps: number(values.fps ?? env.WEBRTCBIN_FPS, 30),
    width,
    height,
  },
  ...(audio === 'pulse' || audio === 'test' ? { audio: { source: audio } } : {}),
});
publisher.on('viewer-connected', (id) => console.log(`viewer ${id} connected (${publisher.viewers} watching)`));
publisher.on('viewer-left', (id, reason) => console.log(`viewer ${id} left: ${reason}`));
publisher.on('error', (error) => {
  console.error(`error: ${error.message}`);
  // The display is gone: exit non-zero so the service manager restarts the agent (and its Xvfb).
  if (error instanceof XDisplayLostError) void stop('display lost', 3);
});
const base = values['viewer-base'];
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
