// Deploying on this machine: a healthy deploy scored through `berth service run`, the source snapshot, --no-wait, validation, models in use, delete.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, isAlive, tempDir } from '../helpers/control-plane.js';
import { gate } from '../helpers/gate.js';
import { bearer, fixture, processesUnder, score, startPlane, stopPlane, until } from '../helpers/services.js';

after(cleanup);

test('deploy a model-backed service, score it through the control plane, list, show, then delete it', async (t) => {
  const plane = await startPlane();
  t.after(() => stopPlane(plane));
  assert.match(await plane.ok(['model', 'register', '--name', 'sum-model', '--path', fixture('models/sum-model/1')]), /^sum-model:1$/m);

  const started = performance.now();
  const out = await plane.ok(['deploy', '--name', 'sum-svc', '--entry-script', 'model_score.py', '--source-dir', fixture('.'), '--model', 'sum-model', '--replicas', '2']);
  const deployMs = performance.now() - started;
  t.diagnostic(`berth deploy (2 replicas of model_score.py) returned Healthy after ${deployMs.toFixed(0)} ms`);
  assert.match(out, /scheduling 2 replica\(s\), each requesting cpu=0\.1, memory_gb=0\.5, gpu=0/);
  assert.match(out, /starting 2 replica\(s\)/);
  assert.match(out, /waiting for init\(\) \(0\/2 ready\)/);
  assert.match(out, /service sum-svc is Healthy: 2\/2 replica\(s\) ready/);
  const uri = `${plane.url}/api/v1/service/sum-svc/score`;
  assert.match(out, new RegExp(`scoring URI: +${uri}`));
  assert.match(out, /primary key: +[A-Za-z0-9_-]{43}/);

  // weights.json of sum-model:1 gives w=[1,1], b=0 → sums; through `berth service run` and straight at the URI.
  const run = await plane.ok(['service', 'run', 'sum-svc', '--data', '{"data": [[1, 2], [3, 4]]}']);
  const key = /primary key: +([A-Za-z0-9_-]{43})/.exec(out)![1]!;
  const direct = await score(uri, { data: [[1, 2], [3, 4]] }, key);
  assert.equal(direct.status, 200);
  assert.deepEqual(JSON.parse(run), JSON.parse(direct.text));

  const list = JSON.parse(await plane.ok(['service', 'list', '-o', 'json'])) as Array<{ name: string; state: string; ready_replicas: number }>;
  assert.deepEqual(list.map((s) => [s.name, s.state, s.ready_replicas]), [['sum-svc', 'Healthy', 2]]);
  const show = await plane.show('sum-svc');
  assert.equal(show.scoring_uri, uri);
  assert.equal(show.replicas.length, 2);
  assert.ok(show.replicas.every((r) => r.state === 'Ready' && r.memory.limit_mb === 512));
  assert.deepEqual(show.spec.models, [{ name: 'sum-model', version: 1 }]);
  assert.match(await plane.ok(['service', 'show', 'sum-svc']), /state: +Healthy/);
  assert.match(await plane.ok(['status']), /services: +1/);

  // The model is in use: deleting it is refused, naming the service; after the service goes, it may go.
  const refused = await plane.cli(['model', 'delete', 'sum-model:1']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /model sum-model:1 is used by service\(s\) sum-svc/);

  const pids = show.replicas.map((r) => r.pid!);
  assert.match(await plane.ok(['service', 'delete', 'sum-svc']), /deleted service sum-svc/);
  assert.ok(pids.every((pid) => !isAlive(pid)), 'replica processes are gone');
  assert.deepEqual(processesUnder(plane.home), []);
  assert.equal(existsSync(join(plane.home, 'services', 'sum-svc')), false);
  assert.equal((await plane.cli(['service', 'show', 'sum-svc'])).code, 1);
  await plane.ok(['model', 'delete', 'sum-model:1']);
});

test('the source dir is snapshotted at deploy time; an update with --source-dir takes a new snapshot', async (t) => {
  const plane = await startPlane();
  t.after(() => stopPlane(plane));
  const src = tempDir('berth-src-');
  copyFileSync(fixture('sum_score.py'), join(src, 'score.py'));
  await plane.ok(['deploy', '--name', 'snap-svc', '--entry-script', 'score.py', '--source-dir', src, '--replicas', '1']);
  // The edit after deploy must not reach the running replica, nor a restarted one.
  writeFileSync(join(src, 'score.py'), 'def init():\n    pass\n\ndef run(raw):\n    return {"edited": True}\n');
  const uri = `${plane.url}/api/v1/service/snap-svc/score`;
  const key = (await plane.show('snap-svc')).keys.primary;
  assert.deepEqual(JSON.parse((await score(uri, { data: [[1, 1]] }, key)).text), { result: [2] });
  const out = await plane.ok(['service', 'update', 'snap-svc', '--source-dir', src]);
  assert.match(out, /service snap-svc is Healthy: 1\/1 replica\(s\) ready \(updated in [\d.]+ s, generation 2\)/);
  assert.deepEqual(JSON.parse((await score(uri, { data: [[1, 1]] }, key)).text), { edited: true });
});

test('--no-wait returns the operation id, operation show follows it; bad input is one line naming the field or flag', async (t) => {
  const plane = await startPlane();
  t.after(() => stopPlane(plane));
  const out = await plane.ok(['deploy', '--name', 'later', '--entry-script', fixture('sum_score.py'), '--no-wait']);
  const id = /operation ([0-9a-f-]{36}) started/.exec(out)?.[1];
  assert.ok(id, out);
  const op = await until(async () => {
    const o = JSON.parse(await plane.ok(['operation', 'show', id, '-o', 'json'])) as { status: string; kind: string; steps: unknown[] };
    return o.status === 'Running' ? undefined : o;
  }, 20_000, 'operation end');
  assert.equal(op.status, 'Succeeded');
  assert.equal(op.kind, 'deploy');
  assert.ok(op.steps.length >= 3);
  assert.match(await plane.ok(['operation', 'show', id]), /status: +Succeeded/);
  // Autoscaling is the default without --replicas: it runs autoscale_min_replicas (1) replicas.
  const show = await plane.show('later');
  assert.equal(show.desired_replicas, 1);
  assert.equal(show.spec.autoscale_enabled, true);
  // GET passes the query to run() as a JSON string, as the classic server does; swagger.json sits beside /score.
  const get = await fetch(`${show.scoring_uri}?data=${encodeURIComponent('[[1,2,3]]')}`, { headers: bearer(show.keys.secondary) });
  assert.equal(get.status, 200);
  assert.deepEqual(await get.json(), { result: [6] });
  const swagger = await fetch(show.swagger_uri);
  assert.equal(swagger.status, 200);
  assert.ok(((await swagger.json()) as { paths?: object }).paths);
  // A run() that raises: the replica's 500 reaches the client as 502, with the replica's message and request id.
  await plane.ok(['deploy', '--name', 'raiser', '--entry-script', fixture('run_fails.py')]);
  const raiserKey = (await plane.show('raiser')).keys.primary;
  const failed = await fetch(`${plane.url}/api/v1/service/raiser/score`, { method: 'POST', body: '{}', headers: { 'x-request-id': 'req-502', ...bearer(raiserKey) } });
  assert.equal(failed.status, 502);
  assert.equal(failed.headers.get('x-request-id'), 'req-502');
  const body = (await failed.json()) as { code: string; request_id: string };
  assert.equal(body.code, 'RUN_FAILED');
  assert.equal(body.request_id, 'req-502');
  const run = await plane.cli(['service', 'run', 'raiser', '--data', '{}']);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /^berth: run\(\) raised in the entry script; see the service logs/m);
  // A run() over the scoring timeout: 504 (the replica recycles its worker). Its gate is never released: only the timeout ends it.
  await plane.ok(['deploy', '--name', 'sleeper', '--entry-script', fixture('sleep_score.py'), '--scoring-timeout-ms', '300']);
  const slow = await fetch(`${plane.url}/api/v1/service/sleeper/score`, { method: 'POST', body: JSON.stringify({ until_file: gate().path }), headers: bearer((await plane.show('sleeper')).keys.primary) });
  assert.equal(slow.status, 504);
  assert.equal(((await slow.json()) as { code: string }).code, 'SCORING_TIMEOUT');
  const missing = await fetch(`${plane.url}/api/v1/service/nobody/score`, { method: 'POST', body: '{}' });
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { code: string }).code, 'SERVICE_NOT_FOUND');

  const cases: Array<[string[], RegExp]> = [
    [['--name', 'x', '--entry-script', 'a.py'], /^berth: invalid name \(--name\): a service name has 3 to 32 characters$/m],
    [['--name', 'Bad_Name', '--entry-script', 'a.py'], /invalid name \(--name\): a service name has lower-case letters/],
    [['--name', 'ok-name', '--entry-script', 'a.py', '--cpu', '0.5', '--cpu-limit', '0.2'], /invalid cpu_cores_limit \(--cpu-limit\): must be at least cpu_cores \(0.5\)/],
    [['--name', 'ok-name', '--entry-script', 'a.py', '--memory-gb', '0'], /invalid memory_gb \(--memory-gb\): must be greater than 0/],
    [['--name', 'ok-name', '--entry-script', 'a.py', '--replicas', '2', '--min-replicas', '1'], /invalid autoscale_min_replicas \(--min-replicas\): applies only with autoscaling/],
    [['--name', 'ok-name', '--entry-script', 'a.py', '--min-replicas', '3', '--max-replicas', '2'], /invalid autoscale_min_replicas \(--min-replicas\): must be at most autoscale_max_replicas \(2\)/],
    [['--name', 'ok-name', '--entry-script', 'a.py', '--target-utilization', '150'], /invalid autoscale_target_utilization \(--target-utilization\): must be at most 100/],
    [['--name', 'ok-name', '--entry-script', 'a.py', '--gpu', 'lots'], /invalid gpu_cores \(--gpu\)/],
    [['--name', 'ok-name', '--entry-script', fixture('no_such.py')], /entry script .*no_such\.py does not exist/],
    [['--name', 'ok-name', '--entry-script', fixture('sum_score.py'), '--model', 'nope'], /model nope not found/],
    [['--name', 'ok-name', '--entry-script', fixture('sum_score.py'), '--gpu', '2'], /can never be placed on this machine \(cpu=4, memory_gb=8, gpu=1\): 0\/1 nodes are available: 1 Insufficient nvidia\.com\/gpu/],
  ];
  for (const [args, expected] of cases) {
    const r = await plane.cli(['deploy', ...args]);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, expected, args.join(' '));
    assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('berth: ')).length, 1, 'one line, no stack trace');
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  // A service.yml with the API's field names; a flag overrides it; paths are relative to the file.
  const dir = tempDir('berth-yml-');
  copyFileSync(fixture('sum_score.py'), join(dir, 'score.py'));
  writeFileSync(join(dir, 'service.yml'), 'name: from-yaml\nentry_script: score.py\nsource_dir: .\nnum_replicas: 2\nmemory_gb: 0.25\n');
  await plane.ok(['deploy', '-f', join(dir, 'service.yml'), '--replicas', '1']);
  const yml = await plane.show('from-yaml');
  assert.equal(yml.desired_replicas, 1);
  assert.equal(yml.spec.memory_gb, 0.25);
  writeFileSync(join(dir, 'bad.yml'), 'name: bad-yaml\nentry_script: score.py\ncolour: red\n');
  assert.match((await plane.cli(['deploy', '-f', join(dir, 'bad.yml')])).stderr, /invalid fields: unknown field\(s\) colour/);
  writeFileSync(join(dir, 'auth.yml'), 'name: both-auth\nentry_script: score.py\nauth_enabled: true\ntoken_auth_enabled: true\n');
  assert.match((await plane.cli(['deploy', '-f', join(dir, 'auth.yml')])).stderr, /^berth: invalid token_auth_enabled: cannot be true together with auth_enabled/m);
});
