// A browser watching through Janus with no help from Node: a headless Chromium opens a page that speaks
// Janus's WebSocket API itself (test/fixtures/janus/viewer.html, plain JSON) and decodes the relayed
// stream, as an audience's page would.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { relay } from '../../lib/sfu/relay.js';
import { launchChromium } from '../helpers/browser.js';
import { startJanus } from '../helpers/janus.js';

const PAGE = fileURLToPath(new URL('../fixtures/janus/viewer.html', import.meta.url));

t.test('a page subscribing to Janus by itself decodes the relayed H.264', async (t) => {
  const janus = await startJanus();
  t.teardown(() => janus.stop());
  const r = relay({ janus: janus.url, room: 4004, pin: 'page-pin', source: { kind: 'test' }, video: { width: 320, height: 240 } });
  t.teardown(() => r.close());
  const { feed } = await new Promise<{ feed: number | string }>((resolve) => r.once('published', resolve));

  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const query = new URLSearchParams({ janus: janus.url, room: '4004', feed: String(feed), pin: 'page-pin' });
  await page.goto(`file://${PAGE}?${query}`);
  const decoded = async () =>
    page.evaluate(async () => {
      const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
      let frames = 0;
      let codec = '';
      const report = await pc.getStats();
      report.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') {
          frames = s.framesDecoded ?? 0;
          codec = report.get(s.codecId)?.mimeType ?? '';
        }
      });
      return { frames, codec, state: (window as unknown as { janusState: { status: string; error: string | null } }).janusState };
    });
  let last = { frames: 0, codec: '', state: { status: '', error: null as string | null } };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    last = await decoded();
    if (last.frames >= 20 || last.state.status === 'failed') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  t.equal(last.state.status, 'started', `the page's Janus session: ${JSON.stringify(last.state)}`);
  t.ok(last.frames >= 20, `the page decoded ${last.frames} frames`);
  t.match(last.codec, /H264/i);
});
