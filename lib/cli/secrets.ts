// Secrets (the daemon's HMAC secret, the TURN secret, the agent's token) from a file, the environment
// or, last and with a warning, the command line: argv is readable by every local user in
// /proc/PID/cmdline. Files are read once, at start. Under systemd, `LoadCredential=NAME:PATH` hands
// the service a file in $CREDENTIALS_DIRECTORY that is used when nothing else names the secret.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../errors.js';

/** A secret file is small; anything larger is the wrong file. */
const MAX_SECRET_FILE_BYTES = 16 * 1024;

/** A secret file is missing, unreadable, not a regular file, too large or empty. Nothing was started. */
export class SecretFileError extends InvalidArgumentError {
  constructor(
    readonly path: string,
    readonly source: string,
    problem: string,
  ) {
    super(`the secret file ${path} (${source}) ${problem}`);
  }
}

/** Reads a secret file: trimmed, non-empty, a regular file of at most 16 KiB. */
export function readSecretFile(file: string, source: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SecretFileError(file, source, 'does not exist: create it (mode 0600, one line) or fix the path');
    if (code === 'EACCES' || code === 'EPERM') {
      throw new SecretFileError(file, source, `cannot be read by this user (uid ${process.getuid?.() ?? '?'}): make it readable by the service user only (chown, chmod 0400), or hand it over with systemd LoadCredential=`);
    }
    throw new SecretFileError(file, source, `cannot be opened (${code ?? (error as Error).message})`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new SecretFileError(file, source, 'is not a regular file: point it at a file that holds only the secret');
    if (stat.size > MAX_SECRET_FILE_BYTES) throw new SecretFileError(file, source, `is ${stat.size} bytes: a secret file holds only the secret (at most ${MAX_SECRET_FILE_BYTES} bytes)`);
    const buffer = Buffer.alloc(stat.size);
    const n = stat.size === 0 ? 0 : readSync(fd, buffer, 0, stat.size, 0);
    const value = buffer.subarray(0, n).toString('utf8').trim();
    if (!value) throw new SecretFileError(file, source, 'is empty: write the secret into it');
    return value;
  } finally {
    closeSync(fd);
  }
}

export interface SecretSpec {
  /** The flag for the value itself, e.g. `secret` (`--secret`). The file flag is `<flag>-file`. */
  flag: string;
  /** The environment variable for the value, e.g. `WEBRTCBIN_SECRET`; the file variable is `<env>_FILE`. */
  env: string;
  /** The systemd credential name (`LoadCredential=<name>:…`), looked up in $CREDENTIALS_DIRECTORY. */
  credential?: string;
}

export interface ResolvedSecret {
  value: string | undefined;
  /** Where it came from (a flag, a variable or a file path): safe to log, never the value. */
  source: string | undefined;
  /** The value was given on the command line: the caller warns. */
  onArgv: boolean;
}

/**
 * One secret, from (first wins): `--<flag>-file`, `--<flag>` (warned), `<ENV>_FILE`, `<ENV>`, the systemd
 * credential. Giving both `--<flag>` and `--<flag>-file` is an error. Throws SecretFileError.
 */
export function resolveSecret(spec: SecretSpec, argv: { value?: string; file?: string }, env: NodeJS.ProcessEnv = process.env): ResolvedSecret {
  const fileFlag = `--${spec.flag}-file`;
  if (argv.value !== undefined && argv.file !== undefined) throw new InvalidArgumentError(`give --${spec.flag} or ${fileFlag}, not both (prefer ${fileFlag})`);
  if (argv.file !== undefined) return { value: readSecretFile(argv.file, fileFlag), source: fileFlag, onArgv: false };
  if (argv.value !== undefined) return { value: argv.value, source: `--${spec.flag}`, onArgv: true };
  const fileVar = `${spec.env}_FILE`;
  if (env[fileVar]) return { value: readSecretFile(env[fileVar]!, fileVar), source: fileVar, onArgv: false };
  if (env[spec.env]) return { value: env[spec.env], source: spec.env, onArgv: false };
  const dir = env.CREDENTIALS_DIRECTORY;
  if (spec.credential && dir) {
    const file = path.join(dir, spec.credential);
    try {
      return { value: readSecretFile(file, `systemd credential ${spec.credential}`), source: `credential ${spec.credential}`, onArgv: false };
    } catch (error) {
      // A unit that does not load this credential has a directory without it: not an error.
      if (!(error instanceof SecretFileError && /does not exist/.test(error.message))) throw error;
    }
  }
  return { value: undefined, source: undefined, onArgv: false };
}

/** The warning for a secret on argv: one structured line, naming the flag, never the value. */
export function argvSecretWarning(spec: SecretSpec): { msg: string; flag: string; instead: string } {
  return {
    msg: 'a secret was passed on the command line, where every local user can read it (/proc/PID/cmdline)',
    flag: `--${spec.flag}`,
    instead: `--${spec.flag}-file FILE, ${spec.env}_FILE${spec.credential ? ` or systemd LoadCredential=${spec.credential}:FILE` : ''}`,
  };
}

/** Writes that warning to stderr as one JSON line (commands without a logger). */
export function warnArgvSecret(spec: SecretSpec, stream: { write(line: string): unknown } = process.stderr): void {
  stream.write(`${JSON.stringify({ level: 'warn', ...argvSecretWarning(spec) })}\n`);
}

/** The secrets of the CLI. */
export const SECRETS = {
  secret: { flag: 'secret', env: 'WEBRTCBIN_SECRET', credential: 'webrtcbin-secret' },
  turnSecret: { flag: 'turn-secret', env: 'WEBRTCBIN_TURN_SECRET', credential: 'webrtcbin-turn-secret' },
  turnCredential: { flag: 'turn-credential', env: 'WEBRTCBIN_TURN_CREDENTIAL', credential: 'webrtcbin-turn-credential' },
  token: { flag: 'token', env: 'WEBRTCBIN_TOKEN', credential: 'webrtcbin-token' },
  janusPin: { flag: 'janus-pin', env: 'WEBRTCBIN_JANUS_PIN', credential: 'webrtcbin-janus-pin' },
  janusSecret: { flag: 'janus-secret', env: 'WEBRTCBIN_JANUS_SECRET', credential: 'webrtcbin-janus-secret' },
  janusApiSecret: { flag: 'janus-api-secret', env: 'WEBRTCBIN_JANUS_API_SECRET', credential: 'webrtcbin-janus-api-secret' },
} as const satisfies Record<string, SecretSpec>;
