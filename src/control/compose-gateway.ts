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
import { noReadyReplica } from './services/unavailable.js';

/** How long a service's recent start-up times are reused for a 503's Retry-After (a 503 storm reads the store once a second). */
const STARTUP_CACHE_MS = 1000;

export interface GatewayPartDeps {
  readonly store: ServiceStore;
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
  /** Starts the autoscaler loop (after reconcile). */
  start(): void;
  /** Stops the loop (waiting for its scale actions). The gateway itself closes last, after the replicas are gone. */
  stopAutoscaler(): Promise<void>;
}

export function composeGateway(d: GatewayPartDeps): GatewayPart {
  const { store, target, views } = d;
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
  const routing = (name: string): ServiceRouting | undefined => {
    const svc = store.find(name);
    if (svc === undefined) {
      startups.delete(name);
      return undefined;
    }
    // Ready and not leaving; a replica of a new generation joins as soon as it is ready (an update switches over without a gap).
    const endpoints: Endpoint[] = target.list(name)
      .filter((r) => r.state === 'Ready' && r.url !== undefined && !target.draining.has(r.replicaId))
      .map((r) => ({ replicaId: r.replicaId, url: r.url!, key: d.replicaKeys.keyFor(r.keyScope ?? r.replicaId) }));
    const s = svc.spec;
    return {
      auth: authModeOf(svc), primaryKey: svc.primaryKey, secondaryKey: svc.secondaryKey,
      maxConcurrent: s.replica_max_concurrent_requests, maxWaitMs: s.max_request_wait_time, scoringTimeoutMs: s.scoring_timeout_ms,
      ...(s.stream_first_chunk_timeout_ms === undefined ? {} : { streamFirstChunkTimeoutMs: s.stream_first_chunk_timeout_ms }),
      ...(s.stream_chunk_timeout_ms === undefined ? {} : { streamChunkTimeoutMs: s.stream_chunk_timeout_ms }),
      endpoints,
      state: () => shownState(name),
      unavailable: () => noReadyReplica(target.list(name), recentStartupMs(name), d.clock.now(), shownState(name)),
    };
  };
  let autoscaler: Autoscaler | undefined;
  const desired = (name: string): number | undefined => autoscaler?.view(name)?.desired;
  const metrics = new GatewayMetrics(() => store.list().map((svc) => {
    const now = gateway.snapshot(svc.name);
    return {
      service: svc.name,
      desired: (svc.spec.autoscale_enabled ? desired(svc.name) : undefined) ?? svc.spec.replicas,
      ready: now?.ready ?? 0, inFlight: now?.inFlight ?? 0, queued: now?.queued ?? 0,
      utilization: autoscaler?.view(svc.name)?.utilization ?? null,
    };
  }));
  const gateway = new Gateway({ routing, clock: d.clock, tokens, metrics, body: d.body, ...(d.onFailure === undefined ? {} : { onFailure: d.onFailure }) });
  autoscaler = new Autoscaler({
    clock: d.clock,
    stabilizationMs: d.stabilizationMs,
    services: () => store.list().filter((s) => s.state === 'Settled' && d.ops.running(s.name) === undefined).map(scalable),
    oldestWaitMs: (name) => gateway.snapshot(name)?.oldestWaitMs ?? 0,
    sample: (name) => gateway.sample(name),
    count: (name) => target.count(name),
    scale: (svc, to) => target.scaleTo(svc.name, to),
    record: (name, decision) => {
      const { message, ...numbers } = decision;
      d.events.add(name, { type: 'ScalingDecision', message, data: numbers });
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
    start: () => scaling.start(),
    stopAutoscaler: () => scaling.stop(),
  };
}

function scalable(svc: ServiceRecord): ScalableService {
  const s = svc.spec;
  return {
    name: svc.name, generation: svc.generation, autoscale: s.autoscale_enabled, refreshSeconds: s.autoscale_refresh_seconds,
    maxConcurrent: s.replica_max_concurrent_requests, maxWaitMs: s.max_request_wait_time,
    minReplicas: s.autoscale_min_replicas, maxReplicas: s.autoscale_max_replicas, targetUtilization: s.autoscale_target_utilization,
  };
}
