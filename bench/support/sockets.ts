// The load generators' WebSockets: closed all at once at the end of a phase, without a close handshake
// (the daemon sees the TCP connections go, as it would when clients vanish).
import WebSocket from 'ws';

export async function terminateAll(sockets: WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once('close', () => resolve());
          ws.terminate();
        }),
    ),
  );
}

/** Sockets per client address: under the daemon's default maxSocketsPerIp (64), so its limits stay the defaults. */
export const SOCKETS_PER_ADDRESS = 50;

/** The loopback address client socket `index` comes from: 127.0.1.1, 127.0.1.2, … SOCKETS_PER_ADDRESS each. */
export function sourceAddress(index: number): string {
  const n = Math.floor(index / SOCKETS_PER_ADDRESS);
  return `127.0.${1 + Math.floor(n / 250)}.${1 + (n % 250)}`;
}

/**
 * Sends `offered` candidate messages a second, round-robin over the viewers, each naming its viewer and
 * its send time (the relay latency is read from it where it lands). Returns the function that stops it.
 */
export function paceCandidates(viewers: { ws: WebSocket; index: number }[], offered: number): () => void {
  let sent = 0;
  const start = performance.now();
  const scheduler = setInterval(() => {
    const due = Math.floor(((performance.now() - start) / 1000) * offered);
    for (; sent < due; sent++) {
      const v = viewers[sent % viewers.length]!;
      v.ws.send(JSON.stringify({ type: 'candidate', candidate: { candidate: `candidate:bench ${v.index} ${performance.now()}`, sdpMid: '0', sdpMLineIndex: 0 } }));
    }
  }, 1);
  return () => clearInterval(scheduler);
}
