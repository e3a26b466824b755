// Rules about a rollout: a candidate with a share but no ready replica (its share goes to the stable generation), and a guardrail rollback in the window.
import type { DiagGeneration, DiagnoseInput, Finding } from './types.js';

export function rolloutRules(input: DiagnoseInput): Finding[] {
  return [...candidateNotReady(input), ...guardrailRollback(input)];
}

const figures = (g: DiagGeneration): string =>
  `generation ${g.generation} (${g.role}): weight ${g.weight_percent}%, takes ${g.effective_percent}% now, ${g.ready_replicas}/${g.desired_replicas} replica(s) ready, ${g.requests} request(s), 5xx ${g.error_rate_percent === null ? '-' : `${g.error_rate_percent}%`}, p99 ${g.latency_p99_ms === null ? '-' : `${g.latency_p99_ms} ms`}`;

function candidateNotReady(input: DiagnoseInput): Finding[] {
  const r = input.rollout;
  if (r === undefined || r.state !== 'Live') return [];
  const c = r.generations.find((g) => g.generation === r.candidate_generation);
  if (c === undefined || c.ready_replicas > 0 || (c.weight_percent === 0 && r.mirror_percent === 0)) return [];
  const from = input.now.getTime() - input.windowMs;
  const shifted = input.events.filter((e) => e.type === 'TrafficShifted' && Date.parse(e.time) >= from).slice(-3);
  const name = input.service.name;
  return [{
    severity: 'error', code: 'CANDIDATE_NOT_READY',
    symptom: `the candidate generation ${c.generation} of ${name} takes none of its ${c.weight_percent}% of requests${r.mirror_percent > 0 ? ` nor its ${r.mirror_percent}% mirror` : ''}: generation ${r.stable_generation} answers them`,
    cause: `generation ${c.generation} has no ready replica`,
    evidence: [...r.generations.map(figures), ...shifted.map((e) => `${e.time} ${e.type}: ${e.message}`)],
    fix: `See why its replicas are not ready (berth service show ${name}, berth service logs ${name} --init); roll it back with berth service rollback ${name}.`,
  }];
}

function guardrailRollback(input: DiagnoseInput): Finding[] {
  const from = input.now.getTime() - input.windowMs;
  const e = input.events.filter((x) => x.type === 'GuardrailRollback' && Date.parse(x.time) >= from).at(-1);
  if (e === undefined) return [];
  const name = input.service.name;
  return [{
    severity: 'warning', code: 'CANDIDATE_ROLLED_BACK',
    symptom: `a rollout of ${name} was rolled back automatically`,
    cause: e.message,
    evidence: [`${e.time} ${e.type}: ${e.message}`],
    fix: `Read the candidate's failures (berth service logs ${name}; berth service requests ${name} with --capture-failures), fix it and start a new rollout (berth service update ${name} ... --traffic PERCENT).`,
  }];
}
