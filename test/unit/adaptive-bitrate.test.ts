// The adaptive bitrate controller's decisions on synthetic receiver reports (no network, no timers).
import t from 'tap';
import { AdaptiveBitrate, BitrateController, BitrateGroup, readReport } from '../../lib/encoder/adaptive-bitrate.js';

// One receiver report a second, like Chromium's for video at these rates.
function feed(c: BitrateController, reports: { loss: number; rtt?: number; sent?: number }[], from = 0): number {
  let at = from;
  for (const r of reports) {
    at += 1000;
    c.update({ at, fractionLost: r.loss, rttMs: r.rtt ?? 150, sentKbps: r.sent });
  }
  return at;
}
const times = <T>(n: number, value: T): T[] => Array.from({ length: n }, () => value);

t.test('heavy loss (an overshot cap) cuts the target within a few reports, to what got through', async (t) => {
  const c = new BitrateController({ min: 150, max: 2000 });
  feed(c, [{ loss: 0, sent: 1800 }]);
  t.equal(c.target, 2000, 'a clean report at the ceiling keeps it');
  // 1.8 Mbit/s into a 1 Mbit/s link: ~45% lost.
  feed(c, times(3, { loss: 0.45, sent: 1800 }), 1000);
  t.ok(c.target <= 1000, `target ${c.target} ≤ 1000 after three lossy reports`);
  t.ok(c.target >= 150);
});

t.test('5% random loss alone is not congestion: the target does not fall', async (t) => {
  const c = new BitrateController({ min: 150, max: 2000, start: 800 });
  // Per-report loss of a 5% random process over ~60 packets: 0–12%.
  const noisy = [0.05, 0.0, 0.12, 0.03, 0.07, 0.05, 0.1, 0.02, 0.06, 0.04].map((loss) => ({ loss, sent: 800 }));
  feed(c, noisy);
  t.ok(c.target >= 800, `target ${c.target} did not drop under random 5% loss`);
});

t.test('a queue building (RTT up in two reports in a row) lowers the target; one late report does not', async (t) => {
  const c = new BitrateController({ min: 150, max: 2000, start: 1000 });
  let at = feed(c, times(3, { loss: 0, rtt: 150, sent: 1000 }));
  const before = c.target;
  at = feed(c, [{ loss: 0, rtt: 260, sent: 1000 }], at);
  t.ok(c.target >= before, 'a single slow report is not congestion');
  at = feed(c, [{ loss: 0, rtt: 150, sent: 1000 }], at);
  const steady = c.target;
  feed(c, [{ loss: 0, rtt: 200, sent: 1000 }, { loss: 0, rtt: 205, sent: 1000 }], at);
  t.ok(c.target < steady, `RTT 150 → 200 ms twice: target ${steady} → ${c.target}`);
});

t.test('clean reports raise the target again, up to max and no further', async (t) => {
  const c = new BitrateController({ min: 150, max: 2000 });
  let at = feed(c, times(4, { loss: 0.5, sent: 1500 }));
  const low = c.target;
  t.ok(low < 700, `cut to ${low}`);
  at = feed(c, times(6, { loss: 0.02, sent: 3000 }), at);
  const early = c.target;
  t.ok(early > low, `raised slowly right after the cut (${low} → ${early})`);
  feed(c, times(30, { loss: 0.03, sent: 3000 }), at);
  t.equal(c.target, 2000, 'back at the ceiling after ~40 s of clean reports');
});

t.test('never below min, never above max; an idle encoder does not inflate the target', async (t) => {
  const c = new BitrateController({ min: 200, max: 1000, start: 300 });
  feed(c, times(20, { loss: 0.9, sent: 60 }));
  t.equal(c.target, 200, 'floor holds');
  const d = new BitrateController({ min: 150, max: 4000, start: 300 });
  feed(d, times(30, { loss: 0, sent: 100 }));
  t.ok(d.target <= 300, `encoder sending 100 kbit/s: target stays ${d.target}`);
  const few = new BitrateController({ min: 150, max: 2000, start: 200 });
  for (let i = 1; i <= 10; i++) few.update({ at: i * 1000, fractionLost: i % 2 ? 0.2 : 0.1, sentKbps: 120, sentPackets: 12 });
  t.ok(few.target > 200, `1–2 of 12 packets lost per report is chance, not congestion (target ${few.target})`);
  const e = new BitrateController({ min: 150, max: 2000, start: 1000 });
  feed(e, times(5, { loss: 0.6, rtt: 400, sent: 10 }));
  t.equal(e.target, 1000, 'reports over an interval with next to nothing sent (a stalled sender) move nothing');
  feed(e, [{ loss: 0.6, sent: 5 }, { loss: 0.6, sent: 1000 }], 5000);
  t.ok(e.target >= 500, `one report cuts at most half (${e.target})`);
});

t.test('after a cut, reports are ignored while they still describe the old rate', async (t) => {
  const c = new BitrateController({ min: 150, max: 2000, settleMs: 1500 });
  t.equal(c.update({ at: 1000, fractionLost: 0.5, sentKbps: 2000 }).reason, 'loss');
  const cut = c.target;
  t.ok(cut < 2000);
  t.equal(c.update({ at: 2000, fractionLost: 0.5, sentKbps: 2000 }).reason, 'hold', 'within settleMs: hold');
  t.equal(c.target, cut);
  t.equal(c.update({ at: 2600, fractionLost: 0.5, sentKbps: 2000 }).reason, 'loss', 'after settleMs: cut again');
  t.ok(c.target < cut);
});

t.test('readReport reads webrtcbin stats (camelCased) and keys each report', async (t) => {
  const stats = new Map<string, Record<string, unknown> & { type: string }>([
    ['o', { type: 'outbound-rtp', kind: 'video', bytesSent: 1_000_000 }],
    ['x', { type: 'outbound-rtp', kind: 'video', bytesSent: 1000 }], // the RTX stream
    ['r', { type: 'remote-inbound-rtp', kind: 'video', packetsLost: 12, fractionLost: 0.0546875, roundTripTime: 0.1597 }],
  ]);
  const r = readReport(stats)!;
  t.equal(r.fractionLost, 0.0546875);
  t.equal(Math.round(r.rttMs!), 160);
  t.equal(r.bytesSent, 1_000_000);
  t.equal(readReport(new Map([['o', { type: 'outbound-rtp', bytesSent: 5 }]])), undefined, 'no report yet');
});

t.test('AdaptiveBitrate applies only on a new report and only when the target moves', async (t) => {
  let now = 0;
  let bytes = 0;
  let loss = 0.5;
  let report = 0;
  const applied: number[] = [];
  const abr = new AdaptiveBitrate({
    min: 150, max: 2000, now: () => now, apply: (k) => applied.push(k),
    getStats: async () => new Map([
      ['o', { type: 'outbound-rtp', kind: 'video', bytesSent: bytes }],
      ['r', { type: 'remote-inbound-rtp', kind: 'video', packetsLost: report, fractionLost: loss, roundTripTime: 0.15 }],
    ]),
  });
  for (let i = 0; i < 6; i++) {
    now += 500;
    bytes += 125_000; // 2 Mbit/s
    if (i % 2 === 0) report++; // a new report every second poll
    await abr.poll();
  }
  t.ok(applied.length >= 1 && applied.length <= 3, `applied ${JSON.stringify(applied)}`);
  t.ok(applied.at(-1)! < 2000);
});

t.test('BitrateGroup: the lowest viewer wins, down to the floor; leaving restores', async (t) => {
  const applied: number[] = [];
  const g = new BitrateGroup({ floor: 300, max: 2000, apply: (k) => applied.push(k) });
  g.set('a', 1500);
  g.set('b', 900);
  t.equal(g.target, 900);
  g.set('b', 100);
  t.equal(g.target, 300, 'one hopeless viewer cannot pull the others below the floor');
  g.delete('b');
  t.equal(g.target, 1500);
  t.same(applied, [1500, 900, 300, 1500]);
});
