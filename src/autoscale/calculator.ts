// The replica calculator (DESIGN.md): replicas = ceil(target_rps × request_seconds ÷ (target_utilization/100) ÷ max_concurrent_per_replica).
import { BerthError } from '../errors/catalogue.js';

export const REPLICA_FORMULA = 'replicas = ceil(target_rps × request_seconds ÷ (target_utilization/100) ÷ max_concurrent_per_replica)';

export interface ReplicaInputs {
  /** Requests per second the service must answer. */
  readonly targetRps: number;
  /** How long one request takes, in seconds. */
  readonly requestSeconds: number;
  /** Requests one replica takes at once (replica_max_concurrent_requests); default 1. */
  readonly maxConcurrentPerReplica?: number;
  /** Target busy share of the replicas in percent, 1–100 (autoscale_target_utilization); default 70. */
  readonly targetUtilization?: number;
}

export interface CalculationStep {
  readonly label: string;
  /** The arithmetic with this step's numbers, e.g. "40 rps × 0.05 s". */
  readonly expression: string;
  readonly value: number;
}

export interface ReplicaCalculation {
  readonly inputs: Required<ReplicaInputs>;
  readonly steps: readonly CalculationStep[];
  readonly replicas: number;
}

// Float noise (14 × 0.05 = 0.7000000000000001) must not add a replica in the final ceil().
const EPSILON = 1e-9;

export function calculateReplicas(given: ReplicaInputs): ReplicaCalculation {
  const inputs: Required<ReplicaInputs> = {
    targetRps: given.targetRps,
    requestSeconds: given.requestSeconds,
    maxConcurrentPerReplica: given.maxConcurrentPerReplica ?? 1,
    targetUtilization: given.targetUtilization ?? 70,
  };
  const { targetRps: rps, requestSeconds: s, maxConcurrentPerReplica: conc, targetUtilization: target } = inputs;
  const bad = (detail: string): never => {
    throw new BerthError('INVALID_ARGUMENT', { detail });
  };
  if (!(Number.isFinite(rps) && rps > 0)) bad(`target requests per second ${rps} must be greater than 0`);
  if (!(Number.isFinite(s) && s > 0)) bad(`request seconds ${s} must be greater than 0`);
  if (!(Number.isInteger(conc) && conc >= 1)) bad(`max concurrent requests per replica ${conc} must be a whole number ≥ 1`);
  if (!(target >= 1 && target <= 100)) bad(`target utilization ${target} must be 1–100 (%)`);

  // Little's law: requests in flight on average = arrival rate × time in the system.
  const concurrent = rps * s;
  const atTarget = (concurrent * 100) / target;
  const perReplica = atTarget / conc;
  const replicas = Math.max(1, Math.ceil(perReplica - EPSILON));
  // Values rounded for people and JSON alike; the ceil above used the exact ones.
  const steps: CalculationStep[] = [
    { label: 'requests in flight', expression: `${num(rps)} rps × ${num(s)} s`, value: round(concurrent) },
    { label: `capacity for ${num(target)}% utilization`, expression: `${num(concurrent)} ÷ ${num(target / 100)}`, value: round(atTarget) },
    { label: `replicas at ${conc} concurrent each`, expression: `${num(atTarget)} ÷ ${conc}`, value: round(perReplica) },
    { label: 'replicas', expression: `ceil(${num(perReplica)})`, value: replicas },
  ];
  return { inputs, steps, replicas };
}

const round = (n: number): number => Number(n.toFixed(6));

/** Up to 4 decimals, trailing zeros and float noise dropped: 2.857142… → "2.8571", 2.0000000000000004 → "2". */
export function num(n: number): string {
  return String(Number(n.toFixed(4)));
}
