// Part of the composition root: wires the services part (store, operations, replicas on the local target, views, gateway) together.
import { join } from 'node:path';
import type { EnvSnapshot } from '../core/home.js';
import type { Logger } from '../core/logger.js';
import { shipped } from '../core/paths.js';
import { mebibytes } from '../core/limits.js';
import { ReplicaKeys } from '../core/replica-key.js';
import { homeSecret } from '../core/secrets.js';
import { detectCapacity, Supervisor, systemClock, type Capacity, type Clock, type ReplicaEvent } from '../targets/local/index.js';
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
import { Placements } from './services/placement.js';
import { reconcile, type ReconcileReport } from './services/reconcile.js';
import { ReplicaManager } from './services/replicas.js';
import { ServiceStore } from './services/service-store.js';
import { ServiceViews } from './services/view.js';
import { Diagnoser } from './services/diagnosis.js';
import { diagnoseRoutes } from './api/diagnose-routes.js';
import { debugRoutes } from './api/debug-routes.js';
import type { ControlSettings } from './settings.js';
import type { FastPath } from '../gateway/score-fast-path.js';
import type { Db } from './store/db.js';
import { DockerRuntime } from '../targets/docker/docker-runtime.js';
import type { Docker, Images } from '../images/index.js';
import { ensureImage } from './services/service-image.js';
import type { Generation } from './services/replicas.js';

/** How often a starting replica's log is read for its listening line (then its /ready asked): cheap, and it bounds the wait. */
const READY_POLL_MS = 20;

/** Longest wait for routed requests to finish before a replica that leaves is sent SIGTERM. */
const DRAIN_MS = 30_000;

export interface ServicesPart {
  readonly routes: Route[];
  readonly fastPath: FastPath;
  readonly capacity: Capacity;
  readonly supervisor: Supervisor;
  /** The image refs service generations run now: image prune keeps them. */
  imagesInUse(): ReadonlySet<string>;
  /** Brings stored services and running replicas together; call once, before serving. */
  reconcile(): Promise<ReconcileReport>;
  /** Interrupts running operations, stops every replica, closes upstream connections. */
  close(): Promise<void>;
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
}

export interface ContainerParts {
  readonly images: () => Promise<Images>;
  readonly docker: () => Promise<Docker>;
}

export async function composeServices(o: ServicesOptions): Promise<ServicesPart> {
  const clock = o.clock ?? systemClock;
  const now = (): Date => new Date(clock.now());
  const capacity = await detectCapacity({ override: o.settings.capacity });
  const logDir = join(o.settings.home, 'logs', 'replicas');
  const store = new ServiceStore(o.db, now);
  const ops = new OperationStore(o.db, now);
  const events = new EventLog(o.db, now);
  let onEvent: (e: ReplicaEvent) => void = (e) => events.addReplicaEvent(e);
  const replicaKeys = new ReplicaKeys(homeSecret(o.settings.home, 'replica-keys.key'));
  const containers = o.containers;
  const docker = containers === undefined ? undefined : new DockerRuntime({
    docker: containers.docker, clock, home: o.settings.home, replicaKey: (id) => replicaKeys.keyFor(id), maxRequestSizeMb: o.settings.maxRequestSizeMb,
  });
  const supervisor = new Supervisor({ berthBin: shipped('bin/berth.js'), nodePath: process.execPath, logDir, baseEnv: o.env, clock,
    replicaKey: (id) => replicaKeys.keyFor(id), maxRequestSizeMb: o.settings.maxRequestSizeMb, ...(docker === undefined ? {} : { docker }),
    backoff: { baseMs: o.settings.restartBackoffMs },
    // A replica is routed as soon as it is ready: `berth deploy` answers, and the first request is served, a poll later.
    readyPollMs: READY_POLL_MS,
    onEvent: (e) => onEvent(e),
  });
  const placements = new Placements(capacity, clock);
  const envs = o.environments;
  const replicas = new ReplicaManager({
    supervisor, placements, store, events, logDir, scheduleTimeoutMs: o.settings.scheduleTimeoutMs, mountable: (refs) => o.registry.mountable(refs),
    // Bounded like serve's own drain: a request that runs longer is cut off by the SIGTERM that follows.
    drain: (service, ids) => gw.gateway.drain(service, ids, DRAIN_MS),
    ...(envs === undefined ? {} : { ensureEnvironment: (ref: string, signal: AbortSignal) => envs.ensureBuilt(parseEnvRef(ref), signal) }),
    ...(containers === undefined ? {} : { ensureImage: (g: Generation, signal: AbortSignal, progress: (text: string) => void) => ensureImage(containers, envs, events, g, signal, progress) }),
  });
  const views = new ServiceViews({ store, ops, events, supervisor, replicas, baseUrl: o.baseUrl, desired: (name) => gw.desired(name), traffic: (name) => gw.traffic(name) });
  const manager = new ServiceManager({
    root: join(o.settings.home, 'services'), logDir, store, ops, events, replicas, supervisor, placements, logger: o.logger, defaultRuntime: o.settings.runtime,
    resolveModel: (ref) => {
      const v = o.registry.get(ref);
      return { name: v.name, version: v.version };
    },
    ...(envs === undefined ? {} : { resolveEnvironment: (ref: string) => envs.runtime(parseEnvRef(ref)) }),
    onStateChange: (service) => {
      views.refresh(service);
      gw.sync(service);
    },
  });
  const gw = composeGateway({
    home: o.settings.home, clock, store, ops, events, supervisor, placements, replicas, views, logger: o.logger, replicaKeys,
    body: { maxBytes: mebibytes(o.settings.maxRequestSizeMb), timeoutMs: o.settings.bodyTimeoutMs },
    generationDir: (service, generation) => manager.generationDir(service, generation), stabilizationMs: o.settings.autoscaleStabilizationMs,
  });
  onEvent = (e) => {
    events.addReplicaEvent(e);
    try {
      // Where each run is, so a control plane that restarts after a crash can find and adopt it.
      if (e.type === 'Started') store.setRunLocation(e.replicaId, { pid: e.pid });
      else if (e.type === 'Exited') store.setRunLocation(e.replicaId, {});
      else if (e.type === 'Ready' || e.type === 'Adopted') {
        const record = supervisor.adoptionRecord(e.replicaId);
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
  o.logger.info({ capacity: { cpu: capacity.cpu, memory_gb: capacity.memoryGb, gpu: capacity.gpu }, source: capacity.source, gpus: capacity.gpuDetection, memory_limits: supervisor.cgroupSupport }, 'local target ready');
  return {
    routes: [...serviceRoutes({ manager, views, ops, events, logs: new ServiceLogs(store, supervisor, logDir) }), ...gw.routes,
      ...diagnoseRoutes(new Diagnoser({
        store, views, ops, events, logs: new ServiceLogs(store, supervisor, logDir), supervisor, now, requests: (name) => gw.gateway.recent(name),
        capacity: () => ({ capacity: placements.capacity, used: placements.used() }), ...(envs === undefined ? {} : { environments: envs }),
      })),
      ...debugRoutes({ store, generationDir: (service, generation) => manager.generationDir(service, generation), mountable: (refs) => o.registry.mountable(refs) })],
    fastPath: gw.fastPath,
    imagesInUse: () => new Set(replicas.imagesInUse().map((i) => i.ref)),
    capacity,
    supervisor,
    async reconcile() {
      const report = await reconcile({ store, ops, events, supervisor, placements, replicas, manager, logger: o.logger });
      gw.start(); // the autoscaler starts from the replicas reconcile left
      return report;
    },
    async close() {
      await gw.stopAutoscaler();
      await manager.close();
      await gw.gateway.close();
    },
  };
}
