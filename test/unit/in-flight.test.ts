// The in-flight queue of one worker (a Python process or a JS thread): replies settle in order, a request sent ahead expires on time, a dead worker's unstarted requests are handed back, and the run-time average sets how many are sent ahead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InFlightQueue } from '../../src/inference/runtime/in-flight.js';
import { prefetchDepth } from '../../src/inference/runtime/worker-lifecycle.js';
import type { ScoreOutcome } from '../../src/inference/runtime/types.js';

const ok = (execMs: number): ScoreOutcome => ({ kind: 'ok', status: 200, headers: {}, body: Buffer.alloc(0), workerId: 1, execMs });

test('replies settle the head; the request sent ahead then becomes the running one', () => {
  const q = new InFlightQueue(1, () => assert.fail('no overrun'));
  const seen: string[] = [];
  q.add(1, (o) => seen.push(`1:${o.kind}`), 10_000, undefined);
  q.add(2, (o) => seen.push(`2:${o.kind}`), 10_000, 5_000);
  assert.equal(q.length, 2);
  q.settle(2, ok); // out of order: ignored
  q.settle(1, ok);
  q.settle(2, ok);
  assert.deepEqual(seen, ['1:ok', '2:ok']);
  assert.equal(q.length, 0);
});

test('a request sent ahead whose budget runs out is answered expired, and its late reply is dropped', async () => {
  const q = new InFlightQueue(1, () => undefined);
  const seen: string[] = [];
  q.add(1, (o) => seen.push(`1:${o.kind}`), 10_000, undefined);
  q.add(2, (o) => seen.push(`2:${o.kind}`), 10_000, 10);
  for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(seen, ['2:expired'], 'answered while the first still runs');
  q.settle(1, ok);
  q.settle(2, ok); // the worker's "expired" reply
  assert.deepEqual(seen, ['2:expired', '1:ok']);
  q.failAll('done');
});

test('when the worker dies, the running request failed with it and the one sent ahead is handed back unstarted', () => {
  const q = new InFlightQueue(1, () => undefined);
  const seen: string[] = [];
  q.add(1, (o) => seen.push(`1:${o.kind}`), 10_000, undefined);
  q.add(2, (o) => seen.push(`2:${o.kind}`), 10_000, 5_000);
  q.failAll('killed by signal SIGKILL');
  assert.deepEqual(seen, ['1:worker_died', '2:requeue']);
});

test('an overrun of the running request is reported, and it is answered as a timeout', async () => {
  let overran = 0;
  const q = new InFlightQueue(1, (ms) => { overran = ms; });
  const seen: string[] = [];
  q.add(1, (o) => seen.push(`1:${o.kind}`), 20, undefined);
  for (let i = 0; i < 100 && overran === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(overran, 20);
  q.timeOutHead();
  assert.deepEqual(seen, ['1:timeout']);
});

test('the run-time average follows replies, and the prefetch depth follows it: deep for short requests, one for slow ones', async () => {
  assert.deepEqual([undefined, Number.NaN, 0, 0.01, 0.1, 0.2, 0.3, 0.5, 0.9, 1, 50].map(prefetchDepth), [1, 1, 1, 8, 8, 5, 3, 2, 1, 1, 1]);
  const q = new InFlightQueue(1, () => undefined);
  assert.equal(q.averageRunMs, undefined, 'nothing measured yet');
  q.add(1, () => undefined, 10_000, undefined);
  await new Promise((r) => setTimeout(r, 20));
  q.settle(1, ok);
  const slow = q.averageRunMs ?? 0;
  assert.ok(slow >= 15, `a 20 ms request is measured as such (${slow} ms)`);
  assert.equal(prefetchDepth(slow), 1);
  for (let id = 2; id < 40; id++) {
    q.add(id, () => undefined, 10_000, undefined);
    q.settle(id, ok);
  }
  assert.ok((q.averageRunMs ?? 1) < 0.5, `short requests pull the average down (${q.averageRunMs} ms)`);
  assert.ok(prefetchDepth(q.averageRunMs) >= 2);
});

test('skipped requests (expired when the worker reached them) do not count as short runs', async () => {
  const q = new InFlightQueue(1, () => undefined);
  q.add(1, () => undefined, 10_000, undefined);
  await new Promise((r) => setTimeout(r, 20));
  q.settle(1, ok);
  const slow = q.averageRunMs;
  for (let id = 2; id < 40; id++) {
    q.add(id, () => undefined, 10_000, undefined);
    q.settle(id, (_execMs, waitedMs) => ({ kind: 'expired', waitedMs, workerId: 1 }));
  }
  assert.equal(q.averageRunMs, slow, 'a slow script under overload keeps sending one request ahead');
});
