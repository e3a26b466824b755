// Memory limits on real replicas: a leaking run() under 150 MB is killed and reported as OOMKilled, via cgroup (when writable) and via RSS sampling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { isAlive } from '../../src/targets/local/proc-tree.js';
import type { OomReport } from '../../src/targets/types.js';
import { fixtureSpec, testSupervisor, until } from '../helpers/local-target.js';
import { post } from '../helpers/serve-process.js';

const LIMIT = 150 * 1024 * 1024;

async function leakUntilKilled(t: import('node:test').TestContext, cgroupMode: 'auto' | 'off'): Promise<{ oom: OomReport; delayMs: number; enforcement: string; cgroupPath?: string }> {
  const h = testSupervisor({ cgroup: { mode: cgroupMode } });
  t.after(() => h.cleanup());
  const spec = fixtureSpec('leak_score.py', { memoryLimitBytes: LIMIT });
  h.sup.start(spec);
  const ready = await h.waitForEvent('Ready');
  const status = h.sup.get(spec.replicaId)!;
  const pid = status.pid!;
  let sentAt = 0;
  for (let i = 0; i < 5 && !h.events.some((e) => e.type === 'OOMKilled'); i++) {
    sentAt = Date.now();
    // The request that crosses the limit fails (502 or a reset connection): only the event matters.
    await post(`${ready.url}/score`, JSON.stringify({ mb: 200 })).catch(() => undefined);
    await until(() => h.events.some((e) => e.type === 'OOMKilled'), 1500, 'OOM').catch(() => undefined);
  }
  const oom = await h.waitForEvent('OOMKilled', () => true, 5000);
  const delayMs = Date.parse(oom.time) - sentAt;
  assert.equal(oom.oom.limitBytes, LIMIT);
  assert.ok(oom.oom.usageBytes > 100 * 1024 * 1024, `usage ${oom.oom.usageBytes}`);
  assert.match(oom.message, /Killed by SIGKILL for out-of-memory \(OOMKilled\).*limit 150 MB; raise memory_gb/);
  const exited = await h.waitForEvent('Exited');
  assert.equal(exited.termination.reason, 'OOMKilled');
  assert.equal(exited.termination.signal, 'SIGKILL');
  assert.deepEqual(exited.termination.oom, oom.oom);
  await until(() => !isAlive(pid), 5000, 'old run gone');
  // It restarts, and the new run is healthy until it leaks again.
  await until(() => h.events.filter((e) => e.type === 'Ready').length === 2, 15_000, 'second Ready');
  assert.equal(h.sup.get(spec.replicaId)!.lastTermination?.reason, 'OOMKilled');
  const cgroupPath = status.memory.cgroupPath;
  await h.sup.stop(spec.replicaId);
  if (cgroupPath !== undefined) assert.ok(!existsSync(cgroupPath), 'the cgroup is removed on stop');
  return { oom: oom.oom, delayMs, enforcement: status.memory.enforcement, ...(cgroupPath ? { cgroupPath } : {}) };
}

test('a leak under a 150 MB limit is OOMKilled (cgroup when this machine allows it)', async (t) => {
  const r = await leakUntilKilled(t, 'auto');
  t.diagnostic(`enforcement ${r.enforcement} ${r.cgroupPath ?? ''}; detected by ${r.oom.detectedBy}; usage ${Math.round(r.oom.usageBytes / 1048576)} MB (rss peak ${Math.round(r.oom.rssPeakBytes / 1048576)} MB, cgroup peak ${r.oom.cgroupPeakBytes === undefined ? '-' : Math.round(r.oom.cgroupPeakBytes / 1048576)} MB); ${r.delayMs} ms after the request`);
  if (r.enforcement.startsWith('cgroup')) assert.equal(r.oom.detectedBy, 'kernel');
});

test('with cgroups off, RSS sampling of the process tree enforces the limit', async (t) => {
  const r = await leakUntilKilled(t, 'off');
  t.diagnostic(`enforcement ${r.enforcement}; usage ${Math.round(r.oom.usageBytes / 1048576)} MB; ${r.delayMs} ms after the request`);
  assert.equal(r.enforcement, 'rss');
  assert.equal(r.oom.detectedBy, 'sampler');
  assert.ok(r.oom.usageBytes > LIMIT);
});
