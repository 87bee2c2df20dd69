// Counters for /metrics (Prometheus text format) and /healthz.
import type { SessionRegistry } from './sessions.js';
import type { ConcurrencyCap } from './limits.js';
import { renderMetrics, type Metric } from '../../util/prometheus.js';

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
    const metrics: Metric[] = [
      { name: 'webrtcbin_sessions', help: 'Sessions with at least one participant.', type: 'gauge', samples: [{ value: registry.sessionCount }] },
      {
        name: 'webrtcbin_peers',
        help: 'Joined participants by role.',
        type: 'gauge',
        samples: (['publisher', 'viewer'] as const).map((role) => ({ labels: { role }, value: registry.peerCount(role) })),
      },
      ...(tokens
        ? [{ name: 'webrtcbin_tokens_in_use', help: 'Tokens holding at least one participant (WebSocket or WHEP/WHIP).', type: 'gauge' as const, samples: [{ value: tokens.size }] }]
        : []),
      { name: 'webrtcbin_connections_total', help: 'WebSocket connections accepted.', type: 'counter', samples: [{ value: this.connections }] },
      {
        name: 'webrtcbin_messages_total',
        help: 'Signaling messages by direction.',
        type: 'counter',
        samples: [
          { labels: { direction: 'in' }, value: this.messagesIn },
          { labels: { direction: 'out' }, value: this.messagesOut },
        ],
      },
      { name: 'webrtcbin_errors_total', help: 'Protocol errors sent, by code.', type: 'counter', samples: [...this.errors].map(([code, n]) => ({ labels: { code }, value: n })) },
    ];
    return renderMetrics(metrics);
  }
}
