// An agent on a VM's screen: opens a terminal, types a command, waits for the screen to settle and
// reads it back as a PNG. Everything goes over WebRTC through the signaling daemon, as a person's
// browser would: view() for the eyes and the hands (docs/agents.md).
//
//   node --import tsx examples/agent.ts [out.png]
//       a stand-in VM on this machine: a daemon, an Xvfb display, xterm on it, and publish() streaming it
//   WEBRTCBIN_TOKEN=<viewer token, minted with --control> node --import tsx examples/agent.ts \
//       --url ws://controller:8080/v1/ws --session vm-42 [--terminal-key ctrl+alt+t] [out.png]
//       a real VM: the key opens its desktop's terminal (none: a terminal is already on screen)
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { publish, type Publisher } from '../lib/client.js';
import { view } from '../lib/agent/remote-view.js';
import { startXvfb } from '../lib/cli/xvfb.js';

const { values, positionals } = parseArgs({
  options: { url: { type: 'string' }, session: { type: 'string' }, 'terminal-key': { type: 'string' } },
  allowPositionals: true,
});
const out = positionals[0] ?? 'agent-screen.png';

/** The stand-in VM: daemon + Xvfb + publish(); the terminal is started on it like a desktop's launcher would. */
async function standInVm(): Promise<{ url: string; session: string; token: string; openTerminal: () => void; close: () => Promise<void> }> {
  const { createSignalingServer } = await import('../lib/signaling/daemon/server.js');
  const { mintToken } = await import('../lib/signaling/daemon/token.js');
  const secret = randomBytes(24).toString('hex');
  const daemon = await createSignalingServer({ secret, logLevel: 'warn' });
  await daemon.listen({ port: 0, host: '127.0.0.1' });
  const url = `ws://127.0.0.1:${(daemon.server.address() as { port: number }).port}/v1/ws`;
  const display = `:${200 + Math.floor(Math.random() * 50)}`;
  const xvfb = await startXvfb(display, '1024x640x24');
  const publisher: Publisher = publish({ url, session: 'vm', token: mintToken({ secret, session: 'vm', role: 'publisher' }), source: { kind: 'x11', display }, video: { width: 1024, height: 640 } });
  let xterm: ChildProcess | undefined;
  return {
    url,
    session: 'vm',
    token: mintToken({ secret, session: 'vm', role: 'viewer', control: true }),
    openTerminal: () => {
      xterm = spawn('xterm', ['-display', display, '-geometry', '100x30+0+0', '-fa', 'Monospace', '-fs', '12', '-e', 'sh'], { stdio: 'ignore', env: { ...process.env, PS1: '$ ' } });
      xterm.on('error', () => {
        console.error('examples/agent.ts: xterm is not installed (apt-get install xterm)');
        process.exitCode = 2;
      });
    },
    close: async () => {
      xterm?.kill();
      await publisher.close();
      await daemon.close();
      xvfb.kill();
    },
  };
}

const vm = values.url ? undefined : await standInVm();
const screen = view({
  url: values.url ?? vm!.url,
  session: values.session ?? vm?.session ?? 'vm',
  token: vm?.token ?? process.env.WEBRTCBIN_TOKEN,
});
try {
  await screen.ready; // connected, with a first frame: width and height are the VM screen's
  console.log(`connected: the screen is ${screen.width}x${screen.height}`);
  const input = screen; // the hands are the view's own: key(), type(), click()…

  // Open a terminal and wait until it is drawn.
  const appeared = screen.waitForChange({ timeoutMs: 10_000 });
  if (vm) vm.openTerminal();
  else if (values['terminal-key']) await input.key(values['terminal-key']);
  if (vm || values['terminal-key']) await appeared;
  else void appeared.catch(() => {});
  await screen.waitForStill({ ms: 1000, timeoutMs: 15_000 }); // the shell has drawn its prompt

  // Each input resolves once the VM injected it: no sleeps between them.
  await input.click(200, 100); // into the terminal (the stand-in's covers the top-left corner): focus
  await input.type('echo "hello from the agent on $(hostname)"; date');
  const answered = screen.waitForChange({ region: { x: 0, y: 24, width: screen.width, height: 40 }, timeoutMs: 10_000 });
  await input.key('Enter');
  await answered; // the line below the command changed: the answer is coming
  await screen.waitForStill({ ms: 500, timeoutMs: 10_000 });

  writeFileSync(out, await screen.screenshot({ format: 'png' }));
  console.log(`read the screen back: ${out}`);
} finally {
  await screen.close();
  await vm?.close();
}
// Nothing is left open: the process ends here by itself.
