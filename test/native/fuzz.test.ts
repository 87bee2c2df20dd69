// CI's short run of the coverage-guided fuzzers (fuzz/, scripts/fuzz.sh; docs/reliability.md,
// "Coverage-guided fuzzing"): builds the libFuzzer harnesses and runs every target over its seed
// corpus plus mutations, failing on any crash. The reproducers the fuzzers found (fuzz/crashes/) must
// pass the guarded path and still abort webrtcbin when the guard is left out: the harness reaches
// the abort and the guard is what stops it. And one of them through the addon's public API.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, WebRtcPeer } from '../../lib/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 15);
const TARGETS = ['sdp_answer', 'sdp_offer', 'candidate'];

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<{ status: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (status, signal) => resolve({ status: status ?? (signal ? 128 : 1), output }));
  });
}

t.test(`every target runs ${SECONDS} s over its corpus without a crash`, async (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'fuzz-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const { status, output } = await run('bash', ['scripts/fuzz.sh', String(SECONDS)], { FUZZ_WORK: work });
  t.comment(output.split('\n').filter((line) => /^(target|sdp_|candidate)/.test(line)).join('\n'));
  t.equal(status, 0, 'scripts/fuzz.sh exits 0', { output: output.slice(-3000) });
  for (const target of TARGETS) {
    const row = output.split('\n').find((line) => line.startsWith(`${target} `))?.trim().split(/\s+/);
    t.ok(row, `${target} reported`);
    if (!row) continue;
    t.ok(Number(row[1]) > 0, `${target} executed inputs (${row[1]})`);
    t.equal(row[6], '0', `${target}: no crash`);
  }
});

const crashes = readdirSync(path.join(root, 'fuzz', 'crashes')).filter((name) => TARGETS.some((target) => name.startsWith(`${target}-`)));

t.test('each saved reproducer is stopped by the guard, and aborts webrtcbin without it', async (t) => {
  t.ok(crashes.length > 0, 'there are reproducers');
  t.equal((await run('bash', ['scripts/fuzz.sh', '0'])).status, 0, 'the harnesses are built');
  for (const name of crashes) {
    const target = TARGETS.find((target) => name.startsWith(`${target}-`))!;
    const fuzzer = path.join(root, 'fuzz', 'build', `${target}_fuzzer`);
    const file = path.join(root, 'fuzz', 'crashes', name);
    const guarded = await run(fuzzer, [file]);
    t.equal(guarded.status, 0, `${name}: refused before webrtcbin`, { output: guarded.output.slice(-2000) });
    const unguarded = await run(fuzzer, [file], { WEBRTCBIN_FUZZ_SKIP_GUARD: 'description,answer' });
    t.not(unguarded.status, 0, `${name}: aborts without the guard`);
    t.match(unguarded.output, /ERROR:.*webrtc|assertion failed|should not be reached/, `${name}: by webrtcbin's assertion`);
  }
});

t.test('through the addon: an answer that turns our data channel m-line into video is refused', async (t) => {
  const sender = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 160, height: 120 } });
  sender.createDataChannel('input');
  const receiver = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => Promise.all([sender.close(), receiver.close()]));
  const offer = await sender.createOffer();
  await sender.setLocalDescription(offer);
  await receiver.setRemoteDescription(offer);
  const answer = await receiver.createAnswer();
  const application = answer.sdp.indexOf('m=application');
  t.ok(application > 0, 'the real answer has the data channel section');
  // The video section again, in the data channel's place and with its mid.
  const video = answer.sdp.slice(answer.sdp.indexOf('m=video'), application);
  const mid = /a=mid:\S+/.exec(answer.sdp.slice(application))![0];
  const changed = answer.sdp.slice(0, application) + video.replace(/a=mid:\S+/, mid);
  await t.rejects(sender.setRemoteDescription({ type: 'answer', sdp: changed }), InvalidArgumentError);
  await t.resolves(sender.setRemoteDescription(answer), 'the real answer is still taken');
});
