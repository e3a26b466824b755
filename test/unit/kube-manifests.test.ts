// The objects berth applies to a cluster, checked against the official Kubernetes schemas: a generation's Deployment
// and Service, and the manifests that install the control plane itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { generationDeployment, serviceObject, type GenerationManifestInput } from '../../src/targets/kubernetes/manifests.js';
import { installManifests } from '../../src/targets/kubernetes/install.js';

const input: GenerationManifestInput = {
  service: 'fraud', generation: 3, namespace: 'berth', homeLabel: 'a1b2c3', replicas: 2,
  image: { ref: 'reg:5000/berth/app@sha256:' + 'a'.repeat(64), node: '/usr/local/bin/node', berthBin: '/opt/berth/bin/berth.js', python: '/opt/berth-env/venv/bin/python', appRoot: '/var/azureml-app', env: { AML_APP_ROOT: '/var/azureml-app' } },
  entryScript: 'score.py', models: [{ name: 'fraud-model', version: 4 }, { name: 'vocab', version: 1 }], planeUrl: 'http://berth.berth.svc:7070',
  adminTokenSecret: 'berth-admin-token', imagePullSecret: 'berth-registry', replicaKey: 'k'.repeat(43),
  cpu: 0.5, cpuLimit: 1, memoryBytes: 512 * 1024 * 1024, memoryLimitBytes: 1024 * 1024 * 1024, gpus: 1,
  scoringTimeoutMs: 60_000, maxConcurrentRequests: 1, maxQueueWaitMs: 500, maxRequestSizeMb: 100, initTimeoutS: 600,
  liveness: { periodS: 10, timeoutS: 2, failureThreshold: 3, successThreshold: 1 },
};

test('a generation\'s Deployment is valid and carries what the issue asks: digest, resources, probes, termination messages, labels', () => {
  const d = generationDeployment(input);
  new Deployment(d as ConstructorParameters<typeof Deployment>[0]).validate();
  const pod = d.spec!.template.spec!;
  const serve = pod.containers[0]!;
  assert.equal(serve.image, input.image.ref);
  assert.deepEqual(serve.resources, { requests: { cpu: '500m', memory: String(512 * 1024 * 1024), 'nvidia.com/gpu': '1' }, limits: { memory: String(1024 * 1024 * 1024), cpu: '1000m', 'nvidia.com/gpu': '1' } });
  assert.deepEqual([serve.livenessProbe?.periodSeconds, serve.livenessProbe?.timeoutSeconds, serve.livenessProbe?.failureThreshold], [10, 2, 3]);
  assert.equal(serve.readinessProbe?.httpGet?.path, '/ready');
  assert.equal(serve.startupProbe?.failureThreshold, 60, 'init() gets its 600 s before liveness counts');
  assert.equal(serve.terminationMessagePolicy, 'FallbackToLogsOnError');
  assert.ok(serve.args?.join(' ').includes('--model-dir /var/azureml-app/azureml-models'), 'several models: the folder of all');
  assert.deepEqual(serve.volumeMounts, [{ name: 'models', mountPath: '/var/azureml-app/azureml-models', readOnly: true }]);
  assert.equal(pod.initContainers?.length, 2);
  assert.deepEqual(pod.initContainers![0]!.command!.slice(2, 6), ['model', 'download', 'fraud-model:4', '--to']);
  assert.equal(pod.initContainers![0]!.env?.[0]?.valueFrom?.secretKeyRef?.name, 'berth-admin-token');
  assert.deepEqual(pod.imagePullSecrets, [{ name: 'berth-registry' }]);
  assert.deepEqual(d.spec!.selector.matchLabels, { 'berth.dev/service': 'fraud', 'berth.dev/generation': '3' });
  assert.equal(d.metadata?.labels?.['app.kubernetes.io/managed-by'], 'berth');
  assert.ok(serve.env?.some((e) => e.name === 'BERTH_REPLICA_KEY'));
});

test('one model: its version folder is the model dir; no models: no init containers and no volume mount', () => {
  const one = generationDeployment({ ...input, models: [{ name: 'fraud-model', version: 4 }] });
  assert.ok(one.spec!.template.spec!.containers[0]!.args!.join(' ').includes('--model-dir /var/azureml-app/azureml-models/fraud-model/4'));
  const none = generationDeployment({ ...input, models: [], gpus: 0 });
  new Deployment(none as ConstructorParameters<typeof Deployment>[0]).validate();
  assert.deepEqual(none.spec!.template.spec!.initContainers, []);
  assert.equal(none.spec!.template.spec!.containers[0]!.volumeMounts, undefined);
  assert.equal(none.spec!.template.spec!.containers[0]!.resources?.limits?.['nvidia.com/gpu'], undefined);
});

test('the service\'s Service is valid and selects every generation of the service', () => {
  const s = serviceObject(input);
  new Service(s as ConstructorParameters<typeof Service>[0]).validate();
  assert.deepEqual(s.spec?.selector, { 'berth.dev/service': 'fraud' });
});

test('the install manifests are valid, and the Role grants what the target calls and nothing more', () => {
  const objects = installManifests({ namespace: 'berth', image: 'reg:5000/berth/runtime:abc', registry: 'reg:5000', storage: '10Gi' });
  const byKind = new Map(objects.map((o) => [o.kind, o]));
  const make: Record<string, (o: unknown) => { validate(): void }> = {
    Namespace: (o) => new Namespace(o as ConstructorParameters<typeof Namespace>[0]),
    ServiceAccount: (o) => new ServiceAccount(o as ConstructorParameters<typeof ServiceAccount>[0]),
    Role: (o) => new Role(o as ConstructorParameters<typeof Role>[0]),
    RoleBinding: (o) => new RoleBinding(o as ConstructorParameters<typeof RoleBinding>[0]),
    PersistentVolumeClaim: (o) => new PersistentVolumeClaim(o as ConstructorParameters<typeof PersistentVolumeClaim>[0]),
    Deployment: (o) => new Deployment(o as ConstructorParameters<typeof Deployment>[0]),
    Service: (o) => new Service(o as ConstructorParameters<typeof Service>[0]),
  };
  assert.deepEqual([...byKind.keys()].sort(), Object.keys(make).sort());
  for (const o of objects) make[o.kind!]!(o).validate();
  const role = byKind.get('Role') as unknown as { rules: Array<{ resources: string[]; verbs: string[] }> };
  const resources = role.rules.flatMap((r) => r.resources).sort();
  assert.deepEqual(resources, ['deployments', 'deployments/scale', 'events', 'namespaces', 'pods', 'pods/log', 'secrets', 'services']);
  assert.ok(!role.rules.some((r) => r.verbs.includes('*')), 'no wildcard verbs');
});
