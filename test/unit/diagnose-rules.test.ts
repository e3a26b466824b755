// Diagnosis rules with hand-made inputs: each failure gives its finding with evidence; a healthy service gives none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose } from '../../src/diagnose/index.js';
import { suggestMemoryGb } from '../../src/diagnose/resources.js';
import { access, at, healthy, NOW } from '../helpers/diagnose-input.js';

test('healthy: no findings, "no problems found" and the key numbers', () => {
  const d = diagnose(healthy());
  assert.deepEqual(d.findings, []);
  assert.equal(d.summary, 'no problems found in the last 15 min: svc is Healthy, 1/1 replica(s) ready');
  assert.equal(d.numbers.requests, 2);
  assert.equal(d.numbers.latency_p99_ms, 16);
});

test('old trouble outside the window is not reported', () => {
  const d = diagnose(healthy({
    events: [{ time: at(3600), type: 'OOMKilled', replica: 'svc-1-0-aa', message: 'oom', data: { oom: { limitBytes: 1e8, usageBytes: 2e8 } } }],
    logs: [{ replica: 'svc-1-0-aa', kind: 'current', text: access(3600, 500, 3, 'old') }],
  }));
  assert.deepEqual(d.findings, []);
});

const crashing = (message: string, exception: string, init = '') => healthy({
  service: { name: 'svc', state: 'Failed', reason: 'replica is CrashLoopBackOff', ready: 0, desired: 1 },
  replicas: [{ id: 'svc-1-0-aa', state: 'CrashLoopBackOff', restarts: 2, lastInitError: { exception, message, file: '/src/score.py', line: 6 } }],
  events: [{ time: at(5), type: 'InitFailed', replica: 'svc-1-0-aa', message: 'init failed' }, { time: at(4), type: 'BackOff', replica: 'svc-1-0-aa', message: 'Back-off restarting failed replica' }],
  logs: [{ replica: 'svc-1-0-aa', kind: 'init', text: init }],
  requests: [],
});

test('init() crash loop: exception, file and line, last output, back-off', () => {
  const d = diagnose(crashing('bad init', 'ValueError', 'starting\nTraceback (most recent call last):\n  File "/src/score.py", line 6, in init\nValueError: bad init\n'));
  assert.equal(d.findings.length, 1);
  const f = d.findings[0]!;
  assert.equal(f.code, 'REPLICA_INIT_FAILED');
  assert.equal(f.severity, 'critical');
  assert.equal(f.cause, 'init() raised ValueError: bad init at /src/score.py:6');
  assert.ok(f.evidence.includes('  ValueError: bad init'));
  assert.ok(f.evidence.some((e) => /BackOff: Back-off/.test(e)));
  assert.match(f.fix, /berth service logs svc --replica svc-1-0-aa --init/);
});

test('missing model: asked for, mounted, and a file one folder deeper', () => {
  const msg = "model 'clf' (latest version) not found. AZUREML_MODEL_DIR=/m holds: other:1. Looked for: /m/clf";
  const init = 'model directory /m (AZUREML_MODEL_DIR):\n  other/\n  other/1/\n  other/1/clf/\n  other/1/clf/model.pkl (10 bytes)\n';
  const f = diagnose(crashing(msg, 'ModelNotFoundError', init)).findings[0]!;
  assert.equal(f.code, 'MODEL_PATH_NOT_FOUND');
  assert.ok(f.evidence.includes('the script asked for: model clf (berth.get_model_path / Model.get_model_path)'));
  assert.ok(f.evidence.includes('mounted: other:1 in /m; looked for: /m/clf'));
  const file = diagnose(crashing("[Errno 2] No such file or directory: '/m/model.pkl'", 'FileNotFoundError', init)).findings[0]!;
  assert.ok(file.evidence.includes('the script asked for: file /m/model.pkl'));
  assert.ok(file.evidence.some((e) => /mounted at other\/1\/clf\/model\.pkl: one folder deeper/.test(e)), file.evidence.join('\n'));
});

test('run() raising: count in the window, newest traceback and request id', () => {
  const err = (s: number, id: string) => `${JSON.stringify({ level: 50, time: at(s), request_id: id, exception: 'ZeroDivisionError', traceback: 'Traceback\n  File "s.py", line 9, in run\nZeroDivisionError: division by zero', msg: 'run() raised ZeroDivisionError: division by zero' })}\n`;
  const d = diagnose(healthy({ logs: [{ replica: 'svc-1-0-aa', kind: 'current', text: access(30, 500, 2, 'a') + err(30, 'a') + access(10, 500, 2, 'b') + err(10, 'b') + access(5, 200, 2, 'c') }] }));
  const f = d.findings[0]!;
  assert.equal(f.code, 'RUN_FAILED');
  assert.equal(f.evidence[0], '2 request(s) failed in run() in the last 15 min (of 3 answered by the replicas)');
  assert.ok(f.evidence.includes(`newest at ${at(10)} on replica svc-1-0-aa, request id b:`));
  assert.ok(f.evidence.includes('  ZeroDivisionError: division by zero'));
});

test('504s: percentiles against the timeout and the slowest requests', () => {
  const text = access(50, 200, 100, 'a') + access(40, 504, 1003, 'slow1') + access(30, 200, 200, 'b');
  const f = diagnose(healthy({ logs: [{ replica: 'svc-1-0-aa', kind: 'current', text }] })).findings[0]!;
  assert.equal(f.code, 'SCORING_TIMEOUT');
  assert.ok(f.evidence.includes('latency at the replicas: p50 200 ms, p95 1003 ms, p99 1003 ms, max 1003 ms against scoring_timeout_ms 1000'));
  assert.equal(f.evidence[2], `slow request slow1 on svc-1-0-aa: 1003 ms, status 504 at ${at(40)}`);
  assert.match(f.fix, /--scoring-timeout-ms 3000/);
});

test('503s: at max, queue waits, and the calculator\'s count in the fix', () => {
  const requests = Array.from({ length: 40 }, (_, i) => ({ atMs: NOW - 20_000 + i * 500, status: i % 2 === 0 ? 503 : 200, ms: i % 2 === 0 ? 500 : 700, waitMs: i % 2 === 0 ? 500 : 200 }));
  const f = diagnose(healthy({ requests, utilization: 100, queued: 3 })).findings[0]!;
  assert.equal(f.code, 'SERVICE_OVERLOADED');
  assert.ok(f.evidence.includes('20 of 40 request(s) answered 503 in the gateway\'s last 20 s (2 requests/s)'));
  assert.ok(f.evidence.some((e) => /at the maximum/.test(e)));
  // 2 rps × 0.5 s ÷ 0.7 = 1.43 → 2 replicas.
  assert.ok(f.evidence.includes('the replica calculator for 2 requests/s at 500 ms each and 70% target utilization: 2 replica(s)'));
  assert.match(f.fix, /--replicas 2/);
});

test('OOMKilled: limit, peak, suggested memory_gb = peak × 1.5 rounded up', () => {
  const oom = { limitBytes: 150 * 1048576, usageBytes: 160 * 1048576 };
  const f = diagnose(healthy({ events: [{ time: at(20), type: 'OOMKilled', replica: 'svc-1-0-aa', message: 'killed', data: { oom } }] })).findings[0]!;
  assert.equal(f.code, 'REPLICA_OOM_KILLED');
  assert.ok(f.evidence.includes('limit 150 MB, peak usage seen 160 MB'));
  assert.equal(suggestMemoryGb(160 * 1048576), 0.3);
  assert.match(f.fix, /--memory-gb 0\.6 /); // at least a step above the current 0.5
});

test('Unschedulable: the short resource, requested vs free', () => {
  const f = diagnose(healthy({
    service: { name: 'svc', state: 'Unschedulable', reason: '0/1 nodes are available: 1 Insufficient nvidia.com/gpu', ready: 0, desired: 1 },
    spec: { ...healthy().spec, gpu_cores: 1 }, capacity: { cpu: 4, memoryGb: 8, gpu: 1 }, used: { cpu: 0.5, memoryGb: 0.5, gpu: 1 }, requests: [],
  })).findings[0]!;
  assert.equal(f.code, 'SCHEDULING_TIMEOUT');
  assert.equal(f.cause, 'not enough free GPU: a replica requests more than the machine has left');
  assert.ok(f.evidence.includes('machine capacity: cpu 4, memory_gb 8, gpu 1; free now: cpu 3.5, memory_gb 7.5, gpu 0'));
});

test('a failed environment build: the package manager\'s error', () => {
  const message = 'building environment e:1 failed: pip could not install nosuchpkg\nERROR: No matching distribution found for nosuchpkg\nthe whole build log: berth env logs e:1';
  const f = diagnose(healthy({ service: { name: 'svc', state: 'Failed', reason: '', ready: 0, desired: 1 }, environment: { ref: 'e:1', state: 'Failed', error: { code: 'ENVIRONMENT_BUILD_FAILED', message } }, requests: [] })).findings[0]!;
  assert.equal(f.code, 'ENVIRONMENT_BUILD_FAILED');
  assert.ok(f.evidence.includes('  ERROR: No matching distribution found for nosuchpkg'));
});

test('409: the running operation and since when; liveness failures', () => {
  const running = { id: 'op-1', kind: 'update', status: 'Running', progress: 'waiting for init() (0/1 ready)', started_at: at(90) };
  const d = diagnose(healthy({
    running,
    events: [{ time: at(30), type: 'ProbeFailed', replica: 'svc-1-0-aa', message: 'GET / timed out' }, { time: at(10), type: 'LivenessKill', replica: 'svc-1-0-aa', message: 'killed after 3 failures' }],
  }));
  assert.deepEqual(d.findings.map((f) => f.code), ['REPLICA_LIVENESS_FAILED', 'OPERATION_IN_PROGRESS']);
  assert.equal(d.findings[1]!.cause, `update operation op-1 has been running since ${at(90)} (90 s)`);
  assert.ok(d.findings[0]!.evidence.includes('1 failed probe(s) and 1 liveness kill(s) in the window'));
});

test('a liveness kill is counted once: its LivenessKill and the Exited that follows are one kill', () => {
  const exited = (time: string) => ({ time, type: 'Exited', replica: 'svc-1-0-aa', message: 'killed', data: { termination: { reason: 'LivenessProbeFailed' } } });
  const probe = { time: at(30), type: 'ProbeFailed', replica: 'svc-1-0-aa', message: 'GET / timed out' };
  const both = diagnose(healthy({ events: [probe, { time: at(10), type: 'LivenessKill', replica: 'svc-1-0-aa', message: 'killed after 3 failures' }, exited(at(10))] })).findings[0]!;
  assert.equal(both.evidence[0], '1 failed probe(s) and 1 liveness kill(s) in the window');
  const exitedOnly = diagnose(healthy({ events: [probe, exited(at(10))] })).findings[0]!;
  assert.equal(exitedOnly.evidence[0], '1 failed probe(s) and 1 liveness kill(s) in the window');
});
