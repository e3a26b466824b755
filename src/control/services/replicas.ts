// Starts and stops the replicas of one service generation: place each, mount models, start `berth serve`, wait for init(), or fail fast.
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../errors/catalogue.js';
import { GIB, formatResources, initFailedError, oomKilledError, readReplicaLog, replicaLogPaths, type Supervisor } from '../../targets/local/index.js';
import type { ContainerImage, ReplicaSpec, Termination } from '../../targets/types.js';
import { MODELS_FOLDER, materializeModels, removeMaterialized, type MountableModel } from '../materialize.js';
import type { ModelRef } from '../model-schema.js';
import type { EventLog } from './events.js';
import { Placements, requestOf } from './placement.js';
import type { ServiceStore } from './service-store.js';
import type { ServiceSpec } from './spec.js';

/** One generation of a service: what to run and where its files are. */
export interface Generation {
  readonly service: string;
  readonly generation: number;
  readonly spec: ServiceSpec;
  /** `<home>/services/<name>/<generation>`: holds `source/` and `azureml-models/`. */
  readonly dir: string;
}

export interface LaunchOptions {
  readonly signal: AbortSignal;
  readonly progress: (text: string) => void;
  /** A replica waits for resources; `reason` is the scheduler's sentence. */
  readonly onWaiting: (reason: string) => void;
  /** Every replica is placed. */
  readonly onPlaced: () => void;
  /** Leave replicas that crashed before they were ready running (crash-looping), as a first deployment does. */
  readonly keepCrashLooping: boolean;
  /** How many to start, when not the spec's count (an update of an autoscaled service starts at the count it had). */
  readonly count?: number;
}

export interface ReplicaDeps {
  readonly supervisor: Supervisor;
  readonly placements: Placements;
  readonly store: ServiceStore;
  readonly events: EventLog;
  readonly mountable: (refs: readonly ModelRef[]) => MountableModel[];
  readonly scheduleTimeoutMs: number;
  readonly logDir: string;
  /** Takes the replicas out of routing and resolves when the requests already on them have finished (the gateway's drain), before they get SIGTERM. */
  readonly drain: (service: string, replicaIds: readonly string[]) => Promise<void>;
  /** Builds the environment unless it is built (concurrent callers share one build); rejects with the build's error. */
  readonly ensureEnvironment?: (ref: string, signal: AbortSignal) => Promise<unknown>;
  /** For runtime docker: the generation's image (reused, pulled or built; concurrent callers share one build). */
  readonly ensureImage?: (g: Generation, signal: AbortSignal, progress: (text: string) => void) => Promise<ContainerImage>;
}

/** Errors after which the replicas are left crash-looping (a first deployment), rather than stopped. */
const CRASH_CODES = new Set(['REPLICA_INIT_FAILED', 'REPLICA_OOM_KILLED', 'REPLICA_START_FAILED']);
const MODELS_DONE = '.models-complete';

export class ReplicaManager {
  /** Replicas being stopped: the gateway stops routing to them before they get SIGTERM. */
  readonly draining = new Set<string>();

  /** Each docker generation's image, by `service:generation`: replicas of it (also those the autoscaler adds) run it. */
  private readonly images = new Map<string, ContainerImage>();

  constructor(private readonly deps: ReplicaDeps) {}

  /**
   * What a generation needs before replicas can start: its environment built, and for runtime docker its image. Called
   * before scheduling, so a failed build fails a deployment at once rather than after waiting for resources.
   */
  async prepare(g: Generation, signal: AbortSignal, progress: (text: string) => void = () => undefined): Promise<void> {
    if ((g.spec.runtime ?? 'process') === 'docker') {
      if (this.deps.ensureImage === undefined) throw new BerthError('RUNTIME_UNAVAILABLE', { runtime: 'docker', replica: `${g.service} generation ${g.generation}` });
      this.images.set(`${g.service}:${g.generation}`, await this.deps.ensureImage(g, signal, progress));
      return;
    }
    if (g.spec.environment !== undefined && this.deps.ensureEnvironment !== undefined) {
      progress(`preparing environment ${g.spec.environment.ref} (built once per spec, then reused)`);
      await this.deps.ensureEnvironment(g.spec.environment.ref, signal);
    }
  }

  /** The images generations run now (prune keeps them). */
  imagesInUse(): ContainerImage[] {
    return [...this.images.values()];
  }

  /** Forgets a generation's image once none of its replicas runs. */
  forgetImage(service: string, generation: number): void {
    this.images.delete(`${service}:${generation}`);
  }

  forgetImages(service: string): void {
    for (const key of this.images.keys()) if (key.startsWith(`${service}:`)) this.images.delete(key);
  }

  static newId(service: string, generation: number, index: number): string {
    return `${service}-${generation}-${index}-${randomBytes(3).toString('hex')}`;
  }

  /** Places, starts and waits for every replica of `g`; returns their ids once all are ready. */
  async launch(g: Generation, o: LaunchOptions): Promise<string[]> {
    const { placements, supervisor, store, events } = this.deps;
    const n = o.count ?? g.spec.replicas;
    const request = requestOf(g.spec);
    const ids = Array.from({ length: n }, (_, i) => ReplicaManager.newId(g.service, g.generation, i));
    const placed: string[] = [];
    try {
      // Before scheduling: a failed build fails the deployment at once, not after waiting for resources.
      await this.prepare(g, o.signal, o.progress);
      o.progress(`scheduling ${n} replica(s), each requesting ${formatResources(request)}`);
      for (const id of ids) {
        await placements.place(id, request, { timeoutMs: this.deps.scheduleTimeoutMs, signal: o.signal, onWaiting: o.onWaiting });
        placed.push(id);
        events.add(g.service, { type: 'Scheduled', replica: id, message: `Assigned replica ${id} to this machine (${formatResources(request)})` });
      }
      o.onPlaced();
      const modelDir = await this.mountModels(g, o.progress);
      o.progress(`starting ${n} replica(s)`);
      ids.forEach((id, index) => {
        store.addReplica({ id, service: g.service, generation: g.generation, index });
        supervisor.start(this.replicaSpec(g, id, index, modelDir));
      });
      await this.waitReady(g, ids, o);
      return ids;
    } catch (err) {
      const crashLooping = err instanceof BerthError && CRASH_CODES.has(err.code) && o.keepCrashLooping;
      if (!crashLooping) await this.stop(g.service, placed, 'the operation failed');
      throw err;
    }
  }

  /** Takes replicas out of routing, stops them (drain, then SIGKILL), frees their resources and forgets them. */
  async stop(service: string, ids: readonly string[], why: string): Promise<void> {
    for (const id of ids) {
      this.draining.add(id);
      if (this.deps.supervisor.get(id) !== undefined) this.deps.events.add(service, { type: 'Killing', replica: id, message: `Stopping replica ${id}: ${why}` });
    }
    await this.deps.drain(service, ids);
    await Promise.all(ids.map((id) => this.deps.supervisor.stop(id)));
    for (const id of ids) {
      this.deps.placements.release(id);
      this.deps.store.removeReplica(id);
      this.draining.delete(id);
    }
  }

  /** What the supervisor runs for one replica of `g`. */
  replicaSpec(g: Generation, replicaId: string, index: number, modelDir: string | undefined): ReplicaSpec {
    const s = g.spec;
    if ((s.runtime ?? 'process') === 'docker') return this.containerSpec(g, replicaId, index, modelDir);
    return {
      serviceName: g.service,
      replicaId,
      index,
      entryScript: s.snapshot_entry_script,
      sourceDir: join(g.dir, 'source'),
      ...(modelDir === undefined ? {} : { modelDir }),
      // The environment's interpreter and variables (VIRTUAL_ENV, PATH and its own), over the supervisor's base environment.
      ...(s.environment?.python === undefined ? {} : { python: s.environment.python }),
      ...(s.environment === undefined && s.warmup === undefined ? {} : { env: { ...s.environment?.env, ...(s.warmup === undefined ? {} : { BERTH_WARMUP_REQUEST: s.warmup }) } }),
      scoringTimeoutMs: s.scoring_timeout_ms,
      ...streamLimits(s),
      maxConcurrentRequests: s.replica_max_concurrent_requests,
      maxQueueWaitMs: s.max_request_wait_time,
      memoryLimitBytes: Math.round((s.memory_gb_limit ?? s.memory_gb) * GIB),
      cpu: s.cpu_cores,
      restartPolicy: s.restart_policy ?? 'auto',
      liveness: { periodS: s.period_seconds, timeoutS: s.timeout_seconds, failureThreshold: s.failure_threshold, successThreshold: s.success_threshold },
    };
  }

  /** A replica of a docker generation: its image's python and variables (the environment is inside the image), container limits. */
  private containerSpec(g: Generation, replicaId: string, index: number, modelDir: string | undefined): ReplicaSpec {
    const s = g.spec;
    const image = this.images.get(`${g.service}:${g.generation}`);
    if (image === undefined) throw new Error(`the image of ${g.service} generation ${g.generation} was not prepared`);
    return {
      serviceName: g.service,
      replicaId,
      index,
      runtime: 'docker',
      generation: g.generation,
      entryScript: s.snapshot_entry_script,
      sourceDir: join(g.dir, 'source'),
      ...(modelDir === undefined ? {} : { modelDir }),
      container: image,
      ...(s.warmup === undefined ? {} : { env: { BERTH_WARMUP_REQUEST: s.warmup } }),
      scoringTimeoutMs: s.scoring_timeout_ms,
      ...streamLimits(s),
      maxConcurrentRequests: s.replica_max_concurrent_requests,
      maxQueueWaitMs: s.max_request_wait_time,
      memoryLimitBytes: Math.round((s.memory_gb_limit ?? s.memory_gb) * GIB),
      cpu: s.cpu_cores,
      ...(s.cpu_cores_limit === undefined ? {} : { cpuLimit: s.cpu_cores_limit }),
      ...(s.gpu_cores > 0 ? { gpus: s.gpu_cores } : {}),
      restartPolicy: s.restart_policy ?? 'auto',
      liveness: { periodS: s.period_seconds, timeoutS: s.timeout_seconds, failureThreshold: s.failure_threshold, successThreshold: s.success_threshold },
    };
  }

  /**
   * Lays out the generation's models once (replicas share the read-only tree); a finished layout is reused, so a
   * restarted control plane does not pull files from under adopted replicas. Returns the AZUREML_MODEL_DIR.
   */
  async mountModels(g: Generation, progress: (text: string) => void = () => undefined): Promise<string | undefined> {
    const models = g.spec.models;
    if (models.length === 0) return undefined;
    const root = join(g.dir, MODELS_FOLDER);
    const modelDir = models.length === 1 ? join(root, models[0]!.name, String(models[0]!.version)) : root;
    if (existsSync(join(g.dir, MODELS_DONE))) return modelDir;
    progress(`mounting ${models.map((m) => `${m.name}:${m.version}`).join(', ')}`);
    await removeMaterialized(g.dir);
    await materializeModels(this.deps.mountable(models), g.dir);
    writeFileSync(join(g.dir, MODELS_DONE), '');
    return modelDir;
  }

  /** Resolves once every replica is ready; rejects at the first one that ends before it is ready, or on abort. */
  private waitReady(g: Generation, ids: readonly string[], o: LaunchOptions): Promise<void> {
    let ready = 0;
    o.progress(`waiting for init() (0/${ids.length} ready)`);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(o.signal.reason);
      if (o.signal.aborted) return onAbort();
      o.signal.addEventListener('abort', onAbort, { once: true });
      const settle = (fn: () => void): void => {
        o.signal.removeEventListener('abort', onAbort);
        fn();
      };
      for (const id of ids) {
        void this.deps.supervisor.waitForStart(id).then((r) => {
          if (r.outcome === 'ready') {
            ready += 1;
            o.progress(`waiting for init() (${ready}/${ids.length} ready)`);
            if (ready === ids.length) settle(resolve);
          } else if (r.outcome === 'failed') {
            settle(() => reject(this.startError(g.service, id, r.termination)));
          } else {
            settle(() => reject(new BerthError('REPLICA_START_FAILED', { service: g.service, replica: id, detail: 'it was stopped' })));
          }
        });
      }
    });
  }

  /** Why a replica ended before it was ready, as the error the operation fails with. */
  private startError(service: string, replicaId: string, t: Termination): BerthError {
    if (t.initError !== undefined) {
      // The supervisor has decided by now whether it restarts (a transient failure) or gives up (a permanent one).
      const failed = this.deps.supervisor.get(replicaId)?.state === 'Failed';
      return initFailedError(service, replicaId, t.initError, failed ? 'Failed: not restarted, it fails the same way every time' : 'CrashLoopBackOff');
    }
    if (t.oom !== undefined) return oomKilledError(service, replicaId, t.oom);
    const how = t.signal !== null ? `killed by ${t.signal}` : `exited with code ${t.exitCode ?? 'unknown'}`;
    const log = readReplicaLog(replicaLogPaths(this.deps.logDir, service, replicaId), 'init', 20);
    const last = log.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('{')).at(-1);
    return new BerthError('REPLICA_START_FAILED', { service, replica: replicaId, detail: `berth serve ${how} (${t.reason}) after ${Math.round(t.ranMs)} ms${last === undefined ? '' : `; last output: ${last}`}` });
  }
}

/** A service's streaming limits, for its replicas' serve flags (only those it sets). */
function streamLimits(s: { readonly stream_first_chunk_timeout_ms?: number; readonly stream_chunk_timeout_ms?: number }): { streamFirstChunkTimeoutMs?: number; streamChunkTimeoutMs?: number } {
  return {
    ...(s.stream_first_chunk_timeout_ms === undefined ? {} : { streamFirstChunkTimeoutMs: s.stream_first_chunk_timeout_ms }),
    ...(s.stream_chunk_timeout_ms === undefined ? {} : { streamChunkTimeoutMs: s.stream_chunk_timeout_ms }),
  };
}
