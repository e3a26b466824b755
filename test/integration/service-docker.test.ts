// Services on the docker runtime, through the real CLI, control plane, gateway, Docker engine and registry: the same
// states, errors, logs and scoring as processes; images built once and reused, rebuilt only where the source changed,
// pulled back from the registry; pip's error fails a deployment; a killed control plane's containers are adopted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { berth, cleanup, down, isAlive, repoRoot, tempDir, up } from '../helpers/control-plane.js';
import { docker, dockerSkip, ensureBaseImage, removeLocalImages, removeRegistryNamespace, TEST_REGISTRY, uniqueNamespace } from '../helpers/docker.js';
import { score, stopPlane, until, withCli, type Plane } from '../helpers/services.js';
import type { ServiceEvent } from '../../src/control/services/events.js';
import { scoreMany } from '../helpers/rollouts.js';

const skip = await dockerSkip();
const namespace = uniqueNamespace();
const registry = `${TEST_REGISTRY}/${namespace}`;
const FLAGS = ['--capacity', 'cpu=8,memory_gb=8', '--schedule-timeout', '5s', '--restart-backoff', '1s', '--runtime', 'docker', '--registry', registry];
let plane: Plane | undefined;
let files = '';

/** A source folder holding the named fixtures (and any extra files), so each service has inputs of its own. */
function source(name: string, fixtures: readonly string[], extra: Record<string, string> = {}): string {
  const dir = join(files, name);
  mkdirSync(dir, { recursive: true });
  for (const f of fixtures) copyFileSync(join(repoRoot, 'test/fixtures', f), join(dir, f));
  for (const [f, text] of Object.entries(extra)) writeFileSync(join(dir, f), text);
  return dir;
}

const p = (): Plane => {
  if (plane === undefined) throw new Error('no control plane');
  return plane;
};
/** The machine's local package index (a file:// URL from pip's configuration), passed explicitly; undefined when there is none. */
function localIndex(): string | undefined {
  try {
    const urls = execFileSync('pip', ['config', 'list'], { encoding: 'utf8', timeout: 30_000 });
    return /file:\/\/\S+?\/simple/.exec(urls)?.[0];
  } catch {
    return undefined;
  }
}

const imageEvents = (events: readonly ServiceEvent[]): ServiceEvent[] => events.filter((e) => e.type.startsWith('Image'));

before(async () => {
  if (skip !== false) return;
  await ensureBaseImage();
  files = tempDir('berth-docker-src-');
  plane = withCli(await up(tempDir('berth-docker-home-'), FLAGS));
});

after(async () => {
  if (plane !== undefined) await stopPlane(plane);
  if (skip === false) {
    await removeLocalImages(`${registry}/`).catch(() => undefined);
    await removeRegistryNamespace(namespace).catch(() => undefined);
  }
  cleanup();
});

test('a service deployed with runtime docker reaches Healthy in a container and scores through the gateway', { skip }, async () => {
  const dir = source('sum', ['sum_score.py']);
  await p().ok(['deploy', '--name', 'dsum', '--entry-script', 'sum_score.py', '--source-dir', dir, '--replicas', '1', '--no-auth'], 300_000);
  const show = await p().show('dsum');
  assert.equal(show.state, 'Healthy');
  assert.equal(show.replicas[0]?.memory.enforcement, 'container');
  assert.deepEqual(JSON.parse((await score(`${p().url}/api/v1/service/dsum/score`, { data: [[1, 2, 3]] })).text), { result: [6] });
  const built = imageEvents(await p().events('dsum'));
  assert.equal(built.length, 1);
  assert.equal(built[0]?.type, 'ImageBuilt');
  // Running as a container of this plane, labelled with its replica.
  const containers = await (await docker()).listContainers({ filters: { label: [`berth.replica=${show.replicas[0]!.id}`] } });
  assert.equal(containers.length, 1);
  assert.ok(containers[0]!.Image.includes('@sha256:') || containers[0]!.ImageID.startsWith('sha256:'));
});

test('the same inputs build nothing; a source-only change rebuilds only the app layer and says why', { skip }, async () => {
  const dir = source('sum', ['sum_score.py']);
  await p().ok(['deploy', '--name', 'dsum-two', '--entry-script', 'sum_score.py', '--source-dir', dir, '--replicas', '1', '--no-auth'], 300_000);
  const reused = imageEvents(await p().events('dsum-two'));
  assert.deepEqual(reused.map((e) => e.type), ['ImageReused']);

  writeFileSync(join(dir, 'notes.txt'), 'a new file in the source\n');
  await p().ok(['service', 'update', 'dsum-two', '--source-dir', dir], 300_000);
  const after2 = imageEvents(await p().events('dsum-two'));
  const rebuilt = after2.at(-1)!;
  assert.equal(rebuilt.type, 'ImageBuilt');
  assert.deepEqual((rebuilt.data as { layers_built: string[] }).layers_built, ['app']);
  assert.match(rebuilt.message, /source changed/);
  assert.deepEqual(JSON.parse((await score(`${p().url}/api/v1/service/dsum-two/score`, { data: [[2, 2]] })).text), { result: [4] });
});

test('with the local image removed, a deployment pulls it back from the registry', { skip }, async () => {
  const dir = source('pulled', ['sum_score.py'], { 'marker.txt': namespace });
  await p().ok(['deploy', '--name', 'dpull', '--entry-script', 'sum_score.py', '--source-dir', dir, '--replicas', '1', '--no-auth'], 300_000);
  const tag = (imageEvents(await p().events('dpull'))[0]!.data as { tag: string }).tag;
  await p().ok(['service', 'delete', 'dpull'], 120_000);
  const d = await docker();
  const info = await d.getImage(tag).inspect();
  for (const ref of [...(info.RepoTags ?? []), ...(info.RepoDigests ?? [])]) await d.getImage(ref).remove().catch(() => undefined);
  await assert.rejects(d.getImage(tag).inspect());
  await p().ok(['deploy', '--name', 'dpull-again', '--entry-script', 'sum_score.py', '--source-dir', dir, '--replicas', '1', '--no-auth'], 300_000);
  assert.deepEqual(imageEvents(await p().events('dpull-again')).map((e) => e.type), ['ImagePulled']);
  assert.equal((await score(`${p().url}/api/v1/service/dpull-again/score`, { data: [[1]] })).status, 200);
});

test('init() raising in a container: the deploy fails with file and line, CrashLoopBackOff, the traceback in --init logs', { skip }, async () => {
  const dir = source('crashy', ['init_fails.py']);
  const r = await p().cli(['deploy', '--name', 'dcrashy', '--entry-script', 'init_fails.py', '--source-dir', dir, '--replicas', '1'], 300_000);
  assert.equal(r.code, 1);
  const replica = /replica (dcrashy-1-0-[0-9a-f]+)/.exec(r.stderr)?.[1];
  assert.ok(replica, r.stderr);
  assert.match(r.stderr, new RegExp(`^berth: replica ${replica} of service dcrashy crashed during init\\(\\): ValueError: bad init at .*/init_fails\\.py:6 \\(CrashLoopBackOff\\)$`, 'm'));
  const show = await p().show('dcrashy');
  assert.equal(show.state, 'Failed');
  await until(async () => ((await p().show('dcrashy')).replicas[0]?.state === 'CrashLoopBackOff' ? true : undefined), 30_000, 'CrashLoopBackOff');
  const logs = await p().ok(['service', 'logs', 'dcrashy', '--replica', replica, '--init']);
  assert.match(logs, /init_fails\.py", line 6, in init/);
  assert.match(logs, /ValueError: bad init/);
  await p().ok(['service', 'delete', 'dcrashy'], 120_000);
});

test('in a container: a memory hog is OOMKilled with its limit, a slow run() is 504, a dying worker is 502', { skip }, async () => {
  const dir = source('failing', ['leak_score.py', 'sleep_score.py', 'exit_score.py']);
  const common = ['--source-dir', dir, '--replicas', '1', '--no-auth'];
  await p().ok(['deploy', '--name', 'dleak', '--entry-script', 'leak_score.py', '--memory-gb', '0.15', ...common], 300_000);
  await p().ok(['deploy', '--name', 'dsleep', '--entry-script', 'sleep_score.py', '--scoring-timeout-ms', '1000', ...common], 300_000);
  await p().ok(['deploy', '--name', 'dexit', '--entry-script', 'exit_score.py', ...common], 300_000);

  for (let i = 0; i < 5 && !(await p().events('dleak')).some((e) => e.type === 'OOMKilled'); i++) {
    await score(`${p().url}/api/v1/service/dleak/score`, { mb: 200 }).catch(() => undefined);
    await until(async () => ((await p().events('dleak')).some((e) => e.type === 'OOMKilled') ? true : undefined), 5000, 'OOM').catch(() => undefined);
  }
  const oom = (await p().events('dleak')).find((e) => e.type === 'OOMKilled');
  assert.ok(oom !== undefined, 'an OOMKilled event');
  assert.match(oom.message, /Killed by SIGKILL for out-of-memory \(OOMKilled\).*limit \d+ MB; raise memory_gb/);
  await until(async () => ((await p().show('dleak')).replicas[0]?.last_termination?.reason === 'OOMKilled' ? true : undefined), 30_000, 'the termination recorded');

  const slow = await score(`${p().url}/api/v1/service/dsleep/score`, { seconds: 3 });
  assert.equal(slow.status, 504);
  assert.equal((JSON.parse(slow.text) as { code: string }).code, 'SCORING_TIMEOUT');
  const died = await score(`${p().url}/api/v1/service/dexit/score`, { how: 'exit' });
  assert.equal(died.status, 502);
  assert.match((JSON.parse(died.text) as { message: string }).message, /exited with code 7/);
  for (const name of ['dleak', 'dsleep', 'dexit']) await p().ok(['service', 'delete', name], 120_000);
});

test('a rollout with container replicas: the candidate\'s image beside the stable one, an exact 50/50 split, promote leaves only its containers', { skip }, async () => {
  const dir = source('rollout', ['sum_score.py']);
  await p().ok(['deploy', '--name', 'in-docker-canary', '--entry-script', 'sum_score.py', '--source-dir', dir, '--replicas', '1'], 600_000);
  const key = (await p().show('in-docker-canary')).keys.primary;
  // A source change: the candidate runs an image of its own (app layer rebuilt) beside the stable generation's.
  writeFileSync(join(dir, 'notes.txt'), 'generation 2\n');
  const started = await p().ok(['service', 'update', 'in-docker-canary', '--source-dir', dir, '--traffic', '50'], 600_000);
  assert.match(started, /generation 2 is live beside generation 1: 2=50% 1=50%/);
  const live = await p().show('in-docker-canary');
  assert.deepEqual(live.rollout?.generations.map((g) => [g.generation, g.ready_replicas]), [[2, 1], [1, 1]]);
  const byContainer = async (): Promise<string[]> => (await (await docker()).listContainers({ filters: { label: ['berth.service=in-docker-canary'] } }))
    .map((c) => c.Labels['berth.generation'] ?? '?').sort();
  assert.deepEqual(await byContainer(), ['1', '2'], 'one container per generation');
  const split = await scoreMany(p(), 'in-docker-canary', key, 40);
  assert.deepEqual(split.byGeneration, { 1: 20, 2: 20 });
  assert.ok(split.statuses.every((x) => x === 200));
  await p().ok(['service', 'promote', 'in-docker-canary'], 120_000);
  await until(async () => ((await byContainer()).join() === '2' ? true : undefined), 60_000, 'only generation 2\'s container left');
  const after = await scoreMany(p(), 'in-docker-canary', key, 10);
  assert.deepEqual(after.statuses, Array(10).fill(200));
  assert.equal((await p().show('in-docker-canary')).generation, 2);
});

test('a pip install that cannot succeed fails the deployment with pip\'s error line', { skip }, async () => {
  const dir = source('nopkg', ['sum_score.py'], { 'requirements.txt': 'berth-no-such-package-anywhere==9.9.9\n' });
  await p().ok(['env', 'create', '--name', 'broken', '--file', join(dir, 'requirements.txt'), '--no-index', '--find-links', dir, '--no-wait']);
  const r = await p().cli(['deploy', '--name', 'dnopkg', '--entry-script', 'sum_score.py', '--source-dir', dir, '--env', 'broken', '--replicas', '1'], 300_000);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /building image .* failed at /);
  assert.match(r.stderr, /berth-no-such-package-anywhere/);
});

test('a control plane killed with SIGKILL leaves its containers serving; the next one adopts them', { skip }, async () => {
  const before = await p().show('dsum');
  const id = before.replicas[0]!.id;
  const containerBefore = (await (await docker()).listContainers({ filters: { label: [`berth.replica=${id}`] } }))[0]!.Id;
  process.kill(p().pid, 'SIGKILL');
  await until(() => (isAlive(p().pid) ? undefined : true), 10_000, 'control plane gone');
  plane = withCli(await up(p().home, FLAGS));
  const afterShow = await p().show('dsum');
  assert.equal(afterShow.state, 'Healthy');
  assert.equal(afterShow.replicas[0]?.id, id);
  assert.equal(afterShow.replicas[0]?.restarts, 0);
  assert.ok((await p().events('dsum')).some((e) => e.type === 'Adopted'));
  const containerAfter = (await (await docker()).listContainers({ filters: { label: [`berth.replica=${id}`] } }))[0]!.Id;
  assert.equal(containerAfter, containerBefore, 'the same container: adopted, not restarted');
  assert.deepEqual(JSON.parse((await score(`${p().url}/api/v1/service/dsum/score`, { data: [[4, 5]] })).text), { result: [9] });
});

test('a scikit-learn service: its environment installed in the image from the local index, Healthy, predicting', { skip }, async (t) => {
  const index = localIndex();
  if (index === undefined) return t.skip('pip has no local file:// index configured here');
  const dir = source('sklearn', ['sklearn_fit_score.py'], { 'requirements.txt': 'scikit-learn\n' });
  await p().ok(['env', 'create', '--name', 'sk', '--file', join(dir, 'requirements.txt'), '--index-url', index, '--no-wait']);
  const started = performance.now();
  await p().ok(['deploy', '--name', 'dsklearn', '--entry-script', 'sklearn_fit_score.py', '--source-dir', dir, '--env', 'sk', '--replicas', '1', '--no-auth'], 600_000);
  t.diagnostic(`scikit-learn image built and replica Healthy in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const r = await score(`${p().url}/api/v1/service/dsklearn/score`, { data: [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]] });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(JSON.parse(r.text), { predictions: [0, 2] });
  await p().ok(['service', 'delete', 'dsklearn'], 120_000);
});

test('with Docker stopped, a docker service fails with DOCKER_UNAVAILABLE while process services keep working', { skip }, async () => {
  const home = tempDir('berth-docker-gone-');
  // A plane whose Docker engine is gone: what berth sees when dockerd is stopped.
  const env = { DOCKER_HOST: `unix://${join(home, 'no-docker.sock')}` };
  const started = await berth(['up', '--detach', '--port', '0', '--capacity', 'cpu=4,memory_gb=8'], { home, env });
  assert.equal(started.code, 0, started.stderr);
  try {
    const dir = source('nodocker', ['sum_score.py']);
    const failed = await berth(['deploy', '--name', 'in-docker', '--entry-script', 'sum_score.py', '--source-dir', dir, '--runtime', 'docker', '--replicas', '1'], { home, env, timeoutMs: 120_000 });
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /^berth: the Docker engine does not answer at unix:\/\/\S+no-docker\.sock/m);
    assert.match(failed.stderr, /fix: Start it .*dockerd/);
    const ok = await berth(['deploy', '--name', 'in-process', '--entry-script', 'sum_score.py', '--source-dir', dir, '--replicas', '1', '--no-auth'], { home, env, timeoutMs: 120_000 });
    assert.equal(ok.code, 0, ok.stderr);
    const run = await berth(['service', 'run', 'in-process', '--data', '{"data": [[1, 2]]}'], { home, env });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { result: [3] });
  } finally {
    await down(home);
  }
});
