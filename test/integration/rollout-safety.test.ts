// Rollouts going wrong, with real replicas: manual rollback, a candidate without a ready replica (its share moves, with events), the guardrail rolling back a failing candidate, and a control plane restarted mid-rollout.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, isAlive, up } from '../helpers/control-plane.js';
import { gatedSource } from '../helpers/gate.js';
import { fixture, startPlane, stopPlane, until, withCli } from '../helpers/services.js';
import { scoreMany, scoreOnce } from '../helpers/rollouts.js';

after(cleanup);

const FLAGS = ['--capacity', 'cpu=4,memory_gb=8,gpu=1', '--schedule-timeout', '3s', '--restart-backoff', '200ms'];

test('rollback at once; a candidate with no ready replica gives its share to the stable one, with events and a diagnosis', async (t) => {
  const plane = await startPlane(FLAGS);
  t.after(() => stopPlane(plane));
  await plane.ok(['deploy', '--name', 'backout', '--entry-script', 'sum_score.py', '--source-dir', fixture('.'), '--replicas', '1']);
  const key = (await plane.show('backout')).keys.primary;

  await plane.ok(['service', 'update', 'backout', '--traffic', '50']);
  assert.deepEqual((await scoreMany(plane, 'backout', key, 20)).byGeneration, { 1: 10, 2: 10 });
  const rolled = await plane.ok(['service', 'rollback', 'backout']);
  assert.match(rolled, /rolling back the candidate of backout/);
  const back = await plane.show('backout');
  assert.equal(back.generation, 1);
  assert.equal(back.rollout, undefined);
  assert.deepEqual(back.replicas.map((r) => r.generation), [1]);
  assert.equal((await scoreOnce(plane, 'backout', key)).status, 200);
  assert.ok((await plane.events('backout')).some((e) => e.type === 'RolloutRolledBack' && /generation 2 rolled back: generation 1 takes every request/.test(e.message)));

  // A candidate whose replica dies and cannot start again (its init waits for a gate) gets no traffic meanwhile.
  const src = gatedSource();
  src.release();
  await plane.ok(['service', 'update', 'backout', '--traffic', '50', '--entry-script', src.script, '--source-dir', src.dir]);
  const live = await plane.show('backout');
  const candidate = live.replicas.find((r) => r.generation === 2)!;
  src.rearm();
  const seen = (await plane.events('backout')).length;
  process.kill(candidate.pid!, 'SIGKILL');
  const shifted = await until(async () => (await plane.events('backout')).slice(seen).find((e) => e.type === 'TrafficShifted'), 15_000, 'a TrafficShifted event');
  assert.match(shifted.message, /generation 2 has no ready replica: its 50% of requests go to generation 1 \(now 1: 100%\)/);
  const meanwhile = await scoreMany(plane, 'backout', key, 20);
  assert.deepEqual(meanwhile.byGeneration, { 1: 20 });
  assert.ok(meanwhile.statuses.every((s) => s === 200));
  const shown = (await plane.show('backout')).rollout!.generations.find((g) => g.generation === 2)!;
  assert.deepEqual([shown.weight_percent, shown.effective_percent, shown.ready_replicas], [50, 0, 0]);
  const diag = await plane.ok(['diagnose', 'backout']);
  assert.match(diag, /CANDIDATE_NOT_READY: the candidate generation 2 of backout takes none of its 50% of requests: generation 1 answers them/);

  src.release();
  const restored = await until(async () => (await plane.events('backout')).slice(seen).find((e) => e.type === 'TrafficRestored'), 30_000, 'a TrafficRestored event');
  assert.match(restored.message, /generation 2 is ready again: the split is back to 2: 50%, 1: 50%/);
  assert.deepEqual((await scoreMany(plane, 'backout', key, 20)).byGeneration, { 1: 10, 2: 10 });
});

test('the guardrail rolls a failing candidate back on its own, with an event naming the numbers', async (t) => {
  const plane = await startPlane(FLAGS);
  t.after(() => stopPlane(plane));
  await plane.ok(['deploy', '--name', 'guarded', '--entry-script', 'sum_score.py', '--source-dir', fixture('.'), '--replicas', '1']);
  const key = (await plane.show('guarded')).keys.primary;
  const bad = await plane.cli(['service', 'update', 'guarded', '--traffic', '20', '--rollback-on', 'latency>5ms']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /invalid guardrail: "latency>5ms": unknown figure latency/);

  const out = await plane.ok(['service', 'update', 'guarded', '--traffic', '20', '--entry-script', 'run_fails.py', '--rollback-on', 'error_rate>2%,p99>500ms', '--window', '60s']);
  assert.match(out, /rolled back if error_rate>2%,p99>500ms over 1 min/);
  // 50 requests: 10 reach the failing candidate (502), enough for the rule's 10-request minimum.
  const sent = await scoreMany(plane, 'guarded', key, 50);
  assert.equal(sent.byGeneration['2'], 10);
  const event = await until(async () => (await plane.events('guarded')).find((e) => e.type === 'GuardrailRollback'), 15_000, 'a GuardrailRollback event');
  assert.match(event.message, /^rolling back generation 2: error_rate 100% > 2% over \d+ s \(10 of 10 requests\)/);
  assert.equal(event.data?.error_rate_percent, 100);
  assert.equal(event.data?.requests, 10);
  await until(async () => ((await plane.show('guarded')).rollout === undefined ? true : undefined), 15_000, 'the rollout gone');
  const s = await plane.show('guarded');
  assert.equal(s.generation, 1);
  assert.equal(s.operation?.kind, 'rollback');
  assert.equal(s.operation?.status, 'Succeeded');
  assert.deepEqual((await scoreMany(plane, 'guarded', key, 10)).statuses, Array(10).fill(200));
  const diag = await plane.ok(['diagnose', 'guarded']);
  assert.match(diag, /CANDIDATE_ROLLED_BACK: a rollout of guarded was rolled back automatically/);
});

test('a control plane killed mid-rollout comes back with the split and both generations (adopted, not restarted)', async (t) => {
  let plane = await startPlane(FLAGS);
  t.after(() => stopPlane(plane));
  await plane.ok(['deploy', '--name', 'durable', '--entry-script', 'sum_score.py', '--source-dir', fixture('.'), '--replicas', '1']);
  await plane.ok(['service', 'update', 'durable', '--traffic', '10', '--mirror', '20']);
  const before = await plane.show('durable');
  const pids = before.replicas.map((r) => r.pid!).sort();
  assert.equal(pids.length, 2);
  process.kill(plane.pid, 'SIGKILL');
  await until(() => (isAlive(plane.pid) ? undefined : true), 5000, 'control plane gone');

  plane = withCli(await up(plane.home, FLAGS));
  const after1 = await plane.show('durable');
  assert.equal(after1.state, 'Healthy');
  assert.deepEqual(after1.replicas.map((r) => r.pid!).sort(), pids, 'both generations adopted');
  assert.equal(after1.rollout?.state, 'Live');
  assert.equal(after1.rollout?.mirror_percent, 20);
  assert.deepEqual(after1.rollout?.generations.map((g) => [g.generation, g.weight_percent]), [[2, 10], [1, 90]]);
  const counts = await scoreMany(plane, 'durable', after1.keys.primary, 100);
  assert.deepEqual(counts.byGeneration, { 1: 90, 2: 10 });
  await until(async () => ((await plane.show('durable')).rollout!.generations.find((g) => g.generation === 2)!.mirrored === 18 ? true : undefined), 10_000, '18 copies mirrored (20 % of the 90 stable requests)');
  await plane.ok(['service', 'promote', 'durable']);
  assert.deepEqual((await plane.show('durable')).replicas.map((r) => r.generation), [2]);
});
