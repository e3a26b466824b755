// berth env through the real CLI and control plane: offline builds, no rebuild of an unchanged spec (by count), pip's
// error when a requirement cannot be met, an unreachable index in seconds, and the conda YAML's pip section.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { EnvironmentView } from '../../src/control/environments/env-schema.js';
import { berth, cleanup, ok, tempDir, up } from '../helpers/control-plane.js';
import { SYSTEM_PYTHON, writeWheel } from '../helpers/env-wheel.js';

let home: string;
let files: string;
before(async () => {
  home = tempDir('berth-env-');
  files = tempDir('berth-env-files-');
  await up(home);
});
after(cleanup);

const show = async (ref: string): Promise<EnvironmentView> => JSON.parse(await ok(['env', 'show', ref, '-o', 'json'], home)) as EnvironmentView;
const file = (name: string, text: string): string => {
  const path = join(files, name);
  writeFileSync(path, text);
  return path;
};
const timed = async (args: string[]) => {
  const started = performance.now();
  const run = await berth(args, { home, timeoutMs: 120_000 });
  return { ...run, ms: performance.now() - started };
};
const py = (python: string, code: string): string => execFileSync(python, ['-c', code], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

test('a spec the system site packages satisfy builds with no network; its python sees them', async (t) => {
  const req = file('requirements.txt', 'scikit-learn\nnumpy\n');
  const run = await timed(['env', 'create', '--name', 'sk', '--file', req, '--python', SYSTEM_PYTHON, '--system-site-packages', '--no-index', '--var', 'GREETING=hello']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'sk:1\n');
  assert.match(run.stderr, /sk:1 built in \d+\.\d s/);
  const v = await show('sk:1');
  t.diagnostic(`env create (scikit-learn + numpy from system site packages, --no-index): ${run.ms.toFixed(0)} ms end to end, build ${v.build_ms} ms`);
  assert.equal(v.state, 'Built');
  assert.equal(v.builds, 1);
  assert.ok((v.size ?? 0) > 0);
  assert.match(v.digest, /^[0-9a-f]{64}$/);
  assert.ok(v.build_ms !== undefined && v.built_at !== undefined);
  assert.deepEqual(v.spec.variables, { GREETING: 'hello' });
  assert.match(py(v.python!, 'import sys, sklearn; print(sys.prefix, sklearn.__file__)'), new RegExp(`^${v.path}/venv /usr/lib/python3/dist-packages/sklearn/`));
  const text = await ok(['env', 'show', 'sk'], home);
  for (const field of [/^state: +Built$/m, /^digest: +[0-9a-f]{64}$/m, /^size: +\d/m, /^build time: +\d+\.\d s$/m, /^builds: +1 /m]) assert.match(text, field);
});

test('an unchanged spec is never rebuilt: other names, new versions (variables only) and build requests keep the count at 1', async () => {
  const req = join(files, 'requirements.txt');
  const copy = await timed(['env', 'create', '--name', 'sk-copy', '--file', req, '--python', SYSTEM_PYTHON, '--system-site-packages', '--no-index']);
  assert.equal(copy.code, 0, copy.stderr);
  assert.match(copy.stderr, /sk-copy:1 reuses the built environment [0-9a-f]{12} \(no build; 1 build\(s\)/);
  assert.equal((await timed(['env', 'create', '--name', 'sk', '--file', req, '--python', SYSTEM_PYTHON, '--system-site-packages', '--no-index', '--var', 'GREETING=bye'])).stdout, 'sk:2\n');
  const same = await timed(['env', 'create', '--name', 'sk', '--file', req, '--python', SYSTEM_PYTHON, '--system-site-packages', '--no-index', '--var', 'GREETING=bye']);
  assert.equal(same.stdout, 'sk:2\n');
  assert.match(same.stderr, /already has this spec/);
  assert.match(await ok(['env', 'build', 'sk:1'], home), /sk:1 is built .*nothing to do/);
  const all = JSON.parse(await ok(['env', 'list', '-o', 'json'], home)) as EnvironmentView[];
  const sk = all.filter((e) => e.name.startsWith('sk'));
  assert.deepEqual(sk.map((e) => `${e.name}:${e.version}`), ['sk:1', 'sk:2', 'sk-copy:1']);
  assert.equal(new Set(sk.map((e) => e.digest)).size, 1);
  assert.deepEqual(sk.map((e) => e.builds), [1, 1, 1]);
  assert.match(await ok(['env', 'list'], home), /^NAME +VERSION +KIND +STATE +BUILDS +SIZE +DIGEST +CREATED$/m);
});

test('an unsatisfiable requirement fails in seconds with pip\'s error, the log\'s tail and the command for the whole log', async (t) => {
  const req = file('bad.txt', 'definitely-not-a-package==9.9\n');
  const run = await timed(['env', 'create', '--name', 'bad', '--file', req, '--python', SYSTEM_PYTHON, '--no-index']);
  t.diagnostic(`env create with an unsatisfiable requirement failed after ${run.ms.toFixed(0)} ms`);
  assert.equal(run.code, 1);
  assert.equal(run.stdout, 'bad:1\n');
  assert.match(run.stderr, /berth: building environment bad:1 failed: pip install exited with code 1: No matching distribution found for definitely-not-a-package==9\.9/);
  assert.match(run.stderr, /\n {2}\| ERROR: Could not find a version that satisfies the requirement definitely-not-a-package==9\.9/);
  assert.match(run.stderr, /the whole build log: berth env logs bad:1/);
  assert.match(run.stderr, /fix: .*berth env build bad:1/);
  assert.ok(run.ms < 30_000, `failed after ${run.ms} ms`);
  const log = await ok(['env', 'logs', 'bad:1'], home);
  assert.match(log, /^\$ .*pip .*install .*--no-index .*-r /m);
  assert.match(log, /ERROR: No matching distribution found for definitely-not-a-package==9\.9/);
  assert.match(log, /^# build failed after /m);
  assert.equal((await ok(['env', 'logs', 'bad:1', '--tail', '1'], home)).split('\n').filter(Boolean).length, 1);
  const v = await show('bad:1');
  assert.equal(v.state, 'Failed');
  assert.equal(v.error?.code, 'ENVIRONMENT_BUILD_FAILED');
  assert.equal(existsSync(v.path), false, 'nothing of a failed build is kept but its log');
});

test('an unreachable index fails in seconds and says so, naming the index and the network error', async (t) => {
  const port = await closedPort();
  const req = file('needs-index.txt', 'definitely-not-a-package==9.9\n');
  const run = await timed(['env', 'create', '--name', 'offline', '--file', req, '--python', SYSTEM_PYTHON, '--index-url', `http://127.0.0.1:${port}/simple`]);
  t.diagnostic(`env create against an unreachable index failed after ${run.ms.toFixed(0)} ms`);
  assert.equal(run.code, 1);
  assert.match(run.stderr, new RegExp(`the package index is unreachable: http://127\\.0\\.0\\.1:${port}/simple/ \\(Connection refused\\)`));
  assert.match(run.stderr, /No matching distribution found for definitely-not-a-package==9\.9/);
  assert.ok(run.ms < 30_000);
  assert.equal((await show('offline')).error?.code, 'PACKAGE_INDEX_UNREACHABLE');
});

test('a conda YAML: its pip section is installed (a local wheelhouse, relative to the file), its python checked, conda packages refused', async () => {
  const dir = join(files, 'conda');
  mkdirSync(join(dir, 'wheels'), { recursive: true });
  writeWheel(join(dir, 'wheels'), 'berth_envprobe', '1.0', 'from-the-conda-pip-section');
  const version = py(SYSTEM_PYTHON, 'import platform; print(".".join(platform.python_version_tuple()[:2]))');
  const yaml = (python: string, extra = '') => `name: scoring\nchannels:\n  - conda-forge\ndependencies:\n  - python=${python}\n  - pip${extra}\n  - pip:\n    - --no-index\n    - --find-links ./wheels\n    - berth-envprobe==1.0\nvariables:\n  MODEL_KIND: probe\n`;
  const conda = join(dir, 'conda.yml');
  writeFileSync(conda, yaml(version));
  const run = await timed(['env', 'create', '--name', 'conda-env', '--file', conda, '--python', SYSTEM_PYTHON]);
  assert.equal(run.code, 0, run.stderr);
  const v = await show('conda-env');
  assert.equal(v.spec.source, 'conda');
  assert.ok(v.spec.build.kind === 'python' && v.spec.build.pip.find_links[0] === join(dir, 'wheels'));
  assert.deepEqual(v.spec.variables, { MODEL_KIND: 'probe' });
  assert.equal(py(v.python!, 'import berth_envprobe; print(berth_envprobe.VALUE)'), 'from-the-conda-pip-section');
  assert.throws(() => py(SYSTEM_PYTHON, 'import berth_envprobe'), 'installed into the environment only');

  writeFileSync(conda, yaml('3.7'));
  const wrong = await timed(['env', 'create', '--name', 'conda-env', '--file', conda, '--python', SYSTEM_PYTHON]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /invalid environment spec \(conda\.yml\): it asks for python=3\.7, but \/usr\/bin\/python3 is CPython 3\.\d+\.\d+; pass --python/);
  writeFileSync(conda, yaml(version, '\n  - numpy=1.24\n  - scipy'));
  const condaPackages = await timed(['env', 'create', '--name', 'conda-env', '--file', conda, '--python', SYSTEM_PYTHON]);
  assert.match(condaPackages.stderr, /conda packages are not supported.*: numpy=1\.24, scipy;/);
  assert.equal(JSON.parse(await ok(['env', 'list', '--name', 'conda-env', '-o', 'json'], home)).length, 1, 'refused specs create no version');
});

test('bad input: one line, non-zero exit, nothing created', async () => {
  const missing = await berth(['env', 'create', '--name', 'x', '--file', join(files, 'nope.txt')], { home });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /path .*nope\.txt does not exist/);
  const badVar = await berth(['env', 'create', '--name', 'x', '--var', 'NOEQUALS'], { home });
  assert.match(badVar.stderr, /write variables as NAME=value/);
  const noPython = await berth(['env', 'create', '--name', 'x', '--python', '/no/such/python'], { home });
  assert.equal(noPython.code, 2);
  assert.match(noPython.stderr, /cannot run the interpreter \/no\/such\/python/);
  const unknown = await berth(['env', 'show', 'nothing:3'], { home });
  assert.match(unknown.stderr, /environment nothing:3 not found/);
  assert.equal((JSON.parse(await ok(['env', 'list', '--name', 'x', '-o', 'json'], home)) as unknown[]).length, 0);
});

/** A loopback port nothing listens on (bound, then closed): connections are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}
