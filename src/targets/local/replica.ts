// One supervised replica: starts runs of `berth serve`, waits for readiness, probes liveness, watches memory, restarts with back-off.
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { RestartBackoff } from './backoff.js';
import type { TimerHandle } from '../../core/clock.js';
import { EXIT_ENTRY_SCRIPT, failureClass, formatInitError, parseInitError } from './init-error.js';
import { backOffMessage, exitMessage, notRestartingMessage, oomMessage } from './messages.js';
import { httpGet } from './probes.js';
import { parseStartupPhase } from './startup-phase.js';
import { LivenessProber } from './liveness.js';
import { capRunLog, KEPT_RUNS, readReplicaLog, replicaLogPaths, saveInitLog } from './replica-logs.js';
import { createRun, stopRunTimers, stripUndefined, type ReplicaContext, type ReplicaEventBody, type Run, type StartOutcome } from './run.js';
import type { RunExit, RunHandle } from '../runtime.js';
import { defaultLivenessProbe, type AdoptionRecord, type InitError, type OomReport, type ReplicaEvent, type ReplicaLogPaths, type ReplicaSpec, type ReplicaState, type ReplicaStatus, type Termination, type TerminationReason } from '../types.js';

/** How often a run's log size is checked against the cap. */
const LOG_CAP_CHECK_MS = 5000;

export type { ReplicaContext, StartOutcome } from './run.js';

export class Replica {
  readonly logs: ReplicaLogPaths;
  private state: ReplicaState = 'Starting';
  private run: Run | undefined;
  private readonly backoff: RestartBackoff;
  private restarts = 0;
  private attempts = 0;
  private lastTermination: Termination | undefined;
  /** The ends of the last runs, newest first, as many as their logs are kept. */
  private terminations: Termination[] = [];
  private lastInitError: InitError | undefined;
  private restartTimer: TimerHandle | undefined;
  private nextRestartAt: number | undefined;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  /** A run being started (a container takes a moment); stop() waits for it, so none starts unseen. */
  private launching: Promise<void> | undefined;
  private waiters: Array<(o: StartOutcome) => void> = [];

  constructor(readonly spec: ReplicaSpec, private readonly ctx: ReplicaContext) {
    this.logs = replicaLogPaths(ctx.logDir, spec.serviceName, spec.replicaId);
    this.backoff = new RestartBackoff(ctx.backoff);
  }

  status(): ReplicaStatus {
    const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
    const r = this.run;
    return stripUndefined({
      serviceName: this.spec.serviceName,
      replicaId: this.spec.replicaId,
      index: this.spec.index,
      state: this.state,
      pid: r?.ended === false ? r.handle.pid : undefined,
      phase: r === undefined || r.ended || this.state === 'Ready' ? undefined : (r.phase ?? { name: 'starting', since: new Date(r.startedAt).toISOString() }),
      port: r?.ended === false ? r.port : undefined,
      url: r?.ended === false && r.port !== undefined ? this.url(r.port) : undefined,
      restarts: this.restarts,
      startedAt: iso(r?.startedAt),
      readyAt: iso(r?.readyAt),
      lastTermination: this.lastTermination,
      recentTerminations: this.terminations.length === 0 ? undefined : [...this.terminations],
      lastInitError: this.lastInitError,
      nextRestartAt: this.state === 'CrashLoopBackOff' ? iso(this.nextRestartAt) : undefined,
      memory: this.ctx.runtime.memory(this.spec),
      logs: this.logs,
    }) as ReplicaStatus;
  }

  /** What to store so a restarted control plane can adopt this replica; undefined while no run is up. */
  adoptionRecord(): AdoptionRecord | undefined {
    const r = this.run;
    return r === undefined || r.ended ? undefined : r.handle.adoptionRecord();
  }

  /** Resolves at the next readiness or pre-ready termination (at once when already Ready or Stopped). */
  waitForStart(): Promise<StartOutcome> {
    if (this.state === 'Ready' && this.run?.port !== undefined) return Promise.resolve({ outcome: 'ready', url: this.url(this.run.port) });
    if (this.state === 'Stopped') return Promise.resolve({ outcome: 'stopped' });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Takes over a run left by a previous control plane; returns the problem (and takes nothing) when it is not there or not answering. */
  async adopt(record: AdoptionRecord): Promise<string | undefined> {
    const got = await this.ctx.runtime.adopt(this.spec, record, this.logs);
    if ('problem' in got) return got.problem;
    this.beginRun(got);
    this.emit({ type: 'Adopted', pid: record.pid, port: record.port, message: `Adopted running berth serve (${got.label}, port ${record.port})` });
    return undefined;
  }

  /** SIGTERM (serve drains in-flight requests), SIGKILL after the grace period, then removes the cgroup. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= this.stopOnce();
    return this.stopped;
  }

  private async stopOnce(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer !== undefined) this.ctx.clock.clearTimeout(this.restartTimer);
    await this.launching;
    const run = this.run;
    if (run !== undefined && !run.ended) {
      run.pending ??= { reason: 'Stopped' };
      // A draining serve refuses new connections: probes would fail and kill it mid-drain. Memory stays watched.
      run.liveness?.stop();
      if (run.timer !== undefined) this.ctx.clock.clearTimeout(run.timer);
      run.handle.kill('SIGTERM');
      const force = this.ctx.clock.setTimeout(() => run.handle.kill('SIGKILL'), this.ctx.stopGraceMs);
      await run.exited;
      this.ctx.clock.clearTimeout(force);
    }
    await this.ctx.runtime.dispose(this.spec);
    this.setState('Stopped');
    this.emit({ type: 'Stopped', message: 'Stopped' });
    this.resolveWaiters({ outcome: 'stopped' });
  }

  /** Stops watching without touching the process (control plane shutting down, replicas kept for adoption). */
  release(): AdoptionRecord | undefined {
    const record = this.adoptionRecord();
    this.stopping = true;
    if (this.restartTimer !== undefined) this.ctx.clock.clearTimeout(this.restartTimer);
    const run = this.run;
    if (run !== undefined && !run.ended) {
      stopRunTimers(run, this.ctx.clock);
      run.handle.release();
      run.ended = true;
      run.markExited();
    }
    return record;
  }

  private url(port: number): string {
    return this.ctx.runtime.url(port);
  }

  private emit(body: ReplicaEventBody): void {
    const event = { ...body, time: new Date(this.ctx.clock.now()).toISOString(), serviceName: this.spec.serviceName, replicaId: this.spec.replicaId } as ReplicaEvent;
    try {
      this.ctx.sink(event);
    } catch {
      // A failing sink (a full disk under the store) must not stop supervision.
    }
  }

  private setState(to: ReplicaState): void {
    if (to === this.state) return;
    const from = this.state;
    this.state = to;
    this.emit({ type: 'StateChanged', from, to, message: `${from} → ${to}` });
  }

  private resolveWaiters(outcome: StartOutcome): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(outcome);
  }

  /** Starts a run now (the first one, or a restart when the back-off timer fires). */
  start(): void {
    this.restartTimer = undefined;
    this.nextRestartAt = undefined;
    if (this.stopping) return;
    this.setState('Starting');
    this.launching = this.launch().finally(() => { this.launching = undefined; });
  }

  private async launch(): Promise<void> {
    let handle: RunHandle;
    try {
      handle = await this.ctx.runtime.launch(this.spec, this.logs);
    } catch (err) {
      // Not even a process: count it as a failed run so the back-off applies.
      this.lastTermination = { reason: 'Error', exitCode: null, signal: null, at: new Date(this.ctx.clock.now()).toISOString(), ranMs: 0, wasReady: false };
      this.emit({ type: 'Exited', termination: this.lastTermination, message: err instanceof Error ? err.message : String(err) });
      if (!this.stopping) this.scheduleRestart(0);
      return;
    }
    this.attempts += 1;
    this.beginRun(handle);
    this.emit({ type: 'Started', pid: handle.pid ?? 0, attempt: this.attempts, message: `Started berth serve (${handle.label}), attempt ${this.attempts}` });
    // stop() arrived while the run was being made: it waits for this, then ends the run.
  }

  private beginRun(handle: RunHandle): void {
    const run = createRun(handle, this.ctx.clock.now());
    this.run = run;
    handle.onExit((exit) => this.onExit(run, exit));
    const limit = this.spec.memoryLimitBytes;
    if (limit !== undefined) {
      handle.watchMemory(limit, (oom: OomReport) => {
        this.emit({ type: 'OOMKilled', oom, message: oomMessage(oom) });
        this.terminate(run, 'OOMKilled', oom);
      });
    }
    this.capLog(run);
    void this.pollReady(run);
  }

  /** Every few seconds while the run lives: its log is cut back when past the cap. */
  private capLog(run: Run): void {
    run.logCapTimer = this.ctx.clock.setTimeout(() => {
      if (run.ended) return;
      try {
        if (capRunLog(this.logs, this.ctx.logCapBytes)) this.emit({ type: 'LogRotated', message: `Log past ${this.ctx.logCapBytes} bytes: older lines moved to ${basename(this.logs.rotated)}` });
      } catch {
        // A full or read-only disk: the next check tries again.
      }
      this.capLog(run);
    }, LOG_CAP_CHECK_MS);
  }

  private async pollReady(run: Run): Promise<void> {
    if (run.ended || this.stopping) return;
    if (this.ctx.clock.now() - run.startedAt > this.ctx.readyTimeoutMs) {
      this.emit({ type: 'StartupTimeout', timeoutMs: this.ctx.readyTimeoutMs, message: `Not ready within ${this.ctx.readyTimeoutMs} ms; killing and restarting` });
      this.terminate(run, 'StartupTimeout');
      return;
    }
    run.port ??= run.handle.port();
    if (run.port !== undefined) {
      const r = await httpGet(`${this.url(run.port)}/ready`, Math.max(1000, this.ctx.pollMs * 4), this.ctx.clock, true);
      if (run.ended || this.stopping) return;
      if (r.ok && r.status === 200) return this.onReady(run, run.port);
      if (r.ok && r.body !== undefined) this.notePhase(run, r.body);
    }
    run.timer = this.ctx.clock.setTimeout(() => void this.pollReady(run), this.ctx.pollMs);
  }

  /** The start-up phase `berth serve` reports on /ready (importing, init, warming), an event each time it moves on. */
  private notePhase(run: Run, body: string): void {
    const phase = parseStartupPhase(body);
    if (phase === undefined) return;
    const was = run.phase?.name;
    run.phase = phase;
    if (phase.name !== was) this.emit({ type: 'Phase', phase: phase.name, message: `Phase ${phase.name}${phase.lastOutput === undefined ? '' : `; last output: ${phase.lastOutput}`}` });
  }

  private onReady(run: Run, port: number): void {
    run.readyAt = this.ctx.clock.now();
    if (!run.handle.adopted) saveInitLog(this.logs, logSize(this.logs.current));
    this.lastInitError = undefined;
    this.setState('Ready');
    const startupMs = run.readyAt - run.startedAt;
    this.emit({ type: 'Ready', url: this.url(port), port, startupMs, message: `Ready at ${this.url(port)} after ${startupMs} ms` });
    this.resolveWaiters({ outcome: 'ready', url: this.url(port) });
    const probe = this.spec.liveness ?? defaultLivenessProbe;
    run.liveness = new LivenessProber({
      url: this.url(port),
      probe,
      clock: this.ctx.clock,
      onFailure: (detail, consecutive) => this.emit({
        type: 'ProbeFailed', probe: 'liveness', consecutive, threshold: probe.failureThreshold, detail,
        message: `Liveness probe failed: ${detail} (${consecutive}/${probe.failureThreshold})`,
      }),
      onThreshold: (consecutive) => {
        this.emit({ type: 'LivenessKill', consecutive, message: `Liveness probe failed ${consecutive} times in a row; killing and restarting` });
        this.terminate(run, 'LivenessProbeFailed');
      },
    }).start();
  }

  /** Kills the run's whole tree for `reason`; the exit handler finishes the bookkeeping. */
  private terminate(run: Run, reason: TerminationReason, oom?: OomReport): void {
    if (run.ended) return;
    run.pending = { reason, ...(oom === undefined ? {} : { oom }) };
    this.killRun(run);
  }

  private killRun(run: Run): void {
    run.handle.kill('SIGKILL');
  }

  private onExit(run: Run, exit: RunExit): void {
    if (run.ended) return;
    run.ended = true;
    stopRunTimers(run, this.ctx.clock);
    const { code, signal } = exit;
    // A kernel OOM kill (a cgroup's between two samples, a container's) is known only from the run's end.
    if (run.pending === undefined && exit.oom !== undefined) {
      this.emit({ type: 'OOMKilled', oom: exit.oom, message: oomMessage(exit.oom) });
      run.pending = { reason: 'OOMKilled', oom: exit.oom };
    }
    const wasReady = run.readyAt !== undefined;
    const ranMs = this.ctx.clock.now() - run.startedAt;
    const initError = !wasReady && code === EXIT_ENTRY_SCRIPT ? parseInitError(readReplicaLog(this.logs, 'current')) : undefined;
    const reason: TerminationReason = run.pending?.reason ?? (code === 0 ? 'Completed' : 'Error');
    const termination: Termination = stripUndefined({
      reason, exitCode: code, signal, at: new Date(this.ctx.clock.now()).toISOString(), ranMs, wasReady, initError, oom: run.pending?.oom,
    }) as Termination;
    this.lastTermination = termination;
    this.terminations = [termination, ...this.terminations].slice(0, KEPT_RUNS);
    if (!wasReady && !run.handle.adopted) saveInitLog(this.logs);
    this.emit({ type: 'Exited', termination, message: exitMessage(termination) });
    if (initError !== undefined) {
      this.lastInitError = initError;
      this.emit({ type: 'InitFailed', error: initError, attempt: this.attempts, message: `init() failed: ${formatInitError(initError)}` });
    }
    if (!wasReady && !this.stopping) this.resolveWaiters({ outcome: 'failed', termination });
    run.markExited();
    if (this.stopping) return;
    const policy = this.spec.restartPolicy ?? 'auto';
    const klass = initError === undefined ? 'transient' : failureClass(initError);
    if (policy === 'never' || (policy === 'auto' && klass === 'permanent')) return this.giveUp(klass, policy);
    this.scheduleRestart(ranMs);
  }

  /** A failure a restart would only repeat (or a policy of no restarts): the replica stays down, saying why, instead of looping. */
  private giveUp(klass: 'permanent' | 'transient', policy: 'auto' | 'always' | 'never'): void {
    this.setState('Failed');
    this.emit({ type: 'NotRestarting', failureClass: klass, policy, ...(this.lastInitError ? { lastInitError: this.lastInitError } : {}), message: notRestartingMessage(policy, this.lastInitError) });
  }

  private scheduleRestart(ranMs: number): void {
    const delayMs = this.backoff.next(ranMs);
    this.restarts += 1;
    this.nextRestartAt = this.ctx.clock.now() + delayMs;
    this.setState('CrashLoopBackOff');
    this.emit({ type: 'BackOff', delayMs, restart: this.restarts, ...(this.lastInitError ? { lastInitError: this.lastInitError } : {}), message: backOffMessage(delayMs, this.restarts, this.lastInitError) });
    this.restartTimer = this.ctx.clock.setTimeout(() => this.start(), delayMs);
  }
}

function logSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
