// Rollouts with real replicas: an exact canary split, header routing, a mirror whose answers are discarded, split changes (and bad ones), per-generation figures, then promote under load without a lost request.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup } from '../helpers/control-plane.js';
import { fixture, startPlane, stopPlane, until } from '../helpers/services.js';
import { load, metric, scoreMany, scoreOnce } from '../helpers/rollouts.js';

after(cleanup);

test('canary at 10 %: exact split, header override, mirror, traffic changes, show and diagnose per generation, promote under load', async (t) => {
  const plane = await startPlane();
  t.after(() => stopPlane(plane));
  await plane.ok(['deploy', '--name', 'canary', '--entry-script', 'sum_score.py', '--source-dir', fixture('.'), '--replicas', '1']);
  const key = (await plane.show('canary')).keys.primary;

  // --canary is --traffic; no field changed: the same spec as a new generation.
  const started = await plane.ok(['service', 'update', 'canary', '--canary', '10']);
  assert.match(started, /generation 2 is live beside generation 1: 2=10% 1=90%/);
  const live = await plane.show('canary');
  assert.equal(live.generation, 1, 'the stable generation stays the committed one');
  assert.equal(live.rollout?.state, 'Live');
  assert.deepEqual(live.rollout?.generations.map((g) => [g.generation, g.role, g.weight_percent, g.ready_replicas]), [[2, 'candidate', 10, 1], [1, 'stable', 90, 1]]);
  assert.ok((await plane.events('canary')).some((e) => e.type === 'RolloutStarted' && /generation 2 is live beside generation 1: generation 2: 10%, generation 1: 90%/.test(e.message)));

  // Exact: 100 requests at 10 % → exactly 10 to the candidate.
  const first = await scoreMany(plane, 'canary', key, 100);
  assert.deepEqual(first.byGeneration, { 1: 90, 2: 10 });
  assert.ok(first.statuses.every((s) => s === 200));

  // Header routing: either header name, a number or stable/candidate; an unknown generation is a 404 naming the live ones.
  assert.equal((await scoreOnce(plane, 'canary', key, { 'x-berth-generation': '2' })).generation, 2);
  assert.equal((await scoreOnce(plane, 'canary', key, { 'azureml-model-deployment': 'stable' })).generation, 1);
  const unknown = await scoreOnce(plane, 'canary', key, { 'x-berth-generation': '7' });
  assert.equal(unknown.status, 404);
  assert.equal((JSON.parse(unknown.text) as { code: string }).code, 'GENERATION_NOT_ROUTED');
  assert.match(unknown.text, /service canary has no generation 7 in routing \(live: 2, 1\)/);

  // A split must sum to 100: the CLI exits 1 with the reason, the API answers 400.
  const bad = await plane.cli(['service', 'traffic', 'canary', '2=30', '1=60']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /invalid traffic split for service canary: the percents sum to 90, not 100 \(2=30 1=60\)/);
  const res = await fetch(`${plane.url}/v1/services/canary/rollout/traffic`, { method: 'PUT', body: JSON.stringify({ weights: { 2: 100 } }), headers: { 'content-type': 'application/json' } });
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { code: string }).code, 'TRAFFIC_SPLIT_INVALID');

  // 0 % with a 20 % mirror: every answer from generation 1, exactly 20 copies to generation 2 (answers discarded).
  const mirrorOut = await plane.ok(['service', 'traffic', 'canary', '2=0', '1=100', '--mirror', '20']);
  assert.match(mirrorOut, /mirror 20% to the candidate/);
  const mirrored = await scoreMany(plane, 'canary', key, 100);
  assert.deepEqual(mirrored.byGeneration, { 1: 100 });
  const copies = await until(async () => {
    const g = (await plane.show('canary')).rollout!.generations.find((x) => x.generation === 2)!;
    return g.mirrored === 20 ? g : undefined;
  }, 10_000, 'the 20 mirrored copies counted');
  assert.equal(copies.effective_percent, 0);
  assert.equal(await metric(plane, 'berth_gateway_generation_requests_total', { service: 'canary', generation: '2', kind: 'mirror', code: '200' }), 20);
  // Header routing reaches a generation at 0 %.
  assert.equal((await scoreOnce(plane, 'canary', key, { 'x-berth-generation': '2' })).generation, 2);

  // A new split: exactly 50/50, mirror off; the event names the new and old split.
  await plane.ok(['service', 'traffic', 'canary', '2=50', '1=50', '--mirror', '0']);
  assert.deepEqual((await scoreMany(plane, 'canary', key, 100)).byGeneration, { 1: 50, 2: 50 });
  assert.ok((await plane.events('canary')).some((e) => e.type === 'TrafficChanged' && /split generation 2: 50%, generation 1: 50% \(was generation 2: 0%, generation 1: 100%, mirror 20%\)/.test(e.message)));

  // show and diagnose see each generation on its own.
  const shown = await plane.ok(['service', 'show', 'canary']);
  assert.match(shown, /rollout Live: generation 2 \(candidate\) beside generation 1 \(stable\)/);
  assert.match(shown, /GEN\s+ROLE\s+WEIGHT\s+NOW\s+READY/);
  const diag = JSON.parse(await plane.ok(['diagnose', 'canary', '-o', 'json'])) as { numbers: { generations?: Array<{ generation: number; requests: number }> } };
  assert.deepEqual(diag.numbers.generations?.map((g) => g.generation), [2, 1]);
  assert.ok(diag.numbers.generations!.every((g) => g.requests > 0));

  // Another update during the rollout is refused (409) naming it.
  const busy = await plane.cli(['service', 'update', 'canary', '--cpu', '0.2']);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /service canary has a rollout under way: generation 2 \(Live\) beside generation 1/);

  // Promote under load: no request lost; generation 2 takes everything, generation 1 is drained and stopped.
  const traffic = load(plane, 'canary', key, 4);
  await until(async () => ((await plane.show('canary')).traffic.requests > 250 ? true : undefined), 20_000, 'load running');
  const promoted = await plane.ok(['service', 'promote', 'canary']);
  assert.match(promoted, /promoted in [\d.]+ s, generation 2/);
  const during = await traffic.stop();
  assert.ok(during.statuses.length > 20, `requests sent during the promote: ${during.statuses.length}`);
  assert.deepEqual(during.statuses.filter((s) => s !== 200), [], `non-200 answers: ${during.bodies.slice(0, 3).join(' | ')}`);
  const done = await plane.show('canary');
  assert.equal(done.generation, 2);
  assert.equal(done.rollout, undefined);
  assert.deepEqual(done.replicas.map((r) => r.generation), [2]);
  const afterPromote = await scoreOnce(plane, 'canary', key);
  assert.equal(afterPromote.status, 200);
  assert.equal(afterPromote.generation, undefined, 'outside a rollout no generation header');
  assert.ok((await plane.events('canary')).some((e) => e.type === 'RolloutPromoted' && /generation 2 promoted: it takes every request; generation 1 was drained and stopped/.test(e.message)));
  const noRollout = await plane.cli(['service', 'rollback', 'canary']);
  assert.equal(noRollout.code, 1);
  assert.match(noRollout.stderr, /service canary has no rollout to roll back/);
});
