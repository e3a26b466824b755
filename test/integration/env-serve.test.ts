// An entry script served in an environment sees its variables and the packages installed into it: `berth serve --env`, and
// `berth serve --python <env python>` with the environment's variables, as a replica of a deployment is started.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvironmentView } from '../../src/control/environments/env-schema.js';
import { runtimeFor } from '../../src/control/environments/runtime.js';
import { berth, cleanup, ok, tempDir, up, type RunningPlane } from '../helpers/control-plane.js';
import { SYSTEM_PYTHON, writeWheel } from '../helpers/env-wheel.js';
import { fixture, post, runServeToExit, startServe } from '../helpers/serve-process.js';

let plane: RunningPlane;
let wheels: string;
before(async () => {
  plane = await up(tempDir('berth-env-serve-'));
  wheels = tempDir('berth-wheels-');
  writeWheel(wheels, 'berth_envprobe', '2.0', 'from-the-environment');
});
after(cleanup);

interface Seen { greeting: string; probe: string; prefix: string; virtual_env: string; sklearn_visible: boolean }

const env = () => ({ BERTH_HOME: plane.home, BERTH_SERVER: plane.url });

test('berth serve --env: the worker runs the environment\'s python, with its variables and the packages installed into it', async (t) => {
  const req = join(wheels, 'requirements.txt');
  writeFileSync(req, 'berth-envprobe==2.0\n');
  // --no-wait: serve finds the build running and waits for it.
  const out = await ok(['env', 'create', '--name', 'probe', '--file', req, '--python', SYSTEM_PYTHON, '--find-links', wheels, '--no-index', '--var', 'GREETING=hello from probe', '--no-wait'], plane.home);
  assert.equal(out, 'probe:1\n');
  const served = await startServe(['--entry-script', fixture('env_score.py'), '--env', 'probe'], { env: env(), timeoutMs: 60_000 });
  t.after(() => served.stop());
  const v = JSON.parse(await ok(['env', 'show', 'probe', '-o', 'json'], plane.home)) as EnvironmentView;
  assert.equal(v.state, 'Built');
  const res = await post(`${served.url}/score`, '{}');
  assert.equal(res.status, 200, res.text);
  const seen = res.json as Seen;
  assert.equal(seen.greeting, 'hello from probe');
  assert.equal(seen.probe, 'from-the-environment');
  assert.equal(seen.prefix, join(v.path, 'venv'));
  assert.equal(seen.virtual_env, join(v.path, 'venv'));
  assert.equal(seen.sklearn_visible, false, 'isolated: the system site packages are not visible');

  // As a deployment starts a replica: `berth serve --python <env python>` with the environment's variables.
  const rt = runtimeFor('probe:1', v.digest, v.spec, v.path, process.env.PATH);
  const replica = await startServe(['--entry-script', fixture('env_score.py'), '--python', rt.python!], { env: { ...rt.env } });
  t.after(() => replica.stop());
  assert.deepEqual((await post(`${replica.url}/score`, '{}')).json, seen);

  // Without the environment the script cannot import its package, and the failure names it.
  const bare = await runServeToExit(['--entry-script', fixture('env_score.py'), '--python', SYSTEM_PYTHON]);
  assert.equal(bare.code, 3);
  assert.match(bare.stderr, /No module named 'berth_envprobe'/);
});

test('a JS environment: package.json installed in isolation (a local file: dependency, copied in), found by a JS entry script', async (t) => {
  const dir = tempDir('berth-js-env-');
  mkdirSync(join(dir, 'lib'));
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'lib', 'package.json'), JSON.stringify({ name: 'berth-js-probe', version: '1.0.0', main: 'index.js' }));
  writeFileSync(join(dir, 'lib', 'index.js'), "module.exports = { value: 'from-the-js-environment' };\n");
  writeFileSync(join(dir, 'app', 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', dependencies: { 'berth-js-probe': 'file:../lib' } }));
  // CommonJS: `require` honours NODE_PATH, which points at the environment's node_modules.
  writeFileSync(join(dir, 'app', 'score.cjs'), "const probe = require('berth-js-probe');\nexports.init = () => {};\nexports.run = () => ({ value: probe.value, greeting: process.env.GREETING });\n");
  await ok(['env', 'create', '--name', 'js-probe', '--file', join(dir, 'app', 'package.json'), '--var', 'GREETING=hello js'], plane.home);
  const v = JSON.parse(await ok(['env', 'show', 'js-probe', '-o', 'json'], plane.home)) as EnvironmentView;
  assert.ok(v.spec.build.kind === 'node' && (v.spec.build.package_json.dependencies as Record<string, string>)['berth-js-probe'] === `file:${join(dir, 'lib')}`);
  assert.equal(lstatSync(join(v.path, 'node_modules', 'berth-js-probe')).isSymbolicLink(), false, 'copied in, not linked');
  const served = await startServe(['--entry-script', join(dir, 'app', 'score.cjs'), '--env', 'js-probe'], { env: env(), timeoutMs: 60_000 });
  t.after(() => served.stop());
  assert.deepEqual((await post(`${served.url}/score`, '{}')).json, { value: 'from-the-js-environment', greeting: 'hello js' });
});

test('serve --env with a failed environment fails at once with the build error; --python and --env together are refused', async () => {
  const req = join(wheels, 'broken.txt');
  writeFileSync(req, 'definitely-not-a-package==9.9\n');
  assert.equal((await berth(['env', 'create', '--name', 'broken', '--python', SYSTEM_PYTHON, '--no-index', '--file', req], { home: plane.home })).code, 1);
  const run = await runServeToExit(['--entry-script', fixture('env_score.py'), '--env', 'broken'], { env: env() });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /building environment broken:1 failed: .*No matching distribution found for definitely-not-a-package==9\.9/);
  const both = await runServeToExit(['--entry-script', fixture('env_score.py'), '--env', 'probe', '--python', SYSTEM_PYTHON], { env: env() });
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--python and --env both choose the interpreter/);
});
