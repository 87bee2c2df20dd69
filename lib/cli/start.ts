// `webrtcbin start`: the quick start in one process. The daemon, a publisher streaming the X display
// (DISPLAY, or an Xvfb it starts with --xvfb) or, with neither, a test source that looks like a screen:
// an Xvfb desktop with a window manager and a terminal when Xvfb, xterm and twm are installed
// (rootfs/packages-dev.txt), else a clock, a running time code and a caption on a desktop-blue
// background; and the URL to open. The source and the codec's
// encoder are checked before the daemon starts: exit 2 (fix it) or 75 (try later, e.g. the display is
// not up yet), as lib/cli/exit-codes.ts says.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { parseArgs } from 'node:util';
import { publish } from '../publish/publisher.js';
import { createSignalingServer } from '../signaling/daemon/server.js';
import { mintToken } from '../signaling/daemon/token.js';
import { startXvfb } from './xvfb.js';
import type { SourceOptions, VideoCodec } from '../types.js';
import { elementsPresent, installedVideoCodecs } from '../native/elements.js';
import { checkSource } from '../publish/preflight.js';
import { SECRETS, resolveSecret } from './secrets.js';
import { EXIT, exitAdvice, exitCodeFor } from './exit-codes.js';
import { renderCongestionMetrics } from '../encoder/twcc-bitrate.js';

/** The overlay elements of the test source (libgstpango, Debian's gstreamer1.0-x). */
export const TEST_SOURCE_OVERLAYS = ['clockoverlay', 'timeoverlay', 'textoverlay'];

/**
 * The quick start's picture when there is no display: something that reads as a live screen (a bare
 * ball on black looked broken): a panel clock, a running time code that changes every frame (so the
 * shared encoder never idles and a frozen stream shows at once) and a caption saying what to do.
 * Without the overlay elements (gstreamer1.0-x), the moving ball as before.
 */
export function testSource(width = 1280, height = 720, present: (name: string) => boolean = defaultPresent): SourceOptions {
  if (!TEST_SOURCE_OVERLAYS.every(present)) return { kind: 'test', pattern: 'ball' };
  const caption = 'node-webrtcbin test source: set DISPLAY or pass --xvfb to stream a desktop';
  const pt = (size: number) => Math.max(6, Math.round((size * height) / 720)); // font sizes as at 720p
  const text = `auto-resize=false shaded-background=true`;
  return {
    kind: 'pipeline',
    description:
      `videotestsrc is-live=true pattern=solid-color foreground-color=0xff1f3347 ` +
      `! video/x-raw,width=${width},height=${height},framerate=30/1 ` +
      `! clockoverlay time-format="%a %H:%M:%S" halignment=right valignment=top font-desc="Sans ${pt(14)}" ${text} ` +
      `! textoverlay text="${caption}" halignment=center valignment=center font-desc="Sans ${pt(18)}" ${text} ` +
      `! timeoverlay halignment=center valignment=bottom ypad=${pt(200)} font-desc="Monospace ${pt(36)}" ${text}`,
  };
}

/** The programs of the test desktop: an X server, a small window manager, a terminal. */
export const TEST_DESKTOP_PROGRAMS = ['Xvfb', 'twm', 'xterm'];

function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(path.join(dir, program)));
}

/** Xvfb on a display it picks itself (-displayfd: no race with other X servers, stale locks cleared). */
function startFreeXvfb(size = '1280x720x24'): Promise<{ display: string; xvfb: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', size, '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
    let text = '';
    const timer = setTimeout(() => (xvfb.kill(), reject(new Error('Xvfb did not start within 10 s'))), 10_000);
    xvfb.once('error', (error) => (clearTimeout(timer), reject(error)));
    xvfb.once('exit', (code) => (clearTimeout(timer), reject(new Error(`Xvfb exited (${code})`))));
    xvfb.stdio[3]!.on('data', (d: Buffer) => {
      text += d;
      if (!text.includes('\n')) return;
      clearTimeout(timer);
      xvfb.removeAllListeners('exit');
      resolve({ display: `:${text.trim()}`, xvfb });
    });
  });
}

/**
 * The test desktop: Xvfb on a free display, twm, and an xterm whose clock line changes every second
 * (a frozen stream shows at once). It runs no shell: a viewer who types into it reaches nothing.
 * Undefined when a program is missing or Xvfb does not come up (the caller falls back to testSource).
 */
export async function startTestDesktop(have: (program: string) => boolean = onPath): Promise<{ display: string; children: ChildProcess[] } | undefined> {
  if (!TEST_DESKTOP_PROGRAMS.every(have)) return undefined;
  let display: string;
  let xvfb: ChildProcess;
  try {
    ({ display, xvfb } = await startFreeXvfb());
  } catch {
    return undefined;
  }
  const env = { ...process.env, DISPLAY: display };
  const banner = 'node-webrtcbin test desktop: set DISPLAY or pass --xvfb to stream your own';
  const loop = `trap '' INT QUIT TSTP; printf '%s\\n\\n' "${banner}"; while :; do printf '\\r%s ' "$(date '+%a %H:%M:%S')"; sleep 1; done`;
  const children = [
    xvfb,
    spawn('twm', [], { env, stdio: 'ignore' }),
    spawn('xterm', ['-geometry', '90x24+120+90', '-fa', 'Monospace', '-fs', '14', '-T', 'node-webrtcbin', '-e', 'sh', '-c', loop], { env, stdio: 'ignore' }),
  ];
  for (const child of children) child.on('error', () => {}); // a program that vanished: the desktop is only emptier
  return { display, children };
}

function defaultPresent(name: string): boolean {
  return elementsPresent([name]).get(name) === true;
}

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
      capture: { type: 'string' },
      pointer: { type: 'string' },
      'log-level': { type: 'string' },
      redis: { type: 'string' },
    },
  });
  const pointer = values.pointer;
  if (pointer !== undefined && pointer !== 'auto' && pointer !== 'video' && pointer !== 'channel') {
    console.error(`webrtcbin start: --pointer must be auto (the default: drawn by the page, in the picture only while a viewer that cannot draw it watches), video (always in the picture) or channel (always as data); got ${JSON.stringify(pointer)}`);
    process.exit(EXIT.config);
  }
  const port = Number(values.port ?? process.env.PORT ?? 8080);
  const host = values.host ?? process.env.HOST ?? '0.0.0.0';
  const session = values.session ?? 'demo';
  // --codec restricts what viewers are offered; without it each viewer gets the first codec both sides have.
  const codec = values.codec as VideoCodec | undefined;
  // A fresh secret per run unless one is given (WEBRTCBIN_SECRET_FILE, WEBRTCBIN_SECRET): the printed URL
  // carries the only viewer token.
  const secret = resolveSecret(SECRETS.secret, {}).value ?? randomBytes(24).toString('base64url');

  // --capture damage|fixed (x11 sources; damage unless told: a frame when the screen changes, and a
  // viewer's first keyframe refined within half a second by the shared encoder), checked with the other
  // source options below.
  const capture = { capture: (values.capture ?? 'damage') as 'damage' | 'fixed' };
  let xvfb: ChildProcess | undefined;
  let desktop: ChildProcess[] = [];
  let source: SourceOptions;
  if (values.xvfb) {
    const display = values.display ?? ':99';
    xvfb = await startXvfb(display);
    source = { kind: 'x11', display, ...capture };
  } else if (values.display ?? process.env.DISPLAY) {
    source = { kind: 'x11', display: values.display ?? process.env.DISPLAY, ...capture };
  } else {
    const started = await startTestDesktop();
    if (started) {
      desktop = started.children;
      source = { kind: 'x11', display: started.display, ...capture };
    } else source = testSource();
  }
  const stopDesktop = () => desktop.forEach((child) => child.kill());
  // Before the daemon starts and a URL is printed: a source or codec that cannot work ends here.
  try {
    checkSource({ source, video: { codec } });
  } catch (error) {
    const code = exitCodeFor(error);
    console.error(`webrtcbin start: cannot stream ${source.kind === 'x11' ? `X display ${source.display}` : 'the test source'}: ${(error as Error).message}\n${exitAdvice(code)}`);
    xvfb?.kill();
    stopDesktop();
    process.exit(code);
  }

  let congestion: (() => string) | undefined;
  const app = await createSignalingServer({
    secret,
    extraMetrics: () => congestion?.() ?? '',
    logLevel: values['log-level'] ?? process.env.LOG_LEVEL ?? 'warn',
    // One instance of a cluster (docs/protocol.md, "Cluster"): its publisher is found from every instance.
    ...((values.redis ?? process.env.WEBRTCBIN_REDIS) ? { redis: values.redis ?? process.env.WEBRTCBIN_REDIS } : {}),
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
    // The test pattern has no pointer to send.
    ...(pointer && source.kind === 'x11' ? { pointer } : {}),
    logger: app.log,
  });
  congestion = () => renderCongestionMetrics(publisher.congestion());
  publisher.on('viewer-connected', (id: string) => console.log(`viewer ${id} connected (${publisher.viewers} watching)`));
  publisher.on('viewer-left', (id: string) => console.log(`viewer ${id} left`));
  publisher.on('error', (error: Error) => console.error(`stream error: ${error.message}`));

  // The printed link may control the desktop (mouse and keyboard); mint view-only ones with `webrtcbin token`.
  const viewerToken = mintToken({ secret, session, role: 'viewer', ttlSeconds: 24 * 3600, control: source.kind === 'x11' && desktop.length === 0 });
  const hosts = host === '0.0.0.0'
    ? ['127.0.0.1', ...Object.values(networkInterfaces()).flat().filter((a) => a && a.family === 'IPv4' && !a.internal).map((a) => a!.address)]
    : [host];
  const what = desktop.length
    ? `a test desktop (Xvfb ${source.kind === 'x11' ? source.display : ''} with a terminal; set DISPLAY or pass --xvfb to stream a desktop)`
    : source.kind === 'x11' ? `X display ${source.display}` : 'a test pattern with a clock and a time code (set DISPLAY or pass --xvfb to stream a desktop)';
  console.log(`\nnode-webrtcbin: streaming ${what} as ${codec ? codec.toUpperCase() : installedVideoCodecs().map((c) => c.toUpperCase()).join(' / ')}, session "${session}".\nOpen in a browser:`);
  for (const h of hosts) console.log(`  http://${h}:${port}/?session=${session}&token=${viewerToken}`);
  console.log('Ctrl-C stops.\n');

  const stop = async () => {
    await publisher.close();
    await app.close();
    xvfb?.kill();
    stopDesktop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}
