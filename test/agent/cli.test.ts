// `webrtcbin shot` and `webrtcbin input` from a shell, as scripts and operators run them: the real CLI in a
// child process, a real daemon, publish() streaming an Xvfb display with an X client on it.
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { parseAction } from '../../lib/cli/input.js';
import { UsageError } from '../../lib/cli/remote-screen.js';
import { SECRET } from '../helpers/daemon.js';
import { runNode, type FixtureResult } from '../helpers/fixture.js';
import { decodePng } from '../helpers/png.js';
import { waitFor } from '../helpers/wait.js';
import { startDesk } from '../helpers/desk.js';

const CLI = fileURLToPath(new URL('../../lib/cli/cli.ts', import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'webrtcbin-agent-cli-'));

/** The CLI from source with these arguments; no token in the environment unless given. */
function webrtcbin(args: string[], env: NodeJS.ProcessEnv = {}): Promise<FixtureResult> {
  return runNode(['--import', 'tsx', CLI, ...args], { timeoutMs: 60_000, env: { WEBRTCBIN_TOKEN: '', WEBRTCBIN_TOKEN_FILE: '', WEBRTCBIN_URL: '', WEBRTCBIN_SESSION: '', ...env } });
}

function tokenFile(token: string): string {
  const file = path.join(mkdtempSync(path.join(scratch, 'token-')), 'token');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return file;
}

t.test('actions are checked before connecting: usage mistakes are exit-2 material with the words to fix them', async (t) => {
  t.throws(() => parseAction(['click', '10'], {}), UsageError, 'click needs X and Y');
  t.throws(() => parseAction(['click', '10', 'ten'], {}), /Y must be a whole number, not "ten"/);
  t.throws(() => parseAction(['click', '1', '2'], { button: 'side' }), /--button must be one of left, middle, right/);
  t.throws(() => parseAction(['jump'], {}), /unknown action "jump"/);
  t.throws(() => parseAction(['clipboard', 'erase'], {}), /clipboard takes read or write/);
  t.throws(() => parseAction(['key', '1', '2'], { count: '2' }), /--button and --count go with click/);
  t.type(parseAction(['scroll', '0', '-3'], {}), 'function', 'scroll takes a negative notch count');

  const r = await webrtcbin(['input', '--url', 'ws://127.0.0.1:9/v1/ws', '--session', 's', 'scroll', '0', '-3', 'extra']);
  t.equal(r.code, 2, 'exit 2');
  t.match(r.stderr, /scroll takes DX DY, not: 0 -3 extra/);
  t.match(r.stderr, /usage: webrtcbin input/, 'with the usage');
  const help = await webrtcbin(['shot', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /--format png\|jpeg/);
});

t.test('shot and input against a VM session streamed from Xvfb', async (t) => {
  const { xev, daemon } = await startDesk(t, { session: 'vm' });
  const target = ['--url', daemon.url, '--session', 'vm'];
  const viewOnly = tokenFile(mintToken({ secret: SECRET, session: 'vm', role: 'viewer' }));
  const control = tokenFile(mintToken({ secret: SECRET, session: 'vm', role: 'viewer', control: true }));

  await t.test('shot writes a PNG of the VM screen at its size, to a file and to stdout', async (t) => {
    const out = path.join(scratch, 'screen.png');
    const r = await webrtcbin(['shot', ...target, '--token-file', viewOnly, out]);
    t.equal(r.code, 0, r.stderr);
    const png = decodePng(readFileSync(out));
    t.same([png.width, png.height], [640, 480], 'the PNG decodes to the VM screen size');
    t.match(r.stderr, /640x480 png/, 'says what it wrote');

    const piped = await runNode(['--import', 'tsx', CLI, 'shot', ...target, '-'], { timeoutMs: 60_000, env: { WEBRTCBIN_TOKEN_FILE: viewOnly, WEBRTCBIN_TOKEN: '' } });
    t.equal(piped.code, 0, piped.stderr);
    // runNode collects stdout as text; a PNG's signature survives as its first four characters.
    t.equal(piped.stdout.slice(1, 4), 'PNG', 'stdout carries the PNG (token from WEBRTCBIN_TOKEN_FILE)');
  });

  await t.test('shot takes the viewer page\'s address as printed by `start` (session and token from its query)', async (t) => {
    const page = new URL(daemon.url.replace(/^ws/, 'http').replace(/v1\/ws$/, ''));
    page.searchParams.set('session', 'vm');
    page.searchParams.set('token', readFileSync(viewOnly, 'utf8').trim());
    const out = path.join(scratch, 'from-page.png');
    const r = await webrtcbin(['shot', '--url', page.href, out]);
    t.equal(r.code, 0, r.stderr);
    t.same([decodePng(readFileSync(out)).width, decodePng(readFileSync(out)).height], [640, 480], 'the PNG of the VM screen');
    t.match(r.stderr, /"flag":"--token"/, 'a token inside --url is on argv too: warned about');
    t.notMatch(r.stderr, page.searchParams.get('token')!, 'and never printed');
  });

  await t.test('input click lands on the X window at that pixel; a right click and a key combination arrive', async (t) => {
    const click = await webrtcbin(['input', ...target, '--token-file', control, 'click', '200', '150']);
    t.equal(click.code, 0, click.stderr);
    // Acknowledged: the X server has the event when the command exits; xev prints it through a pipe a moment later.
    await waitFor('the ButtonPress at xev', () => /ButtonPress event[^]*?root:\(/.test(xev.text), 2000).catch(() => {});
    const press = /ButtonPress event[^]*?root:\((\d+),(\d+)\)/.exec(xev.text);
    t.ok(press, 'a ButtonPress reached the X client when the command exited (acknowledged input)');
    t.same([Number(press?.[1]), Number(press?.[2])], [200, 150], 'at the pixel asked for');
    t.match(xev.text, /button 1,/, 'with the left button');

    const right = await webrtcbin(['input', ...target, '--token-file', control, 'click', '20', '30', '--button', 'right']);
    t.equal(right.code, 0, right.stderr);
    await waitFor('the right click at xev', () => /root:\(20,30\)[^]*?button 3,/.test(xev.text), 2000).catch(() => {});
    t.match(xev.text, /ButtonPress event[^]*?root:\(20,30\)[^]*?button 3,/, 'the right button at (20,30)');

    const key = await webrtcbin(['input', ...target, '--token-file', control, 'key', 'ctrl+a']);
    t.equal(key.code, 0, key.stderr);
    await waitFor('ctrl+a at the X client', () => /Control_L[^]*keysym 0x61, a\)/.test(xev.text), 5000).catch(() => {});
    t.match(xev.text, /KeyPress event[^]*Control_L[^]*KeyPress event[^]*state 0x4[^]*keysym 0x61, a\)/, 'a pressed with Control held');
  });

  await t.test('input with a view-only token: refused, exit 2, and says the token lacks the control claim', async (t) => {
    const r = await webrtcbin(['input', ...target, '--token-file', viewOnly, 'click', '10', '10']);
    t.equal(r.code, 2, r.stderr);
    t.match(r.stderr, /control/i, 'names control');
    t.match(r.stderr, /exit 2: fix the configuration/);
  });

  await t.test('a bad token: exit 2 with the daemon\'s refusal in words; the token given on argv is warned about and never printed', async (t) => {
    const bad = mintToken({ secret: 'another-secret-0123456789', session: 'vm', role: 'viewer' });
    const r = await webrtcbin(['shot', ...target, '--token', bad, path.join(scratch, 'never.png')]);
    t.equal(r.code, 2, r.stderr);
    t.match(r.stderr, /token/i, 'the message is about the token');
    t.match(r.stderr, /exit 2: fix the configuration/);
    t.match(r.stderr, /"flag":"--token"/, 'a warning that the token was on the command line');
    t.notMatch(r.stdout + r.stderr, bad.split('.')[2]!, 'the token appears on no output line');
  });

  await t.test('no publisher in the session: exit 75 (try later) within --timeout, saying what is missing', async (t) => {
    const empty = tokenFile(mintToken({ secret: SECRET, session: 'empty', role: 'viewer' }));
    const r = await webrtcbin(['shot', '--url', daemon.url, '--session', 'empty', '--token-file', empty, '--timeout', '2', path.join(scratch, 'never.png')]);
    t.equal(r.code, 75, r.stderr);
    t.match(r.stderr, /no publisher/);
    t.ok(r.ms < 20_000, `gave up in ${r.ms} ms`);
  });
});
