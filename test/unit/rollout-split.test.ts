// Rollout routing without sockets: exact weighted splits, the mirror counter, the share of a generation without a ready replica, header override, shared autoscale bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { ExactFraction, SmoothWeighted, effectiveWeights } from '../../src/gateway/weighted.js';
import { GenerationSplit, type SplitNotice, type SplitRouting } from '../../src/gateway/split.js';
import { ReplicaPool, type Endpoint } from '../../src/gateway/pool.js';
import { apportion, sharedBounds } from '../../src/autoscale/shares.js';
import { isBerthError } from '../../src/errors/catalogue.js';
import { fakeClock } from '../helpers/fake-clock.js';

test('a 90/10 smooth weighted split is exact over every hundred picks and spreads the 10', () => {
  const w = new SmoothWeighted<number>();
  w.set([[2, 90], [3, 10]]);
  const picks = Array.from({ length: 1000 }, () => w.pick());
  for (let i = 0; i < 1000; i += 100) assert.equal(picks.slice(i, i + 100).filter((g) => g === 3).length, 10, `picks ${i}..${i + 99}`);
  // Spread out: never two candidate picks in a row.
  for (let i = 1; i < picks.length; i++) assert.ok(!(picks[i] === 3 && picks[i - 1] === 3));
});

test('odd splits (33/67, 1/99, 25/75) are exact over a hundred picks', () => {
  for (const [a, b] of [[33, 67], [1, 99], [25, 75]] as const) {
    const w = new SmoothWeighted<string>();
    w.set([['a', a], ['b', b]]);
    const n = Array.from({ length: 100 }, () => w.pick()).filter((k) => k === 'a').length;
    assert.equal(n, a);
  }
});

test('re-setting the same weights keeps the rhythm; a new split restarts it', () => {
  const w = new SmoothWeighted<number>();
  w.set([[2, 90], [3, 10]]);
  const first = Array.from({ length: 50 }, () => w.pick());
  w.set([[2, 90], [3, 10]]);
  const rest = Array.from({ length: 50 }, () => w.pick());
  assert.equal([...first, ...rest].filter((g) => g === 3).length, 10);
});

test('the mirror counter says yes to exactly 20 of every hundred', () => {
  const m = new ExactFraction(20);
  const yes = Array.from({ length: 500 }, () => m.take());
  for (let i = 0; i < 500; i += 100) assert.equal(yes.slice(i, i + 100).filter(Boolean).length, 20);
});

test('a generation without a ready replica drops out; only zero-weight generations ready share equally', () => {
  assert.deepEqual(effectiveWeights([[3, 10], [2, 90]], new Set([2])), [[2, 90]]);
  assert.deepEqual(effectiveWeights([[3, 100], [2, 0]], new Set([2])), [[2, 1]]);
  assert.deepEqual(effectiveWeights([[3, 10], [2, 90]], new Set()), []);
});

const req = (headers: Record<string, string> = {}): IncomingMessage => ({ rawHeaders: Object.entries(headers).flat() }) as unknown as IncomingMessage;
const ep = (id: string): Endpoint => ({ replicaId: id, url: `http://127.0.0.1:1/${id}`, key: 'k' });

function splitHarness() {
  const clock = fakeClock();
  const limits = { maxConcurrent: 1, maxWaitMs: 100 };
  const notices: SplitNotice[] = [];
  const split = new GenerationSplit('svc', clock, { pool: () => new ReplicaPool('svc', limits, clock), notice: (n) => notices.push(n) });
  const routing = (o: Partial<SplitRouting> & { ready?: { 2: boolean; 3: boolean } } = {}): SplitRouting => ({
    generations: [
      { generation: 3, percent: 10, endpoints: o.ready?.[3] === false ? [] : [ep('c1')] },
      { generation: 2, percent: 90, endpoints: o.ready?.[2] === false ? [] : [ep('s1')] },
    ],
    stable: 2, candidate: 3, mirrorPercent: 0, quiet: false, windowMs: 60_000, ...o,
  });
  const update = (r: SplitRouting): void => split.update(r, limits, () => true);
  return { split, notices, routing, update };
}

test('GenerationSplit: 100 requests at 10 % give exactly 10 to the candidate; a header picks a generation, even one at 0 %', () => {
  const h = splitHarness();
  h.update(h.routing());
  const gens = Array.from({ length: 100 }, () => h.split.choose(req(), '/score').generation);
  assert.equal(gens.filter((g) => g === 3).length, 10);
  h.update(h.routing({ generations: [{ generation: 3, percent: 0, endpoints: [ep('c1')] }, { generation: 2, percent: 100, endpoints: [ep('s1')] }] }));
  assert.equal(h.split.choose(req({ 'X-Berth-Generation': '3' }), '/score').generation, 3);
  assert.equal(h.split.choose(req({ 'azureml-model-deployment': 'candidate' }), '/score').generation, 3);
  assert.equal(h.split.choose(req({ 'x-berth-generation': 'stable' }), '/score').generation, 2);
  assert.throws(() => h.split.choose(req({ 'x-berth-generation': '7' }), '/score'), (e: unknown) => isBerthError(e) && e.code === 'GENERATION_NOT_ROUTED' && e.status === 404);
});

test('GenerationSplit: a 20 % mirror copies exactly 20 of 100 stable requests to the candidate, none of header-routed ones', () => {
  const h = splitHarness();
  h.update(h.routing({ generations: [{ generation: 3, percent: 0, endpoints: [ep('c1')] }, { generation: 2, percent: 100, endpoints: [ep('s1')] }], mirrorPercent: 20 }));
  const choices = Array.from({ length: 100 }, () => h.split.choose(req(), '/score'));
  assert.equal(choices.filter((c) => c.mirror?.generation === 3).length, 20);
  assert.ok(choices.every((c) => c.generation === 2));
  assert.equal(h.split.choose(req({ 'x-berth-generation': '2' }), '/score').mirror, undefined);
});

test('GenerationSplit: a candidate with no ready replica gets nothing, with a notice naming where its share went, and a notice when it is back', () => {
  const h = splitHarness();
  h.update(h.routing());
  h.update(h.routing({ ready: { 2: true, 3: false } }));
  assert.equal(h.notices.length, 1);
  assert.equal(h.notices[0]!.ready, false);
  assert.match(h.notices[0]!.message, /generation 3 has no ready replica: its 10% of requests go to generation 2/);
  assert.deepEqual(h.notices[0]!.effective, { 2: 100 });
  assert.ok(Array.from({ length: 50 }, () => h.split.choose(req(), '/score').generation).every((g) => g === 2));
  assert.equal(h.split.effective().get(3) ?? 0, 0);
  h.update(h.routing());
  assert.equal(h.notices.length, 2);
  assert.match(h.notices[1]!.message, /generation 3 is ready again/);
  assert.equal(Array.from({ length: 100 }, () => h.split.choose(req(), '/score').generation).filter((g) => g === 3).length, 10);
});

test('GenerationSplit: while the candidate starts (quiet) its absence is no news', () => {
  const h = splitHarness();
  h.update(h.routing({ ready: { 2: true, 3: false }, quiet: true }));
  assert.equal(h.notices.length, 0);
});

test('shared bounds: min and max are apportioned by load share, each generation at least one', () => {
  assert.deepEqual([...apportion(10, new Map([[2, 0.9], [3, 0.1]]))], [[2, 9], [3, 1]]);
  assert.deepEqual([...apportion(1, new Map([[2, 0.9], [3, 0.1]]))], [[2, 1], [3, 1]]);
  const b = sharedBounds([{ generation: 3, weight: 10 }, { generation: 2, weight: 90 }], () => ({ minReplicas: 2, maxReplicas: 10 }));
  assert.deepEqual(b.get(3), { minReplicas: 1, maxReplicas: 1 });
  assert.deepEqual(b.get(2), { minReplicas: 1, maxReplicas: 9 });
  // A mirror target carries the copies' load too: 50/50 plus a 20 % mirror leans the candidate's way.
  const m = sharedBounds([{ generation: 3, weight: 50, mirror: 20 }, { generation: 2, weight: 50 }], () => ({ minReplicas: 1, maxReplicas: 11 }));
  assert.ok(m.get(3)!.maxReplicas > m.get(2)!.maxReplicas);
  assert.equal(m.get(3)!.maxReplicas + m.get(2)!.maxReplicas, 11);
});
