// Secrets from files (or the environment, or a systemd credential) instead of argv, which every local
// user can read in /proc/PID/cmdline: read once, trimmed, with a clear error naming the file when it
// is missing, empty or not a file, and one warning line (never the value) when one is still on argv.
import t from 'tap';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SECRETS, SecretFileError, resolveSecret } from '../../lib/cli/secrets.js';
import { InvalidArgumentError } from '../../lib/errors.js';
import { verifyToken } from '../../lib/signaling/daemon/token.js';
import { runNode } from '../helpers/fixture.js';

const cliPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'lib', 'cli', 'cli.ts');
const cli = (args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000) =>
  runNode(['--import', 'tsx', cliPath, ...args], { env: { WEBRTCBIN_SECRET: '', WEBRTCBIN_SECRET_FILE: '', LOG_LEVEL: '', ...env }, timeoutMs });

const dir = mkdtempSync(path.join(tmpdir(), 'webrtcbin-secrets-'));
const SECRET = 'file-secret-0123456789abcdef';
const secretFile = path.join(dir, 'secret');
writeFileSync(secretFile, `  ${SECRET}\n`, { mode: 0o600 });
const emptyFile = path.join(dir, 'empty');
writeFileSync(emptyFile, ' \n');
const bigFile = path.join(dir, 'big');
writeFileSync(bigFile, 'x'.repeat(17 * 1024));
const missing = path.join(dir, 'missing');

t.test('resolveSecret: files first, trimmed; clear errors; the systemd credential last', async (t) => {
  const spec = SECRETS.secret;
  t.same(resolveSecret(spec, { file: secretFile }, {}), { value: SECRET, source: '--secret-file', onArgv: false }, 'a file, trimmed');
  t.same(resolveSecret(spec, { value: 'on-argv' }, {}), { value: 'on-argv', source: '--secret', onArgv: true }, 'argv is flagged for a warning');
  t.same(resolveSecret(spec, {}, { WEBRTCBIN_SECRET_FILE: secretFile, WEBRTCBIN_SECRET: 'env' }).value, SECRET, 'the _FILE variable before the plain one');
  t.same(resolveSecret(spec, {}, { WEBRTCBIN_SECRET: 'env' }).value, 'env');
  t.throws(() => resolveSecret(spec, { value: 'a', file: secretFile }, {}), InvalidArgumentError, 'both the value and a file: refused');
  for (const [file, why] of [
    [missing, /does not exist/],
    [emptyFile, /is empty/],
    [dir, /not a regular file/],
    [bigFile, /at most 16384 bytes/],
  ] as const) {
    t.throws(() => resolveSecret(spec, { file }, {}), new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(--secret-file\\) .*${why.source}`), `${path.basename(file)}: ${why.source}`);
    t.throws(() => resolveSecret(spec, { file }, {}), SecretFileError);
  }
  // systemd LoadCredential=webrtcbin-token:… puts the file in $CREDENTIALS_DIRECTORY.
  const credentials = path.join(dir, 'credentials');
  mkdirSync(credentials, { recursive: true });
  t.same(resolveSecret(SECRETS.token, {}, { CREDENTIALS_DIRECTORY: credentials }).value, undefined, 'a credential directory without it: no token, no error');
  writeFileSync(path.join(credentials, 'webrtcbin-token'), 'v1.tok.sig\n');
  t.same(resolveSecret(SECRETS.token, {}, { CREDENTIALS_DIRECTORY: credentials }), { value: 'v1.tok.sig', source: 'credential webrtcbin-token', onArgv: false });
  t.same(resolveSecret(SECRETS.token, {}, { CREDENTIALS_DIRECTORY: credentials, WEBRTCBIN_TOKEN: 'env' }).value, 'env', 'the environment before the credential');
  writeFileSync(path.join(credentials, 'webrtcbin-token'), '');
  t.throws(() => resolveSecret(SECRETS.token, {}, { CREDENTIALS_DIRECTORY: credentials }), /webrtcbin-token.*is empty/, 'an empty credential is an error');
});

t.test('webrtcbin token and stream: --secret-file, WEBRTCBIN_SECRET_FILE, --token-file; argv warns once', async (t) => {
  const [fromFile, fromEnv, onArgv, gone, empty, stream] = await Promise.all([
    cli(['token', '--secret-file', secretFile, '--session', 's1']),
    cli(['token', '--session', 's1', '--role', 'publisher'], { WEBRTCBIN_SECRET_FILE: secretFile }),
    cli(['token', '--secret', SECRET, '--session', 's1']),
    cli(['token', '--secret-file', missing, '--session', 's1']),
    cli(['token', '--secret-file', emptyFile, '--session', 's1']),
    cli(['stream', '--url', 'ws://127.0.0.1:9/v1/ws', '--session', 's1', '--display', ':99', '--token-file', missing]),
  ]);
  t.equal(fromFile.code, 0, fromFile.stderr);
  t.equal(verifyToken(fromFile.stdout.trim(), { secret: SECRET, session: 's1', role: 'viewer' }).s, 's1', 'minted with the file\'s (trimmed) secret');
  t.equal(fromFile.stderr, '', 'no warning for a file');
  t.equal(fromEnv.code, 0, fromEnv.stderr);
  t.equal(verifyToken(fromEnv.stdout.trim(), { secret: SECRET, session: 's1', role: 'publisher' }).r, 'publisher');

  t.equal(onArgv.code, 0);
  const warning = onArgv.stderr.trim().split('\n');
  t.equal(warning.length, 1, 'one line');
  t.match(JSON.parse(warning[0]!), { level: 'warn', flag: '--secret', instead: /--secret-file/ });
  t.notOk(onArgv.stderr.includes(SECRET), 'the warning does not carry the value');

  t.equal(gone.code, 1);
  t.match(gone.stderr, new RegExp(`${missing.replace(/[/.]/g, '\\$&')} \\(--secret-file\\) does not exist: create it`));
  t.match(empty.stderr, /is empty: write the secret into it/);
  t.equal(stream.code, 2, 'the agent exits 2 (no restart loop) when its token file is missing');
  t.match(stream.stderr, /--token-file\) does not exist/);
});

t.test('webrtcbin signal --secret-file serves tokens of that secret; --secret on argv is warned about', async (t) => {
  const { spawn } = await import('node:child_process');
  const run = (args: string[]) =>
    new Promise<{ port: number; out: () => string; stop: () => void }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', cliPath, 'signal', '--port', '0', ...args], {
        env: { ...process.env, WEBRTCBIN_SECRET: '', WEBRTCBIN_SECRET_FILE: '', LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      const timer = setTimeout(() => reject(new Error(`the daemon did not start: ${out}`)), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve({ port: Number(m[1]), out: () => out, stop: () => child.kill('SIGTERM') });
        }
      });
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', () => reject(new Error(`the daemon exited: ${out}`)));
    });
  const { mintToken } = await import('../../lib/signaling/daemon/token.js');
  const fromFile = await run(['--secret-file', secretFile]);
  t.teardown(fromFile.stop);
  const good = mintToken({ secret: SECRET, session: 's', role: 'viewer' });
  const res = await fetch(`http://127.0.0.1:${fromFile.port}/v1/ice-servers`, { headers: { authorization: `Bearer ${good}` } });
  t.equal(res.status, 200, 'a token of the file\'s secret is accepted');
  t.notMatch(fromFile.out(), /command line/, 'no warning');

  const onArgv = await run(['--secret', SECRET]);
  t.teardown(onArgv.stop);
  const lines = onArgv.out().split('\n').filter((l) => l.includes('command line'));
  t.equal(lines.length, 1, 'one warning line');
  t.match(JSON.parse(lines[0]!), { level: 40, flag: '--secret' });
  t.notOk(onArgv.out().includes(SECRET), 'the value is in no log line');
});
