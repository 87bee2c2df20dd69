// getStats(): webrtcbin's stats structure as a W3C-shaped report.

export type StatsReport = Map<string, Record<string, unknown> & { id: string; type: string; timestamp: number }>;

// webrtcbin names stats fields in kebab-case ("packets-received"); the W3C names are camelCase.
function camelKeys(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    const name = key.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    out[name] = field && typeof field === 'object' && !Array.isArray(field) ? camelKeys(field as Record<string, unknown>) : field;
  }
  return out;
}

/** The stats JSON the addon returns, as a report keyed by stat id with camelCase fields. */
export function statsReport(json: string): StatsReport {
  const raw = JSON.parse(json || '{}') as Record<string, unknown>;
  const report: StatsReport = new Map();
  for (const [key, value] of Object.entries(raw)) {
    if (!value || typeof value !== 'object') continue;
    const stat = camelKeys(value as Record<string, unknown>);
    const id = typeof stat.id === 'string' ? stat.id : key;
    report.set(id, { ...stat, id, type: String(stat.type ?? 'unknown'), timestamp: Number(stat.timestamp ?? 0) });
  }
  return report;
}
