// `berth deploy --env`: replicas run with the environment's interpreter and variables; two deployments share one build;
// a deployment whose environment fails to build fails promptly with the build's error.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvironmentView } from '../../src/control/environments/env-schema.js';
import { cleanup, tempDir } from '../helpers/control-plane.js';
import { SYSTEM_PYTHON, writeWheel } from '../helpers/env-wheel.js';
import { processTree } from '../../src/targets/local/proc-tree.js';
import { fixture, startPlane, stopPlane } from '../helpers/services.js';

after(cleanup);

interface Seen { greeting: string; probe: string; prefix: string; virtual_env: string; sklearn_visible: boolean }

test('services deployed with an environment see its variables and packages; two at once build it once', async (t) => {
  const plane = await startPlane();
  t.after(() => stopPlane(plane));
  const wheels = tempDir('berth-wheels-');
  writeWheel(wheels, 'berth_envprobe', '3.0', 'deployed-with-the-environment');
  const req = join(wheels, 'requirements.txt');
  writeFileSync(req, 'berth-envprobe==3.0\n');
  // --no-wait: both deployments find the build running (or not yet started) and must share it.
  assert.equal(await plane.ok(['env', 'create', '--name', 'probe', '--file', req, '--python', SYSTEM_PYTHON, '--find-links', wheels, '--no-index', '--var', 'GREETING=hello service', '--no-wait']), 'probe:1\n');
  const deploy = (name: string) => plane.ok(['deploy', '--name', name, '--entry-script', 'env_score.py', '--source-dir', fixture('.'), '--env', 'probe', '--replicas', '1'], 120_000);
  const [one, two] = await Promise.all([deploy('env-svc-a'), deploy('env-svc-b')]);
  assert.match(one, /preparing environment probe:1/);
  assert.match(two, /service env-svc-b is Healthy/);

  const v = JSON.parse(await plane.ok(['env', 'show', 'probe', '-o', 'json'])) as EnvironmentView;
  assert.equal(v.builds, 1, 'two deployments, one build');
  // Each replica's Python worker is the environment's python, started with its variables. (The worker, not the replica's
  // berth serve: a serve that began as the plane's standby shows the command line and environment it was started with.)
  for (const name of ['env-svc-a', 'env-svc-b']) {
    const pid = (await plane.show(name)).replicas[0]?.pid;
    assert.ok(pid !== undefined);
    const workers = processTree(pid).filter((p) => p !== pid);
    assert.equal(workers.length, 1, `one worker under berth serve ${pid}`);
    assert.equal(readFileSync(`/proc/${workers[0]}/cmdline`, 'utf8').split('\0')[0], v.python);
    assert.ok(readFileSync(`/proc/${workers[0]}/environ`, 'utf8').split('\0').includes('GREETING=hello service'));
  }
  for (const name of ['env-svc-a', 'env-svc-b']) {
    const seen = JSON.parse(await plane.ok(['service', 'run', name, '--data', '{}'])) as Seen;
    assert.equal(seen.greeting, 'hello service');
    assert.equal(seen.probe, 'deployed-with-the-environment');
    assert.equal(seen.prefix, join(v.path, 'venv'));
    assert.equal(seen.sklearn_visible, false);
  }
  // The version is pinned at deploy time: a newer version of the environment does not move a running service.
  const show = await plane.show('env-svc-a');
  assert.equal((show.spec as { environment?: { ref: string } }).environment?.ref, 'probe:1');
});

test('a deployment whose environment failed to build fails at once with the build\'s error', async (t) => {
  const plane = await startPlane();
  t.after(() => stopPlane(plane));
  const req = join(tempDir('berth-req-'), 'requirements.txt');
  writeFileSync(req, 'definitely-not-a-package==9.9\n');
  assert.equal((await plane.cli(['env', 'create', '--name', 'broken', '--file', req, '--python', SYSTEM_PYTHON, '--no-index'])).code, 1);
  const started = performance.now();
  const run = await plane.cli(['deploy', '--name', 'env-broken', '--entry-script', 'env_score.py', '--source-dir', fixture('.'), '--env', 'broken', '--replicas', '1']);
  const ms = performance.now() - started;
  t.diagnostic(`deploy with a failed environment failed after ${ms.toFixed(0)} ms`);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /building environment broken:1 failed: pip install exited with code 1: No matching distribution found for definitely-not-a-package==9\.9/);
  assert.match(run.stderr, /berth env logs broken:1/);
  assert.equal((await plane.show('env-broken')).state, 'Failed');
  const unknown = await plane.cli(['deploy', '--name', 'env-unknown', '--entry-script', 'env_score.py', '--source-dir', fixture('.'), '--env', 'nothing']);
  assert.match(unknown.stderr, /environment nothing not found/);
});
