// examples/agent.ts runs as it is: against the stand-in VM it starts (daemon, Xvfb, xterm, publish()) it
// types a command in the terminal, waits for the screen to settle and writes the screen as a PNG.
import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNode } from '../helpers/fixture.js';
import { decodePng } from '../helpers/png.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/agent.ts', import.meta.url));

t.test('examples/agent.ts opens a terminal, types, reads the screen back, and exits by itself', async (t) => {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'webrtcbin-agent-example-')), 'screen.png');
  const r = await runNode(['--import', 'tsx', EXAMPLE, out], { timeoutMs: 90_000 });
  t.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  t.notOk(r.timedOut, 'ended by itself');
  t.match(r.stdout, /connected: the screen is 1024x640/);
  t.match(r.stdout, /read the screen back/);
  const png = decodePng(readFileSync(out));
  t.same([png.width, png.height], [1024, 640], 'the PNG is the VM screen');
  // xterm draws black text on white over the top-left corner; the rest of the Xvfb screen is black.
  const at = (x: number, y: number) => png.pixels[(y * png.width + x) * png.channels]!;
  t.ok(at(5, 300) > 200 && at(1020, 630) < 50, 'the terminal is on the screen (white, the rest of the screen black)');
  // Text lines are ~20 px: the command on the first, its answer (hello…, the date) on the next two.
  const dark = (y0: number, y1: number) => {
    let n = 0;
    for (let y = y0; y < y1; y++) for (let x = 0; x < 600; x++) if (at(x, y) < 100) n++;
    return n;
  };
  t.ok(dark(0, 20) > 300, `the command was typed (${dark(0, 20)} dark pixels on its line)`);
  t.ok(dark(22, 60) > 300, `and answered (${dark(22, 60)} dark pixels on the lines below)`);
});
