// The hot-path counters and histograms render exactly what prom-client's own would for the same observations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Histogram, Registry } from 'prom-client';
import { HotCounter, HotHistogram } from '../../src/core/hot-metrics.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const VALUES = [0, 0.0005, 0.001, 0.004, 0.01, 0.5, 1, 3, 120];

test('a labelled histogram: same buckets, +Inf, sum and count, labels in the same order', async () => {
  const theirs = new Registry();
  const ours = new Registry();
  const reference = new Histogram({ name: 'lat_seconds', help: 'Latency.', labelNames: ['service'], buckets: BUCKETS, registers: [theirs] });
  const hot = new HotHistogram({ name: 'lat_seconds', help: 'Latency.', labelNames: ['service'], buckets: BUCKETS, registers: [ours] });
  for (const v of VALUES) {
    reference.observe({ service: 'a"b' }, v);
    hot.labels({ service: 'a"b' }).observe(v);
  }
  reference.observe({ service: 'other' }, 0.02);
  hot.labels({ service: 'other' }).observe(0.02);
  assert.equal(await ours.metrics(), await theirs.metrics());
  assert.match(await ours.metrics(), /lat_seconds_bucket\{le="0.01",service="a\\"b"\} 5\n/);
});

test('an unlabelled histogram and counter show zeros before the first observation, then count', async () => {
  const theirs = new Registry();
  const ours = new Registry();
  const referenceHistogram = new Histogram({ name: 'wait_seconds', help: 'Wait.', buckets: BUCKETS, registers: [theirs] });
  const referenceCounter = new Counter({ name: 'done_total', help: 'Done.', registers: [theirs] });
  const hotHistogram = new HotHistogram({ name: 'wait_seconds', help: 'Wait.', buckets: BUCKETS, registers: [ours] }).labels();
  const hotCounter = new HotCounter({ name: 'done_total', help: 'Done.', registers: [ours] }).labels();
  assert.equal(await ours.metrics(), await theirs.metrics());
  referenceHistogram.observe(0.05);
  hotHistogram.observe(0.05);
  referenceCounter.inc(3);
  hotCounter.inc(3);
  assert.equal(await ours.metrics(), await theirs.metrics());
  assert.match(await ours.metrics(), /done_total 3\n/);
});

test('a labelled counter: one series per label set, removable', async () => {
  const theirs = new Registry();
  const ours = new Registry();
  const reference = new Counter({ name: 'req_total', help: 'Requests.', labelNames: ['service', 'code'], registers: [theirs] });
  const hot = new HotCounter({ name: 'req_total', help: 'Requests.', labelNames: ['service', 'code'], registers: [ours] });
  for (const [service, code] of [['a', '200'], ['a', '200'], ['a', '503'], ['b', '200']] as const) {
    reference.inc({ service, code });
    hot.labels({ code, service }).inc();
  }
  assert.strictEqual(hot.labels({ service: 'a', code: '200' }), hot.labels({ code: '200', service: 'a' }));
  assert.equal(await ours.metrics(), await theirs.metrics());
  reference.remove({ service: 'a', code: '200' });
  reference.remove({ service: 'a', code: '503' });
  hot.remove({ service: 'a' });
  assert.equal(await ours.metrics(), await theirs.metrics());
});

test('a missing or unknown label is refused', () => {
  const hot = new HotCounter({ name: 'x_total', help: 'X.', labelNames: ['service'], registers: [new Registry()] });
  assert.throws(() => hot.labels({}), /needs label service/);
  assert.throws(() => hot.labels({ service: 'a', code: '1' }), /has no label code/);
});
