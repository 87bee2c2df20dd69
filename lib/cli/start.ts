// `webrtcbin start`: the quick start in one process. The daemon, a publisher streaming the X display
// (DISPLAY, or an Xvfb it starts with --xvfb) or a moving test pattern, and the URL to open.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { parseArgs } from 'node:util';
import { publish } from '../publish/publisher.js';
import { createSignalingServer } from '../signaling/daemon/server.js';
import { mintToken } from '../signaling/daemon/token.js';
import { startXvfb } from './xvfb.js';
import type { SourceOptions, VideoCodec } from '../types.js';
import { installedVideoCodecs } from '../native/elements.js';
import { SECRETS, resolveSecret } from './secrets.js';

export async function start(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      session: { type: 'string' },
      codec: { type: 'string' },
      display: { type: 'string' },
      xvfb: { type: 'boolean' },
      'log-level': { type: 'string' },
    },
  });
  const port = Number(values.port ?? process.env.PORT ?? 8080);
  const host = values.host ?? process.env.HOST ?? '0.0.0.0';
  const session = values.session ?? 'demo';
  // --codec restricts what viewers are offered; without it each viewer gets the first codec both sides have.
  const codec = values.codec as VideoCodec | undefined;
  // A fresh secret per run unless one is given (WEBRTCBIN_SECRET_FILE, WEBRTCBIN_SECRET): the printed URL
  // carries the only viewer token.
  const secret = resolveSecret(SECRETS.secret, {}).value ?? randomBytes(24).toString('base64url');

  let xvfb: ChildProcess | undefined;
  let source: SourceOptions;
  if (values.xvfb) {
    const display = values.display ?? ':99';
    xvfb = await startXvfb(display);
    source = { kind: 'x11', display };
  } else if (values.display ?? process.env.DISPLAY) {
    source = { kind: 'x11', display: values.display ?? process.env.DISPLAY };
  } else {
    source = { kind: 'test', pattern: 'ball' };
  }

  const app = await createSignalingServer({
    secret,
    logLevel: values['log-level'] ?? process.env.LOG_LEVEL ?? 'warn',
    ice: {
      stun: process.env.WEBRTCBIN_STUN?.split(','),
      turn: process.env.WEBRTCBIN_TURN?.split(','),
      turnSecret: resolveSecret(SECRETS.turnSecret, {}).value,
    },
  });
  await app.listen({ port, host });
  const publisher = publish({
    url: `ws://127.0.0.1:${port}/v1/ws`,
    session,
    token: mintToken({ secret, session, role: 'publisher', ttlSeconds: 7 * 24 * 3600 }),
    source,
    ...(codec ? { video: { codec } } : {}),
    logger: app.log,
  });
  publisher.on('viewer-connected', (id: string) => console.log(`viewer ${id} connected (${publisher.viewers} watching)`));
  publisher.on('viewer-left', (id: string) => console.log(`viewer ${id} left`));
  publisher.on('error', (error: Error) => console.error(`stream error: ${error.message}`));

  // The printed link may control the desktop (mouse and keyboard); mint view-only ones with `webrtcbin token`.
  const viewerToken = mintToken({ secret, session, role: 'viewer', ttlSeconds: 24 * 3600, control: source.kind === 'x11' });
  const hosts = host === '0.0.0.0'
    ? ['127.0.0.1', ...Object.values(networkInterfaces()).flat().filter((a) => a && a.family === 'IPv4' && !a.internal).map((a) => a!.address)]
    : [host];
  const what = source.kind === 'x11' ? `X display ${source.display}` : 'a test pattern (set DISPLAY or pass --xvfb to stream a desktop)';
  console.log(`\nnode-webrtcbin: streaming ${what} as ${codec ? codec.toUpperCase() : installedVideoCodecs().map((c) => c.toUpperCase()).join(' / ')}, session "${session}".\nOpen in a browser:`);
  for (const h of hosts) console.log(`  http://${h}:${port}/?session=${session}&token=${viewerToken}`);
  console.log('Ctrl-C stops.\n');

  const stop = async () => {
    await publisher.close();
    await app.close();
    xvfb?.kill();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}
