// Part of the composition root: the gateway (routing set following the replicas), token authority, metrics and the autoscaler loop.
import type { Logger } from '../core/logger.js';
import { Autoscaler, type ScalableService } from '../autoscale/loop.js';
import { TokenAuthority } from '../gateway/auth.js';
import { Gateway, type Endpoint, type ServiceRouting } from '../gateway/gateway.js';
import type { FailureHook } from '../gateway/failure-hook.js';
import { GatewayMetrics } from '../gateway/metrics.js';
import type { BodyLimits } from '../gateway/upstream.js';
import type { ReplicaKeys } from '../core/replica-key.js';
import { metricsRoutes, scoreRoutes } from '../gateway/score-routes.js';
import { scoringFastPath, type FastPath } from '../gateway/score-fast-path.js';
import { oipRoutes } from '../gateway/oip-routes.js';
import type { Clock } from '../core/clock.js';
import { authModeOf, serviceAuthRoutes } from './api/service-auth-routes.js';
import type { Route } from './api/route.js';
import type { EventLog } from './services/events.js';
import type { OperationStore } from './services/operations.js';
import type { ServiceRecord, ServiceStore } from './services/service-store.js';
import type { ReplicaTarget } from './services/target.js';
import type { ServiceViews, TrafficView } from './services/view.js';
import type { GenerationFigures } from './services/rollout-view.js';
import type { RolloutRecord, RolloutStore } from './services/rollout-store.js';
import type { SplitRouting } from '../gateway/split.js';
import { sharedBounds } from '../autoscale/shares.js';
import type { ServiceSpec } from './services/spec.js';
import { noReadyReplica } from './services/unavailable.js';

/** How long a service's recent start-up times are reused for a 503's Retry-After (a 503 storm reads the store once a second). */
const STARTUP_CACHE_MS = 1000;

export interface GatewayPartDeps {
  readonly store: ServiceStore;
  readonly rollouts: RolloutStore;
  readonly ops: OperationStore;
  readonly events: EventLog;
  /** Where replicas run: the routing set follows its ready replicas, the autoscaler scales through it. */
  readonly target: ReplicaTarget;
  readonly home: string;
  readonly clock: Clock;
  readonly views: ServiceViews;
  readonly stabilizationMs: number;
  readonly logger: Logger;
  /** The keys replicas were started with: the gateway presents each its own. */
  readonly replicaKeys: ReplicaKeys;
  readonly body: BodyLimits;
  /** Requests answered 5xx go here (failed-request capture). */
  readonly onFailure?: FailureHook;
}

export interface GatewayPart {
  readonly gateway: Gateway;
  /** Its Prometheus series: the dashboard reads the request counters by status. */
  readonly metrics: GatewayMetrics;
  readonly routes: Route[];
  /** The scoring route ahead of the API router. */
  readonly fastPath: FastPath;
  /** Re-reads a service's routing set and settings; call after replica events and state changes. */
  sync(service: string): void;
  desired(service: string): number | undefined;
  traffic(service: string): TrafficView;
  /** During a rollout: one generation's figures and scaling, for `service show`. */
  generation(service: string, generation: number): GenerationFigures | undefined;
  /** Starts the autoscaler loop (after reconcile). */
  start(): void;
  /** Stops the loop (waiting for its scale actions). The gateway itself closes last, after the replicas are gone. */
  stopAutoscaler(): Promise<void>;
}

/** The guardrail window is what each generation's figures reach back at least; a minute otherwise. */
const FIGURES_WINDOW_MS = 60_000;

export function composeGateway(d: GatewayPartDeps): GatewayPart {
  const { store, target, views, rollouts } = d;
  const tokens = TokenAuthority.fromHome(d.home, d.clock);
  const startups = new Map<string, { at: number; ms: number[] }>();
  const recentStartupMs = (name: string): number[] => {
    const now = d.clock.now();
    const cached = startups.get(name);
    if (cached !== undefined && now - cached.at < STARTUP_CACHE_MS) return cached.ms;
    const ms = d.events.recentStartupMs(name);
    startups.set(name, { at: now, ms });
    return ms;
  };
  const shownState = (name: string): string => { const now = store.find(name); return now === undefined ? 'Deleting' : views.state(now).state; };
  /** Each replica's generation: a pod's own (from its label), else its stored row's. */
  const generationsOf = (name: string, ready: readonly { replicaId: string; generation?: number }[]): Map<string, number> =>
    new Map([...store.replicas(name).map((r): [string, number] => [r.id, r.generation]), ...ready.flatMap((r): Array<[string, number]> => (r.generation === undefined ? [] : [[r.replicaId, r.generation]]))]);
  const routing = (name: string): ServiceRouting | undefined => {
    const svc = store.find(name);
    if (svc === undefined) {
      startups.delete(name);
      return undefined;
    }
    // Ready and not leaving; a replica of a new generation joins as soon as it is ready (an update switches over without a gap).
    const ready = target.list(name).filter((r) => r.state === 'Ready' && r.url !== undefined && !target.draining.has(r.replicaId));
    const endpoint = (r: (typeof ready)[number]): Endpoint => ({ replicaId: r.replicaId, url: r.url!, key: d.replicaKeys.keyFor(r.keyScope ?? r.replicaId) });
    const s = svc.spec;
    const rollout = rollouts.find(name);
    return {
      auth: authModeOf(svc), primaryKey: svc.primaryKey, secondaryKey: svc.secondaryKey,
      maxConcurrent: s.replica_max_concurrent_requests, maxWaitMs: s.max_request_wait_time, scoringTimeoutMs: s.scoring_timeout_ms,
      ...(s.stream_first_chunk_timeout_ms === undefined ? {} : { streamFirstChunkTimeoutMs: s.stream_first_chunk_timeout_ms }),
      ...(s.stream_chunk_timeout_ms === undefined ? {} : { streamChunkTimeoutMs: s.stream_chunk_timeout_ms }),
      endpoints: ready.map(endpoint),
      state: () => shownState(name),
      unavailable: () => noReadyReplica(target.list(name), recentStartupMs(name), d.clock.now(), shownState(name)),
      generation: svc.generation,
      ...(rollout === undefined ? {} : { split: splitRouting(rollout, svc.generation, ready, endpoint, generationsOf(name, ready)) }),
    };
  };
  let autoscaler: Autoscaler | undefined;
  /** The autoscaler's count: of the service, or during a rollout of its committed generation. */
  const desired = (name: string): number | undefined => autoscaler?.view(name)?.desired ?? autoscaler?.view(`${name}@${store.find(name)?.generation ?? 0}`)?.desired;
  const metrics = new GatewayMetrics(() => store.list().map((svc) => {
    const now = gateway.snapshot(svc.name);
    return {
      service: svc.name,
      desired: (svc.spec.autoscale_enabled ? desired(svc.name) : undefined) ?? svc.spec.replicas,
      ready: now?.ready ?? 0, inFlight: now?.inFlight ?? 0, queued: now?.queued ?? 0,
      utilization: autoscaler?.view(svc.name)?.utilization ?? null,
    };
  }));
  const gateway = new Gateway({
    routing, clock: d.clock, tokens, metrics, body: d.body, ...(d.onFailure === undefined ? {} : { onFailure: d.onFailure }),
    onSplitNotice: (name, n) => {
      try {
        d.events.add(name, { type: n.ready ? 'TrafficRestored' : 'TrafficShifted', message: n.message, data: { generation: n.generation, effective: n.effective } });
      } catch (err) {
        d.logger.warn({ err, service: name }, 'could not record a traffic event');
      }
    },
  });
  const units = (svc: ServiceRecord): ScalableService[] => {
    const r = rollouts.find(svc.name);
    return r === undefined || r.state !== 'Live' ? [scalable(svc)] : rolloutUnits(svc, r);
  };
  autoscaler = new Autoscaler({
    clock: d.clock,
    stabilizationMs: d.stabilizationMs,
    services: () => store.list().filter((s) => s.state === 'Settled' && d.ops.running(s.name) === undefined).flatMap(units),
    // During a rollout, each generation's own queue: one generation's pressure scales that generation.
    oldestWaitMs: (name, generation) => gateway.snapshot(name, rollouts.find(name)?.state === 'Live' ? generation : undefined)?.oldestWaitMs ?? 0,
    sample: (name, generation) => gateway.sample(name, generation),
    count: (name, generation) => target.count(name, generation),
    scale: (svc, to) => target.scaleTo(svc.name, to, svc.key === undefined ? undefined : svc.generation),
    record: (name, decision, unit) => {
      const { message, ...numbers } = decision;
      const of = unit.key === undefined ? '' : `generation ${unit.generation}: `;
      d.events.add(name, { type: 'ScalingDecision', message: `${of}${message}`, data: { ...numbers, ...(unit.key === undefined ? {} : { generation: unit.generation }) } });
      views.refresh(name);
    },
    onError: (name, err) => d.logger.warn({ err, service: name }, 'autoscaler step failed'),
  });
  const scaling = autoscaler;
  return {
    gateway,
    metrics,
    fastPath: scoringFastPath(gateway, d.logger),
    routes: [...scoreRoutes(gateway), ...oipRoutes(gateway), ...metricsRoutes(metrics), ...serviceAuthRoutes({ store, events: d.events, tokens, onKeysChanged: (name) => gateway.sync(name) })],
    sync: (name) => gateway.sync(name),
    desired,
    traffic: (name) => {
      const w = gateway.stats(name);
      const now = gateway.snapshot(name);
      return {
        window_s: w?.windowS ?? 0, requests: w?.requests ?? 0, request_rate: w?.ratePerS ?? 0, latency_p50_ms: w?.p50Ms ?? null, latency_p99_ms: w?.p99Ms ?? null,
        in_flight: now?.inFlight ?? 0, queued: now?.queued ?? 0, utilization: scaling.view(name)?.utilization ?? null,
      };
    },
    generation: (name, generation) => {
      const r = rollouts.find(name);
      const w = gateway.generationSummary(name, generation, Math.max(FIGURES_WINDOW_MS, r?.guardrail?.window_ms ?? 0));
      if (w === undefined) return undefined;
      const view = scaling.view(`${name}@${generation}`);
      const svc = store.find(name);
      const unit = svc === undefined || r === undefined ? undefined : rolloutUnits(svc, r).find((u) => u.generation === generation);
      return {
        windowS: w.spanS, requests: w.requests, errors: w.errors, p50Ms: w.p50Ms, p99Ms: w.p99Ms, mirrored: w.mirrored,
        effectivePercent: gateway.effectiveSplit(name)?.get(generation) ?? 0, utilization: view?.utilization ?? null,
        ...(view?.desired === undefined ? {} : { desired: view.desired }),
        ...(unit === undefined || !unit.autoscale ? {} : { minReplicas: unit.minReplicas, maxReplicas: unit.maxReplicas }),
      };
    },
    start: () => scaling.start(),
    stopAutoscaler: () => scaling.stop(),
  };
}

function scalable(svc: ServiceRecord): ScalableService {
  return scalableOf(svc.name, svc.generation, svc.spec);
}

function scalableOf(name: string, generation: number, s: ServiceSpec): ScalableService {
  return {
    name, generation, autoscale: s.autoscale_enabled, refreshSeconds: s.autoscale_refresh_seconds,
    maxConcurrent: s.replica_max_concurrent_requests, maxWaitMs: s.max_request_wait_time,
    minReplicas: s.autoscale_min_replicas, maxReplicas: s.autoscale_max_replicas, targetUtilization: s.autoscale_target_utilization,
  };
}

/** A live rollout's generations as autoscaling units: each on its own load, within its share of its spec's bounds. */
function rolloutUnits(svc: ServiceRecord, r: RolloutRecord): ScalableService[] {
  const specOf = (g: number): ServiceSpec => (g === r.generation ? r.spec : svc.spec);
  const loads = r.weights.map((w) => ({ generation: w.generation, weight: w.percent, ...(w.generation === r.generation ? { mirror: r.mirrorPercent } : {}) }));
  const bounds = sharedBounds(loads, (g) => ({ minReplicas: specOf(g).autoscale_min_replicas, maxReplicas: specOf(g).autoscale_max_replicas }));
  return r.weights.map((w) => ({ ...scalableOf(svc.name, w.generation, specOf(w.generation)), ...bounds.get(w.generation)!, key: `${svc.name}@${w.generation}` }));
}

/** The split routing facts of a rollout: each generation's ready replicas (by their stored generation) and weight. */
function splitRouting<R extends { replicaId: string }>(r: RolloutRecord, committed: number, ready: readonly R[], endpoint: (x: R) => Endpoint, generationOf: ReadonlyMap<string, number>): SplitRouting {
  const of = (g: number): Endpoint[] => ready.filter((x) => (generationOf.get(x.replicaId) ?? committed) === g).map(endpoint);
  return {
    generations: r.weights.map((w) => ({ generation: w.generation, percent: w.percent, endpoints: of(w.generation) })),
    stable: r.baseGeneration, candidate: r.generation, mirrorPercent: r.mirrorPercent,
    quiet: r.state !== 'Live', windowMs: r.guardrail?.window_ms ?? FIGURES_WINDOW_MS,
  };
}
