// A description or a display GStreamer refuses is reported as what it is: GStreamer's own parse message
// for a mistake in the description, MissingPluginError only for an element the registry lacks, and the
// display named (with what to do) when an X capture cannot open it. For a peer and for a Streamer.
import t from 'tap';
import { existsSync } from 'node:fs';
import { MissingPluginError, PipelineError, Streamer, WebRtcPeer } from '../../lib/index.js';

type Make = (source: ConstructorParameters<typeof Streamer>[0]['source']) => { close(): Promise<void> };
const makers: [string, Make][] = [
  ['WebRtcPeer', (source) => new WebRtcPeer({ source })],
  ['Streamer', (source) => new Streamer({ source })],
];

function thrown(make: () => unknown): Error {
  try {
    const made = make() as { close?: () => Promise<void> };
    void made.close?.();
  } catch (error) {
    return error as Error;
  }
  throw new Error('no error was thrown');
}

// A display number no X server serves: no lock file (the stale sockets of killed servers do not count).
function deadDisplay(): string {
  let n = 4000 + Math.floor(Math.random() * 1000);
  while (existsSync(`/tmp/.X${n}-lock`)) n++;
  return `:${n}`;
}

for (const [what, make] of makers) {
  t.test(`${what}: a property typo is GStreamer's parse message, not a missing plugin`, async (t) => {
    const error = thrown(() => make({ kind: 'pipeline', description: 'videotestsrc patern=ball' }));
    t.notOk(error instanceof MissingPluginError, `not MissingPluginError: ${error.name}: ${error.message}`);
    t.type(error, PipelineError);
    t.equal((error as PipelineError).code, 'ERR_PIPELINE');
    t.match(error.message, /no property "patern" in element "videotestsrc"/, 'GStreamer says which property of which element');
  });

  t.test(`${what}: a bad property value is GStreamer's message too`, async (t) => {
    const error = thrown(() => make({ kind: 'pipeline', description: 'videotestsrc pattern=nosuchpattern' }));
    t.type(error, PipelineError);
    t.match(error.message, /could not set property "pattern" in element "videotestsrc" to "nosuchpattern"/);
  });

  t.test(`${what}: an element the registry lacks is MissingPluginError naming it`, async (t) => {
    const error = thrown(() => make({ kind: 'pipeline', description: 'videotestsrc ! nosuchelement' }));
    t.type(error, MissingPluginError);
    t.equal((error as MissingPluginError).element, 'nosuchelement');
    t.match(error.message, /'nosuchelement' is not available/);
  });

  t.test(`${what}: an X display nobody serves is named, with what to do`, async (t) => {
    const display = deadDisplay();
    const error = thrown(() => make({ kind: 'x11', display }));
    t.type(error, PipelineError);
    t.equal((error as PipelineError).code, 'ERR_X_DISPLAY');
    t.ok(error.message.includes(`X display ${display} could not be opened`), error.message);
    t.match(error.message, /Xvfb/, 'says how to start a server');
    t.match(error.message, /XAUTHORITY/, 'and that access may be refused');
    t.notMatch(error.message, /failed to post a proper error message/, "not basesrc's fallback");
  });
}

t.test('an ximagesrc inside a pipeline description: the display error without a name to give', async (t) => {
  const error = thrown(() => new WebRtcPeer({ source: { kind: 'pipeline', description: `ximagesrc display-name=${deadDisplay()}` } }));
  t.type(error, PipelineError);
  t.equal((error as PipelineError).code, 'ERR_X_DISPLAY');
  t.match(error.message, /the X display ximagesrc reads \(its display-name/);
});
