// The data shaping behind the dashboard's charts: status classes, percentiles, counter rates, buckets, rings and columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classRates, Downsampler, fromColumns, percentile, recentTraffic, SAMPLE_FIELDS, SampleRing, statusClass, toColumns, totalRate, type Sample } from '../../src/ui/shared/series.js';

/** A sample at `t` with the given fields, the rest null. */
function sample(t: number, fields: Partial<Record<(typeof SAMPLE_FIELDS)[number], number | null>> = {}): Sample {
  return { t, ...Object.fromEntries(SAMPLE_FIELDS.map((f) => [f, fields[f] ?? null])) } as Sample;
}

test('status classes: below 400 is success, 4xx the caller\'s, 5xx the service\'s (the gateway\'s 502/503/504 included)', () => {
  assert.deepEqual([200, 201, 204, 302, 400, 401, 404, 408, 413, 499, 500, 502, 503, 504].map(statusClass),
    ['2xx', '2xx', '2xx', '2xx', '4xx', '4xx', '4xx', '4xx', '4xx', '4xx', '5xx', '5xx', '5xx', '5xx']);
});

test('percentiles by nearest rank, as the gateway\'s window computes them; none of nothing', () => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(sorted, 0.5), 50);
  assert.equal(percentile(sorted, 0.99), 99);
  assert.equal(percentile(sorted, 1), 100);
  assert.equal(percentile([7], 0.5), 7);
  assert.equal(percentile([7], 0.99), 7);
  assert.equal(percentile([1, 2], 0.5), 1);
  assert.equal(percentile([], 0.5), null);
});

test('class rates from two readings of the cumulative counters, per second; a counter that went back counts from zero', () => {
  const before = new Map([[200, 100], [401, 3], [502, 1]]);
  const after = new Map([[200, 140], [401, 3], [502, 5], [504, 2]]);
  assert.deepEqual(classRates(before, after, 2), { '2xx': 20, '4xx': 0, '5xx': 3 });
  // A new service (no earlier reading): everything it has counted is new.
  assert.deepEqual(classRates(undefined, new Map([[200, 4]]), 1), { '2xx': 4, '4xx': 0, '5xx': 0 });
  // Deleted and made again under the same name: its counter restarted below the old reading.
  assert.deepEqual(classRates(new Map([[200, 1000]]), new Map([[200, 6]]), 1), { '2xx': 6, '4xx': 0, '5xx': 0 });
  assert.deepEqual(classRates(before, after, 0), { '2xx': 0, '4xx': 0, '5xx': 0 });
});

test('downsampling: rates and utilization averaged, p99 and queue the worst, p50 weighted by requests, replica counts the last', () => {
  const d = new Downsampler(10_000);
  // Ten 1 s samples ending at 1..10 s belong to the bucket ending at 10 s.
  for (let i = 1; i <= 10; i++) {
    const done = d.push(sample(i * 1000, { rps2xx: i <= 5 ? 10 : 0, rps5xx: i <= 5 ? 0 : 2, p50: i <= 5 ? 5 : 50, p99: i, util: i * 10, queued: i === 3 ? 7 : 0, ready: i <= 8 ? 1 : 2, desired: 2 }));
    assert.equal(done, undefined, `sample ${i} stays in the first bucket`);
  }
  const done = d.push(sample(11_000, { rps2xx: 1 }));
  assert.ok(done !== undefined);
  assert.equal(done.t, 10_000);
  assert.equal(done.rps2xx, 5);
  assert.equal(done.rps5xx, 1);
  assert.equal(done.p99, 10);
  assert.equal(done.util, 55);
  assert.equal(done.queued, 7);
  assert.equal(done.ready, 2);
  assert.equal(done.desired, 2);
  // Five seconds of 10 req/s at 5 ms and five of 2 req/s at 50 ms: (50·5 + 10·50) / 60.
  assert.ok(Math.abs(done.p50! - 750 / 60) < 1e-9, String(done.p50));
  // The next bucket so far holds only the 11 s sample.
  assert.equal(d.current()?.t, 20_000);
  assert.equal(d.current()?.rps2xx, 1);
  assert.equal(d.current()?.p50, null, 'no latency measured: null, not 0');
});

test('a ring keeps its newest samples in order, nulls as nulls, in 48 bytes a sample', () => {
  const ring = new SampleRing(5);
  assert.equal(ring.bytes, 5 * (8 + 4 * SAMPLE_FIELDS.length));
  for (let i = 1; i <= 8; i++) ring.push(sample(i * 1000, { rps2xx: i, p50: i % 2 === 0 ? null : i + 0.25 }));
  assert.equal(ring.length, 5);
  assert.deepEqual(ring.since(-Infinity).map((s) => s.t), [4000, 5000, 6000, 7000, 8000]);
  assert.deepEqual(ring.since(6000).map((s) => s.rps2xx), [7, 8]);
  assert.deepEqual(ring.latest(2).map((s) => [s.t, s.p50]), [[7000, 7.25], [8000, null]]);
  assert.deepEqual(ring.latest(10).length, 5);
  assert.deepEqual(new SampleRing(3).latest(2), []);
});

test('columns: aligned arrays within the range, with a null row where samples stop for longer than 2.5 steps', () => {
  const samples = [sample(1000, { rps2xx: 1 }), sample(2000, { rps2xx: 2 }), sample(3000, { rps2xx: 3 }), sample(9000, { rps2xx: 9 }), sample(10_000, { rps2xx: 10 })];
  const c = toColumns(samples, 1000);
  assert.deepEqual(c.t, [1000, 2000, 3000, 4000, 9000, 10_000]);
  assert.deepEqual(c.rps2xx, [1, 2, 3, null, 9, 10]);
  assert.deepEqual(c.p99, [null, null, null, null, null, null]);
  assert.deepEqual(toColumns(samples, 1000, 2500, 9500).t, [3000, 4000, 9000]);
  // A sample two steps late (a slow tick) is not a gap.
  assert.deepEqual(toColumns([sample(1000), sample(3000)], 1000).t, [1000, 3000]);
  const back = fromColumns(toColumns(samples.slice(0, 3), 1000));
  assert.deepEqual(back, samples.slice(0, 3));
});

test('the services table\'s figures: mean total rate and the 5xx share of the last samples', () => {
  const s = [sample(1, { rps2xx: 8, rps4xx: 1, rps5xx: 1 }), sample(2, { rps2xx: 10, rps4xx: 0, rps5xx: 0 })];
  assert.equal(totalRate(s[0]!), 10);
  assert.deepEqual(recentTraffic(s), { rps: 10, errorRate: 0.05 });
  assert.deepEqual(recentTraffic([sample(1, { rps2xx: 0 })]), { rps: 0, errorRate: null });
  assert.deepEqual(recentTraffic([]), { rps: 0, errorRate: null });
});
