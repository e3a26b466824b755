// What `service list/show` report: the state shown (stored while a change runs, else derived from the replicas), reasons and replicas.
import { z } from 'zod';
import { formatInitError, oomMessage } from '../../targets/local/index.js';
import type { ReplicaObserver } from './target.js';
import type { ReplicaStatus, Termination } from '../../targets/types.js';
import type { EventLog } from './events.js';
import { operationSchema, type OperationStore } from './operations.js';
import type { ServiceRecord, ServiceStore } from './service-store.js';
import { rolloutViewSchema, type RolloutView } from './rollout-view.js';

export const SERVICE_STATES = ['Transitioning', 'Healthy', 'Unhealthy', 'Unschedulable', 'Failed', 'Deleting'] as const;
export type ServiceState = (typeof SERVICE_STATES)[number];

export const replicaViewSchema = z.object({
  id: z.string(),
  index: z.number().int(),
  generation: z.number().int(),
  state: z.string().describe('Starting, Ready, CrashLoopBackOff, Stopped'),
  restarts: z.number().int(),
  pid: z.number().int().optional(),
  url: z.string().optional(),
  started_at: z.string().optional(),
  ready_at: z.string().optional(),
  next_restart_at: z.string().optional(),
  last_termination: z.object({ reason: z.string(), exit_code: z.number().nullable(), signal: z.string().nullable(), at: z.string(), message: z.string() }).optional(),
  recent_terminations: z.array(z.object({ reason: z.string(), exit_code: z.number().nullable(), signal: z.string().nullable(), at: z.string(), message: z.string() })).optional()
    .describe('how the last runs ended, newest first (their output: logs --previous=N)'),
  last_init_error: z.string().optional(),
  waiting: z.string().optional().describe('why it is not running yet, in its target\'s words (a cluster\'s ImagePullBackOff, Unschedulable, ...)'),
  phase: z.object({ name: z.string(), since: z.string(), last_output: z.string().optional() }).optional()
    .describe('while it starts: pulling, fetching-models, importing, init or warming, since when, and its last output line'),
  memory: z.object({ enforcement: z.string(), limit_mb: z.number().optional() }),
});

export const serviceSummarySchema = z.object({
  name: z.string(),
  state: z.enum(SERVICE_STATES),
  reason: z.string(),
  generation: z.number().int(),
  ready_replicas: z.number().int(),
  desired_replicas: z.number().int(),
  scoring_uri: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const trafficSchema = z.object({
  window_s: z.number().describe('the span the rate and percentiles cover (up to the last 60 s)'),
  requests: z.number().int(),
  request_rate: z.number().describe('requests per second'),
  latency_p50_ms: z.number().nullable(),
  latency_p99_ms: z.number().nullable(),
  in_flight: z.number().int(),
  queued: z.number().int(),
  utilization: z.number().nullable().describe('busy replicas ÷ ready replicas in percent at the autoscaler\'s last sample'),
});

export const serviceDetailSchema = serviceSummarySchema.extend({
  swagger_uri: z.string(),
  auth: z.enum(['key', 'token', 'none']),
  keys: z.object({ primary: z.string(), secondary: z.string() }),
  spec: z.record(z.string(), z.unknown()).describe('the normalised spec of the running version'),
  operation: operationSchema.optional().describe('the latest operation'),
  replicas: z.array(replicaViewSchema),
  traffic: trafficSchema.describe('live figures kept by the gateway'),
  rollout: rolloutViewSchema.optional().describe('a rollout under way: the stable and candidate generations side by side'),
});

export type ReplicaView = z.infer<typeof replicaViewSchema>;
export type ServiceSummary = z.infer<typeof serviceSummarySchema>;
export type ServiceDetail = z.infer<typeof serviceDetailSchema>;
export type TrafficView = z.infer<typeof trafficSchema>;

/** One line on how a run ended: the OOM report, the init() error, or the exit. */
export function describeTermination(t: Termination): string {
  if (t.oom !== undefined) return oomMessage(t.oom);
  const how = t.signal !== null ? `killed by ${t.signal}` : t.exitCode === null ? 'ended' : `exited with code ${t.exitCode}`;
  return `${t.reason}: berth serve ${how}${t.initError === undefined ? '' : `; init() failed: ${formatInitError(t.initError)}`}`;
}

export interface ViewDeps {
  readonly store: ServiceStore;
  readonly ops: OperationStore;
  readonly events: EventLog;
  /** The replicas as the target reports them, and those it is draining. */
  readonly target: ReplicaObserver & { readonly draining: ReadonlySet<string> };
  /** The control plane's URL, known once it listens. */
  readonly baseUrl: () => string;
  /** The autoscaler's desired count of an autoscaled service, once it tracks it. */
  readonly desired?: (service: string) => number | undefined;
  /** The gateway's live figures. */
  readonly traffic?: (service: string) => TrafficView;
  /** A rollout under way, generation by generation. */
  readonly rollout?: (service: string) => RolloutView | undefined;
}

const NO_TRAFFIC: TrafficView = { window_s: 0, requests: 0, request_rate: 0, latency_p50_ms: null, latency_p99_ms: null, in_flight: 0, queued: 0, utilization: null };

export class ServiceViews {
  private readonly shown = new Map<string, ServiceState>();

  constructor(private readonly d: ViewDeps) {}

  scoringUri(name: string): string {
    return `${this.d.baseUrl()}/api/v1/service/${name}/score`;
  }

  /** The state to show, its reason, and how many of the running version's replicas are ready. */
  state(svc: ServiceRecord): { state: ServiceState; reason: string; ready: number; desired: number } {
    const current = new Set(this.d.store.replicas(svc.name).filter((r) => r.generation === svc.generation).map((r) => r.id));
    const statuses = this.d.target.list(svc.name).filter((s) => current.has(s.replicaId));
    const ready = statuses.filter((s) => s.state === 'Ready' && !this.d.target.draining.has(s.replicaId)).length;
    const spec = svc.spec;
    const desired = (spec.autoscale_enabled ? this.d.desired?.(svc.name) : undefined) ?? spec.replicas;
    // An autoscaled service is healthy with its minimum ready: replicas it is still adding do not make it unhealthy.
    const required = spec.autoscale_enabled ? Math.min(desired, spec.autoscale_min_replicas) : desired;
    if (svc.state !== 'Settled') return { state: svc.state, reason: svc.reason, ready, desired };
    if (ready >= required) return { state: 'Healthy', reason: '', ready, desired };
    const sick = statuses.filter((s) => s.state !== 'Ready').sort((a, b) => a.index - b.index)[0];
    // A replica that will not be restarted is not going to heal by itself.
    if (sick?.state === 'Failed') return { state: 'Failed', reason: `replica ${sick.replicaId} is Failed and not restarted${sick.lastInitError === undefined ? '' : `: init() failed with ${formatInitError(sick.lastInitError)}`}`, ready, desired };
    const reason = sick === undefined
      ? `${ready}/${desired} replicas are running`
      : `replica ${sick.replicaId} is ${sick.state}${sick.lastTermination === undefined ? '' : `; its last run: ${describeTermination(sick.lastTermination)}`}`;
    return { state: 'Unhealthy', reason, ready, desired };
  }

  summary(svc: ServiceRecord): ServiceSummary {
    const s = this.state(svc);
    return {
      name: svc.name, state: s.state, reason: s.reason, generation: svc.generation, ready_replicas: s.ready, desired_replicas: s.desired,
      scoring_uri: this.scoringUri(svc.name), created_at: svc.createdAt, updated_at: svc.updatedAt,
    };
  }

  list(): ServiceSummary[] {
    return this.d.store.list().map((s) => this.summary(s));
  }

  detail(name: string): ServiceDetail {
    const svc = this.d.store.get(name);
    const generations = new Map(this.d.store.replicas(name).map((r) => [r.id, r.generation]));
    const operation = this.d.ops.recent(name, 1)[0];
    const spec = svc.spec;
    return {
      ...this.summary(svc),
      swagger_uri: `${this.d.baseUrl()}/api/v1/service/${name}/swagger.json`,
      auth: spec.auth_enabled ? 'key' : spec.token_auth_enabled ? 'token' : 'none',
      keys: { primary: svc.primaryKey, secondary: svc.secondaryKey },
      spec: { ...spec },
      ...(operation === undefined ? {} : { operation }),
      replicas: this.d.target.list(name).sort((a, b) => (a.generation ?? generations.get(a.replicaId) ?? 0) - (b.generation ?? generations.get(b.replicaId) ?? 0) || a.index - b.index)
        .map((r) => replicaView(r, r.generation ?? generations.get(r.replicaId) ?? svc.generation)),
      traffic: this.d.traffic?.(name) ?? NO_TRAFFIC,
      ...rolloutOf(this.d.rollout?.(name)),
    };
  }

  /**
   * Re-derives the shown state after anything that may change it and records a change as an event. A Failed service
   * whose replicas all became ready after all (a transient init() failure) is Healthy again.
   */
  refresh(name: string): void {
    const svc = this.d.store.find(name);
    if (svc === undefined) {
      this.shown.delete(name);
      return;
    }
    let s = this.state(svc);
    if (svc.state === 'Failed' && s.ready >= Math.min(s.desired, svc.spec.autoscale_enabled ? svc.spec.autoscale_min_replicas : s.desired) && this.d.ops.running(name) === undefined) {
      this.d.store.setState(name, 'Settled');
      s = this.state({ ...svc, state: 'Settled' });
    }
    const before = this.shown.get(name);
    this.shown.set(name, s.state);
    if (before !== undefined && before !== s.state) {
      this.d.events.add(name, { type: 'StateChanged', message: `${before} → ${s.state}${s.reason === '' ? '' : `: ${s.reason}`}`, data: { from: before, to: s.state } });
    }
  }
}

const rolloutOf = (r: RolloutView | undefined): { rollout?: RolloutView } => (r === undefined ? {} : { rollout: r });

function replicaView(r: ReplicaStatus, generation: number): ReplicaView {
  const t = r.lastTermination;
  return {
    id: r.replicaId, index: r.index, generation, state: r.state, restarts: r.restarts,
    ...(r.pid === undefined ? {} : { pid: r.pid }),
    ...(r.url === undefined ? {} : { url: r.url }),
    ...(r.startedAt === undefined ? {} : { started_at: r.startedAt }),
    ...(r.readyAt === undefined ? {} : { ready_at: r.readyAt }),
    ...(r.nextRestartAt === undefined ? {} : { next_restart_at: r.nextRestartAt }),
    ...(t === undefined ? {} : { last_termination: { reason: t.reason, exit_code: t.exitCode, signal: t.signal, at: t.at, message: describeTermination(t) } }),
    ...(r.recentTerminations === undefined ? {} : { recent_terminations: r.recentTerminations.map((x) => ({ reason: x.reason, exit_code: x.exitCode, signal: x.signal, at: x.at, message: describeTermination(x) })) }),
    ...(r.lastInitError === undefined ? {} : { last_init_error: formatInitError(r.lastInitError) }),
    ...(r.waiting === undefined ? {} : { waiting: r.waiting }),
    ...(r.phase === undefined ? {} : { phase: { name: r.phase.name, since: r.phase.since, ...(r.phase.lastOutput === undefined ? {} : { last_output: r.phase.lastOutput }) } }),
    memory: { enforcement: r.memory.enforcement, ...(r.memory.limitBytes === undefined ? {} : { limit_mb: Math.round(r.memory.limitBytes / 1048576) }) },
  };
}
