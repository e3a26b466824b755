// During a rollout the autoscaler scales each generation on its own load, as its own unit within its share of the bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Autoscaler, TICK_MS, type LoadReading, type ScalableService } from '../../src/autoscale/loop.js';
import { sharedBounds } from '../../src/autoscale/shares.js';
import { fakeClock } from '../helpers/fake-clock.js';

test('two generations: the busy one scales up within its share of max, the idle one stays; decisions name the generation', async () => {
  const clock = fakeClock();
  const bounds = sharedBounds([{ generation: 2, weight: 10 }, { generation: 1, weight: 90 }], () => ({ minReplicas: 1, maxReplicas: 10 }));
  const unit = (g: number): ScalableService => ({
    name: 'svc', generation: g, key: `svc@${g}`, autoscale: true, refreshSeconds: 1, maxConcurrent: 1, maxWaitMs: 500, targetUtilization: 70, ...bounds.get(g)!,
  });
  const load = new Map<number, LoadReading>([[1, { ready: 1, meanInFlight: 1, queued: 20 }], [2, { ready: 1, meanInFlight: 0.1, queued: 0 }]]);
  const actions: Array<[string | undefined, number, number]> = [];
  const records: string[] = [];
  const scaler = new Autoscaler({
    clock, stabilizationMs: 2000,
    services: () => [unit(2), unit(1)],
    oldestWaitMs: () => 0,
    sample: (_s, g) => load.get(g),
    count: () => 1,
    scale: (s, to) => { actions.push([s.key, s.generation, to]); return Promise.resolve(); },
    record: (_s, d, u) => records.push(`${u.generation}: ${d.message}`),
    onError: (_s, err) => { throw err; },
  });
  scaler.start();
  await clock.advance(TICK_MS);
  await clock.advance(1000);
  assert.deepEqual(bounds.get(1), { minReplicas: 1, maxReplicas: 9 });
  assert.deepEqual(actions.filter(([k]) => k === 'svc@1').map(([, , to]) => to).slice(0, 1), [9], 'generation 1 up to its share of max');
  assert.equal(actions.filter(([k]) => k === 'svc@2').length, 0, 'generation 2 keeps its one replica');
  assert.equal(scaler.view('svc@1')?.desired, 9);
  assert.equal(scaler.view('svc@2')?.desired, 1);
  assert.ok(records.some((r) => r.startsWith('1: 1 → 9')));
  await scaler.stop();
});
