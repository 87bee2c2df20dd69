// The VM side of bench/sfu.ts in a process of its own, so its CPU is the publisher's alone: publish() a
// WIDTHxHEIGHT@30 H.264 test pattern at KBPS to a daemon session (token in WEBRTCBIN_TOKEN), and with
// JANUS_URL ROOM also into a Janus room.
//   node --import tsx bench/support/sfu-publisher.ts URL SESSION WIDTHxHEIGHT KBPS [JANUS_URL ROOM]
import { publish } from '../../lib/client.js';

const [url, session, size, kbps, janus, room] = process.argv.slice(2);
const [width, height] = size!.split('x').map(Number);
const publisher = publish({
  url: url!,
  session: session!,
  token: process.env.WEBRTCBIN_TOKEN,
  source: { kind: 'test', pattern: 'ball' },
  video: { codec: 'h264', width: width!, height: height!, fps: 30, bitrate: Number(kbps) },
  adaptiveBitrate: false, // the same target for both paths: what differs is only who fans out
  ...(janus ? { sfu: { janus, room: Number(room) } } : {}),
});
publisher.on('sfu-published', ({ feed }) => console.log(`feed ${feed}`));
publisher.on('error', (error) => console.error(`publisher: ${error.message}`));
publisher.client.on('joined', () => console.log('joined'));
process.once('SIGTERM', () => void publisher.close().then(() => process.exit(0)));
