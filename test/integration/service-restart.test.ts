// Services survive the control plane: `berth down && berth up` restarts them; a crashed control plane's replicas are adopted as they run.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, down, isAlive, up } from '../helpers/control-plane.js';
import { gatedSource } from '../helpers/gate.js';
import { fixture, processesUnder, replicaKeyHeader, score, startPlane, stopPlane, until, withCli, type Plane } from '../helpers/services.js';

after(cleanup);

const FLAGS = ['--capacity', 'cpu=4,memory_gb=8,gpu=1', '--schedule-timeout', '3s', '--restart-backoff', '500ms'];

async function healthy(plane: Plane, name: string): Promise<number> {
  const started = performance.now();
  await until(async () => ((await plane.show(name)).state === 'Healthy' ? true : undefined), 30_000, `${name} Healthy`);
  return performance.now() - started;
}

test('berth down stops the replicas; berth up brings every service back serving, interrupted operations settled', async (t) => {
  let plane = await startPlane(FLAGS);
  t.after(() => stopPlane(plane));
  await plane.ok(['deploy', '--name', 'keeper', '--entry-script', 'sum_score.py', '--source-dir', fixture('.'), '--replicas', '2']);
  // Its init() waits for the release after berth down, so the deploy is surely cut short however slow the machine.
  const src = gatedSource();
  const interrupted = /operation ([0-9a-f-]{36})/.exec(await plane.ok(['deploy', '--name', 'midway', '--entry-script', src.script, '--source-dir', src.dir, '--replicas', '1', '--no-wait']))![1]!;
  await down(plane.home);
  assert.deepEqual(processesUnder(plane.home), [], 'no replica outlives berth down');
  src.release();

  plane = withCli(await up(plane.home, FLAGS));
  const ms = await healthy(plane, 'keeper');
  t.diagnostic(`after berth up, keeper was Healthy again within ${ms.toFixed(0)} ms`);
  // The keys are stored: the same key works after the restart.
  const key = (await plane.show('keeper')).keys.primary;
  assert.deepEqual(JSON.parse((await score(`${plane.url}/api/v1/service/keeper/score`, { data: [[2, 3]] }, key)).text), { result: [5] });
  // The deploy that berth down cut short failed as interrupted; its committed spec is rolled out again.
  const op = JSON.parse(await plane.ok(['operation', 'show', interrupted, '-o', 'json'])) as { status: string; error?: { code: string } };
  assert.equal(op.status, 'Failed');
  assert.equal(op.error?.code, 'OPERATION_INTERRUPTED');
  await healthy(plane, 'midway');
});

test('a control plane killed with SIGKILL leaves its replicas serving; the next one adopts them without a restart', async (t) => {
  let plane = await startPlane(FLAGS);
  t.after(() => stopPlane(plane));
  await plane.ok(['deploy', '--name', 'survivor', '--entry-script', 'sum_score.py', '--source-dir', fixture('.'), '--replicas', '2']);
  const before = await plane.show('survivor');
  const pids = before.replicas.map((r) => r.pid!).sort();
  process.kill(plane.pid, 'SIGKILL');
  await until(() => (isAlive(plane.pid) ? undefined : true), 5000, 'control plane gone');
  // The replicas answer on their own ports while no control plane runs.
  for (const r of before.replicas) assert.equal((await score(`${r.url!}/score`, { data: [[1, 1]] }, undefined, replicaKeyHeader(plane.home, r.id))).status, 200);

  plane = withCli(await up(plane.home, FLAGS));
  const after1 = await plane.show('survivor');
  assert.equal(after1.state, 'Healthy', 'adopted replicas are ready as soon as berth up returns');
  assert.deepEqual(after1.replicas.map((r) => r.pid!).sort(), pids, 'the same processes: adopted, not restarted');
  assert.ok(after1.replicas.every((r) => r.restarts === 0));
  assert.equal((await plane.events('survivor')).filter((e) => e.type === 'Adopted').length, 2);
  assert.deepEqual(JSON.parse((await score(`${plane.url}/api/v1/service/survivor/score`, { data: [[4, 5]] }, after1.keys.primary)).text), { result: [9] });

  // Adopted replicas are supervised: one that dies is noticed and replaced.
  process.kill(pids[0]!, 'SIGKILL');
  await until(async () => {
    const s = await plane.show('survivor');
    return s.state === 'Healthy' && !s.replicas.some((r) => r.pid === pids[0]) ? true : undefined;
  }, 30_000, 'the killed replica replaced');
});
