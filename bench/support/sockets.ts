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
