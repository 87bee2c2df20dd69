// Child process of order.test.ts: a view, two screenshots (the native image encoder), close() twice;
// then nothing may keep the process alive: no timer, no exit call.
import { view } from '../../lib/client.js';

const [url, session, token] = process.argv.slice(2) as [string, string, string];
const v = view({ url, session, token });
await v.ready;
const png = await v.screenshot({ format: 'png' });
const jpeg = await v.screenshot({ format: 'jpeg' });
await Promise.all([v.close(), v.close()]);
console.log(`closed ${v.width}x${v.height} png ${png.length} jpeg ${jpeg.length}`);
