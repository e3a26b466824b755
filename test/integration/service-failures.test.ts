// Failing deployments explain themselves: init() crash loops fail fast with the traceback, GPUs that never free up, OOM kills.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup } from '../helpers/control-plane.js';
import { fixture, startPlane, stopPlane, until } from '../helpers/services.js';

after(cleanup);

test('init() raising: the deploy fails within seconds, Failed + CrashLoopBackOff, the traceback in --init logs', async (t) => {
  const plane = await startPlane();
  t.after(() => stopPlane(plane));
  const started = performance.now();
  const r = await plane.cli(['deploy', '--name', 'crashy', '--entry-script', 'init_fails.py', '--source-dir', fixture('.')]);
  const failMs = performance.now() - started;
  t.diagnostic(`berth deploy of an init() that raises failed after ${failMs.toFixed(0)} ms`);
  assert.equal(r.code, 1);
  assert.ok(failMs < 10_000, `failed promptly (${failMs} ms)`);
  assert.match(r.stdout, /deploy failed after [\d.]+ s; service crashy is Failed/);
  const replica = /replica (crashy-1-0-[0-9a-f]+)/.exec(r.stderr)?.[1];
  assert.ok(replica, r.stderr);
  assert.match(r.stderr, new RegExp(`^berth: replica ${replica} of service crashy crashed during init\\(\\): ValueError: bad init at .*/init_fails\\.py:6 \\(CrashLoopBackOff\\)$`, 'm'));
  assert.match(r.stderr, new RegExp(`fix: Read its start-up output with: berth service logs crashy --replica ${replica} --init`));

  const show = await plane.show('crashy');
  assert.equal(show.state, 'Failed');
  assert.match(show.reason, /ValueError: bad init/);
  assert.equal(show.replicas[0]?.state, 'CrashLoopBackOff');
  assert.match(show.replicas[0]?.last_init_error ?? '', /ValueError: bad init at .*init_fails\.py:6/);
  assert.equal(show.operation?.status, 'Failed');
  assert.equal(show.operation?.error?.code, 'REPLICA_INIT_FAILED');

  const scored = await plane.cli(['service', 'run', 'crashy', '--data', '{}']);
  assert.match(scored.stderr, /^berth: service crashy has no ready replica \(state Failed\)$/m);

  const logs = await plane.ok(['service', 'logs', 'crashy', '--replica', replica, '--init']);
  assert.match(logs, /Traceback \(most recent call last\):/);
  assert.match(logs, /init_fails\.py", line 6, in init/);
  assert.match(logs, /ValueError: bad init/);
  // By index, too.
  assert.match(await plane.ok(['service', 'logs', 'crashy', '--replica', '0', '--init', '--tail', '3']), /\S/);
  const events = await plane.events('crashy');
  const types = events.map((e) => e.type);
  for (const type of ['Scheduled', 'Started', 'InitFailed', 'BackOff', 'OperationFailed']) assert.ok(types.includes(type), `event ${type} in ${types.join(', ')}`);
  assert.ok(events.some((e) => e.type === 'StateChanged' && /→ Failed/.test(e.message)));
  const table = await plane.ok(['service', 'events', 'crashy']);
  assert.match(table, /^TIME +TYPE +REPLICA +MESSAGE$/m);
  assert.match(table, /BackOff +crashy-1-0-\w+ +Back-off restarting failed replica/);
});

test('a GPU that is taken: Unschedulable with the reason, then the classic scheduling timeout message', async (t) => {
  const plane = await startPlane();
  t.after(() => stopPlane(plane));
  await plane.ok(['deploy', '--name', 'gpu-one', '--entry-script', fixture('sum_score.py'), '--gpu', '1', '--replicas', '1']);
  const started = performance.now();
  const waiting = plane.cli(['deploy', '--name', 'gpu-two', '--entry-script', fixture('sum_score.py'), '--gpu', '1']);
  const unschedulable = await until(async () => {
    const r = await plane.cli(['service', 'show', 'gpu-two', '-o', 'json']);
    const s = r.code === 0 ? (JSON.parse(r.stdout) as { state: string; reason: string }) : undefined;
    return s?.state === 'Unschedulable' ? s : undefined;
  }, 10_000, 'Unschedulable');
  assert.equal(unschedulable.reason, '0/1 nodes are available: 1 Insufficient nvidia.com/gpu');
  const r = await waiting;
  const ms = performance.now() - started;
  assert.equal(r.code, 1);
  assert.match(r.stdout, /waiting for resources \(Unschedulable\): 0\/1 nodes are available: 1 Insufficient nvidia\.com\/gpu/);
  assert.equal(r.stderr.split('\n')[0], "berth: Couldn't Schedule because the kubernetes cluster didn't have available resources after trying for 00:00:03. 0/1 nodes are available: 1 Insufficient nvidia.com/gpu");
  assert.ok(ms >= 3000 && ms < 15_000, `failed after the 3 s timeout (${ms} ms)`);
  const show = await plane.show('gpu-two');
  assert.equal(show.state, 'Failed');
  assert.equal(show.operation?.error?.code, 'SCHEDULING_TIMEOUT');
  assert.ok((await plane.events('gpu-two')).some((e) => e.type === 'FailedScheduling' && e.message === '0/1 nodes are available: 1 Insufficient nvidia.com/gpu'));
  // The first service was never disturbed.
  assert.equal((await plane.show('gpu-one')).state, 'Healthy');
});

test('a memory hog under a low limit is OOMKilled: in the events, in show, and its run in --previous logs', async (t) => {
  const plane = await startPlane(['--capacity', 'cpu=4,memory_gb=8,gpu=0', '--restart-backoff', '500ms']);
  t.after(() => stopPlane(plane));
  await plane.ok(['deploy', '--name', 'hog', '--entry-script', 'leak_score.py', '--source-dir', fixture('.'), '--memory-gb', '0.15', '--replicas', '1']);
  const first = (await plane.show('hog')).replicas[0]!;
  assert.equal(first.memory.limit_mb, 154);
  // A small request first: its access line is in this run's log before the kill, so --previous can show it.
  assert.match(await plane.ok(['service', 'run', 'hog', '--data', '{"mb": 1}']), /held_mb/);
  // The request that crosses the limit fails (the replica dies under it): only what berth reports about it matters.
  for (let i = 0; i < 5 && !(await plane.events('hog')).some((e) => e.type === 'OOMKilled'); i++) {
    const r = await plane.cli(['service', 'run', 'hog', '--data', '{"mb": 200}']);
    assert.notEqual(r.code, 0);
  }
  const oom = await until(async () => (await plane.events('hog')).find((e) => e.type === 'OOMKilled'), 10_000, 'OOMKilled event');
  assert.equal(oom.replica, first.id);
  assert.match(oom.message, /Killed by SIGKILL for out-of-memory \(OOMKilled\).*limit 154 MB; raise memory_gb/);
  const show = await until(async () => {
    const s = await plane.show('hog');
    return s.replicas[0]?.last_termination?.reason === 'OOMKilled' ? s : undefined;
  }, 10_000, 'OOMKilled in show');
  assert.match(show.replicas[0]!.last_termination!.message, /OOMKilled.*raise memory_gb/);
  assert.equal(show.replicas[0]!.last_termination!.signal, 'SIGKILL');
  t.diagnostic(`OOM: ${show.replicas[0]!.last_termination!.message} (enforcement ${show.replicas[0]!.memory.enforcement})`);
  // It restarts (short back-off here); the killed run's output is then the previous log.
  await until(async () => ((await plane.show('hog')).state === 'Healthy' ? true : undefined), 20_000, 'Healthy again');
  assert.match(await plane.ok(['service', 'logs', 'hog', '--previous']), /"path":"\/score"/);
  assert.match(await plane.ok(['service', 'show', 'hog']), /OOMKilled/);
});
