// Rules for failing requests: run() raising (502), scoring timeouts (504), and overload (503) with the replica count the load needs.
import { calculateReplicas } from '../autoscale/calculator.js';
import { accessLines, iso, jsonRecords, quantile, round, type AccessLine, type LogRecord } from './logs.js';
import type { DiagnoseInput, Finding } from './types.js';

export interface RequestFacts {
  readonly from: number;
  readonly records: readonly LogRecord[];
  readonly access: readonly AccessLine[];
}

export function requestFacts(input: DiagnoseInput): RequestFacts {
  const to = input.now.getTime();
  const from = to - input.windowMs;
  const records = jsonRecords(input.logs.filter((l) => l.kind !== 'init'));
  return { from, records, access: accessLines(records, from, to) };
}

const within = (input: DiagnoseInput): string => `the last ${describeWindow(input.windowMs)}`;

export function describeWindow(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${round(ms / 1000, 0)} s`;
}

/** run() raised: the replica answered 500, the gateway 502. */
export function runFailedRule(input: DiagnoseInput, f: RequestFacts): Finding[] {
  const failed = f.access.filter((a) => a.status === 500);
  const raised = f.records.filter((r) => r.timeMs >= f.from && typeof r.fields.traceback === 'string' && typeof r.fields.request_id === 'string' && /^run\(\) raised/.test(String(r.fields.msg)));
  if (failed.length === 0 && raised.length === 0) return [];
  const newest = raised.reduce<LogRecord | undefined>((a, b) => (a === undefined || b.timeMs >= a.timeMs ? b : a), undefined);
  const total = f.access.length;
  const evidence = [`${Math.max(failed.length, raised.length)} request(s) failed in run() in ${within(input)} (of ${total} answered by the replicas)`];
  let cause = 'run() raises an exception';
  if (newest !== undefined) {
    cause = String(newest.fields.msg);
    evidence.push(`newest at ${iso(newest.timeMs)} on replica ${newest.replica}, request id ${String(newest.fields.request_id)}:`);
    const tb = String(newest.fields.traceback).trimEnd().split('\n');
    evidence.push(...tb.slice(Math.max(0, tb.length - 12)).map((l) => `  ${l}`));
  }
  return [{
    severity: 'error', code: 'RUN_FAILED',
    symptom: `scoring requests to ${input.service.name} fail with 502 (run() raised in the entry script)`,
    cause, evidence,
    fix: `Fix run() where the traceback points, then: berth service update ${input.service.name}; find one request's lines with: berth service logs ${input.service.name} | grep REQUEST_ID; reproduce locally with: berth service debug ${input.service.name}`,
  }];
}

/** 504s: latency against the scoring timeout, and the slowest requests. */
export function timeoutRule(input: DiagnoseInput, f: RequestFacts): Finding[] {
  const replica504 = f.access.filter((a) => a.status === 504);
  const gateway504 = input.requests.filter((r) => r.status === 504);
  const count = Math.max(replica504.length, gateway504.length);
  if (count === 0) return [];
  const timeout = input.spec.scoring_timeout_ms;
  const ms = f.access.map((a) => a.ms).sort((a, b) => a - b);
  const slowest = [...f.access].sort((a, b) => b.ms - a.ms).slice(0, 3);
  const pct = (p: number): string => { const v = quantile(ms, p); return v === null ? 'n/a' : `${round(v)} ms`; };
  return [{
    severity: 'error', code: 'SCORING_TIMEOUT',
    symptom: `scoring requests to ${input.service.name} fail with 504 (scoring timeout)`,
    cause: `run() takes longer than the scoring timeout of ${timeout} ms for some requests; the worker is recycled each time`,
    evidence: [
      `${count} request(s) timed out in ${within(input)}${replica504.length > 0 ? `, the last at ${iso(replica504[replica504.length - 1]!.timeMs)}` : ''}`,
      `latency at the replicas: p50 ${pct(0.5)}, p95 ${pct(0.95)}, p99 ${pct(0.99)}, max ${pct(1)} against scoring_timeout_ms ${timeout}`,
      ...slowest.map((a) => `slow request ${a.requestId} on ${a.replica}: ${round(a.ms)} ms, status ${a.status} at ${iso(a.timeMs)}`),
    ],
    fix: `Make run() faster, or raise the timeout: berth service update ${input.service.name} --scoring-timeout-ms ${suggestTimeout(ms, timeout)}`,
  }];
}

function suggestTimeout(sorted: readonly number[], timeout: number): number {
  const max = sorted.length === 0 ? timeout : sorted[sorted.length - 1]!;
  return Math.ceil((Math.max(max, timeout) * 2) / 1000) * 1000;
}

/** 503s at the gateway: no replica slot within max_request_wait_time, or no ready replica at all. */
export function overloadRule(input: DiagnoseInput): Finding[] {
  const rejected = input.requests.filter((r) => r.status === 503);
  if (rejected.length === 0) return [];
  const s = input.spec;
  const spanS = Math.max(1, (input.now.getTime() - Math.min(...input.requests.map((r) => r.atMs))) / 1000);
  const rate = input.requests.length / spanS;
  const served = input.requests.filter((r) => r.status < 500).map((r) => r.ms - (r.waitMs ?? 0)).filter((v) => v > 0).sort((a, b) => a - b);
  const waits = input.requests.map((r) => r.waitMs).filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  const max = s.autoscale_enabled ? s.autoscale_max_replicas : s.replicas;
  const evidence = [
    `${rejected.length} of ${input.requests.length} request(s) answered 503 in the gateway's last ${round(spanS, 0)} s (${round(rate, 2)} requests/s)`,
    `replicas: ${input.service.ready} ready of ${input.service.desired} desired; the most allowed: ${max}${s.autoscale_enabled ? ' (autoscale_max_replicas)' : ' (num_replicas, no autoscaling)'}${input.service.ready >= max ? ' (at the maximum)' : ''}`,
    `utilization ${input.utilization === null ? 'not sampled yet' : `${round(input.utilization)}%`} (target ${s.autoscale_target_utilization}%), ${input.queued} request(s) queued now, ${s.replica_max_concurrent_requests} at once per replica`,
  ];
  if (waits.length > 0) evidence.push(`queue wait: p50 ${round(quantile(waits, 0.5)!)} ms, max ${round(waits[waits.length - 1]!)} ms against max_request_wait_time ${s.max_request_wait_time} ms`);
  if (input.service.ready === 0) {
    return [{
      severity: 'error', code: 'NO_READY_REPLICA', symptom: `scoring requests to ${input.service.name} fail with 503`,
      cause: `no replica is ready (state ${input.service.state}${input.service.reason === '' ? '' : `: ${input.service.reason}`})`, evidence,
      fix: 'See the other findings for why no replica is ready; requests succeed once one is.',
    }];
  }
  const p50 = quantile(served, 0.5);
  let fix = `Allow more replicas (berth service update ${input.service.name} --max-replicas N) or more requests per replica (--max-concurrent-requests), or a longer wait (--max-request-wait-ms).`;
  if (p50 !== null) {
    const calc = calculateReplicas({ targetRps: rate, requestSeconds: p50 / 1000, maxConcurrentPerReplica: s.replica_max_concurrent_requests, targetUtilization: s.autoscale_target_utilization });
    evidence.push(`the replica calculator for ${round(rate, 2)} requests/s at ${round(p50)} ms each and ${s.autoscale_target_utilization}% target utilization: ${calc.replicas} replica(s)`);
    const need = Math.max(calc.replicas, input.service.ready + 1);
    fix = s.autoscale_enabled
      ? input.service.ready >= max
        ? `Raise the maximum: berth service update ${input.service.name} --max-replicas ${need} (and --min-replicas ${Math.min(need, Math.max(s.autoscale_min_replicas, calc.replicas))} if load arrives in bursts).`
        : `The autoscaler reacts too late for these bursts: raise the minimum (--min-replicas ${Math.min(need, max)}) or lower the target (--target-utilization ${Math.max(10, s.autoscale_target_utilization - 20)}).`
      : `Run more replicas: berth service update ${input.service.name} --replicas ${need}, or autoscale (--min-replicas ${input.service.ready} --max-replicas ${need}).`;
  }
  return [{
    severity: 'error', code: 'SERVICE_OVERLOADED',
    symptom: `scoring requests to ${input.service.name} fail with 503 (overloaded)`,
    cause: `more requests arrive than ${input.service.ready} replica(s) at ${s.replica_max_concurrent_requests} request(s) each can take within max_request_wait_time (${s.max_request_wait_time} ms)`,
    evidence, fix,
  }];
}

