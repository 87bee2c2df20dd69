// The daemon-load peer: a bare `ws` relay with the same wire shape as our daemon for join and candidate
// (joined, peer-joined, candidate with from), and nothing else: no Fastify, no schema validation, no
// tokens, no rate limits, no keepalive. What relaying costs in Node before any checking.
//   node bench/baselines/ws-relay.mjs   → prints {"port": N}
import { WebSocketServer } from 'ws';

const sessions = new Map(); // name → {publisher, viewers: Map}
let next = 0;
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws) => {
  let me;
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if (m.type === 'join') {
      const id = `${m.role[0]}-${next++}`;
      let s = sessions.get(m.session);
      if (!s) sessions.set(m.session, (s = { publisher: undefined, viewers: new Map() }));
      me = { id, role: m.role, ws, s };
      if (m.role === 'publisher') s.publisher = me;
      else s.viewers.set(id, me);
      ws.send(JSON.stringify({ type: 'joined', v: 1, peerId: id, session: m.session, role: m.role, iceServers: [] }));
      return;
    }
    if (!me) return;
    const target = me.role === 'viewer' ? me.s.publisher : me.s.viewers.get(m.to);
    if (target) target.ws.send(JSON.stringify({ type: m.type, from: me.id, ...(m.type === 'candidate' ? { candidate: m.candidate } : { sdp: m.sdp }) }));
  });
  ws.on('close', () => {
    if (!me) return;
    if (me.role === 'publisher') me.s.publisher = undefined;
    else me.s.viewers.delete(me.id);
  });
});
wss.on('listening', () => process.stdout.write(JSON.stringify({ port: wss.address().port }) + '\n'));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
