// Autoscaling on real replicas: a spike scales the service up within seconds, and it comes back down after a short stabilisation window.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup } from '../helpers/control-plane.js';
import { fixture, score, startPlane, stopPlane, until } from '../helpers/services.js';

after(cleanup);

/** `workers` clients scoring back to back until stopped; every status is kept. */
function spike(uri: string, key: string, workers: number, body: unknown): { count: () => number; stop: () => Promise<number[]> } {
  const statuses: number[] = [];
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    while (running) statuses.push((await score(uri, body, key).catch(() => ({ status: 0 }))).status);
  });
  return { count: () => statuses.length, stop: async () => { running = false; await Promise.all(loops); return statuses; } };
}

test('a spike scales the service up within a few seconds and back down after the stabilisation window; each decision is an event', async (t) => {
  const plane = await startPlane(['--capacity', 'cpu=4,memory_gb=8,gpu=0', '--autoscale-stabilization', '2s']);
  t.after(() => stopPlane(plane));
  await plane.ok(['deploy', '--name', 'elastic', '--source-dir', fixture('.'), '--entry-script', 'sleep_score.py', '--min-replicas', '1', '--max-replicas', '3', '--max-request-wait-ms', '2000']);
  const before = await plane.show('elastic');
  assert.deepEqual([before.ready_replicas, before.desired_replicas], [1, 1]);

  // Four clients back to back on 200 ms requests: four replicas' worth of demand on one.
  const load = spike(before.scoring_uri, before.keys.primary, 4, { seconds: 0.2 });
  const started = performance.now();
  const up = await until(async () => {
    const s = await plane.show('elastic');
    return s.desired_replicas === 3 && s.ready_replicas === 3 ? s : undefined;
  }, 15_000, 'scaled up to 3 ready replicas').catch(async (err: unknown) => {
    t.diagnostic((await plane.events('elastic')).map((e) => `${e.time} ${e.type} ${e.message}`).join('\n'));
    t.diagnostic(readFileSync(join(plane.home, 'logs', 'control-plane.log'), 'utf8').split('\n').filter((l) => /"level":[45]0/.test(l)).slice(-20).join('\n'));
    throw err;
  });
  const upMs = performance.now() - started;
  t.diagnostic(`scaled 1 → 3 ready replicas ${upMs.toFixed(0)} ms after the spike began`);
  assert.ok(upMs < 10_000, `within a few seconds (${upMs.toFixed(0)} ms)`);
  assert.equal(up.state, 'Healthy');
  // A little more load on the grown service, then stop.
  const served = load.count();
  await until(() => (load.count() >= served + 20 ? true : undefined), 20_000, '20 more requests');
  const statuses = await load.stop();
  assert.deepEqual(statuses.filter((s) => s !== 200), [], 'the spike was served (queued, not refused) while replicas were added');

  const decisions = (await plane.events('elastic')).filter((e) => e.type === 'ScalingDecision');
  assert.match(decisions[0]!.message, /^1 → 3: utilization 100% > target 70%(; capped at max 3)?$/);
  assert.equal(decisions[0]!.data?.reason, 'above-target');

  // Idle now: after the 2 s window the autoscaler goes back to the minimum, draining the replicas it removes.
  const idleFrom = performance.now();
  const down = await until(async () => {
    const s = await plane.show('elastic');
    return s.desired_replicas === 1 && s.replicas.length === 1 ? s : undefined;
  }, 20_000, 'scaled back down to 1 replica');
  t.diagnostic(`back to 1 replica ${(performance.now() - idleFrom).toFixed(0)} ms after the load stopped`);
  assert.equal(down.ready_replicas, 1);
  const events = await plane.events('elastic');
  // The tail of the spike may still be in the first window: then it steps down twice (3 → 2 → 1).
  const downs = events.filter((e) => e.type === 'ScalingDecision').slice(1);
  assert.ok(downs.length >= 1 && downs.length <= 2);
  for (const d of downs) assert.match(d.message, /^[32] → [21]: utilization \d+% < target 70% for [\d.]+ s$/);
  assert.match(downs.at(-1)!.message, /→ 1:/);
  assert.equal(events.filter((e) => e.type === 'Killing' && /scaled down to [12] replica/.test(e.message)).length, 2, 'the two added replicas were stopped');
  assert.equal((await score(down.scoring_uri, { seconds: 0 }, before.keys.primary)).status, 200);
  assert.match(await (await fetch(`${plane.url}/metrics`)).text(), /berth_service_replicas_desired\{service="elastic"\} 1/);
});

test('an update of an autoscaled service starts the new version at the replica count the autoscaler reached, not at the minimum', async (t) => {
  // A long window: nothing scales down while the update runs.
  const plane = await startPlane(['--capacity', 'cpu=4,memory_gb=8,gpu=0', '--autoscale-stabilization', '120s']);
  t.after(() => stopPlane(plane));
  await plane.ok(['deploy', '--name', 'grown', '--source-dir', fixture('.'), '--entry-script', 'sleep_score.py', '--min-replicas', '1', '--max-replicas', '3', '--max-request-wait-ms', '2000']);
  const before = await plane.show('grown');
  const load = spike(before.scoring_uri, before.keys.primary, 4, { seconds: 0.2 });
  await until(async () => {
    const s = await plane.show('grown');
    return s.desired_replicas === 3 && s.ready_replicas === 3 ? true : undefined;
  }, 15_000, 'scaled up to 3 ready replicas');
  assert.deepEqual((await load.stop()).filter((s) => s !== 200), []);

  await plane.ok(['service', 'update', 'grown', '--max-request-wait-ms', '1500']);
  const after = await plane.show('grown');
  assert.equal(after.generation, before.generation + 1);
  assert.equal(after.spec.max_request_wait_time, 1500);
  assert.deepEqual(after.replicas.map((r) => [r.generation, r.state]), [[after.generation, 'Ready'], [after.generation, 'Ready'], [after.generation, 'Ready']],
    'three replicas of the new version, the old ones gone');
  assert.equal((await score(after.scoring_uri, { seconds: 0 }, before.keys.primary)).status, 200);
});
