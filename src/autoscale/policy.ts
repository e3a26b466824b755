// The autoscaling policy (DESIGN.md "Gateway and autoscaling"): a pure function of config, one load sample, the previous state and the clock.
import { BerthError } from '../errors/catalogue.js';

/** DESIGN.md: replicas are removed only after about 1 min of sustained low load. */
export const DEFAULT_STABILIZATION_MS = 60_000;

export interface AutoscaleConfig {
  /** Fewest replicas, at least 1 (autoscale_min_replicas). */
  readonly minReplicas: number;
  /** Most replicas, at least minReplicas (autoscale_max_replicas). */
  readonly maxReplicas: number;
  /** Target busy share of the replicas in percent, 1–100 (autoscale_target_utilization). */
  readonly targetUtilization: number;
  /** How long utilization must stay below target before replicas are removed; tests use a few seconds. */
  readonly stabilizationMs?: number;
}

/** One load sample, taken by the caller every autoscale_refresh_seconds. */
export interface Observation {
  /** Replicas that are ready and take traffic (the denominator of utilization). */
  readonly replicas: number;
  /**
   * Busy replicas: those with a request in flight. With several concurrent requests per replica the caller
   * may pass in-flight requests ÷ replica_max_concurrent_requests, so fractions are allowed.
   */
  readonly busy: number;
}

/** What the policy remembers between samples; start from initialAutoscaleState(). */
export interface AutoscaleState {
  readonly desiredReplicas: number;
  /** When the current unbroken run of below-target samples began (ms); absent when the last sample was not below target. */
  readonly lowSince?: number;
  /** The highest busy count in that run: the scale-down sizes for it, so a peak inside the window is not cut off. */
  readonly lowPeakBusy?: number;
  /** The highest utilization (%) in that run, for the decision's message. */
  readonly lowPeakUtilization?: number;
  /** When the previous sample was taken: a gap longer than the window breaks the run, since nothing was observed in it. */
  readonly sampledAt?: number;
}

export type DecisionReason = 'above-target' | 'below-target' | 'below-min' | 'above-max';

/** A change of the desired replica count, with the numbers behind it; the caller records it as an event. */
export interface ScaleDecision {
  readonly from: number;
  readonly to: number;
  readonly reason: DecisionReason;
  /** The sample the decision was taken on. */
  readonly replicas: number;
  readonly busy: number;
  /** busy ÷ replicas in percent; null when no replica was ready. */
  readonly utilization: number | null;
  readonly targetUtilization: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Scale-up only: the count the rule asked for before the max cap. */
  readonly wanted?: number;
  /** Scale-down only: the low run's peak and length. */
  readonly peakBusy?: number;
  readonly peakUtilization?: number;
  readonly lowForMs?: number;
  /** e.g. "2 → 4: utilization 100% > target 70%" */
  readonly message: string;
}

/** The part of a decision that depends on the rule that fired; the sample's numbers are added to it. */
type DecisionCore = Pick<ScaleDecision, 'from' | 'to' | 'reason' | 'message' | 'wanted' | 'peakBusy' | 'peakUtilization' | 'lowForMs'>;

export interface AutoscaleResult {
  readonly desiredReplicas: number;
  readonly state: AutoscaleState;
  /** Present only when desiredReplicas differs from the previous state's. */
  readonly decision?: ScaleDecision;
}

/** The deployment spec's fields, so a normalised service spec can be passed as is. */
export interface AutoscaleSpecFields {
  readonly autoscale_min_replicas: number;
  readonly autoscale_max_replicas: number;
  readonly autoscale_target_utilization: number;
}

export function autoscaleConfigFromSpec(spec: AutoscaleSpecFields, stabilizationMs = DEFAULT_STABILIZATION_MS): AutoscaleConfig {
  return { minReplicas: spec.autoscale_min_replicas, maxReplicas: spec.autoscale_max_replicas, targetUtilization: spec.autoscale_target_utilization, stabilizationMs };
}

export function initialAutoscaleState(desiredReplicas: number): AutoscaleState {
  return { desiredReplicas };
}

// Float noise (e.g. 14 × 0.05 = 0.7000000000000001) must not cost a whole replica in a ceil().
const EPSILON = 1e-9;

/**
 * Whether `busy` of `replicas` is above the target. Every replica busy counts as above even at target 100:
 * a saturated service cannot show how much more it needs, and it must still be able to grow.
 */
export function isAboveTarget(busy: number, replicas: number, targetUtilization: number): boolean {
  if (busy <= 0) return false;
  if (replicas <= 0 || busy >= replicas) return true;
  return busy * 100 > targetUtilization * replicas + EPSILON;
}

/** Fewest replicas at which `busy` is not above the target: ceil(busy ÷ (target/100)), and more than busy at target 100. */
export function replicasFor(busy: number, targetUtilization: number): number {
  if (busy <= 0) return 0;
  return Math.max(Math.ceil((busy * 100) / targetUtilization - EPSILON), Math.floor(busy) + 1);
}

/**
 * One autoscaler step on one sample. Above target: up at once to max(ready + 1, replicasFor(busy)), capped at max.
 * Below target for the whole stabilisation window: down to replicasFor(the window's peak busy), floored at min.
 * Out of [min, max] (a config change): corrected at once. A decision is returned only when the count changes.
 */
export function decide(config: AutoscaleConfig, observation: Observation, previous: AutoscaleState, now: number): AutoscaleResult {
  checkInputs(config, observation, previous, now);
  const { minReplicas: min, maxReplicas: max, targetUtilization: target } = config;
  const window = config.stabilizationMs ?? DEFAULT_STABILIZATION_MS;
  const { replicas, busy } = observation;
  const from = previous.desiredReplicas;
  // A config change can leave the count out of range: that is corrected at once, whatever the load.
  const inRange = Math.min(max, Math.max(min, from));
  const utilization = replicas > 0 ? (Math.min(busy, replicas) * 100) / replicas : null;
  const common = { replicas, busy, utilization, targetUtilization: target, minReplicas: min, maxReplicas: max };
  const done = (desired: number, state: Omit<AutoscaleState, 'desiredReplicas' | 'sampledAt'>, decision?: DecisionCore): AutoscaleResult => {
    const next: AutoscaleState = { desiredReplicas: desired, ...state, sampledAt: now };
    if (desired === from) return { desiredReplicas: desired, state: next };
    const d = decision ?? rangeDecision(from, desired, min, max);
    return { desiredReplicas: desired, state: next, decision: { ...common, ...d } };
  };

  // No ready replica: utilization is unknown, so only the range is enforced and no low run can be counted.
  if (utilization === null) return done(inRange, {});

  if (isAboveTarget(busy, replicas, target)) {
    // +1 is counted from the ready replicas, not the desired count: replicas still starting already answer this load.
    const wanted = Math.max(replicas + 1, replicasFor(busy, target));
    const to = Math.max(inRange, Math.min(max, wanted));
    if (to === inRange) return done(inRange, {});
    const cap = wanted > max ? `; capped at max ${max}` : '';
    return done(to, {}, { from, to, reason: 'above-target', wanted, message: `${from} → ${to}: utilization ${percent(utilization, target)}% ${utilization > target ? '>' : '≥'} target ${target}%${cap}` });
  }

  if (utilization >= target) return done(inRange, {}); // at target exactly: neither up nor down, and the low run is broken

  // Below target: extend the run (or start one: after a gap or a clock step back there is no evidence it lasted).
  const continues = previous.lowSince !== undefined && previous.sampledAt !== undefined && now >= previous.sampledAt && now - previous.sampledAt <= window;
  const lowSince = continues ? (previous.lowSince ?? now) : now;
  const lowPeakBusy = Math.max(busy, continues ? (previous.lowPeakBusy ?? 0) : 0);
  const lowPeakUtilization = Math.max(utilization, continues ? (previous.lowPeakUtilization ?? 0) : 0);
  const run = { lowSince, lowPeakBusy, lowPeakUtilization };
  const lowForMs = now - lowSince;
  if (lowForMs < window) return done(inRange, run);

  const to = Math.max(min, replicasFor(lowPeakBusy, target));
  // The peak still needs what runs: start a fresh window, so the next verdict rests on the last minute only.
  if (to >= inRange) return done(inRange, { lowSince: now, lowPeakBusy: busy, lowPeakUtilization: utilization });
  return done(to, {}, {
    from, to, reason: 'below-target', peakBusy: lowPeakBusy, peakUtilization: lowPeakUtilization, lowForMs,
    message: `${from} → ${to}: utilization ${percent(lowPeakUtilization, target)}% < target ${target}% for ${seconds(lowForMs)} s`,
  });
}

function rangeDecision(from: number, to: number, min: number, max: number): DecisionCore {
  return to > from
    ? { from, to, reason: 'below-min', message: `${from} → ${to}: below autoscale_min_replicas ${min}` }
    : { from, to, reason: 'above-max', message: `${from} → ${to}: above autoscale_max_replicas ${max}` };
}

/** Whole percent, unless rounding would make it read as equal to the target (66.7% vs 67%). */
function percent(value: number, target: number): string {
  const whole = Math.round(value);
  return whole === target && Math.abs(value - target) > EPSILON ? value.toFixed(1) : String(whole);
}

function seconds(ms: number): string {
  return ms >= 10_000 ? String(Math.round(ms / 1000)) : String(Number((ms / 1000).toFixed(1)));
}

function checkInputs(config: AutoscaleConfig, o: Observation, previous: AutoscaleState, now: number): void {
  const bad = (detail: string): never => {
    throw new BerthError('INVALID_ARGUMENT', { detail: `autoscaler: ${detail}` });
  };
  const whole = (n: number, least: number) => Number.isInteger(n) && n >= least;
  if (!whole(config.minReplicas, 1)) bad(`min replicas ${config.minReplicas} must be a whole number ≥ 1`);
  if (!whole(config.maxReplicas, config.minReplicas)) bad(`max replicas ${config.maxReplicas} must be a whole number ≥ min replicas ${config.minReplicas}`);
  if (!(config.targetUtilization >= 1 && config.targetUtilization <= 100)) bad(`target utilization ${config.targetUtilization} must be 1–100 (%)`);
  if (config.stabilizationMs !== undefined && !(config.stabilizationMs >= 0)) bad(`stabilization window ${config.stabilizationMs} ms must be ≥ 0`);
  if (!whole(o.replicas, 0)) bad(`observed replicas ${o.replicas} must be a whole number ≥ 0`);
  if (!(Number.isFinite(o.busy) && o.busy >= 0)) bad(`observed busy ${o.busy} must be a number ≥ 0`);
  if (!whole(previous.desiredReplicas, 0)) bad(`desired replicas ${previous.desiredReplicas} must be a whole number ≥ 0`);
  if (!Number.isFinite(now)) bad(`clock ${now} is not a time`);
}
