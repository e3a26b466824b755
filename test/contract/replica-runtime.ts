// The lifecycle every replica runtime must show the same way (processes, containers): one suite, run against each runtime by its own test file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import type { TestSupervisor } from '../helpers/local-target.js';
import { until } from '../helpers/local-target.js';
import { post } from '../helpers/serve-process.js';
import type { ReplicaSpec } from '../../src/targets/types.js';

export interface RuntimeHarness {
  /** `process`, `docker`: names the tests. */
  readonly name: string;
  /** Why the suite cannot run here (no Docker), or undefined. */
  readonly skip: () => Promise<string | undefined>;
  readonly supervisor: (options?: { backoffMs?: number }) => TestSupervisor;
  /** A spec running one of test/fixtures' scripts. */
  readonly spec: (script: string, overrides?: Partial<ReplicaSpec>) => Promise<ReplicaSpec>;
}

export function replicaRuntimeContract(h: RuntimeHarness): void {
  const prefix = `[${h.name} runtime]`;

  test(`${prefix} a healthy replica becomes Ready, scores, keeps its start-up output, and stops cleanly`, async (t) => {
    const why = await h.skip();
    if (why !== undefined) return t.skip(why);
    const s = h.supervisor();
    t.after(() => s.cleanup());
    const spec = await h.spec('sum_score.py');
    s.sup.start(spec);
    const outcome = await s.sup.waitForStart(spec.replicaId);
    assert.equal(outcome.outcome, 'ready');
    const status = s.sup.get(spec.replicaId)!;
    assert.equal(status.state, 'Ready');
    assert.ok(status.url !== undefined && status.url.startsWith('http://127.0.0.1:'));
    const res = await post(`${status.url}/score`, JSON.stringify({ data: [[1, 2, 3]] }));
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { result: [6] });
    assert.match(s.sup.readLog('test-svc', spec.replicaId, 'init'), /sum_score init done/);
    await s.sup.stop(spec.replicaId);
    assert.ok(s.events.some((e) => e.type === 'Stopped'));
    assert.equal(s.sup.get(spec.replicaId), undefined);
    // Nothing answers where it ran.
    await assert.rejects(fetch(`${status.url}/`, { signal: AbortSignal.timeout(2000) }));
  });

  test(`${prefix} init() raising: InitFailed with exception, file and line, CrashLoopBackOff, traceback in the init log`, async (t) => {
    const why = await h.skip();
    if (why !== undefined) return t.skip(why);
    const s = h.supervisor({ backoffMs: 300 });
    t.after(() => s.cleanup());
    const spec = await h.spec('init_fails.py');
    s.sup.start(spec);
    const outcome = await s.sup.waitForStart(spec.replicaId);
    assert.equal(outcome.outcome, 'failed');
    if (outcome.outcome === 'failed') assert.equal(outcome.termination.exitCode, 3);
    const failed = await s.waitForEvent('InitFailed');
    assert.equal(failed.error.exception, 'ValueError');
    assert.equal(failed.error.message, 'bad init');
    assert.equal(basename(failed.error.file ?? ''), 'init_fails.py');
    assert.equal(failed.error.line, 6);
    await s.waitForEvent('BackOff', (e) => e.restart === 2, 20_000);
    await until(() => s.sup.get(spec.replicaId)?.state === 'CrashLoopBackOff', 5000, 'CrashLoopBackOff');
    assert.equal(s.sup.get(spec.replicaId)!.lastInitError?.exception, 'ValueError');
    assert.match(s.sup.readLog('test-svc', spec.replicaId, 'init'), /raise ValueError\("bad init"\)/);
  });

  test(`${prefix} a replica that dies after being ready restarts; --previous has the crashed run's output`, async (t) => {
    const why = await h.skip();
    if (why !== undefined) return t.skip(why);
    const s = h.supervisor({ backoffMs: 200 });
    t.after(() => s.cleanup());
    const spec = await h.spec('sum_score.py');
    s.sup.start(spec);
    const ready = await s.waitForEvent('Ready');
    await post(`${ready.url}/score`, JSON.stringify({ data: [[1]], log: true }));
    await until(() => /sum_score run called with 1 rows/.test(s.sup.readLog('test-svc', spec.replicaId, 'current')), 5000, 'the run line in the log');
    process.kill(s.sup.get(spec.replicaId)!.pid!, 'SIGKILL');
    const exited = await s.waitForEvent('Exited');
    assert.equal(exited.termination.wasReady, true);
    assert.equal(exited.termination.signal, 'SIGKILL');
    await until(() => s.events.filter((e) => e.type === 'Ready').length === 2, 30_000, 'second Ready');
    assert.match(s.sup.readLog('test-svc', spec.replicaId, 'previous'), /sum_score run called with 1 rows/);
    assert.equal(s.sup.get(spec.replicaId)!.restarts, 1);
  });

  test(`${prefix} a replica over its memory limit is OOMKilled with the limit, and restarts`, async (t) => {
    const why = await h.skip();
    if (why !== undefined) return t.skip(why);
    const s = h.supervisor({ backoffMs: 200 });
    t.after(() => s.cleanup());
    const limit = 150 * 1024 * 1024;
    const spec = await h.spec('leak_score.py', { memoryLimitBytes: limit });
    s.sup.start(spec);
    const ready = await s.waitForEvent('Ready');
    for (let i = 0; i < 5 && !s.events.some((e) => e.type === 'OOMKilled'); i++) {
      await post(`${ready.url}/score`, JSON.stringify({ mb: 200 })).catch(() => undefined);
      await until(() => s.events.some((e) => e.type === 'OOMKilled'), 3000, 'OOM').catch(() => undefined);
    }
    const oom = await s.waitForEvent('OOMKilled', () => true, 5000);
    assert.equal(oom.oom.limitBytes, limit);
    assert.match(oom.message, /Killed by SIGKILL for out-of-memory \(OOMKilled\).*limit 150 MB; raise memory_gb/);
    const exited = await s.waitForEvent('Exited');
    assert.equal(exited.termination.reason, 'OOMKilled');
    await until(() => s.events.filter((e) => e.type === 'Ready').length === 2, 30_000, 'second Ready');
  });

  test(`${prefix} a released replica keeps serving and a new supervisor adopts it`, async (t) => {
    const why = await h.skip();
    if (why !== undefined) return t.skip(why);
    const first = h.supervisor();
    t.after(() => first.cleanup());
    const spec = await h.spec('sum_score.py');
    first.sup.start(spec);
    await first.waitForEvent('Ready');
    const before = first.sup.get(spec.replicaId)!;
    const record = first.sup.releaseAll().get(spec.replicaId)!;
    assert.equal((await post(`${before.url}/score`, JSON.stringify({ data: [[2, 2]] }))).status, 200);
    const second = h.supervisor();
    t.after(() => second.cleanup());
    const result = await second.sup.adopt(spec, record);
    assert.equal(result.adopted, true);
    await second.waitForEvent('Ready');
    const adopted = second.sup.get(spec.replicaId)!;
    assert.equal(adopted.url, before.url);
    assert.equal(adopted.restarts, 0);
    assert.ok(second.events.some((e) => e.type === 'Adopted'));
    await second.sup.stop(spec.replicaId);
    await assert.rejects(fetch(`${before.url}/`, { signal: AbortSignal.timeout(2000) }));
  });
}
