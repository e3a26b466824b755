// The deployment spec: DESIGN.md's defaults, every rule as one error naming its field, and how updates merge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../../src/errors/catalogue.js';
import { deployRequestSchema, mergeUpdate, normalizeSpec, parseWith, updateRequestSchema, type DeployRequest } from '../../src/control/services/spec.js';
import { parseControlSettings, parseDuration } from '../../src/control/settings.js';

const resolve = (ref: { name: string; version?: number }) => ({ name: ref.name, version: ref.version ?? 7 });
const spec = (fields: Record<string, unknown>) => normalizeSpec(parseWith(deployRequestSchema, { name: 'svc', entry_script: 'score.py', ...fields }), resolve, 'score.py');

function fails(fields: Record<string, unknown>, message: string): void {
  assert.throws(() => spec(fields), (err: unknown) => {
    assert.ok(err instanceof BerthError);
    assert.equal(err.code, 'VALIDATION_FAILED');
    assert.equal(err.message, message);
    return true;
  }, JSON.stringify(fields));
}

test('defaults are the classic Kubernetes deployment defaults', () => {
  const s = spec({});
  assert.deepEqual({ ...s }, {
    name: 'svc', entry_script: 'score.py', snapshot_entry_script: 'score.py', models: [],
    cpu_cores: 0.1, memory_gb: 0.5, gpu_cores: 0, replicas: 1,
    autoscale_enabled: true, autoscale_min_replicas: 1, autoscale_max_replicas: 10, autoscale_target_utilization: 70, autoscale_refresh_seconds: 1,
    scoring_timeout_ms: 60_000, replica_max_concurrent_requests: 1, max_request_wait_time: 500,
    period_seconds: 10, timeout_seconds: 2, failure_threshold: 3, success_threshold: 1,
    auth_enabled: true, token_auth_enabled: false, runtime: 'process', restart_policy: 'auto',
  });
  assert.equal(spec({ num_replicas: 3 }).autoscale_enabled, false);
  assert.equal(spec({ num_replicas: 3 }).replicas, 3);
  assert.equal(spec({ autoscale_min_replicas: 2 }).replicas, 2, 'autoscaled services run their minimum until the autoscaler lands');
  assert.equal(spec({ autoscale_enabled: false }).replicas, 1);
  assert.deepEqual(spec({ models: ['a', 'b:2'] }).models, [{ name: 'a', version: 7 }, { name: 'b', version: 2 }]);
  assert.equal(spec({ token_auth_enabled: true }).auth_enabled, false, 'asking for tokens turns keys off');
});

test('every invalid combination is one error naming the field', () => {
  fails({ cpu_cores: 0 }, 'invalid cpu_cores: must be greater than 0');
  fails({ cpu_cores: 1, cpu_cores_limit: 0.5 }, 'invalid cpu_cores_limit: must be at least cpu_cores (1)');
  fails({ memory_gb_limit: 0.25 }, 'invalid memory_gb_limit: must be at least memory_gb (0.5)');
  fails({ memory_gb: -1 }, 'invalid memory_gb: must be greater than 0');
  fails({ gpu_cores: -1 }, 'invalid gpu_cores: must be at least 0');
  fails({ gpu_cores: 0.5 }, 'invalid gpu_cores: must be a whole number');
  fails({ num_replicas: 0 }, 'invalid num_replicas: must be at least 1');
  fails({ num_replicas: 2, autoscale_enabled: true }, 'invalid num_replicas: cannot be used together with autoscaling (autoscale_enabled is true); give num_replicas or the autoscale settings, not both');
  fails({ num_replicas: 2, autoscale_max_replicas: 4 }, 'invalid autoscale_max_replicas: applies only with autoscaling, which is off because num_replicas is given');
  fails({ autoscale_min_replicas: 5, autoscale_max_replicas: 4 }, 'invalid autoscale_min_replicas: must be at most autoscale_max_replicas (4)');
  fails({ autoscale_target_utilization: 0 }, 'invalid autoscale_target_utilization: must be at least 1');
  fails({ autoscale_target_utilization: 101 }, 'invalid autoscale_target_utilization: must be at most 100 (%)');
  fails({ auth_enabled: true, token_auth_enabled: true }, 'invalid token_auth_enabled: cannot be true together with auth_enabled (key auth); turn one of them off');
  fails({ scoring_timeout_ms: 1.5 }, 'invalid scoring_timeout_ms: must be a whole number');
  fails({ models: ['a:1', 'a:2'] }, 'invalid models: model a is listed twice; a replica mounts one version of each model');
  fails({ models: ['bad name'] }, 'invalid models.0: a model is NAME or NAME:VERSION (e.g. sum-model:1)');
  fails({ environment: 'env:1' }, 'invalid environment: environments are not available in this version of berth yet; replicas run with python3 from the control plane\'s PATH');
  fails({ colour: 'red' }, 'invalid fields: unknown field(s) colour');
  assert.throws(() => parseWith(deployRequestSchema, { name: 'ab', entry_script: 'x' }), /invalid name: a service name has 3 to 32 characters/);
  assert.throws(() => parseWith(deployRequestSchema, { name: 'a'.repeat(33), entry_script: 'x' }), /3 to 32 characters/);
  assert.throws(() => parseWith(deployRequestSchema, { name: 'my-svc-', entry_script: 'x' }), /does not end with -/);
  assert.doesNotThrow(() => parseWith(deployRequestSchema, { name: 'a1-b', entry_script: 'x' }));
});

test('updates merge over the stored request; null drops a field; switching replica modes drops the other mode', () => {
  const stored: DeployRequest = { name: 'svc', entry_script: 'score.py', autoscale_min_replicas: 2, memory_gb_limit: 2, models: ['m:1'] };
  const u = (raw: Record<string, unknown>) => mergeUpdate(stored, parseWith(updateRequestSchema, raw));
  assert.deepEqual(u({ cpu_cores: 0.5 }), { ...stored, cpu_cores: 0.5 });
  assert.deepEqual(u({ memory_gb_limit: null }), { name: 'svc', entry_script: 'score.py', autoscale_min_replicas: 2, models: ['m:1'] });
  assert.deepEqual(u({ num_replicas: 3 }), { name: 'svc', entry_script: 'score.py', memory_gb_limit: 2, models: ['m:1'], num_replicas: 3 });
  assert.deepEqual(u({ autoscale_max_replicas: 4 }).autoscale_max_replicas, 4);
  assert.throws(() => parseWith(updateRequestSchema, { name: 'other' }), /unknown field\(s\) name/);
});

test('durations for --schedule-timeout and --restart-backoff; capacity and timeout reach the settings', () => {
  assert.equal(parseDuration('300'), 300_000);
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('1500ms'), 1500);
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('00:05:00'), 300_000);
  assert.equal(parseDuration('soon'), undefined);
  const s = parseControlSettings({ home: '/tmp/h', capacity: 'cpu=2,gpu=1', scheduleTimeout: '2s' }, {});
  assert.deepEqual({ ...s.capacity }, { cpu: 2, gpu: 1 });
  assert.equal(s.scheduleTimeoutMs, 2000);
  assert.equal(s.restartBackoffMs, 10_000);
  assert.equal(parseControlSettings({ home: '/tmp/h' }, {}).scheduleTimeoutMs, 300_000);
  assert.throws(() => parseControlSettings({ home: '/tmp/h', scheduleTimeout: 'soon' }, {}), /invalid setting --schedule-timeout: "soon" is not a duration/);
  assert.throws(() => parseControlSettings({ home: '/tmp/h', capacity: 'gpus=1' }, {}), /invalid capacity "gpus=1": unknown key "gpus"/);
});

test('capture settings: off unless asked for, bounded, only with capture_failures; turning it off drops them', () => {
  assert.equal('capture_failures' in spec({}), false, 'nothing of capture in a spec without it');
  const on = spec({ capture_failures: true });
  assert.deepEqual([on.capture_failures, on.capture_max_requests, on.capture_max_mb, on.capture_redact], [true, 100, 10, []]);
  assert.deepEqual(spec({ capture_failures: true, capture_max_requests: 5, capture_max_mb: 0.5, capture_redact: ['password', 'X-Api-Key'] }).capture_redact, ['password', 'X-Api-Key']);
  fails({ capture_max_requests: 5 }, 'invalid capture_max_requests: applies only with capture_failures, which is off (--capture-failures turns it on)');
  fails({ capture_failures: false, capture_redact: ['x'] }, 'invalid capture_redact: applies only with capture_failures, which is off (--capture-failures turns it on)');
  fails({ capture_failures: true, capture_max_requests: 0 }, 'invalid capture_max_requests: must be at least 1');
  fails({ capture_failures: true, capture_max_requests: 10_001 }, 'invalid capture_max_requests: must be at most 10000');
  fails({ capture_failures: true, capture_max_mb: 0 }, 'invalid capture_max_mb: must be greater than 0');
  fails({ capture_failures: true, capture_max_mb: 1025 }, 'invalid capture_max_mb: must be at most 1024 (MB)');
  fails({ capture_failures: true, capture_redact: [''] }, 'invalid capture_redact.0: a name has 1 to 200 characters');
  fails({ capture_failures: true, capture_redact: ['a\nb'] }, 'invalid capture_redact.0: a name has no control characters');
  fails({ capture_failures: true, capture_redact: Array.from({ length: 101 }, (_, i) => `f${i}`) }, 'invalid capture_redact: at most 100 names');
  fails({ capture_failures: 'yes' }, 'invalid capture_failures: Invalid input: expected boolean, received string');
  const stored = parseWith(deployRequestSchema, { name: 'svc', entry_script: 'score.py', capture_failures: true, capture_max_mb: 2, capture_redact: ['password'] });
  assert.deepEqual(mergeUpdate(stored, { capture_failures: false }), { name: 'svc', entry_script: 'score.py', capture_failures: false });
  assert.deepEqual(mergeUpdate(stored, { capture_max_requests: 7 }).capture_max_requests, 7);
  assert.doesNotThrow(() => parseWith(updateRequestSchema, { capture_redact: null }));
});
