// Counters for /metrics (Prometheus text format) and /healthz.
import type { SessionRegistry } from './sessions.js';
import type { ConcurrencyCap } from './limits.js';

export class Metrics {
  messagesIn = 0;
  messagesOut = 0;
  connections = 0;
  readonly errors = new Map<string, number>();

  error(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  /** `tokens`: the per-token participant cap, whose holders are a gauge (a leaked slot shows here). */
  render(registry: SessionRegistry, tokens?: ConcurrencyCap): string {
    const lines = [
      '# HELP webrtcbin_sessions Sessions with at least one participant.',
      '# TYPE webrtcbin_sessions gauge',
      `webrtcbin_sessions ${registry.sessionCount}`,
      '# HELP webrtcbin_peers Joined participants by role.',
      '# TYPE webrtcbin_peers gauge',
      `webrtcbin_peers{role="publisher"} ${registry.peerCount('publisher')}`,
      `webrtcbin_peers{role="viewer"} ${registry.peerCount('viewer')}`,
      ...(tokens
        ? ['# HELP webrtcbin_tokens_in_use Tokens holding at least one participant (WebSocket or WHEP/WHIP).', '# TYPE webrtcbin_tokens_in_use gauge', `webrtcbin_tokens_in_use ${tokens.size}`]
        : []),
      '# HELP webrtcbin_connections_total WebSocket connections accepted.',
      '# TYPE webrtcbin_connections_total counter',
      `webrtcbin_connections_total ${this.connections}`,
      '# HELP webrtcbin_messages_total Signaling messages by direction.',
      '# TYPE webrtcbin_messages_total counter',
      `webrtcbin_messages_total{direction="in"} ${this.messagesIn}`,
      `webrtcbin_messages_total{direction="out"} ${this.messagesOut}`,
      '# HELP webrtcbin_errors_total Protocol errors sent, by code.',
      '# TYPE webrtcbin_errors_total counter',
      ...[...this.errors].map(([code, n]) => `webrtcbin_errors_total{code="${code}"} ${n}`),
    ];
    return `${lines.join('\n')}\n`;
  }
}
