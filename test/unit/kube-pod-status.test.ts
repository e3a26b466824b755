// How berth reads a pod: Ready, CrashLoopBackOff with the init() error from the termination message, OOMKilled with the limit, unschedulable and image-pull waits in the cluster's words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { parseQuantity, podFacts } from '../../src/targets/kubernetes/pod-status.js';

function pod(status: V1Pod['status'], extra: Partial<V1Pod['metadata']> = {}): V1Pod {
  return {
    metadata: { name: 'fraud-g2-7d9f-abcde', labels: { 'berth.dev/service': 'fraud', 'berth.dev/generation': '2' }, ...extra },
    spec: { containers: [{ name: 'serve', image: 'x', resources: { limits: { memory: '512Mi' } } }] },
    status,
  };
}

const REPORT = 'berth: entry script /var/azureml-app/init_fails.py failed during init()\nexception: ValueError: bad init\nat: /var/azureml-app/init_fails.py:6\n';

test('a running, ready pod is a Ready replica at its pod IP', () => {
  const f = podFacts(pod({ podIP: '10.1.2.3', containerStatuses: [{ name: 'serve', ready: true, restartCount: 0, image: 'x', imageID: '', state: { running: { startedAt: new Date('2026-01-01T00:00:00Z') } } }] }), false)!;
  assert.equal(f.state, 'Ready');
  assert.equal(f.podIp, '10.1.2.3');
  assert.equal(f.service, 'fraud');
  assert.equal(f.generation, 2);
});

test('CrashLoopBackOff after init() raised: exit code 3 and the error parsed from the termination message', () => {
  const f = podFacts(pod({ containerStatuses: [{
    name: 'serve', ready: false, restartCount: 2, image: 'x', imageID: '',
    state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s restarting failed container=serve pod=fraud-g2-7d9f-abcde_berth(uid)' } },
    lastState: { terminated: { exitCode: 3, reason: 'Error', message: REPORT, startedAt: new Date('2026-01-01T00:00:00Z'), finishedAt: new Date('2026-01-01T00:00:02Z') } },
  }] }), false)!;
  assert.equal(f.state, 'CrashLoopBackOff');
  assert.equal(f.restarts, 2);
  assert.equal(f.lastTermination?.exitCode, 3);
  assert.equal(f.lastTermination?.ranMs, 2000);
  assert.deepEqual(f.initError, { exception: 'ValueError', message: 'bad init', file: '/var/azureml-app/init_fails.py', line: 6 });
});

test('OOMKilled: the limit from the pod spec, signal SIGKILL', () => {
  const f = podFacts(pod({ containerStatuses: [{
    name: 'serve', ready: false, restartCount: 1, image: 'x', imageID: '', state: { running: {} },
    lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
  }] }), true)!;
  assert.equal(f.lastTermination?.reason, 'OOMKilled');
  assert.equal(f.lastTermination?.signal, 'SIGKILL');
  assert.equal(f.lastTermination?.oom?.limitBytes, 512 * 1024 * 1024);
  assert.equal(f.lastTermination?.initError, undefined);
});

test('waiting in the cluster\'s words: unschedulable with the scheduler\'s message, image pulls, failed init containers', () => {
  const unschedulable = podFacts(pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.' }] }), false)!;
  assert.deepEqual(unschedulable.waiting, { reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.' });
  assert.equal(unschedulable.state, 'Starting');
  const pull = podFacts(pod({ containerStatuses: [{ name: 'serve', ready: false, restartCount: 0, image: 'x', imageID: '', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "reg/app@sha256:1"' } } }] }), false)!;
  assert.equal(pull.waiting?.reason, 'ImagePullBackOff');
  const init = podFacts(pod({ initContainerStatuses: [{ name: 'model-0', ready: false, restartCount: 1, image: 'x', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, message: 'berth: model fraud:1 not found' } } }] }), false)!;
  assert.deepEqual(init.initContainerFailure, { name: 'model-0', message: 'berth: model fraud:1 not found' });
  assert.equal(init.state, 'CrashLoopBackOff');
});

test('a pod being deleted is Stopped; a pod without berth\'s labels is not a replica', () => {
  assert.equal(podFacts(pod({}, { deletionTimestamp: new Date() }), false)?.state, 'Stopped');
  assert.equal(podFacts({ metadata: { name: 'other' }, status: {} }, false), undefined);
});

test('memory quantities', () => {
  assert.equal(parseQuantity('512Mi'), 536870912);
  assert.equal(parseQuantity('1G'), 1e9);
  assert.equal(parseQuantity('161061274'), 161061274);
  assert.equal(parseQuantity('lots'), undefined);
});
