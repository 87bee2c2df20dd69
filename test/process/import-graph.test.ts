// What `import 'node-webrtcbin'` loads: the peer, the streamer, errors and types, and no server (no
// Fastify, ws, @fastify/* or TypeBox), checked on the module graph of a fresh process importing the
// compiled package by its public names (dist/, as `npm pretest` builds it). Each subpath loads and
// exports its names, and the root's old signaling names still call through, warning once each.
import t from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = path.join(root, 'test', 'process', 'fixtures');

interface Graph {
  packages: string[];
  modules: number;
  exports: string[];
}

function node(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Without tap's own NODE_OPTIONS (its process-info hooks would load packages of their own).
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_OPTIONS' && !key.startsWith('TAP') && !key.startsWith('_TAP')));
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function graphOf(specifier: string): Promise<Graph> {
  const r = await node([path.join(fixtures, 'import-graph.mjs'), specifier, '--hooks']);
  if (r.code !== 0) throw new Error(`import ${specifier} failed (exit ${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Graph;
}

const SERVER = /^(fastify|ws|typebox|@fastify\/.*)$/;
// Every value the root exported before the subpaths (0.1): all of them must still be there.
const OLD_ROOT = [
  'WebRtcPeer', 'Streamer', 'DataChannel', 'checkEnvironment', 'formatReport', 'WebRtcBinError', 'MissingPluginError',
  'InvalidStateError', 'InvalidArgumentError', 'OperationError', 'PipelineError', 'GStreamerError', 'XDisplayLostError',
  'BindingLoadError', 'toWebrtcbinIce', 'redactIceUri', 'REQUIRED_ELEMENTS', 'packageFor', 'livePeerCount', 'publish',
  'receive', 'Publisher', 'SignalingClient', 'SignalingError', 'signaling', 'createSignalingServer', 'redactingLoggerOptions',
  'closeUnansweredUpgrades', 'mintToken', 'verifyToken', 'TokenError', 'restCredentials', 'iceServersFor', 'protocol',
];

t.test('the root import loads no Fastify, ws or TypeBox, and keeps every old name', async (t) => {
  const g = await graphOf('node-webrtcbin');
  t.same(g.packages.filter((p) => SERVER.test(p)), [], `packages loaded: ${g.packages.join(', ') || 'none'}`);
  t.same(OLD_ROOT.filter((name) => !g.exports.includes(name)), [], 'no old root name is missing');
  t.ok(g.modules < 100, `${g.modules} modules loaded`);
});

t.test('node-webrtcbin/client: the client and publish(), with ws and TypeBox but no Fastify', async (t) => {
  const g = await graphOf('node-webrtcbin/client');
  for (const name of ['SignalingClient', 'SignalingError', 'publish', 'receive', 'Publisher']) t.ok(g.exports.includes(name), name);
  t.ok(g.packages.includes('ws'), 'ws is loaded');
  t.notOk(g.packages.some((p) => p === 'fastify' || p.startsWith('@fastify/')), 'no Fastify');
});

t.test('node-webrtcbin/signaling: the daemon plugin, tokens, ICE config and the protocol', async (t) => {
  const g = await graphOf('node-webrtcbin/signaling');
  for (const name of ['signaling', 'createSignalingServer', 'redactingLoggerOptions', 'closeUnansweredUpgrades', 'mintToken', 'verifyToken', 'TokenError', 'restCredentials', 'iceServersFor', 'protocol']) {
    t.ok(g.exports.includes(name), name);
  }
  t.ok(g.packages.includes('fastify'), 'Fastify is loaded here');
});

t.test('node-webrtcbin/viewer: the browser module, dependency-free', async (t) => {
  const g = await graphOf('node-webrtcbin/viewer');
  for (const name of ['Viewer', 'captureInput', 'attachRemoteExtras', 'EXPIRED_LINK', 'RESIZE_LIMITS', 'MAX_CLIPBOARD_CHARS']) t.ok(g.exports.includes(name), name);
  t.same(g.packages, [], 'no package at all');
});

t.test('an old root name calls through to its subpath and warns once, naming the subpath', async (t) => {
  const r = await node([path.join(fixtures, 'deprecated-root.mjs')]);
  t.equal(r.code, 0, r.code === 0 ? 'exits 0' : r.stderr);
  const { checks, warnings } = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
    checks: Record<string, unknown>;
    warnings: { name: string; code: string; message: string }[];
  };
  for (const [name, ok] of Object.entries(checks)) t.equal(ok, true, name);
  const ours = warnings.filter((w) => w.code === 'WEBRTCBIN_DEP_ROOT_SIGNALING');
  t.ok(ours.every((w) => w.name === 'DeprecationWarning'), 'DeprecationWarning');
  const named = (name: string) => ours.filter((w) => w.message.startsWith(`${name} from 'node-webrtcbin'`));
  t.equal(named('mintToken').length, 1, 'mintToken, called twice, warned once');
  t.match(named('mintToken')[0]?.message, /import \{ mintToken \} from 'node-webrtcbin\/signaling'/);
  t.match(named('SignalingClient')[0]?.message, /import \{ SignalingClient \} from 'node-webrtcbin\/client'/);
  t.equal(named('createSignalingServer').length, 1, 'createSignalingServer warned');
  t.equal(new Set(ours.map((w) => w.message)).size, ours.length, 'no warning twice');
});
