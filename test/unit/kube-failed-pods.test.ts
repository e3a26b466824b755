// Which pods berth stops restarting on a cluster: the same rule as local replicas, per restart policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { giveUpClass } from '../../src/targets/kubernetes/failed-pods.js';
import type { PodFacts } from '../../src/targets/kubernetes/pod-status.js';
import type { InitError, Termination } from '../../src/targets/types.js';

const ended = (initError?: InitError, wasReady = false): Termination => ({
  reason: 'Error', exitCode: initError === undefined ? 1 : 3, signal: null, at: '2026-12-07T00:00:00.000Z', ranMs: 100, wasReady, ...(initError === undefined ? {} : { initError }),
});
const pod = (lastTermination?: Termination, over: Partial<PodFacts> = {}): PodFacts => ({
  name: 'svc-g1-abc', service: 'svc', generation: 1, state: 'CrashLoopBackOff', ready: false, restarts: 1, ...(lastTermination === undefined ? {} : { lastTermination }), ...over,
});
const syntax: InitError = { exception: 'SyntaxError', message: 'invalid syntax', file: '/src/score.py', line: 4, kind: 'import' };
const valueError: InitError = { exception: 'ValueError', message: 'bad init', kind: 'init' };

test('auto: a permanent start-up failure stops the pod, a transient one is left to the kubelet\'s back-off', () => {
  assert.equal(giveUpClass(pod(ended(syntax)), 'auto'), 'permanent');
  assert.equal(giveUpClass(pod(ended(valueError)), 'auto'), undefined);
  assert.equal(giveUpClass(pod(ended()), 'auto'), undefined);
  assert.equal(giveUpClass(pod(ended({ exception: 'FileNotFoundError', message: 'model.pkl', kind: 'init' })), 'auto'), 'permanent');
});

test('never stops on any end, always on none; a pod ready again or going away is left alone', () => {
  assert.equal(giveUpClass(pod(ended(valueError)), 'never'), 'transient');
  assert.equal(giveUpClass(pod(ended(undefined, true)), 'never'), 'transient');
  assert.equal(giveUpClass(pod(ended(syntax)), 'always'), undefined);
  assert.equal(giveUpClass(pod(ended(syntax), { ready: true, state: 'Ready' }), 'auto'), undefined);
  assert.equal(giveUpClass(pod(ended(syntax), { state: 'Stopped' }), 'auto'), undefined);
  assert.equal(giveUpClass(pod(), 'never'), undefined);
});
