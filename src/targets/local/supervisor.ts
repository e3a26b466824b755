// The supervisor: runs, watches, restarts, stops and re-adopts every replica on this machine, as processes or containers (one runtime each).
import { defaultBackoff, type BackoffOptions } from './backoff.js';
import { BerthError } from '../../errors/catalogue.js';
import { detectMemoryCgroup, type CgroupSupport } from './cgroup.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { ProcessRuntime } from './process-runtime.js';
import { StandbyServe } from './standby.js';
import { join } from 'node:path';
import { Replica, type StartOutcome } from './replica.js';
import type { ReplicaRuntime } from '../runtime.js';
import { DEFAULT_LOG_CAP_BYTES } from '../../core/log-cap.js';
import { readReplicaLog, replicaLogPaths, type LogKind } from './replica-logs.js';
import type { AdoptionRecord, ReplicaEvent, ReplicaSpec, ReplicaStatus, RuntimeKind } from '../types.js';

export { runsFrom, verifyAdoptable } from './process-runtime.js';

export interface SupervisorOptions {
  /** The repo's bin/berth.js, which replicas run as `node bin/berth.js serve ...`. */
  readonly berthBin: string;
  /** The Node.js binary (pass process.execPath). */
  readonly nodePath: string;
  /** Replica logs go to `<logDir>/<service>/<replica>.log` (+ `.previous.log`, `.init.log`). */
  readonly logDir: string;
  /** Environment every replica starts with (PATH, HOME, ...); a spec's env goes on top. */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  /** The container runtime, when this control plane has one (replicas whose spec says runtime docker use it). */
  readonly docker?: ReplicaRuntime;
  /** Each replica's key, which its /score and scoring channel then require (see core/replica-key). */
  readonly replicaKey?: (replicaId: string) => string;
  /** Passed to every replica as --max-request-size-mb. */
  readonly maxRequestSizeMb?: number;
  /** Receives every event, stamped by `clock`. Must not throw. */
  readonly onEvent?: (event: ReplicaEvent) => void;
  readonly clock?: Clock;
  /** Interface replicas listen on (default 127.0.0.1). */
  readonly host?: string;
  /** Restart back-off (default 10 s doubling to 5 min, reset after 10 min of running). */
  readonly backoff?: Partial<BackoffOptions>;
  /** A run not ready by then is killed and restarted (default 630 s: serve's 600 s init budget plus start-up). */
  readonly readyTimeoutMs?: number;
  /** Readiness polling period (default 100 ms). */
  readonly readyPollMs?: number;
  /** Memory sampling period (default 250 ms). */
  readonly memorySampleMs?: number;
  /** A replica run's log is cut back past this many bytes (default 64 MiB). */
  readonly logCapBytes?: number;
  /** After SIGTERM, how long a replica may drain before SIGKILL (default 35 s: serve drains for up to 30 s). */
  readonly stopGraceMs?: number;
  /** Keep a pre-started `berth serve --standby` for process runs to take (default off; the control plane turns it on). */
  readonly standby?: boolean;
  /** `auto` (default) probes for a writable memory cgroup; `off` enforces limits by RSS sampling only. */
  readonly cgroup?: { readonly mode: 'auto' | 'off'; readonly parent?: string };
}

export type AdoptResult =
  | { readonly adopted: true; readonly status: ReplicaStatus }
  | { readonly adopted: false; readonly detail: string; readonly status: ReplicaStatus };

export class Supervisor {
  /** Whether replica memory limits can use a cgroup here, and if not why; detected once at construction. */
  readonly cgroupSupport: CgroupSupport;
  private readonly replicas = new Map<string, Replica>();
  private readonly clock: Clock;
  private readonly host: string;
  private readonly runtimes: Readonly<Record<RuntimeKind, ReplicaRuntime | undefined>>;
  private readonly standby: StandbyServe | undefined;

  constructor(private readonly options: SupervisorOptions) {
    this.clock = options.clock ?? systemClock;
    this.host = options.host ?? '127.0.0.1';
    this.cgroupSupport = options.cgroup?.mode === 'off'
      ? { ok: false, why: 'cgroups are turned off by configuration' }
      : detectMemoryCgroup(options.cgroup?.parent === undefined ? {} : { parent: options.cgroup.parent });
    const o = options;
    const launch = { nodePath: o.nodePath, berthBin: o.berthBin, host: this.host, baseEnv: o.baseEnv, ...(o.replicaKey ? { replicaKey: o.replicaKey } : {}), ...(o.maxRequestSizeMb ? { maxRequestSizeMb: o.maxRequestSizeMb } : {}) };
    this.standby = o.standby === true ? new StandbyServe({ launch, clock: this.clock, dir: join(o.logDir, '.standby') }).start() : undefined;
    const processes = new ProcessRuntime({
      launch, clock: this.clock, cgroup: this.cgroupSupport, pollMs: o.readyPollMs ?? 100, memorySampleMs: o.memorySampleMs ?? 250,
      ...(this.standby === undefined ? {} : { standby: this.standby }),
    });
    this.runtimes = { process: processes, docker: o.docker };
  }

  /** Starts a new replica; its first run begins at once. */
  start(spec: ReplicaSpec): ReplicaStatus {
    const replica = this.create(spec);
    replica.start();
    return replica.status();
  }

  /**
   * Re-adopts a replica a previous control plane started: when `record`'s pid is alive, is a berth serve and answers on
   * its port, it is watched from now on; otherwise a hung leftover is killed and a fresh run starts.
   */
  async adopt(spec: ReplicaSpec, record: AdoptionRecord): Promise<AdoptResult> {
    const replica = this.create(spec);
    const detail = await replica.adopt(record);
    if (detail === undefined) return { adopted: true, status: replica.status() };
    this.options.onEvent?.({
      type: 'AdoptFailed', pid: record.pid, port: record.port, detail,
      time: new Date(this.clock.now()).toISOString(), serviceName: spec.serviceName, replicaId: spec.replicaId,
      message: `Could not adopt pid ${record.pid} on port ${record.port}: ${detail}; starting a new run`,
    });
    await this.runtimeFor(spec).discard(record);
    replica.start();
    return { adopted: false, detail, status: replica.status() };
  }

  /** A replica's running run as its runtime finds it (containers by label); undefined when none, or when the runtime relies on stored records. */
  async locate(spec: ReplicaSpec): Promise<AdoptionRecord | undefined> {
    return this.runtimeFor(spec).locate?.(spec);
  }

  /** Removes what runtimes left of replicas not in `keep` (containers of deleted services); how many. */
  async removeLeftovers(keep: ReadonlySet<string>): Promise<number> {
    let n = 0;
    for (const runtime of Object.values(this.runtimes)) n += (await runtime?.removeLeftovers?.(keep).catch(() => 0)) ?? 0;
    return n;
  }

  /** Stops one replica (graceful, then SIGKILL) and forgets it. */
  async stop(replicaId: string): Promise<void> {
    const replica = this.replicas.get(replicaId);
    if (replica === undefined) return;
    await replica.stop();
    this.replicas.delete(replicaId);
  }

  /** Stops every replica, in parallel. */
  async stopAll(): Promise<void> {
    this.standby?.close();
    await Promise.all([...this.replicas.keys()].map((id) => this.stop(id)));
  }

  /** Stops watching every replica but leaves the processes running, and returns what to store to adopt them later. */
  releaseAll(): Map<string, AdoptionRecord> {
    this.standby?.close();
    const records = new Map<string, AdoptionRecord>();
    for (const [id, replica] of this.replicas) {
      const record = replica.release();
      if (record !== undefined) records.set(id, record);
    }
    this.replicas.clear();
    return records;
  }

  get(replicaId: string): ReplicaStatus | undefined {
    return this.replicas.get(replicaId)?.status();
  }

  list(serviceName?: string): ReplicaStatus[] {
    return [...this.replicas.values()].filter((r) => serviceName === undefined || r.spec.serviceName === serviceName).map((r) => r.status());
  }

  /** Resolves at the replica's next readiness or pre-ready termination; at once when it is Ready. */
  waitForStart(replicaId: string): Promise<StartOutcome> {
    const replica = this.replicas.get(replicaId);
    return replica === undefined ? Promise.resolve({ outcome: 'stopped' }) : replica.waitForStart();
  }

  adoptionRecord(replicaId: string): AdoptionRecord | undefined {
    return this.replicas.get(replicaId)?.adoptionRecord();
  }

  /** A replica's log, also after it was stopped: `current`, `previous` (last run before) or `init` (start-up output). */
  readLog(serviceName: string, replicaId: string, kind: LogKind, tail?: number): string {
    return readReplicaLog(replicaLogPaths(this.options.logDir, serviceName, replicaId), kind, tail);
  }

  private create(spec: ReplicaSpec): Replica {
    if (this.replicas.has(spec.replicaId)) throw new BerthError('INVALID_ARGUMENT', { detail: `replica ${spec.replicaId} is already supervised` });
    const o = this.options;
    const replica = new Replica(spec, {
      clock: this.clock,
      runtime: this.runtimeFor(spec),
      logDir: o.logDir,
      backoff: { ...defaultBackoff, ...o.backoff },
      readyTimeoutMs: o.readyTimeoutMs ?? 630_000,
      pollMs: o.readyPollMs ?? 100,
      logCapBytes: o.logCapBytes ?? DEFAULT_LOG_CAP_BYTES,
      stopGraceMs: o.stopGraceMs ?? 35_000,
      sink: (event) => o.onEvent?.(event),
    });
    this.replicas.set(spec.replicaId, replica);
    return replica;
  }

  /** The runtime a replica's spec asks for; refused when this control plane has none of that kind. */
  private runtimeFor(spec: ReplicaSpec): ReplicaRuntime {
    const kind = spec.runtime ?? 'process';
    const runtime = this.runtimes[kind];
    if (runtime === undefined) throw new BerthError('RUNTIME_UNAVAILABLE', { runtime: kind, replica: spec.replicaId });
    return runtime;
  }
}
