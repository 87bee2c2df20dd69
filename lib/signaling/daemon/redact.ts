// Secrets never reach a log line. Fastify and its plugins log URLs in several places we do not own
// (the 404 line, the WebSocket plugin's "no handler" line, error messages that quote the request), so
// besides serializers that drop what they do not need, every finished line is scrubbed on its way to
// the stream: query parameters that carry secrets, Bearer credentials, and anything shaped like one of
// our tokens, wherever it appears.

/** Query parameters whose value is a credential. */
const SECRET_PARAM = /([?&;](?:token|access_token|secret|password|credential)=)[^&#\s"'\\]*/gi;
/** An Authorization value quoted into a message. */
const BEARER = /(\b(?:Bearer|Basic)\s+)[^\s"'\\,]+/gi;
/** A session token (token.ts: "v1.<claims>.<signature>"), even a truncated one. */
const TOKEN_SHAPE = /\bv1\.[A-Za-z0-9_-]{6,}(?:\.[A-Za-z0-9_-]*)?/g;

/** The password of a URL's userinfo (redis://:password@host, redis://user:password@host). */
const USERINFO_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/@:]*:)[^\s/@]+@/gi;

export function redactSecrets(text: string): string {
  return text.replace(USERINFO_PASSWORD, '$1***@').replace(SECRET_PARAM, '$1***').replace(BEARER, '$1***').replace(TOKEN_SHAPE, 'v1.***');
}

/** The token in a URL must never reach a log line. */
export function redactUrl(url: string): string {
  return redactSecrets(url);
}

interface LoggedError {
  type: string;
  code?: string;
  statusCode?: number;
  message: string;
  stack?: string;
}

// A client's bad request is not our bug: its message is enough, and a JSON parse error quotes the body.
function serializeError(error: unknown): LoggedError | unknown {
  if (!(error instanceof Error)) return error;
  const e = error as Error & { code?: string; statusCode?: number };
  const clientFault = typeof e.statusCode === 'number' && e.statusCode < 500;
  const message = e instanceof SyntaxError || e.code === 'FST_ERR_CTP_INVALID_JSON' ? 'the request body is not valid JSON' : redactSecrets(e.message);
  return {
    type: e.name,
    ...(e.code ? { code: e.code } : {}),
    ...(clientFault ? { statusCode: e.statusCode } : {}),
    message,
    ...(clientFault || !e.stack ? {} : { stack: redactSecrets(e.stack.replace(e.message, message)) }),
  };
}

/**
 * Logger options (Fastify's `logger` / pino) that keep secrets out of every line: request lines carry
 * method, redacted URL and address only; errors lose request bodies; every line is scrubbed last.
 * `createSignalingServer` uses them; a controller that registers the plugin can spread them into its own.
 */
export function redactingLoggerOptions(): {
  // pino's SerializerFn takes any
  serializers: Record<string, (value: any) => unknown>;
  hooks: { streamWrite: (line: string) => string };
} {
  return {
    serializers: {
      req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url), remote: req.ip }),
      err: serializeError,
    },
    hooks: { streamWrite: redactSecrets },
  };
}
