// The autoscaler's loop: samples each settled service every autoscale_refresh_seconds (sooner when requests queue), applies decide(), and scales to the result.
import type { Clock } from '../core/clock.js';
import { PeriodicLoop } from '../core/periodic.js';
import { decide, initialAutoscaleState, type AutoscaleState, type ScaleDecision } from './policy.js';

/** One service as the loop sees it; only services with no operation running are listed. */
export interface ScalableService {
  readonly name: string;
  /** A new generation (an update) starts the policy afresh from the replicas it has. */
  readonly generation: number;
  /**
   * During a rollout each generation is scaled on its own, as its own unit with its share of the bounds
   * (src/autoscale/shares.ts): `name@generation`. Absent, the unit is the service.
   */
  readonly key?: string;
  readonly autoscale: boolean;
  readonly refreshSeconds: number;
  readonly maxConcurrent: number;
  readonly maxWaitMs: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly targetUtilization: number;
}

/** The gateway's view of a service's load since the previous sample. */
export interface LoadReading {
  readonly ready: number;
  readonly meanInFlight: number;
  readonly queued: number;
}

export interface AutoscalerDeps {
  readonly clock: Clock;
  /** How long utilization must stay below target before replicas are removed (`berth up --autoscale-stabilization`). */
  readonly stabilizationMs: number;
  readonly services: () => readonly ScalableService[];
  /** How long the oldest queued request has waited now; does not reset the sample. */
  readonly oldestWaitMs: (service: string, generation: number) => number;
  /** The load since the previous call (which it resets): of the service, or during a rollout of that generation. */
  readonly sample: (service: string, generation: number) => LoadReading | undefined;
  /** How many replicas the service (during a rollout: the generation) has now (placed, not leaving). */
  readonly count: (service: string, generation: number) => number;
  /** Adds or drains and removes replicas until the service has `to`; the loop runs one of these at a time per service. */
  readonly scale: (service: ScalableService, to: number) => Promise<void>;
  /** A change of the desired count: recorded as an event with its numbers. */
  readonly record: (service: string, decision: ScaleDecision, unit: ScalableService) => void;
  readonly onError: (service: string, err: unknown) => void;
}

export interface ScaleView {
  /** The policy's count for an autoscaled service. */
  readonly desired?: number;
  /** busy ÷ ready replicas in percent at the last sample; null when none was ready. */
  readonly utilization: number | null;
  readonly busy: number;
  readonly sampledAt: number;
}

interface Tracked {
  readonly generation: number;
  state: AutoscaleState;
  lastSampleAt: number;
  view?: ScaleView;
}

/** How often the loop looks; each service is sampled on its own period. */
export const TICK_MS = 250;
/** An early sample needs this much history: a mean over less is noise. */
const MIN_EARLY_SAMPLE_MS = 200;

export class Autoscaler {
  private readonly tracked = new Map<string, Tracked>();
  private readonly acting = new Map<string, Promise<void>>();
  // Listing the services can fail (the store is closing?): the loop goes on regardless.
  private readonly loop: PeriodicLoop;

  constructor(private readonly d: AutoscalerDeps) {
    this.loop = new PeriodicLoop(d.clock, TICK_MS, () => this.tick(), (err) => d.onError('*', err));
  }

  start(): void {
    this.loop.start();
  }

  /** Stops sampling and waits for running scale actions. */
  async stop(): Promise<void> {
    this.loop.stop();
    await Promise.all([...this.acting.values()]);
  }

  /** A service's view, or during a rollout a generation's (by its key, `name@generation`). */
  view(key: string): ScaleView | undefined {
    const t = this.tracked.get(key);
    if (t === undefined) return undefined;
    return { ...(t.view ?? { utilization: null, busy: 0, sampledAt: t.lastSampleAt }), desired: t.state.desiredReplicas };
  }

  /** One pass over the services (the timer calls it; tests may too). */
  tick(): void {
    const now = this.d.clock.now();
    const seen = new Set<string>();
    for (const svc of this.d.services()) {
      seen.add(keyOf(svc));
      try {
        this.step(svc, now);
      } catch (err) {
        this.d.onError(svc.name, err);
      }
    }
    // A service that is gone, or busy with an operation, starts afresh when it is back.
    for (const name of this.tracked.keys()) if (!seen.has(name)) this.tracked.delete(name);
  }

  private step(svc: ScalableService, now: number): void {
    const key = keyOf(svc);
    let t = this.tracked.get(key);
    if (t === undefined || t.generation !== svc.generation) {
      const desired = Math.min(svc.maxReplicas, Math.max(svc.minReplicas, this.d.count(svc.name, svc.generation)));
      t = { generation: svc.generation, state: initialAutoscaleState(desired), lastSampleAt: now };
      this.tracked.set(key, t);
      this.d.sample(svc.name, svc.generation); // the sample starts now, not at whatever the gateway last saw
      return;
    }
    const since = now - t.lastSampleAt;
    const due = since >= svc.refreshSeconds * 1000 - TICK_MS / 2;
    // Requests that waited a fifth of their allowance mean demand already exceeds the replicas: no need to wait for the period.
    const pressure = since >= MIN_EARLY_SAMPLE_MS && this.d.oldestWaitMs(svc.name, svc.generation) >= Math.min(100, svc.maxWaitMs / 5);
    if (due || pressure) this.sampleAndDecide(svc, t, now);
    if (svc.autoscale && !this.acting.has(key) && this.d.count(svc.name, svc.generation) !== t.state.desiredReplicas) this.act(svc, t.state.desiredReplicas);
  }

  private sampleAndDecide(svc: ScalableService, t: Tracked, now: number): void {
    const load = this.d.sample(svc.name, svc.generation);
    t.lastSampleAt = now;
    if (load === undefined) return;
    // Queued requests count as demand (so a spike scales faster), but never beyond the most replicas the service may have.
    const busy = Math.min((load.meanInFlight + load.queued) / svc.maxConcurrent, Math.max(svc.maxReplicas, load.ready));
    t.view = { utilization: load.ready > 0 ? Math.round((Math.min(busy, load.ready) * 1000) / load.ready) / 10 : null, busy: Math.round(busy * 100) / 100, sampledAt: now };
    if (!svc.autoscale) return;
    const config = { minReplicas: svc.minReplicas, maxReplicas: svc.maxReplicas, targetUtilization: svc.targetUtilization, stabilizationMs: this.d.stabilizationMs };
    const r = decide(config, { replicas: load.ready, busy }, t.state, now);
    t.state = r.state;
    if (r.decision !== undefined) this.d.record(svc.name, r.decision, svc);
  }

  private act(svc: ScalableService, to: number): void {
    const key = keyOf(svc);
    const run = this.d.scale(svc, to)
      .catch((err: unknown) => this.d.onError(svc.name, err))
      .finally(() => this.acting.delete(key));
    this.acting.set(key, run);
  }
}

const keyOf = (svc: ScalableService): string => svc.key ?? svc.name;
