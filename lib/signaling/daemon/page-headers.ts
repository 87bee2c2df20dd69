// Response headers of the viewer page and its script. The page's URL carries a token, so it must not
// leak through a Referer, be framed by a stranger (clickjacking a desktop that takes input), or run
// anything but our own script.
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../../errors.js';

/** A `frame-ancestors` source: 'self', 'none', or an http(s) origin (a leading `*.` label allowed). */
const ANCESTOR = /^(?:'self'|'none'|https?:\/\/(?:\*\.)?[A-Za-z0-9.-]+(?::\d{1,5})?)$/;
/** What may appear in a Host header we echo into connect-src. */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** Checks `frameAncestors` (the plugin option / `--frame-ancestors`); throws InvalidArgumentError. */
export function checkFrameAncestors(given: readonly string[]): string[] {
  // `self` and `none` without the quotes a shell would eat are accepted too.
  const sources = given.map((s) => (s === 'self' || s === 'none' ? `'${s}'` : s.replace(/\/$/, '')));
  if (sources.length === 0) throw new InvalidArgumentError("frameAncestors is empty: give 'self', 'none' or the origins that may embed the viewer page");
  for (const s of sources) {
    if (!ANCESTOR.test(s)) {
      throw new InvalidArgumentError(`frameAncestors: ${JSON.stringify(s).slice(0, 80)} is not 'self', 'none' or an origin like https://controller.example.org`);
    }
  }
  if (sources.includes("'none'") && sources.length > 1) throw new InvalidArgumentError("frameAncestors: 'none' cannot be combined with other sources");
  return sources;
}

/** A Janus WebSocket endpoint the page may watch through: ws(s)://host[:port][/path], nothing a CSP source would misread. */
const JANUS_URL = /^wss?:\/\/(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?(?:\/[A-Za-z0-9._~\/-]*)?$/;

/**
 * Checks `viewerJanus` (the plugin option / `--viewer-janus`): the Janus WebSocket URLs the viewer page's
 * Janus mode may connect to (CSP connect-src); any other `?janus=` is blocked by the browser.
 */
export function checkViewerJanus(given: readonly string[]): string[] {
  for (const url of given) {
    if (!JANUS_URL.test(url)) throw new InvalidArgumentError(`viewerJanus: ${JSON.stringify(url).slice(0, 80)} is not a Janus WebSocket URL like ws://janus.internal:8188`);
  }
  return [...given];
}

/** sha256 sources for the page's inline <style> blocks: the CSP then needs no 'unsafe-inline'. */
function styleHashes(html: string): string[] {
  return [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`);
}

export interface PageHeaders {
  /** Headers for the page itself; `host` is the request's Host (for ws:/wss: in connect-src). */
  page(host: string | undefined): Record<string, string>;
  /** Headers for the page's script and other assets. */
  asset: Record<string, string>;
}

export function pageHeaders(html: string, frameAncestors: readonly string[] = ["'self'"], viewerJanus: readonly string[] = []): PageHeaders {
  const ancestors = checkFrameAncestors(frameAncestors);
  // The page's Janus mode (docs/sfu.md): only the Janus endpoints the operator named.
  const janus = checkViewerJanus(viewerJanus).map((url) => ` ${url}`).join('');
  const common = { 'referrer-policy': 'no-referrer', 'x-content-type-options': 'nosniff' };
  // X-Frame-Options cannot name an origin: send it only for the default (older browsers lack frame-ancestors).
  const xfo: Record<string, string> = ancestors.length === 1 && ancestors[0] === "'self'" ? { 'x-frame-options': 'SAMEORIGIN' } : ancestors[0] === "'none'" ? { 'x-frame-options': 'DENY' } : {};
  const styles = styleHashes(html).join(' ') || "'none'";
  return {
    page(host) {
      // 'self' covers ws:/wss: to the same host in CSP 3; older Safari needs them spelled out.
      const sockets = host && HOST.test(host) ? ` ws://${host} wss://${host}` : '';
      const csp = [
        "default-src 'none'",
        "script-src 'self'",
        `style-src ${styles}`,
        "img-src 'self' data:",
        "media-src 'self' blob:",
        `connect-src 'self'${sockets}${janus}`,
        "base-uri 'none'",
        "form-action 'none'",
        `frame-ancestors ${ancestors.join(' ')}`,
      ].join('; ');
      return { ...common, ...xfo, 'content-security-policy': csp };
    },
    asset: { ...common },
  };
}
