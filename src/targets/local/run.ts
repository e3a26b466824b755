// One run of a replica (a `berth serve` process we started or adopted) and the context a replica works in.
import type { ChildProcess } from 'node:child_process';
import type { BackoffOptions } from './backoff.js';
import type { CgroupSupport } from './cgroup.js';
import type { Clock, TimerHandle } from './clock.js';
import type { LaunchConfig } from './launch.js';
import type { LivenessProber } from './liveness.js';
import type { MemoryWatch } from './memory-watch.js';
import { isAlive } from './proc-tree.js';
import { ListeningFollower } from './replica-logs.js';
import type { OomReport, ReplicaEvent, Termination, TerminationReason } from './types.js';

type Without<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event before the replica stamps it with time, service and replica. */
export type ReplicaEventBody = Without<ReplicaEvent, 'time' | 'serviceName' | 'replicaId'>;

export interface ReplicaContext {
  readonly clock: Clock;
  readonly launch: LaunchConfig;
  readonly logDir: string;
  readonly backoff: BackoffOptions;
  readonly readyTimeoutMs: number;
  /** How often readiness (and an adopted process's existence) is checked. */
  readonly pollMs: number;
  readonly memorySampleMs: number;
  /** A run's log is cut back past this size (checked every few seconds). */
  readonly logCapBytes: number;
  readonly stopGraceMs: number;
  readonly cgroup: CgroupSupport;
  readonly sink: (event: ReplicaEvent) => void;
}

/** How the next start attempt ended: ready, or terminated before it was ready (init error, OOM, timeout...), or stopped. */
export type StartOutcome =
  | { readonly outcome: 'ready'; readonly url: string }
  | { readonly outcome: 'failed'; readonly termination: Termination }
  | { readonly outcome: 'stopped' };

export interface Run {
  readonly pid: number;
  /** Undefined for an adopted process: not our child, so no 'exit' event. */
  readonly child: ChildProcess | undefined;
  readonly adopted: boolean;
  readonly startedAt: number;
  port?: number;
  readonly follower: ListeningFollower;
  readyAt?: number;
  /** Why we are killing it, so the exit is reported with that reason rather than a bare SIGKILL. */
  pending?: { reason: TerminationReason; oom?: OomReport };
  watch?: MemoryWatch;
  liveness?: LivenessProber;
  timer?: TimerHandle;
  goneTimer?: TimerHandle;
  logCapTimer?: TimerHandle;
  ended: boolean;
  readonly exited: Promise<void>;
  markExited: () => void;
}

export function createRun(init: { pid: number; child: ChildProcess | undefined; adopted: boolean; port: number | undefined }, startedAt: number, logPath: string): Run {
  let markExited = (): void => undefined;
  const exited = new Promise<void>((resolve) => { markExited = resolve; });
  const { port, ...rest } = init;
  return { ...rest, ...(port === undefined ? {} : { port }), startedAt, follower: new ListeningFollower(logPath), ended: false, exited, markExited };
}

/** Calls `onExit` once the run's process ends: from the child's 'exit' event, or by polling an adopted pid. */
export function watchExit(run: Run, clock: Clock, pollMs: number, onExit: (code: number | null, signal: NodeJS.Signals | null) => void): void {
  if (run.child !== undefined) {
    run.child.on('exit', (code, signal) => onExit(code, signal));
    run.child.on('error', () => onExit(null, null));
    return;
  }
  const poll = (): void => {
    run.goneTimer = clock.setTimeout(() => {
      if (run.ended) return;
      // We cannot learn an adopted process's exit status; a kill we sent is the best guess at its signal.
      if (!isAlive(run.pid)) onExit(null, run.pending === undefined ? null : 'SIGKILL');
      else poll();
    }, pollMs);
  };
  poll();
}

export function stopRunTimers(run: Run, clock: Clock): void {
  for (const t of [run.timer, run.goneTimer, run.logCapTimer]) if (t !== undefined) clock.clearTimeout(t);
  run.watch?.stop();
  run.liveness?.stop();
}

/** Drops undefined fields so statuses and events serialise without `"x": undefined` noise. */
export function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
