// PNG from an RGBA frame with Node's own zlib: the rows are laid out on the JS thread (a copy, no
// arithmetic: filter type 0), the deflate runs on libuv's thread pool. The measured alternative to the
// addon's pngenc (docs/api.md, "Screenshots").
import { deflate } from 'node:zlib';
import { promisify } from 'node:util';

const deflateAsync = promisify(deflate);
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, tail]);
}

/** RGBA rows (`stride` bytes apart) → a PNG file, 8-bit RGB (alpha dropped: a screen is opaque). */
export async function encodePng(data: Buffer, width: number, height: number, stride = width * 4, level = 3): Promise<Buffer> {
  const row = width * 3 + 1;
  const raw = Buffer.alloc(row * height);
  for (let y = 0; y < height; y++) {
    let src = y * stride;
    let dst = y * row + 1; // filter byte 0: None
    for (let x = 0; x < width; x++, src += 4, dst += 3) {
      raw[dst] = data[src]!;
      raw[dst + 1] = data[src + 1]!;
      raw[dst + 2] = data[src + 2]!;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', await deflateAsync(raw, { level })), chunk('IEND', Buffer.alloc(0))]);
}
