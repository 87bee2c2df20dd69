// Decoding a JPEG in tests with GStreamer's own jpegdec, in a gst-launch-1.0 child (not our addon):
// the size from the file's SOF marker, the pixels as packed RGBA.
import { spawn } from 'node:child_process';

/** Width and height from the first SOF0–SOF2 marker. */
export function jpegSize(file: Buffer): { width: number; height: number } {
  let offset = 2;
  while (offset + 9 < file.length) {
    if (file[offset] !== 0xff) throw new Error(`not a JPEG marker at ${offset}`);
    const marker = file[offset + 1]!;
    const length = file.readUInt16BE(offset + 2);
    if (marker >= 0xc0 && marker <= 0xc2) return { height: file.readUInt16BE(offset + 5), width: file.readUInt16BE(offset + 7) };
    offset += 2 + length;
  }
  throw new Error('no SOF marker in the JPEG');
}

export async function decodeJpeg(file: Buffer): Promise<{ width: number; height: number; pixels: Buffer }> {
  const { width, height } = jpegSize(file);
  const child = spawn('gst-launch-1.0', ['-q', 'fdsrc', 'fd=0', '!', 'jpegdec', '!', 'videoconvert', '!', 'video/x-raw,format=RGBA', '!', 'fdsink', 'fd=1'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin.end(file);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const pixels = Buffer.concat(out);
  if (code !== 0 || pixels.length < width * height * 4) throw new Error(`gst-launch jpegdec failed (${code}): ${err}`);
  return { width, height, pixels: pixels.subarray(0, width * height * 4) };
}
