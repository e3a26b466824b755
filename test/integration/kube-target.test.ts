// The Kubernetes target's own failures, on the test stand-in for a cluster (test/helpers/kube: an imitation of an API
// server, scheduler and kubelet, since no real cluster can run here): no node fits, the API server unreachable or
// refusing berth's credentials; an image the nodes cannot pull; and a service's manifests rendered as they are applied.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { berth, cleanup, tempDir, up } from '../helpers/control-plane.js';
import { docker, dockerSkip, ensureBaseImage, removeLocalImages, removeRegistryNamespace, TEST_REGISTRY, uniqueNamespace } from '../helpers/docker.js';
import { startKubeStandIn, type KubeStandIn } from '../helpers/kube/index.js';
import { clients } from '../helpers/kube/client.js';
import { fixture, score, stopPlane, until, withCli, type Plane } from '../helpers/services.js';
import { scoreMany } from '../helpers/rollouts.js';

const skip = await dockerSkip();
const namespace = uniqueNamespace();
const registry = `${TEST_REGISTRY}/${namespace}`;
const clusters: KubeStandIn[] = [];
const planes: Plane[] = [];

after(async () => {
  for (const p of planes) await stopPlane(p).catch(() => undefined);
  for (const k of clusters) await k.close().catch(() => undefined);
  if (skip === false) {
    await removeLocalImages(`${registry}/`).catch(() => undefined);
    await removeRegistryNamespace(namespace).catch(() => undefined);
  }
  cleanup();
});

async function cluster(): Promise<KubeStandIn> {
  const kube = await startKubeStandIn({ namespace: 'berth', kubelet: { backoffBaseMs: 500 }, nodes: [{ name: 'node-1', allocatable: { cpu: '4', memory: '8Gi', pods: '110' } }] });
  clusters.push(kube);
  return kube;
}

test('no node has a GPU: Unschedulable with the scheduler\'s words, then Failed with the classic sentence after the schedule timeout', { skip }, async () => {
  await ensureBaseImage();
  const kube = await cluster();
  const plane = withCli(await up(tempDir('berth-kube-gpu-'), ['--target', 'kubernetes', '--kubeconfig', kube.kubeconfigPath, '--namespace', 'berth', '--registry', registry, '--schedule-timeout', '8s']));
  planes.push(plane);
  const deploying = plane.cli(['deploy', '--name', 'gpu-hungry', '--entry-script', 'sum_score.py', '--source-dir', fixture('.'), '--gpu', '1', '--replicas', '1'], 600_000);
  const waiting = await until(async () => {
    const s = await plane.show('gpu-hungry').catch(() => undefined);
    return s?.state === 'Unschedulable' ? s : undefined;
  }, 300_000, 'Unschedulable');
  assert.match(waiting.reason, /^0\/1 nodes are available: 1 Insufficient nvidia\.com\/gpu\./);
  const r = await deploying;
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Couldn't Schedule because the kubernetes cluster didn't have available resources after trying for 00:00:08/);
  assert.match(r.stderr, /0\/1 nodes are available: 1 Insufficient nvidia\.com\/gpu/);
  const failed = await plane.show('gpu-hungry');
  assert.equal(failed.state, 'Failed');
  const events = await plane.events('gpu-hungry');
  assert.ok(events.some((e) => e.type === 'FailedScheduling' && /Insufficient nvidia\.com\/gpu/.test(e.message)), events.map((e) => `${e.type}: ${e.message}`).join('\n'));
  // Nothing is left half-applied: the generation that could not be placed is removed.
  await until(() => (kube.pods('berth').length === 0 ? true : undefined), 30_000, 'its pods gone');
});

test('a service\'s manifests render as applied: the image by digest, probes, FallbackToLogsOnError, models by init container', { skip }, async () => {
  await ensureBaseImage();
  const kube = await cluster();
  const plane = withCli(await up(tempDir('berth-kube-render-'), ['--target', 'kubernetes', '--kubeconfig', kube.kubeconfigPath, '--namespace', 'berth', '--registry', registry]));
  planes.push(plane);
  await plane.ok(['model', 'register', '--name', 'sum-model', '--path', fixture('models/sum-model/1')]);
  await plane.ok(['deploy', '--name', 'rendered', '--entry-script', 'model_score.py', '--source-dir', fixture('.'), '--model', 'sum-model', '--replicas', '1', '--no-auth'], 600_000);
  // The model reached the pod through its init container, from the control plane, and init() loaded it.
  const scored = await fetch(`${plane.url}/api/v1/service/rendered/score`, { method: 'POST', body: JSON.stringify({ data: [[1, 2]] }) });
  assert.equal(scored.status, 200, await scored.clone().text());
  const yaml = await plane.ok(['k8s', 'render', 'rendered']);
  assert.match(yaml, /initContainers:[\s\S]*- model\n\s+- download\n\s+- sum-model:1/);
  assert.match(yaml, /--model-dir\n\s+- \/var\/azureml-app\/azureml-models\/sum-model\/1/);
  assert.match(yaml, /kind: Deployment/);
  assert.match(yaml, /name: rendered-g1/);
  assert.match(yaml, /image: \S+@sha256:[0-9a-f]{64}/);
  assert.match(yaml, /terminationMessagePolicy: FallbackToLogsOnError/);
  assert.match(yaml, /readinessProbe:[\s\S]*path: \/ready/);
  assert.match(yaml, /kind: Service/);
  // What the cluster holds is what berth applied (server-side, field manager berth).
  const applied = kube.get('deployments', 'berth', 'rendered-g1') as { metadata: { managedFields?: Array<{ manager: string; operation: string }> } } | undefined;
  assert.ok(applied?.metadata.managedFields?.some((f) => f.manager === 'berth' && f.operation === 'Apply'));
});

test('a start-up failure that repeats on every start: the pod leaves its Deployment, the replica stays Failed with its error, an update runs', { skip }, async () => {
  await ensureBaseImage();
  const kube = await cluster();
  const plane = withCli(await up(tempDir('berth-kube-permanent-'), ['--target', 'kubernetes', '--kubeconfig', kube.kubeconfigPath, '--namespace', 'berth', '--registry', registry]));
  planes.push(plane);
  const r = await plane.cli(['deploy', '--name', 'broken', '--entry-script', 'syntax_error.py', '--source-dir', fixture('.'), '--replicas', '1', '--no-auth'], 600_000);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /crashed during init\(\): SyntaxError: .* \(Failed: not restarted, it fails the same way every time\)/);
  // The kubelet would restart the container for ever: berth scales the pod out of its Deployment instead.
  await until(() => (kube.get('deployments', 'berth', 'broken-g1') as { spec?: { replicas?: number } } | undefined)?.spec?.replicas === 0 ? true : undefined, 60_000, 'deployment scaled to 0');
  await until(() => (kube.pods('berth').length === 0 ? true : undefined), 60_000, 'the failed pod gone');
  const show = await plane.show('broken');
  assert.equal(show.state, 'Failed');
  assert.equal(show.replicas.length, 1);
  assert.equal(show.replicas[0]?.state, 'Failed');
  assert.ok((show.replicas[0]?.restarts ?? 0) <= 1, `restarts: ${show.replicas[0]?.restarts}`);
  const events = await plane.events('broken');
  const stop = events.find((e) => e.type === 'NotRestarting');
  assert.ok(stop !== undefined, events.map((e) => `${e.type}: ${e.message}`).join('\n'));
  assert.match(stop.message, /Not restarting: SyntaxError: .* fails the same way on every start \(a permanent failure\)/);
  // Fixed and deployed again: the new generation runs and the failed one's Deployment and record are gone.
  const fixed = await plane.cli(['service', 'update', 'broken', '--entry-script', 'sum_score.py', '--source-dir', fixture('.')], 600_000);
  assert.equal(fixed.code, 0, fixed.stderr);
  const healthy = await plane.show('broken');
  assert.equal(healthy.state, 'Healthy');
  assert.deepEqual(healthy.replicas.map((x) => x.state), ['Ready']);
  assert.equal(kube.get('deployments', 'berth', 'broken-g1'), undefined);
});

test('an image the nodes cannot pull: the pod waits in ErrImagePull/ImagePullBackOff, berth shows the image and the registry\'s error, diagnose says why', { skip }, async () => {
  await ensureBaseImage();
  // Its own registry namespace: its images are deleted mid-test, which must not touch the other tests' images.
  const own = uniqueNamespace();
  const ownRegistry = `${TEST_REGISTRY}/${own}`;
  const kube = await cluster();
  const plane = withCli(await up(tempDir('berth-kube-pull-'), ['--target', 'kubernetes', '--kubeconfig', kube.kubeconfigPath, '--namespace', 'berth', '--registry', ownRegistry]));
  planes.push(plane);
  try {
    await plane.ok(['deploy', '--name', 'unpullable', '--entry-script', 'sum_score.py', '--source-dir', fixture('.'), '--replicas', '1', '--no-auth'], 600_000);
    const deployment = kube.get('deployments', 'berth', 'unpullable-g1') as unknown as { spec: { template: { spec: { containers: { image: string }[] } } } };
    const image = deployment.spec.template.spec.containers[0]!.image;
    assert.match(image, new RegExp(`^${ownRegistry.replace(/[.]/g, '\\.')}/.+@sha256:[0-9a-f]{64}$`));
    // The image leaves the registry and the node: the next pod has to pull it, and the registry no longer has it.
    await removeRegistryNamespace(own);
    const engine = await docker();
    for (const i of await engine.listImages()) {
      if ((i.RepoDigests ?? []).includes(image) || (i.RepoTags ?? []).some((t) => t.startsWith(`${ownRegistry}/`))) {
        for (const ref of [...(i.RepoTags ?? []), ...(i.RepoDigests ?? [])]) await engine.getImage(ref).remove({ force: true }).catch(() => undefined);
      }
    }
    const [pod] = kube.pods('berth');
    assert.ok(pod?.metadata?.name !== undefined);
    await clients(kube).core.deleteNamespacedPod({ name: pod.metadata.name, namespace: 'berth' });
    const waiting = await until(async () => {
      const s = await plane.show('unpullable');
      return s.replicas.find((r) => r.state === 'Starting' && r.phase?.name === 'pulling' && /ImagePullBackOff|ErrImagePull/.test(JSON.stringify(r))) ?? undefined;
    }, 120_000, 'a replica waiting for its image');
    assert.match(JSON.stringify(waiting), /manifest unknown|not found/i);
    const events = await plane.events('unpullable');
    const pullFailed = events.find((e) => /Failed to pull image/.test(e.message));
    assert.ok(pullFailed !== undefined, events.map((e) => `${e.type}: ${e.message}`).join('\n'));
    assert.ok(pullFailed.message.includes(image), pullFailed.message);
    const diagnosis = JSON.parse(await plane.ok(['diagnose', 'unpullable', '--since', '15m', '-o', 'json'])) as { findings: { code: string; cause: string; evidence: string[]; fix: string }[] };
    const finding = diagnosis.findings.find((f) => f.code === 'KUBERNETES_IMAGE_PULL_FAILED');
    assert.ok(finding !== undefined, JSON.stringify(diagnosis.findings));
    assert.match(finding.cause, /the nodes' pulls fail: .*/);
    assert.ok(finding.evidence.some((line) => line.includes(image)), finding.evidence.join('\n'));
    assert.match(finding.fix, /reach the registry berth pushes to/);
  } finally {
    await removeLocalImages(`${ownRegistry}/`).catch(() => undefined);
    await removeRegistryNamespace(own).catch(() => undefined);
  }
});

test('a rollout on the cluster: a Deployment per generation, an exact 50/50 split by the pods\' generation labels, promote deletes the old Deployment', { skip }, async () => {
  await ensureBaseImage();
  const kube = await cluster();
  const plane = withCli(await up(tempDir('berth-kube-rollout-'), ['--target', 'kubernetes', '--kubeconfig', kube.kubeconfigPath, '--namespace', 'berth', '--registry', registry]));
  planes.push(plane);
  const dir = tempDir('berth-kube-rollout-src-');
  copyFileSync(fixture('sum_score.py'), join(dir, 'sum_score.py'));
  await plane.ok(['deploy', '--name', 'kcanary', '--entry-script', 'sum_score.py', '--source-dir', dir, '--replicas', '1'], 600_000);
  const key = (await plane.show('kcanary')).keys.primary;
  writeFileSync(join(dir, 'notes.txt'), 'generation 2\n');
  const started = await plane.ok(['service', 'update', 'kcanary', '--source-dir', dir, '--traffic', '50'], 600_000);
  assert.match(started, /generation 2 is live beside generation 1: 2=50% 1=50%/);
  assert.ok(kube.get('deployments', 'berth', 'kcanary-g1') !== undefined && kube.get('deployments', 'berth', 'kcanary-g2') !== undefined, 'a Deployment per generation');
  const split = await scoreMany(plane, 'kcanary', key, 40);
  assert.deepEqual(split.byGeneration, { 1: 20, 2: 20 });
  await plane.ok(['service', 'promote', 'kcanary'], 120_000);
  await until(() => (kube.get('deployments', 'berth', 'kcanary-g1') === undefined ? true : undefined), 60_000, 'the old Deployment deleted');
  const after = await scoreMany(plane, 'kcanary', key, 10);
  assert.deepEqual(after.statuses, Array(10).fill(200));
  assert.equal((await plane.show('kcanary')).generation, 2);
});

test('an API server that cannot be reached, or refuses berth\'s credentials, is one line with the fix at berth up', { skip }, async () => {
  const kube = await cluster();
  const dir = tempDir('berth-kube-bad-');
  const wrongToken = join(dir, 'wrong-token.yaml');
  writeFileSync(wrongToken, readFileSync(kube.kubeconfigPath, 'utf8').replace(kube.token, 'not-the-token'));
  const refused = await berth(['up', '--detach', '--port', '0', '--target', 'kubernetes', '--kubeconfig', wrongToken, '--namespace', 'berth', '--registry', registry], { home: tempDir('berth-kube-401-') });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /refused berth's credentials/);
  const unreachable = join(dir, 'unreachable.yaml');
  writeFileSync(unreachable, readFileSync(kube.kubeconfigPath, 'utf8').replace(/server: \S+/, 'server: https://127.0.0.1:1'));
  const down = await berth(['up', '--detach', '--port', '0', '--target', 'kubernetes', '--kubeconfig', unreachable, '--namespace', 'berth', '--registry', registry], { home: tempDir('berth-kube-down-') });
  assert.equal(down.code, 1);
  assert.match(down.stderr, /the Kubernetes API server at https:\/\/127\.0\.0\.1:1 cannot be reached/);
  const noNamespace = await berth(['up', '--detach', '--port', '0', '--target', 'kubernetes', '--kubeconfig', kube.kubeconfigPath, '--namespace', 'nowhere', '--registry', registry], { home: tempDir('berth-kube-ns-') });
  assert.equal(noNamespace.code, 1);
  assert.match(noNamespace.stderr, /namespace nowhere does not exist/);
});

test('autoscaling goes through the Deployment\'s scale subresource: up under load, down when idle, no request lost', { skip }, async (t) => {
  await ensureBaseImage();
  const kube = await cluster();
  const plane = withCli(await up(tempDir('berth-kube-scale-'), ['--target', 'kubernetes', '--kubeconfig', kube.kubeconfigPath, '--namespace', 'berth', '--registry', registry, '--autoscale-stabilization', '2s']));
  planes.push(plane);
  await plane.ok(['deploy', '--name', 'elastic', '--entry-script', 'sleep_score.py', '--source-dir', fixture('.'), '--min-replicas', '1', '--max-replicas', '2', '--max-request-wait-ms', '5000', '--no-auth'], 600_000);
  const uri = `${plane.url}/api/v1/service/elastic/score`;
  const replicasOf = (): number | undefined => (kube.get('deployments', 'berth', 'elastic-g1') as { spec?: { replicas?: number } } | undefined)?.spec?.replicas;
  assert.equal(replicasOf(), 1);
  const statuses: number[] = [];
  let running = true;
  const loops = Array.from({ length: 3 }, async () => {
    while (running) statuses.push((await score(uri, { seconds: 0.2 }).catch(() => ({ status: 0 }))).status);
  });
  try {
    await until(async () => {
      const s = await plane.show('elastic');
      return replicasOf() === 2 && s.ready_replicas === 2 ? true : undefined;
    }, 120_000, 'scaled to 2 through the scale subresource');
  } finally {
    running = false;
    await Promise.all(loops);
  }
  t.diagnostic(`${statuses.length} requests during the spike`);
  assert.deepEqual(statuses.filter((x) => x !== 200), [], 'every request of the spike was served');
  await until(async () => {
    const s = await plane.show('elastic');
    return replicasOf() === 1 && s.replicas.length === 1 ? true : undefined;
  }, 120_000, 'back to 1 when idle');
  const decisions = (await plane.events('elastic')).filter((e) => e.type === 'ScalingDecision');
  assert.ok(decisions.some((d) => /^1 → 2/.test(d.message)) && decisions.some((d) => /^2 → 1/.test(d.message)), decisions.map((d) => d.message).join('\n'));
  const last = await score(uri, { seconds: 0 });
  assert.equal(last.status, 200, last.text);
});
