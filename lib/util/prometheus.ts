// The Prometheus text format (0.0.4), written in one place: the daemon's counters, the cluster's gauges and
// each viewer's congestion controller all go through it, so names, escaping and layout agree.

export type MetricType = 'gauge' | 'counter';

export interface MetricSample {
  labels?: Readonly<Record<string, string>>;
  /** undefined or not finite: the sample is left out (a gauge with nothing measured yet). */
  value: number | undefined;
}

export interface Metric {
  name: string;
  help: string;
  type: MetricType;
  samples: readonly MetricSample[];
}

// Label values may hold anything a client chose (a viewer's id): the format escapes \, " and newlines.
const escapeLabel = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function sampleLine(name: string, sample: MetricSample): string | undefined {
  const { value, labels } = sample;
  if (value === undefined || !Number.isFinite(value)) return undefined;
  const pairs = Object.entries(labels ?? {}).map(([key, v]) => `${key}="${escapeLabel(v)}"`);
  const shown = Number.isInteger(value) ? String(value) : String(Math.round(value * 1000) / 1000);
  return `${name}${pairs.length ? `{${pairs.join(',')}}` : ''} ${shown}`;
}

/** The metrics as exposition text, each with its HELP and TYPE lines, ending in a newline. */
export function renderMetrics(metrics: readonly Metric[]): string {
  const lines: string[] = [];
  for (const metric of metrics) {
    lines.push(`# HELP ${metric.name} ${escapeHelp(metric.help)}`, `# TYPE ${metric.name} ${metric.type}`);
    for (const sample of metric.samples) {
      const line = sampleLine(metric.name, sample);
      if (line !== undefined) lines.push(line);
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
