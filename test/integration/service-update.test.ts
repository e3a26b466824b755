// Updating services: one change at a time (409 naming the running operation), no dropped requests, a broken version never replaces a working one.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup } from '../helpers/control-plane.js';
import { gatedSource } from '../helpers/gate.js';
import { fixture, score, startPlane, stopPlane, until, type Plane } from '../helpers/services.js';

after(cleanup);

/** Scores `uri` back to back until stopped; returns every status seen and the bodies. */
function keepScoring(uri: string, key: string): { stop: () => Promise<{ statuses: number[]; bodies: string[] }> } {
  const statuses: number[] = [];
  const bodies: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await score(uri, { data: [[1, 2]] }, key).catch((err: Error) => ({ status: 0, text: err.message }));
      statuses.push(r.status);
      bodies.push(r.text);
      await new Promise((res) => setTimeout(res, 10));
    }
  })();
  return { stop: async () => { running = false; await loop; return { statuses, bodies }; } };
}

const operationId = (out: string): string => /operation ([0-9a-f-]{36})/.exec(out)![1]!;

async function settled(plane: Plane, id: string): Promise<void> {
  await until(async () => (/status: +Running/.test(await plane.ok(['operation', 'show', id])) ? undefined : true), 30_000, `operation ${id} end`);
}

test('a second change while an operation runs is refused with 409, naming the running operation', async (t) => {
  const plane = await startPlane();
  t.after(() => stopPlane(plane));
  // init() waits for the test's release, so the operation is still running at every check, however slow the machine.
  const src = gatedSource();
  const deploying = operationId(await plane.ok(['deploy', '--name', 'slowpoke', '--entry-script', src.script, '--source-dir', src.dir, '--replicas', '1', '--no-wait']));
  for (const args of [['service', 'update', 'slowpoke', '--cpu', '0.2'], ['service', 'delete', 'slowpoke']]) {
    const r = await plane.cli(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, new RegExp(`^berth: service slowpoke is busy: deploy operation ${deploying} has been running since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z$`, 'm'));
    assert.match(r.stderr, new RegExp(`fix: Wait for it to finish \\(berth operation show ${deploying}\\)`));
  }
  // Straight at the API: the status is 409.
  const res = await fetch(`${plane.url}/v1/services/slowpoke`, { method: 'PATCH', body: '{"cpu_cores": 0.3}', headers: { 'content-type': 'application/json' } });
  assert.equal(res.status, 409);
  assert.equal(((await res.json()) as { code: string }).code, 'OPERATION_IN_PROGRESS');
  src.release();
  await settled(plane, deploying);

  // The new replica of the scale-up waits for the gate again.
  src.rearm();
  const updating = operationId(await plane.ok(['service', 'update', 'slowpoke', '--replicas', '2', '--no-wait']));
  const second = await plane.cli(['service', 'update', 'slowpoke', '--cpu', '0.2']);
  assert.equal(second.code, 1);
  assert.match(second.stderr, new RegExp(`busy: update operation ${updating} has been running since`));
  src.release();
  await settled(plane, updating);
  assert.equal((await plane.show('slowpoke')).ready_replicas, 2);
});

test('an update whose new version crashes in init() fails with the reason while the old version keeps serving; a good one replaces it without a dropped request', async (t) => {
  const plane = await startPlane();
  t.after(() => stopPlane(plane));
  await plane.ok(['deploy', '--name', 'steady', '--entry-script', 'sum_score.py', '--source-dir', fixture('.'), '--replicas', '2']);
  const uri = `${plane.url}/api/v1/service/steady/score`;
  const before = await plane.show('steady');

  const traffic = keepScoring(uri, before.keys.primary);
  const broken = await plane.cli(['service', 'update', 'steady', '--entry-script', 'init_fails.py']);
  assert.equal(broken.code, 1);
  assert.match(broken.stdout, /update failed after [\d.]+ s; service steady is Healthy \(generation 1 keeps serving\)/);
  assert.match(broken.stderr, /^berth: replica steady-2-\d-\w+ of service steady crashed during init\(\): ValueError: bad init at .*init_fails\.py:6/m);
  const after1 = await plane.show('steady');
  assert.equal(after1.state, 'Healthy');
  assert.equal(after1.generation, 1);
  assert.equal(after1.spec.entry_script, 'sum_score.py');
  assert.deepEqual(after1.replicas.map((r) => r.id), before.replicas.map((r) => r.id), 'the old replicas were never touched');
  assert.equal(after1.operation?.error?.code, 'REPLICA_INIT_FAILED');

  // A good new version (slow to start, so traffic runs through the whole switch-over) replaces the old one.
  const good = await plane.ok(['service', 'update', 'steady', '--entry-script', 'slow_init.py']);
  assert.match(good, /service steady is Healthy: 2\/2 replica\(s\) ready \(updated in [\d.]+ s, generation 2\)/);
  const seen = await traffic.stop();
  const failures = seen.statuses.filter((s) => s !== 200);
  t.diagnostic(`${seen.statuses.length} requests during a failed and a successful update; ${failures.length} not 200`);
  assert.deepEqual(failures, []);
  assert.ok(seen.bodies.some((b) => b.includes('"result"')) && seen.bodies.some((b) => b.includes('"slow"')), 'both versions answered');
  const after2 = await plane.show('steady');
  assert.equal(after2.generation, 2);
  assert.ok(after2.replicas.every((r) => r.generation === 2 && r.state === 'Ready'));
  assert.deepEqual(JSON.parse((await score(uri, { data: [[1, 2]] }, before.keys.primary)).text), { slow: true, rows: 1 });
  const events = await plane.events('steady');
  assert.ok(events.some((e) => e.type === 'Killing' && /replaced by generation 2/.test(e.message)));
});
