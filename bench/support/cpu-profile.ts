// Reads a V8 .cpuprofile (--cpu-prof, or the inspector's Profiler.stop) into what a benchmark reports:
// where the time went by component (GC, JSON, ws, Fastify, ioredis, ours, node internals, idle), the
// top functions by self time, and, for a latency tail, the busy stretches: runs of consecutive
// non-idle samples of at least TAIL_MS, when the event loop could not turn, and what filled them.
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const TAIL_MS = 10;

function component(node: ProfileNode): string {
  const { functionName: f, url } = node.callFrame;
  if (f === '(garbage collector)') return 'GC';
  if (f === '(idle)') return 'idle';
  if (f === '(program)') return 'program (native, no JS on the stack)';
  // The inspector answering Profiler.start/stop (the profiler's own cost, not the daemon's).
  if (f === 'dispatch' && !url) return 'the profiler itself';
  if (f === 'writev' && !url) return 'socket writes (writev)';
  if (/^JSON\.|^(parse|stringify)$/.test(f) && !url) return 'JSON parse/stringify';
  if (url.includes('/node_modules/ws/')) return 'ws';
  if (url.includes('/node_modules/ioredis/') || url.includes('/node_modules/@ioredis/') || url.includes('redis-parser')) return 'ioredis';
  if (url.includes('fastify') || url.includes('/node_modules/find-my-way/') || url.includes('/node_modules/avvio/') || url.includes('/node_modules/pino')) return 'fastify';
  if (url.includes('/node_modules/ajv')) return 'ajv';
  if (url.includes('/dist/lib/')) return 'ours (dist/lib)';
  if (url.startsWith('node:')) return 'node internals';
  if (!url) return `native: ${f || '(anonymous)'}`;
  return 'other JS';
}

export interface ProfileSummary {
  sampledMs: number;
  busyPercent: number;
  byComponent: Record<string, number>;
  topFunctions: { name: string; ms: number }[];
  tail: { thresholdMs: number; stretches: number; longestMs: number; totalMs: number; byComponent: Record<string, number> };
}

export function summarizeProfile(file: string, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMs = new Map<number, number>();
  const byComponent: Record<string, number> = {};
  const tail = { thresholdMs: TAIL_MS, stretches: 0, longestMs: 0, totalMs: 0, byComponent: {} as Record<string, number> };
  let sampledMs = 0;
  let stretch: { ms: number; parts: Record<string, number> } = { ms: 0, parts: {} };
  const endStretch = () => {
    if (stretch.ms >= TAIL_MS) {
      tail.stretches++;
      tail.totalMs += stretch.ms;
      tail.longestMs = Math.max(tail.longestMs, stretch.ms);
      for (const [k, v] of Object.entries(stretch.parts)) tail.byComponent[k] = (tail.byComponent[k] ?? 0) + v;
    }
    stretch = { ms: 0, parts: {} };
  };
  // timeDeltas[i] is the time since the previous sample: that interval is charged to sample i.
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id)!;
    const c = component(node);
    sampledMs += ms;
    selfMs.set(id, (selfMs.get(id) ?? 0) + ms);
    byComponent[c] = (byComponent[c] ?? 0) + ms;
    if (c === 'idle') return endStretch();
    stretch.ms += ms;
    stretch.parts[c] = (stretch.parts[c] ?? 0) + ms;
  });
  endStretch();
  const byName = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url ? ` ${url.includes('/node_modules/') ? url.slice(url.lastIndexOf('/node_modules/') + 14) : path.basename(url)}:${lineNumber + 1}` : '';
    const name = `${functionName || '(anonymous)'}${where}`;
    byName.set(name, (byName.get(name) ?? 0) + ms);
  }
  const topFunctions = [...byName].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, ms]) => ({ name, ms }));
  const round = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round(v)]));
  return {
    sampledMs: Math.round(sampledMs),
    busyPercent: (100 * (sampledMs - (byComponent.idle ?? 0))) / sampledMs,
    byComponent: round(byComponent),
    topFunctions: topFunctions.map((f) => ({ name: f.name, ms: Math.round(f.ms) })),
    tail: { ...tail, longestMs: Math.round(tail.longestMs), totalMs: Math.round(tail.totalMs), byComponent: round(tail.byComponent) },
  };
}
