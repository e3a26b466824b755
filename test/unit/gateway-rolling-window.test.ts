// The gateway's rolling window: percentiles by rank, the figures' span, and the latencies of a time range for the dashboard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RollingWindow } from '../../src/gateway/rolling.js';

function windowWith(latencies: readonly number[], stepMs: number, capacity = 4096): { w: RollingWindow; clock: { t: number } } {
  const clock = { t: 1_000_000 };
  const w = new RollingWindow(() => clock.t, 60_000, capacity);
  for (const ms of latencies) {
    clock.t += stepMs;
    w.record(ms, ms >= 90 ? 503 : 200);
  }
  return { w, clock };
}

test('p50 and p99 are the values at ranks ⌈0.5·n⌉ and ⌈0.99·n⌉ of the latencies, whatever order they came in', () => {
  // 1..100 shuffled: rank 50 is 50, rank 99 is 99 (a numeric sort, not the text order that puts 100 before 11).
  const values = Array.from({ length: 100 }, (_, i) => i + 1).sort((a, b) => ((a * 37) % 101) - ((b * 37) % 101));
  const { w } = windowWith(values, 10);
  const s = w.stats();
  assert.equal(s.requests, 100);
  assert.equal(s.p50Ms, 50);
  assert.equal(s.p99Ms, 99);
  const sum = w.summary();
  assert.equal(sum.p50Ms, 50);
  assert.equal(sum.p99Ms, 99);
  assert.equal(sum.errors, 11, 'the 503s (90..100) count as errors');
});

test('requests older than the window are left out of the figures', () => {
  const { w, clock } = windowWith([5, 5, 5], 1000);
  clock.t += 59_500; // the first two are now older than a minute
  for (const ms of [1, 2]) w.record(ms, 200);
  const s = w.stats();
  assert.equal(s.requests, 3);
  assert.equal(s.p50Ms, 2);
  assert.equal(s.p99Ms, 5);
});

test('latencies(from, to) are those answered in (from, to], sorted ascending; an empty range gives none', () => {
  const { w, clock } = windowWith([30, 10, 20, 40, 5], 100);
  const end = clock.t;
  // Answered at end-400, -300, -200, -100, end: (end-300, end-100] holds the 3rd and 4th (20 and 40).
  assert.deepEqual([...w.latencies(end - 300, end - 100)], [20, 40]);
  assert.deepEqual([...w.latencies(end - 1000, end)], [5, 10, 20, 30, 40]);
  assert.equal(w.latencies(end, end + 1000).length, 0);
});

test('a full ring keeps the newest requests only, and its span is what they cover', () => {
  const { w } = windowWith(Array.from({ length: 20 }, (_, i) => i + 1), 100, 8);
  const s = w.stats();
  assert.equal(s.requests, 8);
  assert.equal(s.p50Ms, 16, 'the newest eight are 13..20');
  assert.equal(s.windowS, 1, 'at least a second');
});
