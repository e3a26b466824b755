// Placement waits for room with a fake clock: placed at once, woken by a release, or the classic timeout message; and the one-operation rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Placements } from '../../src/control/services/placement.js';
import { OperationStore, busy } from '../../src/control/services/operations.js';
import { openStore } from '../../src/control/store/db.js';
import { fakeClock } from '../helpers/fake-clock.js';

const gpu = { cpu: 0.1, memoryGb: 0.5, gpu: 1 };

test('a replica that fits is placed at once; one that does not waits, and a release wakes it', async () => {
  const clock = fakeClock();
  const p = new Placements({ cpu: 4, memoryGb: 8, gpu: 1 }, clock);
  await p.place('a', gpu, { timeoutMs: 60_000 });
  const reasons: string[] = [];
  let placed = false;
  const waiting = p.place('b', gpu, { timeoutMs: 60_000, onWaiting: (r) => reasons.push(r) }).then(() => { placed = true; });
  await clock.advance(5000);
  assert.equal(placed, false);
  assert.deepEqual(reasons, ['0/1 nodes are available: 1 Insufficient nvidia.com/gpu'], 'the reason once, not at every retry');
  p.release('a');
  await waiting;
  assert.deepEqual(p.used(), gpu);
});

test('after the scheduling timeout the wait fails with the classic message and the scheduler\'s reason', async () => {
  const clock = fakeClock();
  const p = new Placements({ cpu: 1, memoryGb: 8, gpu: 0 }, clock);
  await p.place('a', { cpu: 1, memoryGb: 1, gpu: 0 }, { timeoutMs: 1000 });
  const failed = p.place('b', { cpu: 0.5, memoryGb: 1, gpu: 0 }, { timeoutMs: 300_000 }).catch((err: Error) => err);
  await clock.advance(300_000);
  const err = await failed;
  assert.ok(err instanceof Error);
  assert.equal(err.message, "Couldn't Schedule because the kubernetes cluster didn't have available resources after trying for 00:05:00. 0/1 nodes are available: 1 Insufficient cpu");
});

test('an abort ends the wait at once', async () => {
  const clock = fakeClock();
  const p = new Placements({ cpu: 1, memoryGb: 1, gpu: 0 }, clock);
  p.hold('a', { cpu: 1, memoryGb: 1, gpu: 0 });
  const controller = new AbortController();
  const failed = p.place('b', { cpu: 1, memoryGb: 1, gpu: 0 }, { timeoutMs: 60_000, signal: controller.signal }).catch((err: unknown) => err);
  controller.abort(new Error('stopping'));
  assert.equal(((await failed) as Error).message, 'stopping');
});

test('the store allows one running operation per service and names it in the 409', () => {
  const db = openStore(':memory:');
  const ops = new OperationStore(db, () => new Date('2026-01-02T03:04:05.000Z'));
  const first = ops.begin('deploy', 'svc');
  assert.throws(() => ops.begin('update', 'svc'), (err: Error) => {
    assert.equal(err.message, `service svc is busy: deploy operation ${first.id} has been running since 2026-01-02T03:04:05.000Z`);
    return true;
  });
  assert.equal(busy(first).status, 409);
  // The unique index refuses a second one even past the check (two control planes must never share a store, but still).
  assert.throws(() => db.prepare("INSERT INTO operations (id, kind, service, status, started_at) VALUES ('x', 'delete', 'svc', 'Running', 'now')").run(), /UNIQUE/);
  ops.begin('deploy', 'other');
  ops.progress(first.id, 'scheduling');
  ops.progress(first.id, 'starting');
  const done = ops.finish(first.id, { code: 'INTERNAL', message: 'boom', fix: 'none' });
  assert.equal(done.status, 'Failed');
  assert.deepEqual(done.steps.map((s) => s.text), ['scheduling', 'starting']);
  assert.equal(ops.begin('update', 'svc').status, 'Running');
  db.close();
});
