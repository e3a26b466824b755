// Rules for replicas the machine cannot hold or keep: OOM kills, unschedulable requests, and liveness-probe kills.
import { round } from './logs.js';
import type { DiagEvent, DiagnoseInput, DiagOom, Finding } from './types.js';

const MB = 1024 * 1024;
const GIB = 1024 * MB;
const inWindow = (input: DiagnoseInput, e: { time: string } | { at: string }): boolean =>
  Date.parse('time' in e ? e.time : e.at) >= input.now.getTime() - input.windowMs;

/** memory_gb to ask for: the peak seen × 1.5, rounded up to a tenth of a GB. */
export function suggestMemoryGb(peakBytes: number): number {
  return Math.ceil(((peakBytes * 1.5) / GIB) * 10) / 10;
}

function oomOf(e: DiagEvent): DiagOom | undefined {
  const o = e.data?.oom as Partial<DiagOom> | undefined;
  return typeof o?.limitBytes === 'number' && typeof o.usageBytes === 'number' ? { limitBytes: o.limitBytes, usageBytes: o.usageBytes } : undefined;
}

export function oomRule(input: DiagnoseInput): Finding[] {
  const kills = input.events.filter((e) => e.type === 'OOMKilled' && inWindow(input, e));
  const reports: DiagOom[] = kills.map(oomOf).filter((o): o is DiagOom => o !== undefined);
  for (const r of input.replicas) {
    const t = r.lastTermination;
    if (t?.oom !== undefined && inWindow(input, t) && !kills.some((k) => k.replica === r.id && k.time === t.at)) reports.push(t.oom);
  }
  if (reports.length === 0) return [];
  const peak = Math.max(...reports.map((o) => o.usageBytes));
  const limit = Math.max(...reports.map((o) => o.limitBytes));
  const suggested = Math.max(suggestMemoryGb(peak), round(input.spec.memory_gb + 0.1, 1));
  return [{
    severity: 'critical', code: 'REPLICA_OOM_KILLED',
    symptom: `replicas of ${input.service.name} are killed for out-of-memory (OOMKilled) and restart; requests on them fail`,
    cause: `the replica's memory use grows past its limit of ${Math.round(limit / MB)} MB (memory_gb ${input.spec.memory_gb}${input.spec.memory_gb_limit === undefined ? '' : `, memory_gb_limit ${input.spec.memory_gb_limit}`})`,
    evidence: [
      `${Math.max(kills.length, reports.length)} OOM kill(s) in the window`,
      `limit ${Math.round(limit / MB)} MB, peak usage seen ${Math.round(peak / MB)} MB`,
      ...kills.slice(-3).map((e) => `${e.time} OOMKilled ${e.replica ?? ''}: ${e.message}`),
    ],
    fix: `Give it more memory: berth service update ${input.service.name} --memory-gb ${suggested}${input.spec.memory_gb_limit === undefined ? '' : ` --memory-gb-limit ${suggested}`} (peak × 1.5), or make the model use less (a leak grows with every request).`,
  }];
}

const SCHEDULING_CODES = new Set(['SCHEDULING_TIMEOUT', 'REQUEST_EXCEEDS_CAPACITY']);

export function unschedulableRule(input: DiagnoseInput): Finding[] {
  const failed = input.events.filter((e) => e.type === 'FailedScheduling' && inWindow(input, e));
  const opErr = input.lastOperation?.error;
  const opFailed = opErr !== undefined && SCHEDULING_CODES.has(opErr.code) && input.service.state !== 'Healthy';
  const now = input.service.state === 'Unschedulable';
  if (!now && !opFailed && !(failed.length > 0 && input.service.state !== 'Healthy')) return [];
  const text = [input.service.reason, opErr?.message ?? '', ...failed.map((e) => e.message)].join(' ');
  const short = [...new Set([...text.matchAll(/Insufficient (cpu|memory|nvidia\.com\/gpu)/g)].map((m) => m[1]!))];
  const s = input.spec;
  const evidence = [`requested per replica: cpu ${s.cpu_cores}, memory_gb ${s.memory_gb}, gpu ${s.gpu_cores}`];
  if (input.capacity !== undefined) {
    const c = input.capacity;
    const u = input.used ?? { cpu: 0, memoryGb: 0, gpu: 0 };
    evidence.push(`machine capacity: cpu ${c.cpu}, memory_gb ${round(c.memoryGb, 2)}, gpu ${c.gpu}; free now: cpu ${round(c.cpu - u.cpu, 2)}, memory_gb ${round(c.memoryGb - u.memoryGb, 2)}, gpu ${round(c.gpu - u.gpu, 2)}`);
  }
  if (input.service.state === 'Unschedulable') evidence.push(`state Unschedulable: ${input.service.reason}`);
  evidence.push(...failed.slice(-3).map((e) => `${e.time} FailedScheduling: ${e.message}`));
  if (opFailed) evidence.push(`${input.lastOperation!.kind} operation ${input.lastOperation!.id} failed: ${opErr.message.split('\n')[0]}`);
  const names = short.length === 0 ? 'resources' : short.map((r) => (r === 'nvidia.com/gpu' ? 'GPU' : r)).join(' and ');
  return [{
    severity: 'critical', code: opFailed ? (opErr.code === 'REQUEST_EXCEEDS_CAPACITY' ? 'REQUEST_EXCEEDS_CAPACITY' : 'SCHEDULING_TIMEOUT') : 'SCHEDULING_TIMEOUT',
    symptom: `replicas of ${input.service.name} cannot be placed on this machine (Unschedulable)`,
    cause: `not enough free ${names}: a replica requests more than the machine has left`,
    evidence,
    fix: `Lower the request (berth service update ${input.service.name} --cpu/--memory-gb/--gpu), free resources (delete or scale down other services), or start berth with more capacity (berth up --capacity cpu=…,memory_gb=…,gpu=…).`,
  }];
}

export function livenessRule(input: DiagnoseInput): Finding[] {
  const probes = input.events.filter((e) => e.type === 'ProbeFailed' && inWindow(input, e));
  // Each kill emits LivenessKill and then Exited (reason LivenessProbeFailed): count the Exited ones only when no LivenessKill is there.
  const killEvents = input.events.filter((e) => e.type === 'LivenessKill' && inWindow(input, e));
  const kills = killEvents.length > 0 ? killEvents : input.events.filter((e) => e.type === 'Exited' && /LivenessProbeFailed/.test(JSON.stringify(e.data ?? {})) && inWindow(input, e));
  if (probes.length === 0 && kills.length === 0) return [];
  const s = input.spec;
  const lastProbe = probes[probes.length - 1];
  return [{
    severity: kills.length > 0 ? 'error' : 'warning', code: 'REPLICA_LIVENESS_FAILED',
    symptom: `replicas of ${input.service.name} fail their liveness probe${kills.length > 0 ? ' and are restarted' : ''}`,
    cause: `GET / on the replica did not answer within ${s.period_seconds} s periods × ${s.failure_threshold} failures (the server hangs or is starved, e.g. run() blocking all workers)`,
    evidence: [
      `${probes.length} failed probe(s) and ${kills.length} liveness kill(s) in the window`,
      ...(lastProbe === undefined ? [] : [`${lastProbe.time} ProbeFailed ${lastProbe.replica ?? ''}: ${lastProbe.message}`]),
      ...kills.slice(-3).map((e) => `${e.time} ${e.type} ${e.replica ?? ''}: ${e.message}`),
    ],
    fix: `Find what blocks the server (berth service logs ${input.service.name} --previous); if it is only slow, loosen the probe: berth service update ${input.service.name} --liveness-timeout-s N --liveness-failure-threshold N.`,
  }];
}
