// Re-adoption after a control plane restart: a second supervisor takes over running replicas, or starts fresh ones when they are gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { isAlive } from '../../src/targets/local/proc-tree.js';
import { isContainerRecord } from '../../src/targets/types.js';
import { fixtureSpec, testSupervisor, until } from '../helpers/local-target.js';
import { post } from '../helpers/serve-process.js';

test('a released replica keeps serving and is adopted by a new supervisor, which then watches it', async (t) => {
  const first = testSupervisor();
  t.after(() => first.cleanup());
  const spec = fixtureSpec('sum_score.py', { memoryLimitBytes: 1024 ** 3 });
  first.sup.start(spec);
  await first.waitForEvent('Ready');
  const before = first.sup.get(spec.replicaId)!;
  const released = first.sup.releaseAll().get(spec.replicaId)!;
  assert.ok(!isContainerRecord(released), 'a process replica is recorded as a process');
  const record = released;
  assert.equal(record.pid, before.pid);
  assert.equal(record.cgroupPath, before.memory.cgroupPath);
  assert.equal(first.sup.list().length, 0);

  // The "restarted control plane": same log dir, new supervisor.
  const second = testSupervisor({ logDir: first.logDir });
  t.after(() => second.cleanup());
  const result = await second.sup.adopt(spec, record);
  assert.equal(result.adopted, true);
  await second.waitForEvent('Ready');
  const adopted = second.sup.get(spec.replicaId)!;
  assert.equal(adopted.pid, record.pid);
  assert.equal(adopted.state, 'Ready');
  assert.equal(adopted.memory.cgroupPath, record.cgroupPath);
  assert.equal((await post(`${adopted.url}/score`, JSON.stringify({ data: [[2, 2]] }))).status, 200);
  assert.ok(second.events.some((e) => e.type === 'Adopted' && e.pid === record.pid));

  // Not our child any more: its death is noticed by polling, and a new run replaces it.
  process.kill(record.pid, 'SIGKILL');
  const exited = await second.waitForEvent('Exited');
  assert.equal(exited.termination.reason, 'Error');
  await until(() => second.sup.get(spec.replicaId)?.state === 'Ready' && second.sup.get(spec.replicaId)?.pid !== record.pid, 15_000, 'a fresh run');
  await second.sup.stop(spec.replicaId);
  if (record.cgroupPath !== undefined) assert.ok(!existsSync(record.cgroupPath));
});

test('adopting a dead pid, or a pid that is not berth serve, starts a fresh run instead', async (t) => {
  const h = testSupervisor();
  t.after(() => h.cleanup());
  const gone = fixtureSpec('sum_score.py');
  const r1 = await h.sup.adopt(gone, { pid: 999_999, port: 1 });
  assert.equal(r1.adopted, false);
  assert.match(r1.adopted ? '' : r1.detail, /process 999999 is not running/);

  const impostor = fixtureSpec('sum_score.py');
  const r2 = await h.sup.adopt(impostor, { pid: process.pid, port: 1 });
  assert.equal(r2.adopted, false);
  assert.match(r2.adopted ? '' : r2.detail, /is not a berth serve/);
  assert.ok(isAlive(process.pid));

  for (const spec of [gone, impostor]) assert.equal((await h.sup.waitForStart(spec.replicaId)).outcome, 'ready');
  assert.equal(h.events.filter((e) => e.type === 'AdoptFailed').length, 2);
});
