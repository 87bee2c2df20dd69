// lib/media/: what a peer negotiates and builds: send and receive pipelines, codecs and payload types, SDP, ICE servers.
// W3C RTCIceServer entries → webrtcbin's stun-server property and add-turn-server URIs.
import { InvalidArgumentError } from '../errors.js';
import { wholeNumber } from '../util/checks.js';
import type { RTCIceServer } from '../types.js';

export interface WebrtcbinIceConfig {
  stunServer?: string;
  turnServers: string[];
  /** STUN servers beyond the first: webrtcbin takes one, so these are not used. */
  ignoredStun: string[];
}

// stun:host, stun:host:port, turn:host:port?transport=tcp, turns:[::1]:5349
const ICE_URL = /^(stuns?|turns?):(\[[0-9a-fA-F:.]+\]|[^\s:?/@[\]]+)(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/i;

export function toWebrtcbinIce(servers: readonly RTCIceServer[] = []): WebrtcbinIceConfig {
  const config: WebrtcbinIceConfig = { turnServers: [], ignoredStun: [] };
  if (!Array.isArray(servers)) throw new InvalidArgumentError('iceServers must be an array of {urls, username?, credential?}');
  for (const server of servers) {
    if (!server || (typeof server.urls !== 'string' && !Array.isArray(server.urls))) {
      throw new InvalidArgumentError('each ICE server needs `urls`: a string or an array of strings');
    }
    const urls = typeof server.urls === 'string' ? [server.urls] : server.urls;
    for (const url of urls) {
      const match = typeof url === 'string' ? ICE_URL.exec(url.trim()) : null;
      if (!match) {
        throw new InvalidArgumentError(
          `ICE server URL ${JSON.stringify(url)} is not of the form stun:host[:port] or turn(s):host[:port][?transport=udp|tcp]`,
        );
      }
      const scheme = match[1]!.toLowerCase();
      const host = match[2]!;
      const port = match[3] ? Number(match[3]) : scheme === 'turns' || scheme === 'stuns' ? 5349 : 3478;
      wholeNumber(port, `ICE server URL ${url} has an invalid port: the port`, { min: 1, max: 65535 });
      if (scheme === 'stuns') {
        throw new InvalidArgumentError(`${url}: webrtcbin cannot reach STUN over TLS; use stun: (or turns: for TLS)`);
      }
      if (scheme === 'stun') {
        const uri = `stun://${host}:${port}`;
        if (config.stunServer) config.ignoredStun.push(uri);
        else config.stunServer = uri;
        continue;
      }
      if (typeof server.username !== 'string' || typeof server.credential !== 'string') {
        throw new InvalidArgumentError(`TURN server ${scheme}:${host} needs a username and a credential (strings)`);
      }
      // Credentials may hold any character (':' '@' '/' '%' in coturn REST usernames and secrets):
      // percent-encode both so webrtcbin's URI parser splits user:password@host correctly.
      const user = encodeURIComponent(server.username);
      const pass = encodeURIComponent(server.credential);
      // UDP is libnice's default; webrtcbin 1.22 gathers nothing for an explicit "?transport=udp".
      const transport = match[4]?.toLowerCase() === 'tcp' ? '?transport=tcp' : '';
      config.turnServers.push(`${scheme}://${user}:${pass}@${host}:${port}${transport}`);
    }
  }
  return config;
}

/** The same URI with the credential hidden, for logs and error messages. */
export function redactIceUri(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, '//***@');
}
