// A load balancer for tests: an HTTP proxy on a free loopback port that sends each request to the
// backend `pick` chooses (by method and path) and records where each went and what it got. It lets a
// client we did not write (aiortc) talk to one URL while its requests land on different instances.
import http from 'node:http';

export interface Routed {
  method: string;
  path: string;
  backend: string;
  status: number;
}

export async function startBalancer(pick: (method: string, path: string) => string): Promise<{ url: string; routed: Routed[]; close(): Promise<void> }> {
  const routed: Routed[] = [];
  const server = http.createServer((request, response) => {
    const backend = pick(request.method ?? 'GET', request.url ?? '/');
    const target = new URL(request.url ?? '/', backend);
    const upstream = http.request(target, { method: request.method, headers: { ...request.headers, host: target.host } }, (answer) => {
      routed.push({ method: request.method ?? '', path: target.pathname, backend, status: answer.statusCode ?? 0 });
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', (error) => {
      routed.push({ method: request.method ?? '', path: target.pathname, backend, status: 502 });
      response.writeHead(502).end(error.message);
    });
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    routed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
