// A real signaling daemon on a free loopback port, and a raw WebSocket test client for it.
import WebSocket, { WebSocketServer } from 'ws';
import type { FastifyInstance } from 'fastify';
import { createSignalingServer, type StandaloneOptions } from '../../lib/signaling/daemon/server.js';

export const SECRET = 'test-secret-0123456789abcdef';

export async function startDaemon(options: Partial<StandaloneOptions> & { port?: number; host?: string } = {}): Promise<{ app: FastifyInstance; port: number; url: string; http: string }> {
  const { port: wanted, host = '127.0.0.1', ...rest } = options;
  const app = await createSignalingServer({ secret: SECRET, logLevel: 'silent', ...rest });
  await app.listen({ port: wanted ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { app, port, url: `ws://${host}:${port}/v1/ws`, http: `http://${host}:${port}` };
}

/** A raw protocol client: sends JSON or raw frames, collects every message and the close code. */
export class RawClient {
  readonly messages: Record<string, unknown>[] = [];
  closeCode: number | undefined;
  #ws: WebSocket;
  #waiters: (() => void)[] = [];

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as Record<string, unknown>);
      this.#wake();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.#wake();
    });
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      const client = new RawClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  send(message: unknown): void {
    this.#ws.send(typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message));
  }

  /** Acts as a publisher that answers every offer at once with `sdp` and end-of-candidates, until closed. */
  answerEveryOffer(sdp: string): void {
    void (async () => {
      while (this.closeCode === undefined) {
        const offer = await this.next('offer', 200).catch(() => undefined);
        if (!offer) continue;
        this.send({ type: 'answer', to: offer.from, sdp });
        this.send({ type: 'candidate', to: offer.from, candidate: null });
      }
    })();
  }

  /** Raw bytes as a text frame (may be invalid UTF-8). */
  sendText(data: Buffer): void {
    this.#ws.send(data, { binary: false });
  }

  sendBinary(data: Buffer): void {
    this.#ws.send(data, { binary: true });
  }

  /** The next message of `type` (not yet consumed), waiting up to `timeoutMs`. */
  async next(type: string, timeoutMs = 5000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.messages.findIndex((m) => m.type === type);
      if (index >= 0) return this.messages.splice(index, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`no '${type}' within ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async closed(timeoutMs = 5000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.closeCode === undefined) {
      if (Date.now() > deadline) throw new Error('socket not closed');
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.closeCode;
  }

  close(): void {
    this.#ws.close();
  }

  terminate(): void {
    this.#ws.terminate();
  }
}

/**
 * A scripted stand-in for the daemon: a bare WebSocket server on a free loopback port that records
 * what its one client sends. The test speaks the daemon's part by hand (e.g. floods the real one limits).
 */
export async function startScriptedDaemon(t: { teardown(fn: () => unknown): void }): Promise<{
  port: number;
  received: Record<string, unknown>[];
  connected: Promise<WebSocket>;
}> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  t.teardown(() => new Promise((r) => wss.close(r)));
  const port = (wss.address() as { port: number }).port;
  const received: Record<string, unknown>[] = [];
  const connected = new Promise<WebSocket>((resolve) =>
    wss.on('connection', (ws) => {
      ws.on('message', (d) => received.push(JSON.parse(String(d))));
      resolve(ws);
    }),
  );
  return { port, received, connected };
}
