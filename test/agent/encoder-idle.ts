// Child process of image-encoder.test.ts: one image encoder used once and never closed, another
// garbage-collected unclosed (run with --expose-gc). Idle, neither may keep the process alive (like an
// unreferenced timer); the collected one stops its thread, the exit cleanup closes the other.
import { loadBinding } from '../../lib/native/binding.js';

const CAPS = 'video/x-raw,format=RGBA,width=16,height=16,framerate=0/1';
const binding = loadBinding();
const encoder = new binding.NativeImageEncoder();
const png = await encoder.encode(Buffer.alloc(16 * 16 * 4, 200), CAPS, 'videoconvert ! pngenc');
await (async () => {
  const dropped = new binding.NativeImageEncoder();
  await dropped.encode(Buffer.alloc(16 * 16 * 4, 100), CAPS, 'videoconvert ! jpegenc');
})();
for (let i = 0; i < 3; i++) {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 50));
}
console.log(`encoded ${png.length}`);
