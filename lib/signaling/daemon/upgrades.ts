// The root-level hook a controller that mounts the plugin adds to its app. Its own file, with Fastify's
// types only, so it loads without the server.
import type { FastifyInstance } from 'fastify';

/**
 * The WebSocket plugin routes every upgrade request through Fastify. One answered with plain HTTP
 * outside the plugin's routes (a 404) is a socket Node no longer tracks: neither timeouts nor close()
 * would ever end it. This root-level hook does; a controller that mounts the plugin calls it on its app.
 */
export function closeUnansweredUpgrades(app: FastifyInstance): void {
  app.addHook('onResponse', async (request) => {
    if (request.headers.upgrade) request.raw.socket?.destroy();
  });
}
