// Every error class lib/ exports is a WebRtcBinError (with its `code`), so `instanceof WebRtcBinError`
// catches whatever this package throws on purpose. The modules are walked, not listed: an error class
// added outside the family fails here.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebRtcBinError } from '../../lib/errors.js';

const LIB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'lib');
// The browser viewer is not Node code; cli.ts runs the command line when imported; deprecated-root.ts
// holds lazy stand-ins of classes walked in their own modules (touching one loads it, and warns).
const SKIP = new Set(['viewer', path.join('cli', 'cli.ts'), 'deprecated-root.ts']);

function modules(dir = LIB): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (SKIP.has(path.relative(LIB, full))) return [];
    if (entry.isDirectory()) return modules(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

// The root re-exports those stand-ins under the same names: they are checked where they are defined.
const STAND_INS = new Set(
  [...readFileSync(path.join(LIB, 'deprecated-root.ts'), 'utf8').matchAll(/^export const (\w+)/gm)].map((m) => m[1]),
);

const isErrorClass = (value: unknown): value is new (...args: never[]) => Error =>
  typeof value === 'function' && (value === Error || value.prototype instanceof Error);

t.test('every exported error class is a WebRtcBinError', async (t) => {
  const found = new Map<string, string>();
  for (const file of modules()) {
    const exports = (await import(file.replace(/\.ts$/, '.js'))) as Record<string, unknown>;
    for (const [name, value] of Object.entries(exports)) {
      if (file === path.join(LIB, 'index.ts') && STAND_INS.has(name)) continue;
      if (!isErrorClass(value)) continue;
      found.set(name, path.relative(LIB, file));
      t.ok(value === WebRtcBinError || value.prototype instanceof WebRtcBinError, `${name} (lib/${path.relative(LIB, file)}) extends WebRtcBinError`);
    }
  }
  // The ones users meet by name; the walk must have seen them (a broken walk would pass vacuously).
  for (const name of ['WebRtcBinError', 'MissingPluginError', 'InvalidStateError', 'InvalidArgumentError', 'OperationError', 'PipelineError', 'GStreamerError', 'XDisplayLostError', 'BindingLoadError', 'SignalingError', 'TokenError', 'RelayError', 'SecretFileError']) {
    t.ok(found.has(name), `${name} found`);
  }
});

t.test('no class in lib/ extends Error directly but WebRtcBinError', async (t) => {
  // Catches an unexported one too (the walk above sees exports only).
  for (const file of modules()) {
    for (const match of readFileSync(file, 'utf8').matchAll(/class\s+(\w+)\s+extends\s+Error\b/g)) {
      t.equal(match[1], 'WebRtcBinError', `lib/${path.relative(LIB, file)}: class ${match[1]} extends Error`);
    }
  }
});

t.test('the signaling errors keep their names, codes and fields', async (t) => {
  const { TokenError } = await import('../../lib/signaling/daemon/token.js');
  const { RelayError } = await import('../../lib/signaling/daemon/sessions.js');
  const { SignalingError } = await import('../../lib/signaling/client.js');
  const { SecretFileError } = await import('../../lib/cli/secrets.js');
  const token = new TokenError('expired', 'the token has expired');
  t.match(token, { name: 'TokenError', code: 'ERR_TOKEN', reason: 'expired', message: 'the token has expired' });
  const relay = new RelayError('no-publisher', 'session s has no publisher right now');
  t.match(relay, { name: 'RelayError', code: 'no-publisher', message: 'session s has no publisher right now' });
  t.match(new SignalingError('unauthorized', 'refused'), { name: 'SignalingError', code: 'ERR_SIGNALING', reason: 'unauthorized' });
  t.match(new SecretFileError('/x', '--secret-file', 'is empty'), { name: 'SecretFileError', code: 'ERR_INVALID_ARGUMENT', path: '/x' });
});
