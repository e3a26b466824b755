// Services: deploy, update and delete, each an operation run in the background, one at a time per service.
import { randomBytes, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '../../core/logger.js';
import { BerthError } from '../../errors/catalogue.js';
import { replicaLogPaths } from '../../targets/local/index.js';
import type { RuntimeKind } from '../../targets/types.js';
import type { EventLog } from './events.js';
import { busy, operationError, type Operation, type OperationStore } from './operations.js';
import type { Generation } from './replicas.js';
import type { ReplicaTarget } from './target.js';
import type { ServiceRecord, ServiceStore, StoredState } from './service-store.js';
import type { RolloutStore } from './rollout-store.js';
import { checkSource, copySnapshot, placeSnapshot, removeGeneration, removeServiceFiles, snapshotSource } from './snapshot.js';
import type { EnvironmentRuntime } from '../environments/runtime.js';
import { deployRequestSchema, mergeUpdate, normalizeSpec, parseWith, type DeployRequest, type ModelVersionRef, type ServiceSpec, type UpdateRequest } from './spec.js';

export interface ServiceManagerDeps {
  /** `<home>/services`: one folder per service, one per generation inside. */
  readonly root: string;
  /** The supervisor's replica log folder; a deleted service's logs go with it. */
  readonly logDir: string;
  readonly store: ServiceStore;
  readonly ops: OperationStore;
  readonly events: EventLog;
  /** A rollout under way refuses updates until it is promoted or rolled back. */
  readonly rollouts?: RolloutStore;
  /** Where replicas run (this machine, a cluster). */
  readonly target: ReplicaTarget;
  readonly resolveModel: (ref: { name: string; version?: number }) => ModelVersionRef;
  /** `NAME[:VERSION]` → the pinned version's interpreter and variables (without building it: the rollout does that). */
  readonly resolveEnvironment?: (ref: string) => EnvironmentRuntime;
  /** The control plane's default runtime for deployments that do not name one. */
  readonly defaultRuntime?: RuntimeKind;
  readonly logger: Logger;
  /** Called after the stored state changed. */
  readonly onStateChange: (service: string) => void;
}

/** An update checked and its source copied, ready to become an operation: the next generation of the service. */
export interface PreparedUpdate {
  readonly svc: ServiceRecord;
  /** The merged request with models pinned. */
  readonly request: DeployRequest;
  readonly spec: ServiceSpec;
  readonly generation: number;
  /** The source copy, moved into the generation's folder by the operation (removed by the caller if it never starts). */
  readonly staging: string;
}

export interface OpContext {
  readonly signal: AbortSignal;
  readonly progress: (text: string) => void;
}

export class ServiceManager {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();

  constructor(private readonly d: ServiceManagerDeps) {}

  generationDir(service: string, generation: number): string {
    return join(this.d.root, service, String(generation));
  }

  /** Creates a service: checks everything it can at once (→ 4xx), snapshots the source, then rolls out in the background. */
  async deploy(request: DeployRequest): Promise<Operation> {
    const { store, ops } = this.d;
    const name = request.name;
    const running = ops.running(name);
    if (running !== undefined) throw busy(running);
    if (store.find(name) !== undefined) throw new BerthError('SERVICE_EXISTS', { service: name });
    const spec = this.specFor(request, checkSource(request.entry_script, request.source_dir).entryScript);
    const staging = this.stagingDir();
    await snapshotSource(request.entry_script, request.source_dir, staging);
    let op: Operation;
    try {
      op = store.transaction(() => {
        store.insert({ name, request: pinModels(request, spec), spec, generation: 1, state: 'Transitioning', reason: '', primaryKey: newKey(), secondaryKey: newKey() });
        store.setModels(name, spec.models);
        return ops.begin('deploy', name, { generation: 1, spec });
      });
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw err;
    }
    this.d.onStateChange(name);
    const g: Generation = { service: name, generation: 1, spec, dir: this.generationDir(name, 1) };
    this.start(op, (ctx) => this.rollOutFirst(g, staging, ctx));
    return op;
  }

  /**
   * Checks an update of `name` (→ 4xx at once) and copies its source: the next generation, not yet an operation. Refused
   * while an operation runs or a rollout is under way.
   */
  async prepareUpdate(name: string, update: UpdateRequest): Promise<PreparedUpdate> {
    const { store, ops } = this.d;
    const svc = store.get(name);
    const running = ops.running(name);
    if (running !== undefined) throw busy(running);
    const rollout = this.d.rollouts?.find(name);
    if (rollout !== undefined) throw new BerthError('ROLLOUT_IN_PROGRESS', { service: name, candidate: rollout.generation, state: rollout.state, stable: rollout.baseGeneration });
    const request = parseWith(deployRequestSchema, mergeUpdate(svc.request, update));
    const newSource = update.entry_script !== undefined || update.source_dir !== undefined;
    const entry = newSource ? checkSource(request.entry_script, request.source_dir).entryScript : svc.spec.snapshot_entry_script;
    const spec = this.specFor(request, entry);
    // As after a failed update, a rolled-back candidate's number is used again by the next one.
    const generation = svc.generation + 1;
    const staging = this.stagingDir();
    if (newSource) await snapshotSource(request.entry_script, request.source_dir, staging);
    else await copySnapshot(join(this.generationDir(name, svc.generation), 'source'), staging);
    return { svc, request: pinModels(request, spec), spec, generation, staging };
  }

  /** Replaces a service's replicas with a new generation; the old ones serve until the new ones are ready. */
  async update(name: string, update: UpdateRequest): Promise<Operation> {
    const prepared = await this.prepareUpdate(name, update);
    const { op, generation: g } = await this.beginUpdate(name, prepared);
    const { svc, request, staging } = prepared;
    this.start(op, (ctx) => this.rollOutUpdate(g, staging, request, svc.spec, svc.state, ctx));
    return op;
  }

  /**
   * Records a prepared update as a running update operation, atomically with `alsoRecord` (a rollout's row): both
   * versions' models in use, the service Transitioning. When that fails, the staged source is removed. The caller
   * starts the operation's work.
   */
  async beginUpdate(name: string, prepared: PreparedUpdate, alsoRecord?: () => void): Promise<{ op: Operation; generation: Generation }> {
    const { store, ops } = this.d;
    const { svc, spec, generation, staging } = prepared;
    let op: Operation;
    try {
      op = store.transaction(() => {
        const started = ops.begin('update', name, { generation, spec });
        // Both versions' models are in use until the update ends one way or the other (or while both generations run).
        store.setModels(name, [...svc.spec.models, ...spec.models]);
        store.setState(name, 'Transitioning');
        alsoRecord?.();
        return started;
      });
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw err;
    }
    this.d.onStateChange(name);
    return { op, generation: { service: name, generation, spec, dir: this.generationDir(name, generation) } };
  }

  /** Stops every replica of the service and removes it with its files. */
  delete(name: string): Operation {
    const { store, ops } = this.d;
    store.get(name);
    const op = store.transaction(() => {
      const started = ops.begin('delete', name);
      store.setState(name, 'Deleting');
      return started;
    });
    this.d.onStateChange(name);
    this.start(op, (ctx) => this.remove(name, ctx));
    return op;
  }

  /** Stops and removes everything of a service (also used to finish a delete a restart interrupted). */
  async remove(name: string, ctx?: OpContext): Promise<void> {
    const ids = new Set([...this.d.store.replicas(name).map((r) => r.id), ...this.d.target.list(name).map((r) => r.replicaId)]);
    ctx?.progress(`stopping ${ids.size} replica(s)`);
    await this.d.target.stop(name, [...ids], 'the service is being deleted');
    ctx?.progress('removing files');
    await removeServiceFiles(join(this.d.root, name));
    await this.d.target.forget(name);
    // The folder the supervisor keeps this service's replica logs in (it names it, so ask it rather than guess).
    await rm(dirname(replicaLogPaths(this.d.logDir, name, 'any').current), { recursive: true, force: true });
    this.d.rollouts?.remove(name);
    this.d.store.remove(name);
    this.d.onStateChange(name);
  }

  /** Stops the operations (they fail as interrupted, and clean up what they started), then every replica. */
  async close(): Promise<void> {
    for (const [id, r] of this.running) {
      const op = this.d.ops.get(id);
      r.controller.abort(new BerthError('OPERATION_INTERRUPTED', { operation: id, service: op.service, detail: 'the control plane was stopped while it ran' }));
    }
    await Promise.all([...this.running.values()].map((r) => r.done));
    await this.d.target.close();
  }

  private async rollOutFirst(g: Generation, staging: string, ctx: OpContext): Promise<void> {
    try {
      // The copy is already taken; moving it into place is part of the operation, so a failure there fails it.
      await placeSnapshot(staging, join(g.dir, 'source'));
      await this.d.target.launch(g, { ...ctx, ...this.waitingHooks(g.service, 'Unschedulable', ctx), keepCrashLooping: true });
      this.setState(g.service, 'Settled');
    } catch (err) {
      // Interrupted by a shutdown, the state stays Transitioning: the spec is committed and the next start rolls it out.
      if (!ctx.signal.aborted) this.setState(g.service, 'Failed', err instanceof Error ? err.message : String(err));
      throw err;
    }
  }

  private async rollOutUpdate(g: Generation, staging: string, request: DeployRequest, old: ServiceSpec, oldState: StoredState, ctx: OpContext): Promise<void> {
    const { store } = this.d;
    const previous = store.replicas(g.service).filter((r) => r.generation !== g.generation).map((r) => r.id);
    // An autoscaled service keeps the capacity the autoscaler gave it (within the new bounds): starting the new version
    // at its minimum would leave it short under the very load that scaled it up.
    const count = g.spec.autoscale_enabled && old.autoscale_enabled
      ? Math.min(Math.max(previous.length, g.spec.autoscale_min_replicas), g.spec.autoscale_max_replicas)
      : undefined;
    try {
      await removeGeneration(g.dir); // a leftover of an update a crash interrupted
      await placeSnapshot(staging, join(g.dir, 'source'));
      await this.d.target.launch(g, { ...ctx, ...this.waitingHooks(g.service, 'Transitioning', ctx), keepCrashLooping: false, ...(count === undefined ? {} : { count }) });
    } catch (err) {
      await removeGeneration(g.dir);
      await this.d.target.forget(g.service, g.generation);
      store.setModels(g.service, old.models);
      this.setState(g.service, oldState === 'Failed' ? 'Failed' : 'Settled', oldState === 'Failed' ? store.get(g.service).reason : '');
      throw err;
    }
    store.transaction(() => {
      store.commit(g.service, request, g.spec, g.generation);
      store.setModels(g.service, g.spec.models);
    });
    this.setState(g.service, 'Settled');
    ctx.progress(`stopping ${previous.length} replica(s) of the previous version`);
    await this.d.target.stop(g.service, previous, `replaced by generation ${g.generation}`);
    for (let gen = 1; gen < g.generation; gen++) {
      await removeGeneration(this.generationDir(g.service, gen));
      await this.d.target.forget(g.service, gen);
    }
  }

  /** While a replica waits for room: the state and its reason, a FailedScheduling event, the progress line. */
  waitingHooks(service: string, waitingState: StoredState, ctx: OpContext): { onWaiting: (reason: string) => void; onPlaced: () => void } {
    let waited = false;
    return {
      onWaiting: (reason) => {
        waited = true;
        this.setState(service, waitingState, reason);
        this.d.events.add(service, { type: 'FailedScheduling', message: reason });
        ctx.progress(`waiting for resources (${waitingState}): ${reason}`);
      },
      onPlaced: () => {
        if (waited) this.setState(service, 'Transitioning');
      },
    };
  }

  /** Sets the stored state; the shown state is re-derived (and a change recorded) by `onStateChange`. */
  setState(service: string, state: StoredState, reason = ''): void {
    this.d.store.setState(service, state, reason);
    this.d.onStateChange(service);
  }

  /** Re-derives what depends on a service's stored rows (its shown state, the gateway's routing) after a change. */
  changed(service: string): void {
    this.d.onStateChange(service);
  }

  /** Runs `work` as operation `op` in the background: events when it starts and ends, its failure recorded as its error. */
  start(op: Operation, work: (ctx: OpContext) => Promise<void>): void {
    const { ops, events, logger } = this.d;
    const controller = new AbortController();
    const ctx: OpContext = { signal: controller.signal, progress: (text) => ops.progress(op.id, text) };
    events.add(op.service, { type: 'OperationStarted', message: `${op.kind} operation ${op.id} started`, data: { operation: op.id, kind: op.kind } });
    const done = (async () => {
      try {
        await work(ctx);
        ops.finish(op.id);
        // A deleted service keeps no events (a new one of that name must not inherit them).
        if (this.d.store.find(op.service) !== undefined) {
          events.add(op.service, { type: 'OperationSucceeded', message: `${op.kind} operation ${op.id} succeeded`, data: { operation: op.id } });
        }
      } catch (err) {
        const error = operationError(controller.signal.aborted ? controller.signal.reason : err);
        ops.finish(op.id, error);
        if (op.kind !== 'delete' || this.d.store.find(op.service) !== undefined) {
          events.add(op.service, { type: 'OperationFailed', message: `${op.kind} operation ${op.id} failed: ${error.message}`, data: { operation: op.id, code: error.code } });
        }
        logger.warn({ operation: op.id, service: op.service, kind: op.kind, code: error.code }, error.message);
      } finally {
        this.running.delete(op.id);
      }
    })();
    this.running.set(op.id, { controller, done });
  }

  private specFor(request: DeployRequest, snapshotEntry: string): ServiceSpec {
    const spec = normalizeSpec(request, this.d.resolveModel, snapshotEntry, this.d.resolveEnvironment, { runtime: this.d.defaultRuntime ?? 'process' });
    // A request that no machine state could satisfy fails now, not after the scheduling timeout.
    const never = this.d.target.neverFits(spec);
    if (never !== undefined) throw never;
    return spec;
  }

  /** Where sources are copied before their operation starts; emptied at start-up. */
  stagingRoot(): string {
    return join(this.d.root, '.staging');
  }

  private stagingDir(): string {
    return join(this.stagingRoot(), randomUUID());
  }

}

/** The request with each model pinned to the version it resolved to, so a later update never moves it silently. */
function pinModels(request: DeployRequest, spec: ServiceSpec): DeployRequest {
  return { ...request, models: spec.models.map((m) => `${m.name}:${m.version}`), ...(spec.environment === undefined ? {} : { environment: spec.environment.ref }) };
}

/** A random API key (256 bits, URL-safe). */
export function newKey(): string {
  return randomBytes(32).toString('base64url');
}
