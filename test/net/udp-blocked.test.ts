// A viewer on a network that drops every UDP packet (nftables in its own namespace) still gets the
// desktop: through TURN over TCP, with the TURN credentials the daemon hands out. A UDP probe from the
// same namespace proves UDP really is gone.
import t from 'tap';
import { waitForViewerFrames } from '../helpers/browser.js';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { publish } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { startCoturn } from '../helpers/coturn.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { HOST_ADDRESS, launchChromiumIn, startWanLink, wanLinkUnavailable } from '../helpers/wan.js';

const unavailable = wanLinkUnavailable() ?? (spawnSync('nft', ['--version']).status === 0 ? undefined : 'needs nftables (rootfs/packages-test.txt)');
if (unavailable) {
  t.skip(`UDP-blocked test skipped: ${unavailable}`);
  process.exit(0);
}

t.test('UDP blocked: the stream gets through over TCP, and through TURN over TCP when relay-only', async (t) => {
  const ns = `ub${process.pid % 100000}`;
  const link = await startWanLink(ns, {});
  t.teardown(() => link.stop());
  const block = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], {
    input: 'table inet noudp {\n  chain out {\n    type filter hook output priority 0; policy accept;\n    meta l4proto udp drop\n  }\n}\n',
  });
  t.equal(block.status, 0, `UDP dropped in the viewer's namespace ${block.stderr}`);

  // The proof that UDP is gone: a datagram from the namespace never arrives here.
  const probe = createSocket('udp4');
  let received = 0;
  probe.on('message', () => received++);
  await new Promise<void>((r) => probe.bind(0, HOST_ADDRESS, () => r()));
  const port = (probe.address() as { port: number }).port;
  spawnSync('ip', ['netns', 'exec', ns, process.execPath, '-e', `const s=require('dgram').createSocket('udp4');s.send('x',${port},'${HOST_ADDRESS}',()=>s.close())`]);
  await new Promise((r) => setTimeout(r, 500));
  probe.close();
  t.equal(received, 0, 'a UDP datagram from the namespace did not get through');

  const turnSecret = 'turn-secret-' + Math.random().toString(36).slice(2);
  const turn = await startCoturn({ secret: turnSecret }, HOST_ADDRESS);
  t.teardown(() => turn.stop());
  const daemon = await startDaemon({ host: HOST_ADDRESS, ice: { turn: [`turn:${HOST_ADDRESS}:${turn.port}?transport=tcp`], turnSecret } });
  t.teardown(() => daemon.app.close());
  const token = (role: 'viewer' | 'publisher') => mintToken({ secret: SECRET, session: 'tcp', role });
  const publisher = publish({ url: daemon.url, session: 'tcp', token: token('publisher'), source: { kind: 'test', pattern: 'ball' }, video: { width: 320, height: 240 } });
  t.teardown(() => publisher.close());

  const browser = await launchChromiumIn(ns);
  t.teardown(() => browser.close());
  const path = async (query: string) => {
    const page = await browser.newPage();
    t.teardown(() => page.close());
    await page.goto(`${daemon.http}/?session=tcp${query}&token=${token('viewer')}`);
    await waitForViewerFrames(page, 10, 45_000);
    return page.evaluate(async () => {
      const pc = (window as unknown as { __viewer: { pc: RTCPeerConnection } }).__viewer.pc;
      const stats = await pc.getStats();
      let pairId = '';
      stats.forEach((s: Record<string, unknown>) => {
        if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId as string;
      });
      const pair = stats.get(pairId) as Record<string, unknown> | undefined;
      const local = pair ? (stats.get(pair.localCandidateId as string) as Record<string, unknown>) : undefined;
      return { type: local?.candidateType as string, protocol: local?.protocol as string, relayProtocol: local?.relayProtocol as string };
    });
  };
  // Left to itself the browser finds a TCP path (ICE-TCP to the agent, or TURN over TCP).
  const open = await path('');
  t.ok(open.protocol === 'tcp' || open.relayProtocol === 'tcp', `10 frames over TCP with UDP blocked (${JSON.stringify(open)})`);
  // Where only a relay may be used (a strict firewall: &relay=1), TURN over TCP carries it.
  const relayed = await path('&relay=1');
  t.equal(relayed.type, 'relay', `relay only: the viewer's side is a TURN relay (${JSON.stringify(relayed)})`);
  t.equal(relayed.relayProtocol, 'tcp', 'reached over TCP');
  t.ok(turn.allocations() >= 1, `coturn granted ${turn.allocations()} allocation(s)`);
});
