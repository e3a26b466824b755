// Part of the composition root: wires the services part (store, operations, replicas on the local target, views, gateway) together.
import { join } from 'node:path';
import type { EnvSnapshot } from '../core/home.js';
import type { Logger } from '../core/logger.js';
import { mebibytes } from '../core/limits.js';
import { ReplicaKeys } from '../core/replica-key.js';
import { homeSecret } from '../core/secrets.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { ReplicaEvent } from '../targets/types.js';
import { serviceRoutes } from './api/service-routes.js';
import { composeGateway } from './compose-gateway.js';
import { parseEnvRef } from './environments/env-schema.js';
import type { Environments } from './environments/environments.js';
import type { Route } from './api/route.js';
import type { ModelRegistry } from './registry.js';
import { EventLog } from './services/events.js';
import { ServiceLogs } from './services/logs.js';
import { ServiceManager } from './services/manager.js';
import { OperationStore } from './services/operations.js';
import { reconcile, type ReconcileReport } from './services/reconcile.js';
import { ServiceStore } from './services/service-store.js';
import { RolloutStore } from './services/rollout-store.js';
import { ServiceViews, type TrafficView } from './services/view.js';
import type { Gateway } from '../gateway/gateway.js';
import type { GatewayMetrics } from '../gateway/metrics.js';
import { Diagnoser } from './services/diagnosis.js';
import { diagnoseRoutes } from './api/diagnose-routes.js';
import { debugRoutes } from './api/debug-routes.js';
import { captureRoutes } from './api/capture-routes.js';
import { Captures } from './services/captures.js';
import { manifestRoutes } from './api/manifest-routes.js';
import type { ControlSettings } from './settings.js';
import type { FastPath } from '../gateway/score-fast-path.js';
import type { Db } from './store/db.js';
import type { Docker, Images } from '../images/index.js';
import { ensureImage } from './services/service-image.js';
import type { Generation } from './services/replicas.js';
import { composeLocalTarget } from './compose-local-target.js';
import { composeRollouts } from './compose-rollouts.js';
import type { ReplicaTarget } from './services/target.js';

/** Longest wait for routed requests to finish before a replica that leaves is sent SIGTERM. */
const DRAIN_MS = 30_000;

export interface ServicesPart {
  readonly routes: Route[];
  readonly fastPath: FastPath;
  /** The image refs service generations run now: image prune keeps them. */
  imagesInUse(): ReadonlySet<string>;
  /** Brings stored services and running replicas together; call once, before serving. */
  reconcile(): Promise<ReconcileReport>;
  /** Interrupts running operations, stops every replica, closes upstream connections. */
  close(): Promise<void>;
  /** What the dashboard reads (src/ui/server/compose.ts): views, events, operations, logs, the gateway's figures. */
  readonly live: LiveParts;
}

export interface LiveParts {
  readonly store: ServiceStore;
  readonly views: ServiceViews;
  readonly ops: OperationStore;
  readonly events: EventLog;
  readonly logs: ServiceLogs;
  readonly gateway: Gateway;
  readonly metrics: GatewayMetrics;
  traffic(service: string): TrafficView;
}

export interface ServicesOptions {
  readonly settings: ControlSettings;
  readonly db: Db;
  readonly registry: ModelRegistry;
  readonly logger: Logger;
  /** The environment replicas start with (PATH, HOME, ...): the control plane's own, snapshotted at its edge. */
  readonly env: EnvSnapshot;
  readonly baseUrl: () => string;
  readonly clock?: Clock;
  /** Deployments with `environment` run in it; without this part they are refused. */
  readonly environments?: Environments;
  /** The images part and the Docker engine, made on first use: services with runtime docker need them, nothing else does. */
  readonly containers?: ContainerParts;
  /** The admin token the API requires, if any: a cluster's pods need it to fetch models. */
  readonly adminToken?: string;
}

export interface ContainerParts {
  readonly images: () => Promise<Images>;
  readonly docker: () => Promise<Docker>;
}

export async function composeServices(o: ServicesOptions): Promise<ServicesPart> {
  const clock = o.clock ?? systemClock;
  const now = (): Date => new Date(clock.now());
  const logDir = join(o.settings.home, 'logs', 'replicas');
  const store = new ServiceStore(o.db, now);
  const ops = new OperationStore(o.db, now);
  const events = new EventLog(o.db, now);
  const rollouts = new RolloutStore(o.db, now);
  let onEvent: (e: ReplicaEvent) => void = (e) => events.addReplicaEvent(e);
  const replicaKeys = new ReplicaKeys(homeSecret(o.settings.home, 'replica-keys.key'));
  const containers = o.containers;
  const envs = o.environments;
  const generationDir = (service: string, generation: number): string => join(o.settings.home, 'services', service, String(generation));
  const shared = {
    settings: o.settings, store, events, logger: o.logger, logDir, replicaKeys,
    onEvent: (e: ReplicaEvent) => onEvent(e),
    // Bounded like serve's own drain: a request that runs longer is cut off by the SIGTERM that follows.
    drain: (service: string, ids: readonly string[]) => gw.gateway.drain(service, ids, DRAIN_MS),
    ensureImage: containers === undefined ? undefined : (g: Generation, signal: AbortSignal, progress: (text: string) => void) => ensureImage(containers, envs, events, g, signal, progress),
  };
  let local: Awaited<ReturnType<typeof composeLocalTarget>> | undefined;
  let target: ReplicaTarget;
  if (o.settings.target === 'kubernetes') {
    // Loaded only here: the Kubernetes client is large, and a plane on this machine never needs it.
    const { composeKubeTarget } = await import('./compose-kube-target.js');
    target = await composeKubeTarget({ ...shared, now: () => clock.now(), planeUrl: o.baseUrl, env: o.env, ...(o.adminToken === undefined ? {} : { adminToken: o.adminToken }) });
  } else {
    local = await composeLocalTarget({
      ...shared, ops, registry: o.registry, env: o.env, clock, generationDir,
      candidate: (service: string) => { const r = rollouts.find(service); return r === undefined ? undefined : { generation: r.generation, spec: r.spec }; },
      fail: (service, reason) => manager.setState(service, 'Failed', reason),
      ...(envs === undefined ? {} : { ensureEnvironment: (ref: string, signal: AbortSignal) => envs.ensureBuilt(parseEnvRef(ref), signal) }),
      ...(shared.ensureImage === undefined ? {} : { ensureImage: shared.ensureImage }),
      ...(containers === undefined ? {} : { docker: containers.docker }),
    });
    target = local.target;
  }
  const views = new ServiceViews({ store, ops, events, target, baseUrl: o.baseUrl, desired: (name) => gw.desired(name), traffic: (name) => gw.traffic(name), rollout: (name) => rp.view(name) });
  const manager = new ServiceManager({
    root: join(o.settings.home, 'services'), logDir, store, ops, events, rollouts, target, logger: o.logger, defaultRuntime: o.settings.runtime,
    resolveModel: (ref) => {
      const v = o.registry.get(ref);
      return { name: v.name, version: v.version };
    },
    ...(envs === undefined ? {} : { resolveEnvironment: (ref: string) => envs.runtime(parseEnvRef(ref)) }),
    onStateChange: (service) => {
      views.refresh(service);
      gw.sync(service);
      // A deleted service's captures go with it.
      if (store.find(service) === undefined) void captures.store.drop(service).catch((err: unknown) => o.logger.warn({ err, service }, 'could not remove captured requests'));
    },
  });
  const replicaLogs = new ServiceLogs(store, target, logDir);
  const captures = new Captures({
    root: join(o.settings.home, 'captures'), now, logger: o.logger,
    spec: (name) => store.find(name)?.spec,
    generationOf: (service, id) => store.replicas(service).find((r) => r.id === id)?.generation,
    replicaLogs: (service, replica) => (['current', 'previous'] as const).flatMap((kind) => replicaLogs.read(service, { replica, kind, tail: 5000 }).map((c) => ({ replica: c.replica, kind, text: c.text }))),
  });
  const gw = composeGateway({
    home: o.settings.home, clock, store, rollouts, ops, events, target, views, logger: o.logger, replicaKeys,
    body: { maxBytes: mebibytes(o.settings.maxRequestSizeMb), timeoutMs: o.settings.bodyTimeoutMs },
    stabilizationMs: o.settings.autoscaleStabilizationMs,
    onFailure: captures.onFailure,
  });
  const rp = composeRollouts({
    clock, logger: o.logger, store, rollouts, ops, events, target, manager,
    gateway: () => gw.gateway, figures: (name, generation) => gw.generation(name, generation),
  });
  onEvent = (e) => {
    events.addReplicaEvent(e);
    try {
      // Where each run is, so a control plane that restarts after a crash can find and adopt it.
      if (e.type === 'Started') store.setRunLocation(e.replicaId, { pid: e.pid });
      else if (e.type === 'Exited') store.setRunLocation(e.replicaId, {});
      else if (e.type === 'Ready' || e.type === 'Adopted') {
        const record = local?.supervisor.adoptionRecord(e.replicaId);
        if (record !== undefined) store.setRunLocation(e.replicaId, record);
      }
      if (e.type === 'StateChanged' || e.type === 'Stopped') views.refresh(e.serviceName);
      // The gateway's routing set follows the replicas: one joins when Ready, leaves when it is not.
      if (e.type === 'StateChanged' || e.type === 'Ready' || e.type === 'Exited' || e.type === 'Stopped') gw.sync(e.serviceName);
    } catch (err) {
      // The store may be closing; supervision goes on regardless.
      o.logger.warn({ err, replica: e.replicaId }, 'could not record a replica event');
    }
  };
  return {
    routes: [...serviceRoutes({ manager, views, ops, events, logs: new ServiceLogs(store, target, logDir) }), ...rp.routes(views), ...gw.routes,
      ...diagnoseRoutes(new Diagnoser({
        store, views, ops, events, logs: new ServiceLogs(store, target, logDir), target, now, requests: (name) => gw.gateway.recent(name),
        ...(local === undefined ? {} : { capacity: () => ({ capacity: local!.placements.capacity, used: local!.placements.used() }) }),
        ...(envs === undefined ? {} : { environments: envs }),
      })),
      ...manifestRoutes(store, target),
      ...captureRoutes(captures),
      ...debugRoutes({ store, generationDir: (service, generation) => manager.generationDir(service, generation), mountable: (refs) => o.registry.mountable(refs) })],
    fastPath: gw.fastPath,
    live: { store, views, ops, events, logs: new ServiceLogs(store, target, logDir), gateway: gw.gateway, metrics: gw.metrics, traffic: (name) => gw.traffic(name) },
    imagesInUse: () => target.imagesInUse(),
    async reconcile() {
      const report = await reconcile({ store, ops, events, target, manager, rollouts, logger: o.logger });
      await captures.prune((name) => store.find(name) !== undefined);
      gw.start(); // the autoscaler starts from the replicas reconcile left
      rp.guardrail.start();
      return report;
    },
    async close() {
      captures.close();
      rp.guardrail.stop();
      await gw.stopAutoscaler();
      await manager.close();
      await gw.gateway.close();
    },
  };
}
