// Diagnosis: runs every rule over a service's gathered state and returns findings, most severe first, with its key numbers.
import { quantile, round } from './logs.js';
import { buildRule, busyRule, failedOperationRule } from './operations.js';
import { describeWindow, overloadRule, requestFacts, runFailedRule, timeoutRule } from './requests.js';
import { livenessRule, oomRule, unschedulableRule } from './resources.js';
import { startupRules } from './startup.js';
import { imagePullRule, modelFetchRule } from './cluster.js';
import { rolloutRules } from './rollout.js';
import { SEVERITY_RANK, type DiagnoseInput, type Diagnosis, type Finding, type KeyNumbers } from './types.js';

export * from './types.js';
export { describeWindow } from './requests.js';

/** Pure: the same input gives the same findings; nothing is reported without evidence in the input. */
export function diagnose(input: DiagnoseInput): Diagnosis {
  const facts = requestFacts(input);
  const found: Finding[] = [
    ...startupRules(input),
    ...buildRule(input),
    ...unschedulableRule(input),
    ...imagePullRule(input),
    ...modelFetchRule(input),
    ...oomRule(input),
    ...runFailedRule(input, facts),
    ...overloadRule(input),
    ...timeoutRule(input, facts),
    ...livenessRule(input),
    ...rolloutRules(input),
    ...busyRule(input),
  ];
  found.push(...failedOperationRule(input, found));
  // Stable: equally severe findings keep the rules' order (causes before consequences).
  const findings = found.map((f, i) => ({ f, i })).sort((a, b) => SEVERITY_RANK[a.f.severity] - SEVERITY_RANK[b.f.severity] || a.i - b.i).map((x) => x.f);
  const numbers = keyNumbers(input, facts.access.map((a) => ({ status: a.status, ms: a.ms })));
  const since = describeWindow(input.windowMs);
  const summary = findings.length === 0
    ? `no problems found in the last ${since}: ${input.service.name} is ${numbers.state}, ${numbers.ready_replicas}/${numbers.desired_replicas} replica(s) ready`
    : `${findings.length} problem(s) found in the last ${since}; ${input.service.name} is ${numbers.state}${input.service.reason === '' ? '' : ` (${input.service.reason})`}`;
  return { service: input.service.name, since, findings, summary, numbers };
}

function keyNumbers(input: DiagnoseInput, replicaRequests: readonly { status: number; ms: number }[]): KeyNumbers {
  // The gateway's figures when it saw traffic; else the replicas' access logs (requests sent to them directly).
  const useGateway = input.requests.length > 0;
  const rows = useGateway ? input.requests : replicaRequests;
  const ms = rows.map((r) => r.ms).sort((a, b) => a - b);
  const errors: Record<string, number> = {};
  for (const r of rows) if (r.status >= 400) errors[String(r.status)] = (errors[String(r.status)] ?? 0) + 1;
  const spanS = useGateway ? Math.min(60, input.windowMs / 1000) : input.windowMs / 1000;
  const p = (q: number): number | null => { const v = quantile(ms, q); return v === null ? null : round(v, 2); };
  return {
    state: input.service.state, ready_replicas: input.service.ready, desired_replicas: input.service.desired,
    restarts: input.replicas.reduce((n, r) => n + r.restarts, 0),
    requests: rows.length, request_rate: round(rows.length / Math.max(1, spanS), 2),
    latency_p50_ms: p(0.5), latency_p99_ms: p(0.99), errors, utilization: input.utilization,
    ...(input.rollout === undefined ? {} : { generations: input.rollout.generations }),
  };
}
