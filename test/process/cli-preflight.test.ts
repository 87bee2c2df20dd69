// Fail fast in the library: publish() builds its source and encoder once before it connects, so a
// broken one throws from publish() itself (nobody connects, no viewer ever waits for it) with
// GStreamer's reason; and the quick start's test source is the one that looks like a screen.
import t from 'tap';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { MissingPluginError, PipelineError, InvalidArgumentError } from '../../lib/errors.js';
import { publish } from '../../lib/publish/publisher.js';
import { checkSource } from '../../lib/publish/preflight.js';
import { TEST_SOURCE_OVERLAYS, testSource } from '../../lib/cli/start.js';
import { elementsPresent } from '../../lib/native/elements.js';

// A TCP listener that only counts who connects: publish() must not get that far.
async function listener(t: Tap.Test): Promise<{ url: string; connections: () => number }> {
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/ws`, connections: () => count };
}

function deadDisplay(): string {
  let n = 5000 + Math.floor(Math.random() * 1000);
  while (existsSync(`/tmp/.X${n}-lock`)) n++;
  return `:${n}`;
}

const broken: [string, Parameters<typeof publish>[0]['source'], Parameters<typeof publish>[0]['video'], new (...args: never[]) => Error, RegExp][] = [
  ['a property typo', { kind: 'pipeline', description: 'videotestsrc patern=ball' }, undefined, PipelineError, /no property "patern" in element "videotestsrc"/],
  ['an element nobody installed', { kind: 'pipeline', description: 'videotestsrc ! nosuchfilter' }, undefined, MissingPluginError, /'nosuchfilter' is not available/],
  ['a source that cannot start', { kind: 'pipeline', description: 'filesrc location=/nonexistent/file ! decodebin' }, undefined, PipelineError, /could not start.*Resource not found/],
  ['an X display nobody serves', { kind: 'x11', display: deadDisplay() }, undefined, PipelineError, /X display :\d+ could not be opened/],
  ['a codec that does not exist', { kind: 'test' }, { codec: 'h265' as 'h264' }, InvalidArgumentError, /video\.codec must be/],
];

for (const [what, source, video, type, message] of broken) {
  t.test(`publish() throws for ${what}, before connecting`, async (t) => {
    const daemon = await listener(t);
    let publisher: ReturnType<typeof publish> | undefined;
    const error = (() => {
      try {
        publisher = publish({ url: daemon.url, session: 's', source, video });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    if (publisher) await publisher.close();
    t.type(error, type, `${error?.name}: ${error?.message}`);
    t.match(error?.message, message);
    await new Promise((r) => setTimeout(r, 300));
    t.equal(daemon.connections(), 0, 'it never connected');
  });
}

t.test('publish() of a working source connects as before', async (t) => {
  const daemon = await listener(t);
  const publisher = publish({ url: daemon.url, session: 's', source: { kind: 'test' }, video: { codec: 'vp8', width: 320, height: 240 } });
  t.teardown(() => publisher.close());
  const deadline = Date.now() + 10_000;
  while (daemon.connections() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.ok(daemon.connections() > 0, 'it connected');
});

t.test("the quick start's test source: a clock, a running time code and a caption, and it starts", async (t) => {
  const present = elementsPresent(TEST_SOURCE_OVERLAYS);
  if (![...present.values()].every(Boolean)) return t.skip('no pango overlays (gstreamer1.0-x) here');
  const source = testSource(1280, 720);
  t.equal(source.kind, 'pipeline');
  const description = source.kind === 'pipeline' ? source.description : '';
  t.match(description, /\bclockoverlay\b/, 'a wall clock');
  t.match(description, /\btimeoverlay\b/, 'a time code that changes every frame');
  t.match(description, /\btextoverlay text="[^"]*--xvfb[^"]*"/, 'a caption saying how to stream a desktop');
  t.match(description, /width=1280,height=720/, 'drawn at the stream size (no upscaled blur)');
  t.notMatch(description, /pattern=ball/, 'not the ball on black');
  t.doesNotThrow(() => checkSource({ source, video: { codec: 'vp8' } }), 'GStreamer parses and starts it');
  t.same(testSource(1280, 720, () => false), { kind: 'test', pattern: 'ball' }, 'without the overlays: the moving ball');
});
