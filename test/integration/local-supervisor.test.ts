// The local supervisor with real `berth serve` replicas: readiness, init crash loops with back-off, liveness kills, crashes, logs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAlive } from '../../src/targets/local/proc-tree.js';
import { replicaLogPaths } from '../../src/targets/local/replica-logs.js';
import { fixtureSpec, testSupervisor, until } from '../helpers/local-target.js';
import { post } from '../helpers/serve-process.js';

test('a healthy replica becomes Ready, scores, keeps its start-up output, and stops cleanly', async (t) => {
  const h = testSupervisor();
  t.after(() => h.cleanup());
  const spec = fixtureSpec('sum_score.py');
  const t0 = Date.now();
  const first = h.sup.start(spec);
  assert.equal(first.state, 'Starting');
  const outcome = await h.sup.waitForStart(spec.replicaId);
  assert.equal(outcome.outcome, 'ready');
  const ready = await h.waitForEvent('Ready');
  t.diagnostic(`start-to-ready: ${Date.now() - t0} ms (event says ${ready.startupMs} ms)`);

  const status = h.sup.get(spec.replicaId)!;
  assert.equal(status.state, 'Ready');
  assert.equal(status.restarts, 0);
  assert.ok(status.pid !== undefined && isAlive(status.pid));
  assert.equal(status.url, ready.url);
  assert.deepEqual(h.sup.adoptionRecord(spec.replicaId), { pid: status.pid, port: status.port });

  const res = await post(`${ready.url}/score`, JSON.stringify({ data: [[1, 2, 3]] }));
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, { result: [6] });
  assert.match(h.sup.readLog('test-svc', spec.replicaId, 'init'), /sum_score init done/);
  assert.match(h.sup.readLog('test-svc', spec.replicaId, 'current', 2), /\n$/);

  const types = h.events.map((e) => e.type);
  // Start-up phases in between (how many depends on how fast each is): then Ready.
  assert.deepEqual(types.filter((x) => x !== 'StateChanged' && x !== 'Phase'), ['Started', 'Ready']);
  for (const e of h.events) assert.ok(!Number.isNaN(Date.parse(e.time)) && e.serviceName === 'test-svc' && e.replicaId === spec.replicaId);

  await h.sup.stop(spec.replicaId);
  assert.ok(!isAlive(status.pid!), 'the serve process is gone after stop');
  assert.equal(h.events.at(-1)!.type, 'Stopped');
  const exited = await h.waitForEvent('Exited');
  assert.equal(exited.termination.reason, 'Stopped');
  assert.equal(h.sup.get(spec.replicaId), undefined);
});

test('init() raising: reported at once with exception, file and line; back-off grows; CrashLoopBackOff; logs kept', async (t) => {
  const h = testSupervisor({ backoff: { baseMs: 300, capMs: 1200, resetAfterMs: 60_000 } });
  t.after(() => h.cleanup());
  const spec = fixtureSpec('init_fails.py');
  const t0 = Date.now();
  h.sup.start(spec);
  const outcome = await h.sup.waitForStart(spec.replicaId);
  const promptMs = Date.now() - t0;
  t.diagnostic(`init failure reported ${promptMs} ms after start`);
  assert.equal(outcome.outcome, 'failed');
  assert.ok(promptMs < 10_000, `reported promptly, took ${promptMs} ms`);
  const failed = await h.waitForEvent('InitFailed');
  assert.equal(failed.error.exception, 'ValueError');
  assert.equal(failed.error.message, 'bad init');
  assert.match(failed.error.file ?? '', /init_fails\.py$/);
  assert.equal(failed.error.line, 6);
  if (outcome.outcome === 'failed') {
    assert.equal(outcome.termination.exitCode, 3);
    assert.equal(outcome.termination.initError?.line, 6);
  }

  // Back-off: 300, 600, 1200, 1200 (capped).
  await h.waitForEvent('BackOff', (e) => e.restart === 4, 20_000);
  const delays = h.events.flatMap((e) => (e.type === 'BackOff' ? [e.delayMs] : []));
  assert.deepEqual(delays.slice(0, 4), [300, 600, 1200, 1200]);
  const backoff = h.events.find((e) => e.type === 'BackOff' && e.restart === 2);
  assert.ok(backoff?.type === 'BackOff' && backoff.lastInitError?.exception === 'ValueError');
  assert.match(backoff.message, /Back-off restarting failed replica.*ValueError: bad init/);

  await until(() => h.sup.get(spec.replicaId)?.state === 'CrashLoopBackOff', 5000, 'CrashLoopBackOff');
  const status = h.sup.get(spec.replicaId)!;
  assert.equal(status.lastInitError?.exception, 'ValueError');
  assert.equal(status.lastTermination?.exitCode, 3);
  assert.ok(status.restarts >= 4);
  assert.ok(status.nextRestartAt !== undefined);
  assert.match(h.sup.readLog('test-svc', spec.replicaId, 'init'), /raise ValueError\("bad init"\)/);
  assert.match(h.sup.readLog('test-svc', spec.replicaId, 'previous'), /exception: ValueError: bad init/);
});

test('failing liveness probes kill the replica and it restarts', async (t) => {
  const h = testSupervisor();
  t.after(() => h.cleanup());
  const spec = fixtureSpec('sum_score.py', { liveness: { periodS: 0.2, timeoutS: 0.3, failureThreshold: 2, successThreshold: 1 } });
  h.sup.start(spec);
  await h.waitForEvent('Ready');
  const pid = h.sup.get(spec.replicaId)!.pid!;
  // A stopped process keeps its port open but answers nothing: the probe times out.
  process.kill(pid, 'SIGSTOP');
  const kill = await h.waitForEvent('LivenessKill');
  assert.equal(kill.consecutive, 2);
  const probes = h.events.filter((e) => e.type === 'ProbeFailed');
  assert.equal(probes.length, 2);
  assert.match(probes[0]!.message, /Liveness probe failed: no answer within 300 ms \(1\/2\)/);
  const exited = await h.waitForEvent('Exited');
  assert.equal(exited.termination.reason, 'LivenessProbeFailed');
  assert.equal(exited.termination.signal, 'SIGKILL');
  await h.waitForEvent('Ready', (e) => e.port !== undefined && h.sup.get(spec.replicaId)!.pid !== pid);
  assert.equal(h.sup.get(spec.replicaId)!.restarts, 1);
  assert.ok(!isAlive(pid));
});

test('a replica that crashes after being ready restarts; --previous has the crashed run', async (t) => {
  const h = testSupervisor();
  t.after(() => h.cleanup());
  const spec = fixtureSpec('sum_score.py');
  h.sup.start(spec);
  const ready = await h.waitForEvent('Ready');
  await post(`${ready.url}/score`, JSON.stringify({ data: [[1]], log: true }));
  // The replica writes its log at the end of the event-loop turn that answered; the client can be faster than that.
  await until(() => /sum_score run called with 1 rows/.test(h.sup.readLog('test-svc', spec.replicaId, 'current')), 5000, 'the run line in the log');
  const before = h.sup.get(spec.replicaId)!;
  process.kill(before.pid!, 'SIGKILL');
  const exited = await h.waitForEvent('Exited');
  assert.equal(exited.termination.reason, 'Error');
  assert.equal(exited.termination.wasReady, true);
  assert.equal(exited.termination.initError, undefined);
  await until(() => h.events.filter((e) => e.type === 'Ready').length === 2, 10_000, 'second Ready');
  const backoff = await h.waitForEvent('BackOff');
  assert.equal(backoff.delayMs, 200);
  assert.match(h.sup.readLog('test-svc', spec.replicaId, 'previous'), /sum_score run called with 1 rows/);
  assert.doesNotMatch(h.sup.readLog('test-svc', spec.replicaId, 'current'), /sum_score run called/);
  assert.ok(existsSync(before.logs.previous));
  assert.equal(h.events.filter((e) => e.type === 'InitFailed').length, 0);
  assert.equal(h.sup.get(spec.replicaId)!.restarts, 1);
});

test('a run whose log passes the cap is cut back: older lines move to .rotated.log, logs still reads across both, the replica keeps logging', async (t) => {
  const h = testSupervisor({ logCapBytes: 4000 });
  t.after(() => h.cleanup());
  const spec = fixtureSpec('sum_score.py');
  h.sup.start(spec);
  const ready = await h.sup.waitForStart(spec.replicaId);
  assert.equal(ready.outcome, 'ready');
  const url = (ready as { url: string }).url;
  // An access line per request: 40 requests are well past 4000 bytes.
  for (let i = 0; i < 40; i++) assert.equal((await post(`${url}/score`, JSON.stringify({ data: [[i]] }), { 'x-request-id': `cap-${i}` })).status, 200);
  const rotated = await h.waitForEvent('LogRotated', () => true, 15_000);
  const paths = replicaLogPaths(h.logDir, 'test-svc', spec.replicaId);
  assert.match(rotated.message, /older lines moved to .*\.rotated\.log/);
  assert.ok(existsSync(paths.rotated));
  assert.ok(statSync(paths.current).size < 4000, 'the current file was emptied');
  // The replica writes on into the emptied file.
  assert.equal((await post(`${url}/score`, JSON.stringify({ data: [[1]] }), { 'x-request-id': 'after-cut' })).status, 200);
  await until(() => readFileSync(paths.current, 'utf8').includes('"request_id":"after-cut"'), 5000, 'the next access line in the current file');
  const whole = h.sup.readLog('test-svc', spec.replicaId, 'current');
  assert.match(whole, /sum_score init done/, 'the start-up lines, from the rotated file');
  assert.match(whole, /"request_id":"cap-0"[\s\S]*"request_id":"after-cut"/);
  const last = h.sup.readLog('test-svc', spec.replicaId, 'current', 3).trimEnd().split('\n');
  assert.equal(last.length, 3);
  assert.match(last.at(-1)!, /"request_id":"after-cut"/);
  await h.sup.stop(spec.replicaId);
});
