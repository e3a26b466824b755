// Environments: create versions, show them with their build, build each digest once, and hand deployments a built runtime.
import { dirname, join } from 'node:path';
import type { EnvSnapshot } from '../../core/home.js';
import type { Logger } from '../../core/logger.js';
import { BerthError } from '../../errors/catalogue.js';
import type { Db } from '../store/db.js';
import { EnvironmentBuilder } from './builder.js';
import { type BuildState, type CreateEnvironmentRequest, type EnvRef, type EnvironmentView } from './env-schema.js';
import { EnvironmentStore, type BuildFailure, type VersionRecord } from './env-store.js';
import { pythonProbe, type InterpreterProbe } from './interpreter.js';
import { runtimeFor, venvPython, type EnvironmentRuntime } from './runtime.js';
import { buildDigest, normalizeEnvironment } from './spec.js';

export type { EnvironmentRuntime } from './runtime.js';

export interface EnvironmentsDeps {
  readonly db: Db;
  /** `$BERTH_HOME/envs`. */
  readonly root: string;
  /** Where builds keep pip's and npm's caches; default `cache` beside `root` (`$BERTH_HOME/cache`). */
  readonly cache?: string;
  /** The control plane's environment, for build steps and the PATH replicas get. */
  readonly env: EnvSnapshot;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly probe?: InterpreterProbe;
  /** A whole build's limit (pip compiling a large package can take long); default 30 min. */
  readonly buildTimeoutMs?: number;
  /** pip's / npm's per-request network timeout; default 10 s. */
  readonly networkTimeoutS?: number;
  readonly npm?: string;
}

export type ViewState = BuildState | 'NotBuilt';

export class Environments {
  readonly store: EnvironmentStore;
  readonly builder: EnvironmentBuilder;
  private readonly probe: InterpreterProbe;

  constructor(private readonly d: EnvironmentsDeps) {
    const now = d.now ?? Date.now;
    this.store = new EnvironmentStore(d.db, () => new Date(now()));
    this.probe = d.probe ?? pythonProbe(d.env);
    this.builder = new EnvironmentBuilder({
      root: d.root, cache: d.cache ?? join(dirname(d.root), 'cache'), store: this.store, env: d.env, now, logger: d.logger,
      buildTimeoutMs: d.buildTimeoutMs ?? 30 * 60_000, pipTimeoutS: d.networkTimeoutS ?? 10, npm: d.npm ?? 'npm',
    });
  }

  /** At start: builds a stop interrupted are started again, in the background. */
  recover(): number {
    const digests = this.store.interrupted();
    for (const digest of digests) {
      const record = this.store.list().find((v) => v.digest === digest);
      if (record !== undefined) void this.builder.ensure(digest, record.spec.build);
    }
    return digests.length;
  }

  /** Checks the spec, stores the version (or finds the identical latest one) and starts its build unless it is built. */
  async create(req: CreateEnvironmentRequest): Promise<{ environment: EnvironmentView; created: boolean }> {
    const spec = await normalizeEnvironment(req, { probe: this.probe, nodeVersion: process.versions.node });
    const { record, created } = this.store.addVersion(req.name, req.description, spec, buildDigest(spec.build));
    // Creating again is asking again: a failed build is retried, a built one reused.
    this.start(record, true);
    return { environment: this.view(record), created };
  }

  list(name?: string): EnvironmentView[] {
    return this.store.list(name).map((r) => this.view(r));
  }

  show(ref: EnvRef): EnvironmentView {
    return this.view(this.store.get(ref));
  }

  /** `berth env build`: starts the build of a version that is not built (a failed one is retried); a built one is left alone. */
  build(ref: EnvRef): EnvironmentView {
    const record = this.store.get(ref);
    this.start(record, true);
    return this.view(record);
  }

  logPath(ref: EnvRef): { path: string; version: VersionRecord } {
    const version = this.store.get(ref);
    return { path: this.builder.logPath(version.digest), version };
  }

  /**
   * Waits until the version is built, building it when needed; two callers at once share one build. A failed build is
   * not retried here (a deployment fails at once with its error); `berth env build` retries it.
   */
  async ensureBuilt(ref: EnvRef, signal?: AbortSignal): Promise<VersionRecord> {
    const record = this.store.get(ref);
    const label = `${record.name}:${record.version}`;
    if (this.state(record) === 'Built') return record;
    const before = this.store.build(record.digest);
    if (before?.state === 'Failed' && !this.builder.isBuilding(record.digest)) throw renderFailure(before.error, label);
    const building = this.start(record, false);
    await (signal === undefined ? building : Promise.race([building, aborted(signal)]));
    const after = this.store.build(record.digest);
    if (after?.state === 'Built' && this.builder.isBuilt(record.digest)) return record;
    throw renderFailure(after?.error, label);
  }

  /**
   * The interpreter and variables a replica of a deployment using `ref` starts with (ReplicaSpec.python / .env);
   * builds the environment first when needed, and fails with the build's error when its build failed.
   */
  async resolveEnvironmentForReplica(ref: EnvRef, signal?: AbortSignal): Promise<EnvironmentRuntime> {
    const record = await this.ensureBuilt(ref, signal);
    return this.runtime({ name: record.name, version: record.version });
  }

  /** The runtime of a version (the latest when none is given), pinned to it, without building: what a deployment's spec records. */
  runtime(ref: EnvRef): EnvironmentRuntime {
    const record = this.store.get(ref);
    return runtimeFor(`${record.name}:${record.version}`, record.digest, record.spec, this.builder.dir(record.digest), this.d.env.PATH);
  }

  counts(): { names: number; versions: number; builds: number } {
    return this.store.counts();
  }

  close(): Promise<void> {
    return this.builder.close();
  }

  private start(record: VersionRecord, retryFailed: boolean): Promise<void> {
    const state = this.state(record);
    if (state === 'Built' || (state === 'Failed' && !retryFailed)) return Promise.resolve();
    return this.builder.ensure(record.digest, record.spec.build);
  }

  private state(record: VersionRecord): ViewState {
    if (this.builder.isBuilding(record.digest)) return 'Building';
    const build = this.store.build(record.digest);
    if (build === undefined) return 'NotBuilt';
    // Built, but its folder was removed by hand: the next use builds it again.
    if (build.state === 'Built' && !this.builder.isBuilt(record.digest)) return 'NotBuilt';
    return build.state;
  }

  private view(record: VersionRecord): EnvironmentView {
    const build = this.store.build(record.digest);
    const state = this.state(record);
    const label = `${record.name}:${record.version}`;
    const err = state === 'Failed' && build?.error !== undefined ? renderFailure(build.error, label) : undefined;
    return {
      name: record.name,
      version: record.version,
      description: record.description,
      created_at: record.created_at,
      digest: record.digest,
      state,
      builds: build?.builds ?? 0,
      ...(state === 'Built' && build?.size !== undefined ? { size: build.size } : {}),
      ...(build?.build_ms === undefined ? {} : { build_ms: build.build_ms }),
      ...(state === 'Built' && build?.finished_at !== undefined ? { built_at: build.finished_at } : {}),
      path: this.builder.dir(record.digest),
      ...(record.spec.build.kind === 'python' ? { python: venvPython(this.builder.dir(record.digest)) } : {}),
      spec: record.spec,
      ...(err === undefined ? {} : { error: { code: err.code, message: err.message, fix: err.fix } }),
    };
  }
}

/** A stored failure as the error of one version (its message names the version and the command for its log). */
export function renderFailure(failure: BuildFailure | undefined, label: string): BerthError {
  if (failure === undefined) {
    return new BerthError('ENVIRONMENT_BUILD_FAILED', { environment: label, reason: 'the build was interrupted before it finished', tail: '' });
  }
  return new BerthError(failure.code, { ...failure.params, environment: label });
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
