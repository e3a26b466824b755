// Restart back-off: 10 s doubling to 5 min, configurable, reset after a long run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, defaultBackoff, RestartBackoff } from '../../src/targets/local/backoff.js';

test('the default sequence is 10 s, 20 s, 40 s, 80 s, 160 s, then 5 min', () => {
  const seq = Array.from({ length: 8 }, (_, i) => backoffDelay(i + 1));
  assert.deepEqual(seq, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  assert.equal(backoffDelay(10_000), 300_000);
  assert.equal(backoffDelay(0), 10_000);
});

test('base and cap are configurable (tests use short ones)', () => {
  const seq = Array.from({ length: 5 }, (_, i) => backoffDelay(i + 1, { baseMs: 100, capMs: 500 }));
  assert.deepEqual(seq, [100, 200, 400, 500, 500]);
});

test('RestartBackoff counts crashes and starts over after a run longer than resetAfterMs', () => {
  const b = new RestartBackoff({ ...defaultBackoff, baseMs: 100, capMs: 1000, resetAfterMs: 5000 });
  assert.deepEqual([b.next(10), b.next(10), b.next(10)], [100, 200, 400]);
  assert.equal(b.count, 3);
  assert.equal(b.next(5000), 100);
  assert.equal(b.next(4999), 200);
  b.reset();
  assert.equal(b.next(0), 100);
});
