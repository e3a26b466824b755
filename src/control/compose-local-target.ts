// Part of the composition root: the local target — this machine's capacity, berth's supervisor with its process and docker runtimes, placement, scaling.
import type { Clock } from '../core/clock.js';
import type { EnvSnapshot } from '../core/home.js';
import type { Logger } from '../core/logger.js';
import { shipped } from '../core/paths.js';
import type { ReplicaKeys } from '../core/replica-key.js';
import { DockerRuntime } from '../targets/docker/docker-runtime.js';
import { detectCapacity, Supervisor } from '../targets/local/index.js';
import type { ContainerImage, ReplicaEvent } from '../targets/types.js';
import type { Docker } from '../images/index.js';
import type { ModelRegistry } from './registry.js';
import type { EventLog } from './services/events.js';
import { LocalTarget } from './services/local-target.js';
import type { OperationStore } from './services/operations.js';
import { Placements } from './services/placement.js';
import { ReplicaManager, type Generation } from './services/replicas.js';
import { ReplicaScaler } from './services/scaler.js';
import type { CandidateGeneration } from './services/target.js';
import type { ServiceStore } from './services/service-store.js';
import type { ControlSettings } from './settings.js';

/** How often a starting replica's log is read for its listening line (then its /ready asked): cheap, and it bounds the wait. */
const READY_POLL_MS = 20;

export interface LocalTargetParts {
  readonly settings: ControlSettings;
  readonly store: ServiceStore;
  readonly ops: OperationStore;
  readonly events: EventLog;
  readonly registry: ModelRegistry;
  readonly env: EnvSnapshot;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly logDir: string;
  readonly replicaKeys: ReplicaKeys;
  readonly generationDir: (service: string, generation: number) => string;
  readonly onEvent: (e: ReplicaEvent) => void;
  readonly drain: (service: string, ids: readonly string[]) => Promise<void>;
  readonly fail: (service: string, reason: string) => void;
  readonly ensureEnvironment?: (ref: string, signal: AbortSignal) => Promise<unknown>;
  readonly ensureImage?: (g: Generation, signal: AbortSignal, progress: (text: string) => void) => Promise<ContainerImage>;
  /** The Docker engine, when containers may be used. */
  readonly docker?: () => Promise<Docker>;
  /** A live rollout's candidate generation: the autoscaler scales it on its own. */
  readonly candidate?: (service: string) => CandidateGeneration | undefined;
}

export async function composeLocalTarget(p: LocalTargetParts): Promise<{ target: LocalTarget; placements: Placements; supervisor: Supervisor }> {
  const { settings, store, ops, events, clock, logDir } = p;
  const capacity = await detectCapacity({ override: settings.capacity });
  const replicaKey = (id: string): string => p.replicaKeys.keyFor(id);
  const docker = p.docker === undefined ? undefined : new DockerRuntime({ docker: p.docker, clock, home: settings.home, replicaKey, maxRequestSizeMb: settings.maxRequestSizeMb, network: settings.containerNetwork });
  const supervisor = new Supervisor({
    berthBin: shipped('bin/berth.js'), nodePath: process.execPath, logDir, baseEnv: p.env, clock, replicaKey, maxRequestSizeMb: settings.maxRequestSizeMb,
    ...(docker === undefined ? {} : { docker }),
    backoff: { baseMs: settings.restartBackoffMs },
    // A replica is routed as soon as it is ready: `berth deploy` answers, and the first request is served, a poll later.
    readyPollMs: READY_POLL_MS,
    standby: settings.replicaStandby,
    onEvent: p.onEvent,
  });
  const placements = new Placements(capacity, clock);
  const replicas = new ReplicaManager({
    supervisor, placements, store, events, logDir, scheduleTimeoutMs: settings.scheduleTimeoutMs, mountable: (refs) => p.registry.mountable(refs),
    drain: p.drain,
    ...(p.ensureEnvironment === undefined ? {} : { ensureEnvironment: p.ensureEnvironment }),
    ...(p.ensureImage === undefined ? {} : { ensureImage: p.ensureImage }),
  });
  const scaler = new ReplicaScaler({ store, ops, events, supervisor, placements, replicas, generationDir: p.generationDir, logger: p.logger, ...(p.candidate === undefined ? {} : { candidate: p.candidate }) });
  const target = new LocalTarget({ store, events, supervisor, placements, replicas, scaler, generationDir: p.generationDir, fail: p.fail });
  p.logger.info({ capacity: { cpu: capacity.cpu, memory_gb: capacity.memoryGb, gpu: capacity.gpu }, source: capacity.source, gpus: capacity.gpuDetection, memory_limits: supervisor.cgroupSupport }, 'local target ready');
  return { target, placements, supervisor };
}
