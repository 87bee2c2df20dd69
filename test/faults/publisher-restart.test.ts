// The publisher process is SIGKILLed and started again: every viewer hears peer-left, waits, and decodes
// again from the new publisher without any help: the bundled viewer page in real Chromium, and a Node
// viewer process built on SignalingClient.
import t from 'tap';
import type { Page } from 'playwright-core';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { launchChromium, viewerFrames } from '../helpers/browser.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { Proc } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (e) => unhandled.push(e));
const VIEWER = new URL('./fixtures/viewer.ts', import.meta.url).pathname;
const PUBLISHER = new URL('./fixtures/publisher.ts', import.meta.url).pathname;
const token = (role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session: 'pubkill', role, ttlSeconds: 600 });

const pageFrames = viewerFrames;
const pageState = (page: Page) => page.evaluate(() => (window as unknown as { __viewerState?: string }).__viewerState ?? '');

t.test('publisher SIGKILL and restart: viewers see peer-left, then decode again on their own', async (t) => {
  const daemon = await startDaemon({ pingIntervalMs: 1000 });
  t.teardown(() => daemon.app.close());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  let publisher = new Proc(PUBLISHER, [daemon.url, 'pubkill', token('publisher')]);
  t.teardown(() => publisher.kill());
  await publisher.waitLine(/^joined /);
  const node = new Proc(VIEWER, [daemon.url, 'pubkill', token('viewer')]);
  t.teardown(() => node.kill());
  const page = await browser.newPage();
  const states: string[] = [];
  const poll = setInterval(() => void pageState(page).then((s) => s !== states.at(-1) && states.push(s)).catch(() => {}), 100);
  t.teardown(() => clearInterval(poll));
  await page.goto(`${daemon.http}/?session=pubkill&token=${token('viewer')}`);
  await node.waitFrames(15, 30_000);
  const deadline = Date.now() + 30_000;
  while ((await pageFrames(page)) < 15 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  t.ok((await pageFrames(page)) >= 15, 'the page decodes');
  t.pass('both viewers decode from the first publisher');

  for (let round = 1; round <= 2; round++) {
    const mark = node.lines.length;
    const killedAt = Date.now();
    await publisher.kill('SIGKILL');
    await node.waitLine(/^peer-left publisher/, 10_000, mark);
    t.pass(`round ${round}: the Node viewer got peer-left ${Date.now() - killedAt} ms after SIGKILL`);
    await waitFor('the page to wait for a publisher', () => states.at(-1) === 'waiting-for-publisher', 10_000);
    t.pass(`round ${round}: the page says waiting-for-publisher`);
    const nodeBefore = node.frames;
    const pageBefore = await pageFrames(page);
    await new Promise((r) => setTimeout(r, 500));
    publisher = new Proc(PUBLISHER, [daemon.url, 'pubkill', token('publisher')]);
    await publisher.waitLine(/^joined /, 20_000);
    await node.waitLine(/^joined |^state connected/, 20_000, mark);
    const want = nodeBefore + 15;
    const until = Date.now() + 30_000;
    while (node.frames < want && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    // The viewer counts frames across peers; a new peer's frames add up.
    t.ok(node.frames >= want, `round ${round}: the Node viewer decodes again (${node.frames - nodeBefore} new frames)`);
    let pageNow = 0;
    const pageUntil = Date.now() + 30_000;
    while (Date.now() < pageUntil) {
      pageNow = await pageFrames(page);
      if (states.at(-1) !== 'waiting-for-publisher' && pageNow > 10 && pageNow !== pageBefore) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const a = await pageFrames(page);
    await new Promise((r) => setTimeout(r, 1000));
    const b = await pageFrames(page);
    t.ok(b > a, `round ${round}: the page decodes again (${a} → ${b} frames in 1 s; state ${states.at(-1)})`);
  }
  t.notOk(publisher.lines.some((l) => l.startsWith('error')), 'the last publisher reported no error');
  t.same(unhandled, []);
  t.comment(`page states: ${states.join(' → ')}`);
});
