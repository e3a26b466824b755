// One run of a replica as the supervisor tracks it (its handle from the runtime, readiness, probes, timers) and the context a replica works in.
import type { BackoffOptions } from './backoff.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { LivenessProber } from './liveness.js';
import type { ReplicaRuntime, RunHandle } from '../runtime.js';
import type { OomReport, ReplicaEvent, StartupPhaseView, Termination, TerminationReason } from '../types.js';

type Without<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event before the replica stamps it with time, service and replica. */
export type ReplicaEventBody = Without<ReplicaEvent, 'time' | 'serviceName' | 'replicaId'>;

export interface ReplicaContext {
  readonly clock: Clock;
  /** How runs of this replica are started and ended (processes, containers). */
  readonly runtime: ReplicaRuntime;
  readonly logDir: string;
  readonly backoff: BackoffOptions;
  readonly readyTimeoutMs: number;
  /** How often readiness is checked. */
  readonly pollMs: number;
  /** A run's log is cut back past this size (checked every few seconds). */
  readonly logCapBytes: number;
  readonly stopGraceMs: number;
  readonly sink: (event: ReplicaEvent) => void;
}

/** How the next start attempt ended: ready, or terminated before it was ready (init error, OOM, timeout...), or stopped. */
export type StartOutcome =
  | { readonly outcome: 'ready'; readonly url: string }
  | { readonly outcome: 'failed'; readonly termination: Termination }
  | { readonly outcome: 'stopped' };

export interface Run {
  readonly handle: RunHandle;
  readonly startedAt: number;
  port?: number;
  readyAt?: number;
  /** Why we are killing it, so the exit is reported with that reason rather than a bare SIGKILL. */
  pending?: { reason: TerminationReason; oom?: OomReport };
  /** Where start-up is, as `berth serve` last said on /ready. */
  phase?: StartupPhaseView;
  liveness?: LivenessProber;
  timer?: TimerHandle;
  logCapTimer?: TimerHandle;
  ended: boolean;
  readonly exited: Promise<void>;
  markExited: () => void;
}

export function createRun(handle: RunHandle, startedAt: number): Run {
  let markExited = (): void => undefined;
  const exited = new Promise<void>((resolve) => { markExited = resolve; });
  return { handle, startedAt, ended: false, exited, markExited };
}

export function stopRunTimers(run: Run, clock: Clock): void {
  for (const t of [run.timer, run.logCapTimer]) if (t !== undefined) clock.clearTimeout(t);
  run.liveness?.stop();
}

/** Drops undefined fields so statuses and events serialise without `"x": undefined` noise. */
export function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
