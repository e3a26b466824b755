// Diagnosis of failures only a cluster has: image pulls the nodes cannot make, models pods cannot fetch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose } from '../../src/diagnose/index.js';
import { at, healthy } from '../helpers/diagnose-input.js';

test('image pull failures reported by the cluster are one critical finding with the cluster\'s words and the fix', () => {
  const d = diagnose(healthy({
    service: { name: 'svc', state: 'Failed', reason: 'image pull', ready: 0, desired: 1 },
    events: [
      { time: at(60), type: 'Failed', replica: 'svc-g1-abc-1', message: 'Failed to pull image "reg:5000/berth/app@sha256:1": not found', data: { source: 'kubernetes', severity: 'Warning' } },
      { time: at(30), type: 'BackOff', replica: 'svc-g1-abc-1', message: 'Back-off pulling image "reg:5000/berth/app@sha256:1"', data: { source: 'kubernetes', severity: 'Normal' } },
    ],
  }));
  const f = d.findings.find((x) => x.code === 'KUBERNETES_IMAGE_PULL_FAILED');
  assert.ok(f !== undefined, JSON.stringify(d.findings.map((x) => x.code)));
  assert.equal(f.severity, 'critical');
  assert.ok(f.evidence.some((e) => /Failed to pull image/.test(e)));
  assert.match(f.fix, /registry/);
});

test('no cluster events, no cluster findings; a local BackOff is not an image pull', () => {
  const d = diagnose(healthy({ events: [{ time: at(30), type: 'BackOff', replica: 'svc-1-0-aa', message: 'Back-off restarting failed replica: restart 1 in 10 s' }] }));
  assert.equal(d.findings.filter((x) => x.code.startsWith('KUBERNETES_')).length, 0);
});

test('a deployment that failed fetching models names the control plane URL and the fix', () => {
  const d = diagnose(healthy({
    service: { name: 'svc', state: 'Failed', reason: 'models', ready: 0, desired: 1 },
    lastOperation: { id: 'op', kind: 'deploy', status: 'Failed', progress: '', started_at: at(60), ended_at: at(30), error: { code: 'KUBERNETES_MODEL_FETCH_FAILED', message: 'pod svc-g1-x could not fetch its models from the control plane at http://berth:7070: connection refused', fix: 'make sure pods reach it' } },
  }));
  const f = d.findings.find((x) => x.code === 'KUBERNETES_MODEL_FETCH_FAILED');
  assert.ok(f !== undefined);
  assert.match(f.cause, /http:\/\/berth:7070/);
});
