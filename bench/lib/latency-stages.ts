// One key → frame, stage by stage, from the lines WEBRTCBIN_LATENCY_TRACE writes
// (src-native/common/latency_trace.h, lib/util/latency-trace.ts): the publisher's (the key's packet in,
// SCTP, the data channel signal, the JS handler, validation, the injection queue, XTest, X damage, the source's read and why,
// convert, encode, payload, network out) and the receiving process's (network in, jitter buffer,
// depayloader, decoder, appsink), all on CLOCK_MONOTONIC like process.hrtime here. Each stage is the
// first of its kind after the one before it; from the source to the converter a frame is followed by
// its PTS (the same buffer's), then by order (one frame at a time through a one-buffer queue).
import { existsSync, readFileSync } from 'node:fs';
import { percentile } from './stats.js';

export interface TraceLine {
  stage: string;
  us: number;
  pts: number;
  size: number;
  element: string;
}

/** Monotonic µs, the clock of the trace lines. */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** The trace lines of a file, by stage, each list in time order. */
export function readTrace(file: string): Map<string, TraceLine[]> {
  const byStage = new Map<string, TraceLine[]>();
  if (!existsSync(file)) return byStage;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f[0] !== 'wrtc-lat' || f.length < 6) continue;
    const entry = { stage: f[1]!, us: Number(f[2]), pts: Number(f[3]), size: Number(f[4]), element: f[5]! };
    let list = byStage.get(entry.stage);
    if (!list) byStage.set(entry.stage, (list = []));
    list.push(entry);
  }
  for (const list of byStage.values()) list.sort((a, b) => a.us - b.us);
  return byStage;
}

/** Element names the receiving process has traced so far (to tell one view's pipeline from another's). */
export function tracedElements(trace: Map<string, TraceLine[]>): Set<string> {
  const names = new Set<string>();
  for (const list of trace.values()) for (const l of list) names.add(l.element);
  return names;
}

// Packets smaller than this are RTCP, DTLS or data channel messages, not a frame's.
const MEDIA_PACKET = 200;

// anyElement: every view names its appsink "frames", so that step is matched by the decoded frame's PTS
// (its own pipeline's timestamps) rather than by this view's element names.
type Step = { label: string; from: 'pub' | 'view'; stage: string; by: 'after' | 'pts'; media?: boolean; anyElement?: boolean };

/** The stages in order; each label names the step that ends there. */
export const STEPS: Step[] = [
  // key → XTest, split where the publisher traces it (an addon or a publisher without these stages
  // leaves them out, and the next found step takes their time). The first packet in after the key is
  // taken as the key's (an RTCP packet arriving in between would move time from it to the next step).
  { label: 'key → packet in (sender, network)', from: 'pub', stage: 'received', by: 'after' },
  { label: 'packet in → SCTP message out (DTLS, usrsctp)', from: 'pub', stage: 'sctp', by: 'after' },
  { label: 'SCTP → data channel signal', from: 'pub', stage: 'channel-message', by: 'after' },
  { label: 'signal → JS handler (TSFN, event loop)', from: 'pub', stage: 'input-js', by: 'after' },
  { label: 'JS handler → parsed, validated, queued', from: 'pub', stage: 'input-checked', by: 'after' },
  { label: 'queued → injection starts (queue)', from: 'pub', stage: 'input-inject', by: 'after' },
  { label: '→ XTest sent (keysym, xcb)', from: 'pub', stage: 'xtest', by: 'after' },
  { label: 'XTest → damage (X app repaints)', from: 'pub', stage: 'damage', by: 'after' },
  { label: 'damage → read starts (coalescing)', from: 'pub', stage: 'read', by: 'after' },
  { label: 'read → pushed (SHM read, pointer)', from: 'pub', stage: 'src', by: 'after' },
  { label: 'pushed → converted (videoconvert)', from: 'pub', stage: 'convert', by: 'pts' },
  // By order, not PTS: x264enc's output PTS is shifted (1000 h of min-pts, less the latency it reports).
  { label: 'converted → encoded (queue, encoder)', from: 'pub', stage: 'encoded', by: 'after' },
  { label: 'encoded → payloaded (fan-out, appsrc)', from: 'pub', stage: 'pay', by: 'after' },
  { label: 'payloaded → sent (RTP, SRTP)', from: 'pub', stage: 'sent', by: 'after', media: true },
  { label: 'sent → received (loopback)', from: 'view', stage: 'received', by: 'after', media: true },
  { label: 'received → jitter buffer out', from: 'view', stage: 'jitterbuffer', by: 'after' },
  { label: 'jitter buffer → depayloaded', from: 'view', stage: 'depay', by: 'after' },
  { label: 'depayloaded → decoded', from: 'view', stage: 'decoded', by: 'after' },
  { label: 'decoded → appsink (convert)', from: 'view', stage: 'appsink', by: 'pts', anyElement: true },
];
export const SHOWN_LABEL = 'appsink → frame event (JS)';

export interface TrialStages {
  /** µs of each step (undefined: its stage was not found), then the JS frame event's. */
  steps: (number | undefined)[];
  /** Why the source read the frame (change, refine, refresh, now, first). */
  why: string | undefined;
}

function firstAfter(list: TraceLine[] | undefined, t: number, keep: (l: TraceLine) => boolean): TraceLine | undefined {
  if (!list) return undefined;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.us < t) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < list.length; i++) if (keep(list[i]!)) return list[i];
  return undefined;
}

/** Follows one trial's key (sent at keyUs, its frame event at shownUs) through both traces. */
export function chainTrial(
  pub: Map<string, TraceLine[]>,
  view: Map<string, TraceLine[]>,
  viewElements: Set<string>,
  keyUs: number,
  shownUs: number,
): TrialStages {
  let t = keyUs;
  let pts = -1;
  let why: string | undefined;
  const steps: (number | undefined)[] = [];
  for (const step of STEPS) {
    const list = (step.from === 'pub' ? pub : view).get(step.stage);
    const found = firstAfter(list, t, (l) => {
      if (step.from === 'view' && !step.anyElement && !viewElements.has(l.element)) return false;
      if (step.media && l.size < MEDIA_PACKET) return false;
      return step.by === 'pts' && pts >= 0 ? l.pts === pts : true;
    });
    if (!found || found.us > shownUs) {
      steps.push(undefined);
      continue;
    }
    steps.push(found.us - t);
    t = found.us;
    if (step.stage === 'read') why = found.element;
    if (step.stage === 'src' || step.stage === 'decoded') pts = found.pts;
  }
  steps.push(shownUs - t);
  return { steps, why };
}

/** Rows of [step, p50 ms, p95 ms, n] over the trials, then the reasons the source read each frame. */
export function stageRows(trials: TrialStages[]): string[][] {
  const labels = [...STEPS.map((s) => s.label), SHOWN_LABEL];
  const rows = labels.map((label, i) => {
    const us = trials.map((t) => t.steps[i]).filter((v): v is number => v !== undefined).sort((a, b) => a - b);
    return [label, (percentile(us, 50) / 1000).toFixed(2), (percentile(us, 95) / 1000).toFixed(2), String(us.length)];
  });
  // The whole key → XTest hop (the steps above it add up to it when XTest was found).
  const xtest = STEPS.findIndex((s) => s.stage === 'xtest');
  const hop = trials
    .filter((t) => t.steps[xtest] !== undefined)
    .map((t) => t.steps.slice(0, xtest + 1).reduce<number>((sum, v) => sum + (v ?? 0), 0))
    .sort((a, b) => a - b);
  rows.splice(xtest + 1, 0, ['= key → XTest', (percentile(hop, 50) / 1000).toFixed(2), (percentile(hop, 95) / 1000).toFixed(2), String(hop.length)]);
  const whys = new Map<string, number>();
  for (const t of trials) whys.set(t.why ?? '?', (whys.get(t.why ?? '?') ?? 0) + 1);
  rows.push(['read because', [...whys].map(([w, n]) => `${w} ${n}`).join(', '), '', String(trials.length)]);
  return rows;
}
