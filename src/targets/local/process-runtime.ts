// The process runtime (the embedded default): each run is a `berth serve` process group on this machine, memory held by a cgroup or RSS sampling.
import type { ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import type { ReplicaRuntime, RunExit, RunHandle } from '../runtime.js';
import { MemoryCgroup, type CgroupSupport } from './cgroup.js';
import { sleep, type Clock, type TimerHandle } from '../../core/clock.js';
import { launchRun, type LaunchConfig } from './launch.js';
import { MemoryWatch } from './memory-watch.js';
import { describeProbe, httpGet, probeSucceeded } from './probes.js';
import { commandLine, isAlive, killTree } from './proc-tree.js';
import { ListeningFollower } from './replica-logs.js';
import { startedAsStandby, type StandbyServe } from './standby.js';
import { isContainerRecord, type AdoptionRecord, type MemoryStatus, type OomReport, type ProcessAdoptionRecord, type ReplicaLogPaths, type ReplicaSpec } from '../types.js';

export interface ProcessRuntimeOptions {
  readonly launch: LaunchConfig;
  readonly clock: Clock;
  readonly cgroup: CgroupSupport;
  /** How often an adopted process (not our child: no 'exit' event) is checked for life. */
  readonly pollMs: number;
  readonly memorySampleMs: number;
  /** A pre-started process runs take when they can (standby.ts); none: each run spawns its own. */
  readonly standby?: StandbyServe;
}

/**
 * Whether `pid` runs a `berth serve` of files under `dir` (a generation folder): the pid recorded for a replica may
 * have been reused by anything since, and only our own replica may be adopted or killed.
 */
export function runsFrom(pid: number, dir: string): boolean {
  const argv = commandLine(pid);
  if (argv === undefined) return false;
  if (argv.some((arg) => arg.startsWith(dir + '/'))) return true;
  // A run that began as the standby names none of its files; it works in its source folder.
  try {
    return startedAsStandby(argv) && readlinkSync(`/proc/${pid}/cwd`).startsWith(dir + '/');
  } catch {
    return false;
  }
}

/** Checks that `record` still names a running berth serve that answers on its port; the problem, or undefined. */
export async function verifyAdoptable(record: ProcessAdoptionRecord, host: string, clock: Clock): Promise<string | undefined> {
  if (!isAlive(record.pid)) return `process ${record.pid} is not running`;
  const argv = commandLine(record.pid) ?? [];
  // The pid may have been reused by something else since it was recorded.
  if (!(argv.includes('serve') && argv.includes('--entry-script')) && !startedAsStandby(argv)) return `process ${record.pid} is not a berth serve (${argv.join(' ').slice(0, 120)})`;
  const r = await httpGet(`http://${host}:${record.port}/`, 2000, clock);
  return probeSucceeded(r) ? undefined : `process ${record.pid} does not answer on port ${record.port} (${describeProbe(r)})`;
}

export class ProcessRuntime implements ReplicaRuntime {
  readonly kind = 'process' as const;
  /** Each replica's memory cgroup (kept across its runs), or why it has none. */
  private readonly groups = new Map<string, { cgroup?: MemoryCgroup; note?: string }>();

  constructor(private readonly o: ProcessRuntimeOptions) {}

  url(port: number): string {
    return `http://${this.o.launch.host}:${port}`;
  }

  launch(spec: ReplicaSpec, logs: ReplicaLogPaths): Promise<RunHandle> {
    const cgroup = this.cgroupFor(spec);
    cgroup?.resetPeak();
    const launched = this.o.standby?.take(spec, logs, cgroup) ?? launchRun(spec, this.o.launch, logs, cgroup);
    if (launched.cgroupError !== undefined) this.groups.set(spec.replicaId, { ...(cgroup ? { cgroup } : {}), note: launched.cgroupError });
    return Promise.resolve(new ProcessRun(this.o, { pid: launched.pid, child: launched.child, port: undefined, logPath: logs.current, cgroup, fromStandby: launched.fromStandby === true }));
  }

  async adopt(spec: ReplicaSpec, record: AdoptionRecord, logs: ReplicaLogPaths): Promise<RunHandle | { problem: string }> {
    if (isContainerRecord(record)) return { problem: `it was recorded as container ${record.containerId.slice(0, 12)}, not a process` };
    const problem = await verifyAdoptable(record, this.o.launch.host, this.o.clock);
    if (problem !== undefined) return { problem };
    const cgroup = record.cgroupPath === undefined ? undefined : MemoryCgroup.open(record.cgroupPath);
    if (cgroup !== undefined) this.groups.set(spec.replicaId, { cgroup });
    return new ProcessRun(this.o, { pid: record.pid, child: undefined, port: record.port, logPath: logs.current, cgroup });
  }

  async discard(record: AdoptionRecord): Promise<void> {
    if (isContainerRecord(record)) return;
    // Still a berth serve but not answering: kill it, so two copies never run.
    if (isAlive(record.pid) && (commandLine(record.pid) ?? []).includes('serve')) killTree(record.pid, 'SIGKILL');
    const leftover = record.cgroupPath === undefined ? undefined : MemoryCgroup.open(record.cgroupPath);
    if (leftover !== undefined) {
      killTree(record.pid, 'SIGKILL', leftover.procs());
      await leftover.remove((ms) => sleep(this.o.clock, ms));
    }
  }

  memory(spec: ReplicaSpec): MemoryStatus {
    const limit = spec.memoryLimitBytes;
    const g = this.groups.get(spec.replicaId);
    const enforcement = limit === undefined ? 'none' : g?.cgroup === undefined ? 'rss' : g.cgroup.version === 2 ? 'cgroup-v2' : 'cgroup-v1';
    return {
      enforcement,
      ...(limit === undefined ? {} : { limitBytes: limit }),
      ...(g?.cgroup === undefined ? {} : { cgroupPath: g.cgroup.path }),
      ...(g?.note === undefined ? {} : { note: g.note }),
    };
  }

  async dispose(spec: ReplicaSpec): Promise<void> {
    await this.groups.get(spec.replicaId)?.cgroup?.remove((ms) => sleep(this.o.clock, ms));
    this.groups.delete(spec.replicaId);
  }

  /** The replica's memory cgroup, made at its first run when it has a limit and the machine allows one. */
  private cgroupFor(spec: ReplicaSpec): MemoryCgroup | undefined {
    const limit = spec.memoryLimitBytes;
    const known = this.groups.get(spec.replicaId);
    if (known !== undefined || limit === undefined || !this.o.cgroup.ok) return known?.cgroup;
    try {
      const cgroup = MemoryCgroup.create(this.o.cgroup, `berth-${spec.replicaId}`, limit);
      this.groups.set(spec.replicaId, { cgroup });
      return cgroup;
    } catch (err) {
      this.groups.set(spec.replicaId, { note: `could not create a memory cgroup (${(err as NodeJS.ErrnoException).code ?? String(err)}); the limit is enforced by RSS sampling` });
      return undefined;
    }
  }
}

interface ProcessRunInit {
  readonly pid: number;
  /** Undefined for an adopted process: not our child, so no 'exit' event. */
  readonly child: ChildProcess | undefined;
  readonly port: number | undefined;
  readonly logPath: string;
  readonly cgroup: MemoryCgroup | undefined;
  readonly fromStandby?: boolean;
}

/** A `berth serve` process group: its port from its `listening` line, its end from 'exit' (or polling an adopted pid). */
class ProcessRun implements RunHandle {
  readonly pid: number;
  readonly adopted: boolean;
  readonly label: string;
  private knownPort: number | undefined;
  private readonly follower: ListeningFollower;
  private watch: MemoryWatch | undefined;
  private goneTimer: TimerHandle | undefined;
  private exitHandler: ((exit: RunExit) => void) | undefined;
  private exit: RunExit | undefined;
  private ended = false;
  private killSent = false;

  constructor(private readonly o: ProcessRuntimeOptions, private readonly init: ProcessRunInit) {
    this.pid = init.pid;
    this.adopted = init.child === undefined;
    this.label = init.fromStandby === true ? `pid ${init.pid}, pre-started` : `pid ${init.pid}`;
    this.knownPort = init.port;
    this.follower = new ListeningFollower(init.logPath);
    if (init.child !== undefined) {
      init.child.on('exit', (code, signal) => this.finish(code, signal));
      init.child.on('error', () => this.finish(null, null));
    } else {
      this.pollGone();
    }
  }

  port(): number | undefined {
    return (this.knownPort ??= this.follower.poll());
  }

  onExit(onExit: (exit: RunExit) => void): void {
    this.exitHandler = onExit;
    if (this.exit !== undefined) onExit(this.exit);
  }

  kill(signal: 'SIGTERM' | 'SIGKILL'): void {
    if (signal === 'SIGTERM') {
      try { process.kill(this.pid, 'SIGTERM'); } catch { /* already gone */ }
      return;
    }
    this.killSent = true;
    killTree(this.pid, 'SIGKILL', this.init.cgroup?.procs() ?? []);
  }

  watchMemory(limitBytes: number, onOom: (report: OomReport) => void): void {
    const { clock, memorySampleMs } = this.o;
    this.watch = new MemoryWatch({ pid: this.pid, limitBytes, ...(this.init.cgroup ? { cgroup: this.init.cgroup } : {}), clock, intervalMs: memorySampleMs, onOom }).start();
  }

  adoptionRecord(): ProcessAdoptionRecord | undefined {
    const port = this.port();
    if (this.ended || port === undefined) return undefined;
    return { pid: this.pid, port, ...(this.init.cgroup === undefined ? {} : { cgroupPath: this.init.cgroup.path }) };
  }

  release(): void {
    this.stopWatching();
    this.ended = true;
    this.init.child?.removeAllListeners('exit');
    // While supervised, a child keeps the event loop alive (its exit must be seen); released, it must not.
    this.init.child?.unref();
  }

  private pollGone(): void {
    this.goneTimer = this.o.clock.setTimeout(() => {
      if (this.ended) return;
      // We cannot learn an adopted process's exit status; a kill we sent is the best guess at its signal.
      if (!isAlive(this.pid)) this.finish(null, this.killSent ? 'SIGKILL' : null);
      else this.pollGone();
    }, this.o.pollMs);
  }

  private stopWatching(): void {
    if (this.goneTimer !== undefined) this.o.clock.clearTimeout(this.goneTimer);
    this.watch?.stop();
  }

  private finish(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.ended) return;
    this.ended = true;
    this.stopWatching();
    // A kernel OOM kill between two samples (or of serve itself) shows only in the cgroup's counter.
    const last = this.watch?.check();
    // Workers left behind by a dead serve: the group (and the cgroup) must be empty before the next run.
    killTree(this.pid, 'SIGKILL', this.init.cgroup?.procs() ?? []);
    this.exit = { code, signal, ...(last?.detectedBy === 'kernel' ? { oom: last } : {}) };
    this.exitHandler?.(this.exit);
  }
}
