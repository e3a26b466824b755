// The rollout guardrail and request rules: --rollback-on parsing, judging a window, the loop on a fake clock, and traffic splits that must sum to 100.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRule, judge, parseGuardrail } from '../../src/control/services/guardrail-rule.js';
import { Guardrail } from '../../src/control/services/guardrail.js';
import { checkSplit, planRollout, rolloutRequestSchema, trafficRequestSchema } from '../../src/control/services/rollout-request.js';
import type { RolloutRecord } from '../../src/control/services/rollout-store.js';
import type { RollbackCause } from '../../src/control/services/rollouts.js';
import { isBerthError } from '../../src/errors/catalogue.js';
import { rolloutBody, parseWeights } from '../../src/cli/commands/service-rollout.js';
import { diagnose, type DiagnoseInput } from '../../src/diagnose/index.js';
import { fakeClock } from '../helpers/fake-clock.js';

const code = (c: string) => (e: unknown) => isBerthError(e) && e.code === c;

test('--rollback-on "error_rate>2%,p99>500ms" --window 60s parses to a frozen rule and prints back', () => {
  const r = parseGuardrail('error_rate>2%,p99>500ms', '60s');
  assert.deepEqual({ ...r }, { error_rate_percent: 2, p99_ms: 500, min_requests: 10, window_ms: 60_000 });
  assert.ok(Object.isFrozen(r));
  assert.equal(formatRule(r), 'error_rate>2%,p99>500ms over 1 min');
  assert.equal(parseGuardrail('p99>1.5s, min_requests=50', '5m').p99_ms, 1500);
});

test('bad guardrail rules are GUARDRAIL_RULE_INVALID (400) naming the clause', () => {
  for (const [text, window, words] of [
    ['latency>5ms', undefined, /unknown figure latency/],
    ['error_rate<2%', undefined, /write error_rate>VALUE/],
    ['error_rate>200%', undefined, /below 100%/],
    ['p99>fast', undefined, /duration/],
    ['min_requests=5', undefined, /bounds nothing/],
    ['p99>500ms', '1s', /between 5 s and 1 h/],
    ['p99>500ms,p99>600ms', undefined, /twice/],
  ] as const) {
    assert.throws(() => parseGuardrail(text, window), (e: unknown) => code('GUARDRAIL_RULE_INVALID')(e) && (e as Error).message.match(words) !== null && (e as { status: number }).status === 400, text);
  }
});

test('judging: below min_requests is no evidence; a breach names the numbers', () => {
  const rule = parseGuardrail('error_rate>2%,p99>500ms');
  assert.equal(judge(rule, { spanS: 60, requests: 5, errors: 5, p99Ms: 900 }).breached, false);
  assert.equal(judge(rule, { spanS: 60, requests: 100, errors: 2, p99Ms: 400 }).breached, false);
  const v = judge(rule, { spanS: 42, requests: 50, errors: 5, p99Ms: 612 });
  assert.ok(v.breached);
  assert.equal(v.message, 'error_rate 10% > 2% over 42 s (5 of 50 requests); p99 612 ms > 500 ms over 42 s (50 requests)');
  assert.deepEqual(v.numbers, { error_rate_percent: 10, errors: 5, requests: 50, p99_ms: 612, window_s: 42 });
});

const record = (over: Partial<RolloutRecord> = {}): RolloutRecord => ({
  service: 'svc', baseGeneration: 1, generation: 2, request: {} as RolloutRecord['request'], spec: {} as RolloutRecord['spec'],
  weights: [{ generation: 2, percent: 10 }, { generation: 1, percent: 90 }], mirrorPercent: 0, guardrail: parseGuardrail('error_rate>2%', '10s'),
  state: 'Live', startedAt: '', updatedAt: '', ...over,
});

test('the guardrail loop judges live rollouts every second on the injected clock and rolls back once', async () => {
  const clock = fakeClock();
  let rollouts = [record(), record({ service: 'quiet', guardrail: undefined }), record({ service: 'starting', state: 'Starting' })];
  let errors = 0;
  const rolled: Array<{ service: string; cause: RollbackCause }> = [];
  const g = new Guardrail({
    clock, rollouts: { list: () => rollouts },
    busy: () => false,
    figures: (service, generation, windowMs) => {
      assert.equal(service, 'svc');
      assert.equal(generation, 2);
      assert.equal(windowMs, 10_000);
      return { spanS: 10, requests: 20, errors, p99Ms: 30 };
    },
    rollback: (service, cause) => {
      rolled.push({ service, cause });
      rollouts = rollouts.map((r) => (r.service === service ? { ...r, state: 'RollingBack' } : r));
    },
    onError: (_s, err) => { throw err; },
  });
  g.start();
  await clock.advance(3000);
  assert.equal(rolled.length, 0);
  errors = 3;
  await clock.advance(1000);
  assert.equal(rolled.length, 1);
  assert.match(rolled[0]!.cause.message, /^error_rate 15% > 2% over 10 s \(3 of 20 requests\)/);
  assert.equal(rolled[0]!.cause.numbers.error_rate_percent, 15);
  await clock.advance(3000);
  assert.equal(rolled.length, 1);
  g.stop();
  assert.equal(clock.pending(), 0);
});

test('a split names every live generation once and sums to 100, else TRAFFIC_SPLIT_INVALID (400) with an example', () => {
  assert.deepEqual(checkSplit('svc', [3, 2], { 3: 25, 2: 75 }), [{ generation: 3, percent: 25 }, { generation: 2, percent: 75 }]);
  assert.throws(() => checkSplit('svc', [3, 2], { 3: 30, 2: 60 }), (e: unknown) => code('TRAFFIC_SPLIT_INVALID')(e) && /sum to 90, not 100/.test((e as Error).message) && (e as { status: number }).status === 400);
  assert.throws(() => checkSplit('svc', [3, 2], { 3: 100 }), (e: unknown) => code('TRAFFIC_SPLIT_INVALID')(e) && /give generation 2 a percent/.test((e as Error).message));
  assert.throws(() => checkSplit('svc', [3, 2], { 4: 50, 2: 50 }), (e: unknown) => code('TRAFFIC_SPLIT_INVALID')(e) && /generation 4 is not live/.test((e as Error).message));
});

test('rollout bodies are strict; a rollout needs traffic or mirror; a window needs a rule', () => {
  assert.equal(rolloutRequestSchema.safeParse({ traffic: 10, extra: 1 }).success, false);
  assert.equal(rolloutRequestSchema.safeParse({ traffic: 101 }).success, false);
  assert.equal(trafficRequestSchema.safeParse({ weights: { x: 10 } }).success, false);
  assert.throws(() => planRollout({}), code('VALIDATION_FAILED'));
  assert.throws(() => planRollout({ traffic: 10, window: '60s' }), code('GUARDRAIL_RULE_INVALID'));
  const p = planRollout({ traffic: 10, rollback_on: 'p99>500ms', window: '30s' });
  assert.equal(p.traffic, 10);
  assert.equal(p.guardrail?.window_ms, 30_000);
});

test('CLI: --canary is --traffic; GEN=PERCENT pairs parse; bad ones name themselves', () => {
  assert.deepEqual(rolloutBody({ canary: '10' }, {}), { changes: {}, traffic: 10 });
  assert.deepEqual(rolloutBody({ mirror: '20', rollbackOn: 'p99>1s', window: '60s' }, {}), { changes: {}, mirror: 20, rollback_on: 'p99>1s', window: '60s' });
  assert.equal(rolloutBody({}, {}), undefined);
  assert.throws(() => rolloutBody({ rollbackOn: 'p99>1s' }, {}), code('INVALID_ARGUMENT'));
  assert.throws(() => rolloutBody({ traffic: '110' }, {}), code('INVALID_ARGUMENT'));
  assert.deepEqual(parseWeights(['3=25', '2=75%']), { 3: 25, 2: 75 });
  assert.throws(() => parseWeights(['3:25']), code('INVALID_ARGUMENT'));
});

test('diagnose: a candidate with a share and no ready replica is CANDIDATE_NOT_READY; a guardrail rollback is reported with its numbers', () => {
  const now = new Date('2026-01-01T00:10:00Z');
  const gen = (generation: number, role: 'stable' | 'candidate', weight: number, ready: number) => ({
    generation, role, weight_percent: weight, effective_percent: ready > 0 ? 100 : 0, ready_replicas: ready, desired_replicas: 1,
    requests: 0, mirrored: 0, errors: 0, error_rate_percent: null, latency_p50_ms: null, latency_p99_ms: null, utilization: null,
  });
  const input: DiagnoseInput = {
    now, windowMs: 900_000,
    service: { name: 'svc', state: 'Healthy', reason: '', ready: 1, desired: 1 },
    spec: { cpu_cores: 0.1, memory_gb: 0.5, gpu_cores: 0, replicas: 1, autoscale_enabled: false, autoscale_min_replicas: 1, autoscale_max_replicas: 1, autoscale_target_utilization: 70, scoring_timeout_ms: 60000, replica_max_concurrent_requests: 1, max_request_wait_time: 500, period_seconds: 10, failure_threshold: 3 },
    replicas: [], logs: [], requests: [], utilization: null, queued: 0,
    events: [
      { time: '2026-01-01T00:05:00.000Z', type: 'TrafficShifted', message: 'generation 2 has no ready replica: its 10% of requests go to generation 1 (now 1: 100%)' },
      { time: '2026-01-01T00:06:00.000Z', type: 'GuardrailRollback', message: 'rolling back generation 2: error_rate 15% > 2% over 10 s (3 of 20 requests)' },
    ],
    rollout: { state: 'Live', stable_generation: 1, candidate_generation: 2, mirror_percent: 0, guardrail: null, generations: [gen(2, 'candidate', 10, 0), gen(1, 'stable', 90, 1)] },
  };
  const d = diagnose(input);
  const codes = d.findings.map((f) => f.code);
  assert.deepEqual(codes, ['CANDIDATE_NOT_READY', 'CANDIDATE_ROLLED_BACK']);
  assert.ok(d.findings[0]!.evidence.some((e) => e.includes('TrafficShifted')));
  assert.match(d.findings[1]!.cause, /error_rate 15% > 2%/);
  assert.equal(d.numbers.generations?.length, 2);
});
