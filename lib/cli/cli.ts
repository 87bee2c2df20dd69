#!/usr/bin/env node
// lib/cli/: the `webrtcbin` command and its subcommands, one file each.
// The `webrtcbin` command: doctor, selftest, signal (the daemon), token, start (daemon + stream, the quick
// start), stream (the VM agent), relay (into a Janus VideoRoom); shot, input and mcp (an agent's or operator's view of a VM's screen).
import { parseArgs } from 'node:util';
import { doctor } from './doctor.js';
import { SECRETS, argvSecretWarning, resolveSecret, warnArgvSecret } from './secrets.js';
import { wholeNumber } from '../util/checks.js';

const USAGE = `usage: webrtcbin <command> [options]

commands:
  doctor [--json]     check every GStreamer element node-webrtcbin needs; exits 1 when a required
                      one is missing and names the Debian package
  selftest            negotiate real peers over loopback and decode frames: proves an installation
      --codec vp8,vp9,h264 (every installed one)  --seconds N (3)  --min-frames N
      --xvfb [--display :N] (also an X11 capture of an Xvfb it starts)  --signaling (also daemon + publish() + viewer)
  signal              run the signaling daemon
      --port N (PORT, 8080)   --host ADDR (127.0.0.1)
      --secret-file FILE (WEBRTCBIN_SECRET_FILE, systemd credential webrtcbin-secret; or WEBRTCBIN_SECRET)
      --insecure (local development only: no tokens)
      --stun URL ... (WEBRTCBIN_STUN, comma-separated)   --turn URL ... (WEBRTCBIN_TURN)
      --turn-secret-file FILE (WEBRTCBIN_TURN_SECRET_FILE or WEBRTCBIN_TURN_SECRET: coturn use-auth-secret,
                      time-limited credentials)
      --turn-username U --turn-credential-file FILE (static TURN credentials; never logged)
      --allowed-origin URL ...   --max-message-bytes N (65536)   --log-level LEVEL (info)
      --max-sockets-per-ip N (64)   --max-joins-per-token N (32)   --join-timeout-ms N (10000; 0: off)
      --frame-ancestors SRC ... (WEBRTCBIN_FRAME_ANCESTORS; 'self'): origins that may frame the viewer page
      --viewer-janus URL ... (WEBRTCBIN_VIEWER_JANUS): Janus WebSockets the page may watch through (?janus=…&room=…)
      --redis URL (WEBRTCBIN_REDIS): one of many instances sharing sessions through Redis (a password: in the env)
      (--secret, --turn-secret, --turn-credential S still work but every local user can read argv: a warning)
  token               mint a session token
      --secret-file FILE (WEBRTCBIN_SECRET_FILE or WEBRTCBIN_SECRET)  --session NAME  --role viewer|publisher|sender|receiver
      (viewer; sender: sends by WHIP; receiver: the receive() agent a WHIP sender feeds)
      --ttl SECONDS (3600)  --control (the viewer may send input)
  start               the quick start: daemon + stream (the X display when DISPLAY is set, else a
                      test pattern with a clock and a time code) and print the URL to open
      --port N (8080)  --host ADDR (0.0.0.0)  --session NAME (demo)  --codec vp8|vp9|h264
      --display :N     --xvfb (start Xvfb on --display, default :99)
      --capture damage|fixed (x11; damage, the default: a frame when the screen changes; fixed: --fps a second)
      --pointer auto|video|channel (x11; auto, the default: sent as data and drawn by the page, in the
                      picture only while a viewer that cannot draw it watches; video: always in the picture;
                      channel: always as data, never in the picture)
      --redis URL (WEBRTCBIN_REDIS): its daemon is one instance of a cluster sharing that Redis
  stream              the VM agent: stream the X display to a session of a daemon elsewhere
      --url WS_URL (WEBRTCBIN_URL)  --session NAME (WEBRTCBIN_SESSION)
      --token-file FILE (WEBRTCBIN_TOKEN_FILE, systemd credential webrtcbin-token; or WEBRTCBIN_TOKEN)
      --display :N (DISPLAY)  --xvfb (WEBRTCBIN_XVFB=1)  --codec vp8|vp9|h264 (WEBRTCBIN_CODEC)
      --bitrate KBPS --fps N --width W --height H (WEBRTCBIN_BITRATE, _FPS, _WIDTH, _HEIGHT)
      --capture damage|fixed (WEBRTCBIN_CAPTURE; damage, the default: a frame when the screen changes; fixed: --fps a second)
      --audio pulse|test|none (WEBRTCBIN_AUDIO)  --pointer auto|video|channel (WEBRTCBIN_POINTER, auto)
      --connect-timeout SECONDS (WEBRTCBIN_CONNECT_TIMEOUT, 60; 0: for ever): the first join must
                      happen within it (once joined, a daemon restart is waited out)
      --janus WS_URL --janus-room N (WEBRTCBIN_JANUS, WEBRTCBIN_JANUS_ROOM): also push the stream once into
                      a Janus VideoRoom (pin and secrets as for relay)
  relay               push the X display (or --test, a test pattern) once into a Janus VideoRoom; Janus
                      serves the viewers (docs/sfu.md)
      --janus WS_URL (WEBRTCBIN_JANUS)  --room N (WEBRTCBIN_JANUS_ROOM; created if absent)
      --codec h264|vp8|vp9 (h264)  --display :N | --xvfb | --test  --bitrate --fps --width --height
      --janus-pin-file FILE  --janus-secret-file FILE  --janus-api-secret-file FILE (or WEBRTCBIN_JANUS_PIN,
                      _SECRET, _API_SECRET, their _FILE forms, systemd credentials; never logged)

  shot OUT            a screenshot of a session's screen (OUT: a file, or - for stdout)
      --url URL (ws://host/v1/ws, or the viewer page's address with its session and token)  --session NAME
      --token-file FILE (WEBRTCBIN_TOKEN_FILE or WEBRTCBIN_TOKEN)
      --format png|jpeg  --quality N  --timeout SECONDS (20)
  input ACTION        one input on a session's screen (a token minted with --control), in screen pixels:
                      click X Y [--button right] [--count 2] | move X Y | drag X1 Y1 X2 Y2 | scroll DX DY
                      | type TEXT | key COMBO | clipboard read | clipboard write TEXT | resize W H
  mcp                 an MCP server on stdio (tools: screenshot, click, type, key, …) for any MCP client;
                      needs: npm install @modelcontextprotocol/sdk zod
  (webrtcbin <command> --help for each one's options; docs/agents.md)

exit codes of shot, input and mcp: 2 fix the configuration (usage, a refused token, input without the
  control claim); 75 try later (no picture from the session within --timeout)

exit codes of stream and start (both check the capture and the encoder before connecting):
  2   fix the configuration: bad usage, a codec or source that cannot work here (missing element or
      encoder, a description GStreamer cannot parse), a token the daemon refuses or that expired,
      an upgrade refused with HTTP 401/403, a URL that is not the daemon (HTTP 404: wrong path)
  3   the X display being streamed was lost (restart the agent and its Xvfb)
  75  try again later (EX_TEMPFAIL): the daemon unreachable within --connect-timeout, the X display
      not open (yet), another publisher streams the session`;

function list(values: string[] | undefined, env: string | undefined): string[] {
  const fromEnv = env ? env.split(',').map((s) => s.trim()).filter(Boolean) : [];
  return values?.length ? values : fromEnv;
}

const nonEmpty = (values: string[]) => (values.length ? values : undefined);

/** --redis or WEBRTCBIN_REDIS: the daemon joins a cluster of instances sharing that Redis. */
export const redisOption = (flag: string | undefined): { redis?: string } => {
  const url = flag ?? process.env.WEBRTCBIN_REDIS;
  return url ? { redis: url } : {};
};

async function signal(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      secret: { type: 'string' },
      'secret-file': { type: 'string' },
      insecure: { type: 'boolean' },
      stun: { type: 'string', multiple: true },
      turn: { type: 'string', multiple: true },
      'turn-secret': { type: 'string' },
      'turn-secret-file': { type: 'string' },
      'turn-username': { type: 'string' },
      'turn-credential': { type: 'string' },
      'turn-credential-file': { type: 'string' },
      'frame-ancestors': { type: 'string', multiple: true },
      'viewer-janus': { type: 'string', multiple: true },
      'allowed-origin': { type: 'string', multiple: true },
      'max-message-bytes': { type: 'string' },
      'max-sockets-per-ip': { type: 'string' },
      'max-joins-per-token': { type: 'string' },
      'join-timeout-ms': { type: 'string' },
      'log-level': { type: 'string' },
      redis: { type: 'string' },
    },
  });
  const limit = (flag: 'max-message-bytes' | 'max-sockets-per-ip' | 'max-joins-per-token' | 'join-timeout-ms'): number | undefined => {
    const text = values[flag];
    if (text === undefined) return undefined;
    const min = flag === 'max-message-bytes' ? 1 : 0; // 0 turns a cap or the join timeout off
    return wholeNumber(Number(text), `--${flag}`, { min, given: text });
  };
  // Read once, before anything starts: a missing or empty file stops here with its path.
  const secret = resolveSecret(SECRETS.secret, { value: values.secret, file: values['secret-file'] });
  const turnSecret = resolveSecret(SECRETS.turnSecret, { value: values['turn-secret'], file: values['turn-secret-file'] });
  const turnCredential = resolveSecret(SECRETS.turnCredential, { value: values['turn-credential'], file: values['turn-credential-file'] });
  const { createSignalingServer } = await import('../signaling/daemon/server.js');
  const app = await createSignalingServer({
    secret: secret.value,
    insecure: values.insecure === true,
    ice: {
      stun: list(values.stun, process.env.WEBRTCBIN_STUN),
      turn: list(values.turn, process.env.WEBRTCBIN_TURN),
      turnSecret: turnSecret.value,
      turnUsername: values['turn-username'] ?? process.env.WEBRTCBIN_TURN_USERNAME,
      turnCredential: turnCredential.value,
    },
    frameAncestors: nonEmpty(list(values['frame-ancestors'], process.env.WEBRTCBIN_FRAME_ANCESTORS)),
    viewerJanus: list(values['viewer-janus'], process.env.WEBRTCBIN_VIEWER_JANUS),
    allowedOrigins: values['allowed-origin'],
    maxMessageBytes: limit('max-message-bytes'),
    maxSocketsPerIp: limit('max-sockets-per-ip'),
    maxJoinsPerToken: limit('max-joins-per-token'),
    joinTimeoutMs: limit('join-timeout-ms'),
    logLevel: values['log-level'] ?? process.env.LOG_LEVEL,
    ...redisOption(values.redis),
  });
  for (const [spec, resolved] of [[SECRETS.secret, secret], [SECRETS.turnSecret, turnSecret], [SECRETS.turnCredential, turnCredential]] as const) {
    if (!resolved.onArgv) continue;
    const { msg, ...fields } = argvSecretWarning(spec);
    app.log.warn(fields, msg);
  }
  await app.listen({ port: Number(values.port ?? process.env.PORT ?? 8080), host: values.host ?? process.env.HOST ?? '127.0.0.1' });
  const stop = async () => {
    await app.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1; // keeps running
}

async function token(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      secret: { type: 'string' },
      'secret-file': { type: 'string' },
      session: { type: 'string' },
      role: { type: 'string' },
      ttl: { type: 'string' },
      control: { type: 'boolean' },
    },
  });
  const { mintToken, TOKEN_ROLES } = await import('../signaling/daemon/token.js');
  const resolved = resolveSecret(SECRETS.secret, { value: values.secret, file: values['secret-file'] });
  if (resolved.onArgv) warnArgvSecret(SECRETS.secret);
  const secret = resolved.value;
  if (!secret) throw new Error('token needs --secret-file FILE (or WEBRTCBIN_SECRET_FILE, or WEBRTCBIN_SECRET)');
  if (!values.session) throw new Error('token needs --session NAME');
  const role = (values.role ?? 'viewer') as (typeof TOKEN_ROLES)[number];
  if (!TOKEN_ROLES.includes(role)) throw new Error(`--role must be one of ${TOKEN_ROLES.join(', ')}`);
  console.log(mintToken({ secret, session: values.session, role, ttlSeconds: values.ttl ? Number(values.ttl) : 3600, control: values.control }));
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'doctor':
      return doctor(rest);
    case 'selftest': {
      const { selftest } = await import('./selftest.js');
      return selftest(rest);
    }
    case 'stream': {
      const { stream } = await import('./stream.js');
      await stream(rest);
      return -1;
    }
    case 'relay': {
      const { relayCommand } = await import('./relay.js');
      return relayCommand(rest);
    }
    case 'signal':
      return signal(rest);
    case 'token':
      return token(rest);
    case 'shot': {
      const { shot } = await import('./shot.js');
      return shot(rest);
    }
    case 'input': {
      const { input } = await import('./input.js');
      return input(rest);
    }
    case 'mcp': {
      const { mcp } = await import('./mcp.js');
      return mcp(rest);
    }
    case 'start': {
      const { start } = await import('./start.js');
      await start(rest);
      return -1;
    }
    case undefined:
    case '-h':
    case '--help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`webrtcbin: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`webrtcbin: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
