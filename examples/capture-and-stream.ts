// The script a VM runs: stream its X display (or an Xvfb it starts) to viewers through a signaling
// daemon elsewhere (a controller), until SIGINT/SIGTERM. It is `webrtcbin stream` (lib/cli/stream.ts, which
// shows the publish() call), so an installed package runs the same thing without tsx:
//
//   node --import tsx examples/capture-and-stream.ts --url wss://controller/v1/ws --session vm-42 \
//        --token "$PUBLISHER_TOKEN" [--display :0 | --xvfb] [--codec vp8|vp9|h264] [--bitrate 2000]
//        [--fps 30] [--width 1280 --height 720] [--audio pulse|test] [--viewer-base https://controller/]
//   npx webrtcbin stream …the same flags…
// Every flag may come from the environment instead: WEBRTCBIN_URL, WEBRTCBIN_SESSION, WEBRTCBIN_TOKEN,
// DISPLAY, WEBRTCBIN_XVFB=1, WEBRTCBIN_CODEC, WEBRTCBIN_BITRATE, WEBRTCBIN_FPS, WEBRTCBIN_WIDTH,
// WEBRTCBIN_HEIGHT, WEBRTCBIN_AUDIO, WEBRTCBIN_VIEWER_BASE. `--audio pulse` sends what the desktop plays
// (PulseAudio/PipeWire monitor). Exit code 3: the X display was lost (for the service manager).
import { stream } from '../lib/cli/stream.js';

await stream(process.argv.slice(2));
