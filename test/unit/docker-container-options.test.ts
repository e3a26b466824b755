// A replica's container as berth asks the Docker Engine for it: command, limits, read-only models, loopback port, labels, GPUs, key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTAINER_LOG_PATH, containerOptions, modelMount } from '../../src/targets/docker/container-options.js';
import type { ReplicaSpec } from '../../src/targets/types.js';

const image = { ref: '127.0.0.1:5000/berth/app@sha256:abc', node: '/opt/berth/node', berthBin: '/opt/berth/app/bin/berth.js', python: '/opt/berth/venv/bin/python', appRoot: '/var/azureml-app', env: { AML_APP_ROOT: '/var/azureml-app', MODE: 'image' } };

function spec(overrides: Partial<ReplicaSpec> = {}): ReplicaSpec {
  return {
    serviceName: 'fraud', replicaId: 'fraud-2-0-abc123', index: 0, runtime: 'docker', generation: 2,
    entryScript: 'score.py', sourceDir: '/home/u/.berth/services/fraud/2/source', cpu: 0.5, container: image,
    modelDir: '/home/u/.berth/services/fraud/2/azureml-models/fraud-model/3', memoryLimitBytes: 512 * 1024 * 1024,
    scoringTimeoutMs: 1500, maxConcurrentRequests: 2, ...overrides,
  };
}

test('berth serve runs from the image on port 5001 of every interface inside, published on a free loopback port', () => {
  const o = containerOptions(spec(), { homeLabel: 'h1' }, 'berth-fraud-2-0-abc123-x');
  assert.deepEqual(o.Entrypoint, [image.node, image.berthBin]);
  assert.deepEqual(o.Cmd?.slice(0, 7), ['serve', '--entry-script', '/var/azureml-app/score.py', '--port', '5001', '--host', '0.0.0.0']);
  const cmd = (o.Cmd ?? []).join(' ');
  assert.match(cmd, /--model-dir \/var\/azureml-app\/azureml-models\/fraud-model\/3/);
  assert.match(cmd, /--python \/opt\/berth\/venv\/bin\/python/);
  assert.match(cmd, /--scoring-timeout-ms 1500/);
  assert.match(cmd, /--max-concurrent-requests 2/);
  assert.deepEqual(o.HostConfig?.PortBindings, { '5001/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
  assert.equal(o.WorkingDir, '/var/azureml-app');
  assert.equal(o.HostConfig?.Init, true);
});

test('the generation\'s models are mounted read-only; one model\'s version folder is AZUREML_MODEL_DIR inside', () => {
  const o = containerOptions(spec(), { homeLabel: 'h1' }, 'n');
  assert.deepEqual(o.HostConfig?.Binds, ['/home/u/.berth/services/fraud/2/azureml-models:/var/azureml-app/azureml-models:ro']);
  assert.deepEqual(modelMount('/h/services/s/1/azureml-models', '/var/azureml-app'), { bind: '/h/services/s/1/azureml-models:/var/azureml-app/azureml-models:ro', modelDir: '/var/azureml-app/azureml-models' });
  assert.equal(containerOptions(spec({ modelDir: undefined }) as ReplicaSpec, { homeLabel: 'h1' }, 'n').HostConfig?.Binds, undefined);
});

test('the run\'s log file is mounted and berth serve appends to it, so the engine does not copy every log line', () => {
  const o = containerOptions(spec(), { homeLabel: 'h1' }, 'n', '/home/u/.berth/logs/fraud/fraud-2-0-abc123.log');
  assert.deepEqual(o.HostConfig?.Binds, [
    '/home/u/.berth/services/fraud/2/azureml-models:/var/azureml-app/azureml-models:ro',
    `/home/u/.berth/logs/fraud/fraud-2-0-abc123.log:${CONTAINER_LOG_PATH}`,
  ]);
  assert.deepEqual((o.Cmd ?? []).slice(-2), ['--log-file', CONTAINER_LOG_PATH]);
  assert.equal((containerOptions(spec(), { homeLabel: 'h1' }, 'n').Cmd ?? []).includes('--log-file'), false);
});

test('limits: memory without swap, CPU limit as nano-CPUs, GPUs as a device request; none when not asked', () => {
  const o = containerOptions(spec({ cpuLimit: 1.5, gpus: 2 }), { homeLabel: 'h1' }, 'n');
  assert.equal(o.HostConfig?.Memory, 512 * 1024 * 1024);
  assert.equal(o.HostConfig?.MemorySwap, 512 * 1024 * 1024);
  assert.equal(o.HostConfig?.NanoCpus, 1_500_000_000);
  assert.deepEqual(o.HostConfig?.DeviceRequests, [{ Driver: 'nvidia', Count: 2, Capabilities: [['gpu']] }]);
  const plain = containerOptions(spec({ memoryLimitBytes: undefined }), { homeLabel: 'h1' }, 'n');
  assert.equal(plain.HostConfig?.Memory, undefined);
  assert.equal(plain.HostConfig?.NanoCpus, undefined);
  assert.equal(plain.HostConfig?.DeviceRequests, undefined);
});

test('labels name home, service, generation and replica; the image\'s variables, the service\'s, and the replica key', () => {
  const o = containerOptions(spec({ env: { MODE: 'service' } }), { homeLabel: 'h1', replicaKey: (id) => `key-of-${id}`, maxRequestSizeMb: 7 }, 'n');
  assert.deepEqual(o.Labels, { 'berth.managed': 'true', 'berth.home': 'h1', 'berth.service': 'fraud', 'berth.replica': 'fraud-2-0-abc123', 'berth.generation': '2' });
  assert.ok(o.Env?.includes('AML_APP_ROOT=/var/azureml-app'));
  assert.ok(o.Env?.includes('MODE=service'), 'the service\'s variable wins');
  assert.ok(o.Env?.includes('BERTH_REPLICA_KEY=key-of-fraud-2-0-abc123'));
  assert.match((o.Cmd ?? []).join(' '), /--max-request-size-mb 7/);
});

test('on the host network: no published port, berth serve on a free 127.0.0.1 port of its own', () => {
  const o = containerOptions(spec(), { homeLabel: 'h1', network: 'host' }, 'n');
  assert.equal(o.HostConfig?.NetworkMode, 'host');
  assert.equal(o.HostConfig?.PortBindings, undefined);
  assert.equal(o.ExposedPorts, undefined);
  assert.deepEqual(o.Cmd?.slice(0, 7), ['serve', '--entry-script', '/var/azureml-app/score.py', '--port', '0', '--host', '127.0.0.1']);
});
