// The one Prometheus text writer: HELP/TYPE per metric, labels escaped as the format says, samples with
// nothing measured left out.
import t from 'tap';
import { renderMetrics } from '../../lib/util/prometheus.js';

t.test('a metric: HELP, TYPE, then its samples, labelled or not', async (t) => {
  const text = renderMetrics([
    { name: 'a_total', help: 'Things.', type: 'counter', samples: [{ value: 3 }] },
    { name: 'b', help: 'By role.', type: 'gauge', samples: [{ labels: { role: 'viewer', x: 'y' }, value: 1.23456 }] },
  ]);
  t.equal(text, '# HELP a_total Things.\n# TYPE a_total counter\na_total 3\n# HELP b By role.\n# TYPE b gauge\nb{role="viewer",x="y"} 1.235\n');
});

t.test('label values a client chose are escaped; HELP newlines too', async (t) => {
  const text = renderMetrics([{ name: 'g', help: 'two\nlines \\', type: 'gauge', samples: [{ labels: { viewer: 'a"b\\c\nd' }, value: 1 }] }]);
  t.match(text, /^# HELP g two\\nlines \\\\\n/);
  t.match(text, /\ng\{viewer="a\\"b\\\\c\\nd"\} 1\n$/);
  t.equal(text.trimEnd().split('\n').length, 3, 'one line per sample: the newline did not break the format');
});

t.test('undefined, NaN and infinite samples are left out; the metric keeps its HELP and TYPE', async (t) => {
  const text = renderMetrics([{ name: 'g', help: 'h', type: 'gauge', samples: [{ value: undefined }, { value: Number.NaN }, { value: Infinity }, { labels: { k: 'v' }, value: 0 }] }]);
  t.equal(text, '# HELP g h\n# TYPE g gauge\ng{k="v"} 0\n');
  t.equal(renderMetrics([]), '', 'nothing at all: an empty string');
});
