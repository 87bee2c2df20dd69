// A receiving VM agent: joins a session, receives whatever a browser (examples/publish-webcam.html)
// or a WHIP client publishes, writes a PNG snapshot every second and prints a line of frame stats.
// Run: WEBRTCBIN_URL=ws://127.0.0.1:8080/v1/ws WEBRTCBIN_TOKEN=<publisher token> node --import tsx examples/receive-frames.ts [session] [outdir]
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import type { Frame } from '../lib/index.js';
import { receive } from '../lib/client.js';

const session = process.argv[2] ?? 'webcam';
const outDir = process.argv[3] ?? '.';
const agent = receive({
  url: process.env.WEBRTCBIN_URL ?? 'ws://127.0.0.1:8080/v1/ws',
  session,
  token: process.env.WEBRTCBIN_TOKEN,
  video: { format: 'RGBA', maxFps: 10 },
});

// A minimal PNG encoder (RGBA, no filter): enough for snapshots without a dependency.
function png(frame: Frame): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const byte of buf) c = crcTable[(c ^ byte) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'ascii');
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(crc(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, tail]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(frame.width, 0);
  ihdr.writeUInt32BE(frame.height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const rows = Buffer.alloc((frame.width * 4 + 1) * frame.height);
  for (let y = 0; y < frame.height; y++) {
    frame.data.copy(rows, y * (frame.width * 4 + 1) + 1, y * frame.stride, y * frame.stride + frame.width * 4);
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

let last = 0;
let count = 0;
agent.on('frame', (frame, from) => {
  count++;
  if (Date.now() - last < 1000) return;
  last = Date.now();
  const file = path.join(outDir, `snapshot-${from}.png`);
  writeFileSync(file, png(frame));
  console.log(`${from}: ${frame.width}x${frame.height} ${frame.format}, ${count} frames, ${frame.dropped} dropped → ${file}`);
});
agent.on('viewer-connected', (id) => console.log(`${id} is publishing to us`));
process.once('SIGINT', () => void agent.close());
process.once('SIGTERM', () => void agent.close());
