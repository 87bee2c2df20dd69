// A real coturn (Debian `coturn`) on loopback for TURN tests: long-term credentials or the REST
// shared-secret scheme, loopback peers allowed, stopped when the test ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:net';

export interface Coturn {
  port: number;
  log: () => string;
  /** Number of TURN allocations coturn has logged so far. */
  allocations: () => number;
  stop: () => Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** `address`: where it listens and relays from (default loopback; a wan-link host address for namespaces). */
export async function startCoturn(auth: { user: string; password: string } | { secret: string }, address = '127.0.0.1'): Promise<Coturn> {
  const port = await freePort();
  const args = [
    '-n', `--listening-ip=${address}`, `--listening-port=${port}`, `--relay-ip=${address}`,
    '--realm=node-webrtcbin.test', '--allow-loopback-peers', '--no-cli', '--no-tls', '--no-dtls',
    '--fingerprint', '--log-file=stdout', '--simple-log', '--verbose',
    '--min-port=49152', '--max-port=65535',
  ];
  if ('secret' in auth) args.push('--use-auth-secret', `--static-auth-secret=${auth.secret}`);
  else args.push('--lt-cred-mech', `--user=${auth.user}:${auth.password}`);
  const child: ChildProcess = spawn('turnserver', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 10_000;
  while (!/listener opened on/.test(output)) {
    if (child.exitCode !== null) throw new Error(`turnserver exited: ${output}`);
    if (Date.now() > deadline) throw new Error(`turnserver did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    log: () => output,
    allocations: () => (output.match(/ALLOCATE processed, success/g) ?? []).length,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** coturn REST API credentials (use-auth-secret): username "expiry:user", HMAC-SHA1 password. */
export function restCredentials(secret: string, user: string, ttlSeconds = 3600): { username: string; credential: string } {
  const username = `${Math.floor(Date.now() / 1000) + ttlSeconds}:${user}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}
