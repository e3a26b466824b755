// Container images through the real CLI, control plane, Docker engine and registry: nothing rebuilt for unchanged inputs,
// a source change rebuilds only the app layer (and says why), a removed image is pulled back, a Python environment is
// installed offline in the image, pip's error fails the build, the image serves /score, and no Docker is one clear error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuiltImage, ImageView, PruneReport } from '../../src/images/index.js';
import { berth, cleanup, ok, tempDir, up, down, repoRoot } from '../helpers/control-plane.js';
import { SYSTEM_PYTHON, writeWheel } from '../helpers/env-wheel.js';
import { BerthError } from '../../src/errors/catalogue.js';
import { buildImage } from '../../src/images/engine.js';
import { connection, docker, dockerSkip, ensureBaseImage, removeLocalImages, removeRegistryNamespace, runInImage, TEST_REGISTRY, uniqueNamespace } from '../helpers/docker.js';

const skip = await dockerSkip();
const namespace = uniqueNamespace();
const registry = `${TEST_REGISTRY}/${namespace}`;
let home = '';
let files = '';
let source = '';

before(async () => {
  if (skip !== false) return;
  await ensureBaseImage();
  home = tempDir('berth-images-');
  files = tempDir('berth-images-files-');
  source = join(files, 'app');
  mkdirSync(source);
  copyFileSync(join(repoRoot, 'test/fixtures/sum_score.py'), join(source, 'sum_score.py'));
  writeFileSync(join(source, 'helper.txt'), 'kept beside the script\n');
  await up(home, ['--registry', registry]);
});

after(async () => {
  if (skip === false && home !== '') {
    await berth(['image', 'prune'], { home, timeoutMs: 120_000 }).catch(() => undefined);
    await down(home).catch(() => undefined);
    await removeLocalImages(`${registry}/`).catch(() => undefined);
    await removeRegistryNamespace(namespace).catch(() => undefined);
  }
  cleanup();
});

const build = async (args: readonly string[]): Promise<BuiltImage & { ms: number }> => {
  const started = performance.now();
  const run = await berth(['image', 'build', '-o', 'json', ...args], { home, timeoutMs: 600_000 });
  const ms = performance.now() - started;
  assert.equal(run.code, 0, `berth image build ${args.join(' ')}:\n${run.stdout}\n${run.stderr}`);
  return { ...(JSON.parse(run.stdout) as BuiltImage), ms };
};
const show = async (tag: string): Promise<ImageView> => JSON.parse(await ok(['image', 'show', tag, '-o', 'json'], home)) as ImageView;

let first: BuiltImage | undefined;

test('a first build makes the runtime and app layers, pushes them and names the image by digest', { skip }, async (t) => {
  first = await build(['--source-dir', source, '--service', 'sum']);
  t.diagnostic(`cold build (runtime + app layers, pushed; the engine's build cache may serve the runtime's steps): ${(first as unknown as { ms: number }).ms.toFixed(0)} ms`);
  assert.equal(first.outcome, 'built');
  assert.deepEqual(first.layersBuilt.at(-1), 'app');
  assert.ok(first.layersBuilt.includes('runtime'), 'a new registry namespace has no runtime layer yet');
  assert.match(first.tag, new RegExp(`^${registry.replace(/\./g, '\\.')}/app:[0-9a-f]{32}$`));
  assert.match(first.ref, new RegExp(`^${registry.replace(/\./g, '\\.')}/app@sha256:[0-9a-f]{64}$`));
  assert.equal(first.why, 'first image of service sum');
  assert.equal(first.appRoot, '/var/azureml-app');
  assert.equal(first.env.AML_APP_ROOT, '/var/azureml-app');
  const view = await show(first.tag);
  assert.equal(view.state, 'built');
  assert.equal(view.present, true);
  assert.equal(view.ref, first.ref);
});

test('the same inputs again build nothing', { skip }, async (t) => {
  assert.ok(first !== undefined);
  const again = await build(['--source-dir', source, '--service', 'sum']);
  t.diagnostic(`unchanged inputs: ${again.ms.toFixed(0)} ms end to end through the CLI`);
  assert.equal(again.outcome, 'reused-local');
  assert.deepEqual(again.layersBuilt, []);
  assert.equal(again.tag, first.tag);
  assert.equal(again.ref, first.ref);
});

test('a source-only change rebuilds only the app layer, and says which file changed', { skip }, async (t) => {
  appendFileSync(join(source, 'sum_score.py'), '\n# a comment: the source changed\n');
  const changed = await build(['--source-dir', source, '--service', 'sum']);
  t.diagnostic(`warm rebuild after a source-only change (app layer built and pushed): ${changed.ms.toFixed(0)} ms end to end through the CLI`);
  assert.equal(changed.outcome, 'built');
  assert.deepEqual(changed.layersBuilt, ['app']);
  assert.equal(changed.why, 'source changed: sum_score.py');
  assert.notEqual(changed.tag, first!.tag);
  first = changed;
});

test('two builds of new inputs at once share one build', { skip }, async () => {
  const other = join(files, 'other');
  mkdirSync(other);
  writeFileSync(join(other, 'score.py'), 'def init():\n    pass\n\n\ndef run(data):\n    return data\n');
  const d = await docker();
  const since = Math.floor(Date.now() / 1000) - 1;
  const [a, b] = await Promise.all([build(['--source-dir', other]), build(['--source-dir', other])]);
  assert.equal(a.tag, b.tag);
  assert.equal(a.ref, b.ref);
  const until = Math.floor(Date.now() / 1000) + 1;
  const stream = (await d.getEvents({ since, until, filters: JSON.stringify({ type: ['image'], event: ['tag'] }) })) as unknown as AsyncIterable<Buffer>;
  let events = '';
  for await (const chunk of stream) events += chunk.toString();
  const tagged = events.split('\n').filter((l) => l.includes(a.tag.split(':').at(-1)!));
  assert.equal(tagged.length, 1, `one tag event for ${a.tag}, got:\n${tagged.join('\n')}`);
});

test('with the local image removed, the next build pulls it back from the registry', { skip }, async () => {
  const d = await docker();
  await d.getImage(first!.tag).remove();
  const back = await build(['--source-dir', source, '--service', 'sum']);
  assert.equal(back.outcome, 'pulled');
  assert.deepEqual(back.layersBuilt, []);
  assert.equal(back.tag, first!.tag);
  assert.equal(back.ref, first!.ref);
  assert.equal((await show(back.tag)).present, true);
});

test('the app image runs berth serve and answers /score (published on 127.0.0.1 only)', { skip }, async () => {
  const d = await docker();
  const container = await d.createContainer({
    Image: first!.ref,
    Cmd: [first!.node, first!.berthBin, 'serve', '--entry-script', `${first!.appRoot}/sum_score.py`, '--python', first!.python, '--host', '0.0.0.0', '--port', '5001'],
    Env: Object.entries(first!.env).map(([k, v]) => `${k}=${v}`),
    Labels: { 'berth.test': '1' },
    ExposedPorts: { '5001/tcp': {} },
    HostConfig: { PortBindings: { '5001/tcp': [{ HostIp: '127.0.0.1', HostPort: '0' }] }, Init: true },
  });
  try {
    await container.start();
    const info = await container.inspect();
    const port = Number(info.NetworkSettings.Ports['5001/tcp']?.[0]?.HostPort);
    assert.ok(port > 0);
    const deadline = Date.now() + 30_000;
    let answer: unknown;
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/score`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: [[1, 2], [3, 4]] }) });
        if (res.status === 200) {
          answer = await res.json();
          break;
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(answer, { result: [3, 7] });
  } finally {
    await container.remove({ force: true });
  }
});

test('a Python environment is resolved on the host and installed offline in the image, with its lock', { skip }, async () => {
  const wheels = join(files, 'wheels');
  mkdirSync(wheels);
  writeWheel(wheels, 'berth_envprobe', '1.0', 'installed-in-the-image');
  writeFileSync(join(files, 'req.txt'), 'berth-envprobe==1.0\n');
  await ok(['env', 'create', '--name', 'probe', '--file', join(files, 'req.txt'), '--python', SYSTEM_PYTHON, '--find-links', wheels, '--no-index', '--var', 'GREETING=a "quoted" $value', '--no-wait'], home);
  const image = await build(['--env', 'probe', '--source-dir', source, '--service', 'probe']);
  assert.equal(image.outcome, 'built');
  assert.deepEqual(image.layersBuilt, ['env', 'app']);
  assert.equal(image.python, '/opt/berth-env/venv/bin/python');
  assert.equal(image.env.GREETING, 'a "quoted" $value');
  const run = await runInImage(image.ref, ['python', '-c', 'import berth_envprobe, os, sys; print(berth_envprobe.VALUE, sys.executable, os.environ["GREETING"])']);
  assert.equal(run.code, 0, run.output);
  assert.equal(run.output.trim(), 'installed-in-the-image /opt/berth-env/venv/bin/python a "quoted" $value');
  const envLayer = (await show(image.tag)).parent!;
  const lock = (await show(envLayer)).lock;
  assert.equal(lock?.kind, 'python');
  assert.deepEqual(lock?.packages.map((p) => `${p.name}==${p.version}`), ['berth-envprobe==1.0']);
  assert.match(lock?.packages[0]?.sha256 ?? '', /^[0-9a-f]{64}$/);
  const again = await build(['--env', 'probe', '--source-dir', source, '--service', 'probe']);
  assert.equal(again.outcome, 'reused-local');
});

test('a requirement that does not exist fails with IMAGE_BUILD_FAILED, the step and pip\'s error line; image logs has the rest', { skip }, async () => {
  writeFileSync(join(files, 'bad.txt'), 'definitely-not-a-package==9.9\n');
  await ok(['env', 'create', '--name', 'bad', '--file', join(files, 'bad.txt'), '--python', SYSTEM_PYTHON, '--find-links', join(files, 'wheels'), '--no-index', '--no-wait'], home);
  const run = await berth(['image', 'build', '--env', 'bad', '--source-dir', source], { home, timeoutMs: 120_000 });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /berth: building image \S+ failed at resolving the environment's packages on the host \(pip wheel\): pip wheel exited with code 1: No matching distribution found for definitely-not-a-package==9\.9/);
  assert.match(run.stderr, /\n {2}\| ERROR: Could not find a version that satisfies the requirement definitely-not-a-package==9\.9/);
  const tag = /the whole build log: berth image logs (\S+)/.exec(run.stderr)?.[1];
  assert.ok(tag !== undefined, run.stderr);
  assert.match(await ok(['image', 'logs', tag], home), /No matching distribution found for definitely-not-a-package==9\.9/);
  const view = await show(tag);
  assert.equal(view.state, 'failed');
  assert.equal(view.error?.code, 'IMAGE_BUILD_FAILED');
});

test('a step that fails in the engine (HTTP 200 with an error line) is IMAGE_BUILD_FAILED naming that step', { skip }, async () => {
  const log = join(files, 'failing-build.log');
  const tag = `${registry}/app:failing-step-check`;
  await assert.rejects(
    buildImage(connection, { tag, dockerfile: 'FROM berth/base:bookworm\nRUN ["python3", "-c", "import definitely_missing_module"]\n', context: [], labels: {}, log, signal: AbortSignal.timeout(120_000) }),
    (err: unknown) => err instanceof BerthError && err.code === 'IMAGE_BUILD_FAILED'
      && err.message.includes('failed at Step 2/2 : RUN ["python3", "-c", "import definitely_missing_module"]: The command')
      && /\n {2}\| ModuleNotFoundError: No module named 'definitely_missing_module'/.test(err.message),
  );
});

test('prune removes the images no service uses and keeps the base', { skip }, async () => {
  const before = JSON.parse(await ok(['image', 'list', '-o', 'json'], home)) as ImageView[];
  const report = JSON.parse(await ok(['image', 'prune', '-o', 'json'], home)) as PruneReport;
  const removed = new Set(report.removed.map((r) => r.tag));
  for (const image of before.filter((i) => i.kind !== 'base')) assert.ok(removed.has(image.tag), `${image.tag} removed`);
  assert.ok(report.kept.some((k) => k.tag === 'berth/base:bookworm'));
  const d = await docker();
  const left = (await d.listImages()).flatMap((i) => i.RepoTags ?? []).filter((t) => t.startsWith(`${registry}/`));
  assert.deepEqual(left, []);
});

test('with DOCKER_HOST at a dead socket, image commands fail with DOCKER_UNAVAILABLE and the rest of the plane works', async () => {
  const deadHome = tempDir('berth-images-nodocker-');
  const env = { DOCKER_HOST: `unix://${join(deadHome, 'no-docker.sock')}` };
  const started = await berth(['up', '--detach', '--port', '0'], { home: deadHome, env });
  assert.equal(started.code, 0, started.stderr);
  try {
    const list = await berth(['image', 'list'], { home: deadHome, env });
    assert.equal(list.code, 1);
    assert.match(list.stderr, /^berth: the Docker engine does not answer at unix:\/\/\S+no-docker\.sock: connect ENOENT/m);
    assert.match(list.stderr, /fix: Start it .*dockerd --containerd=\/run\/containerd\/containerd\.sock.*\/_ping.*DOCKER_HOST/);
    const build = await berth(['image', 'build', '--source-dir', deadHome], { home: deadHome, env });
    assert.equal(build.code, 1);
    assert.match(build.stderr, /DOCKER_HOST|does not answer/);
    const models = await berth(['model', 'list'], { home: deadHome, env });
    assert.equal(models.code, 0, models.stderr);
    assert.match(models.stdout, /^NAME +VERSION/);
  } finally {
    await down(deadHome);
  }
});
