// One pre-started `berth serve --standby` process: a replica's run starts without waiting for Node and berth to load.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { MemoryCgroup } from './cgroup.js';
import { joinCgroup, runEnv, serveArgs, type LaunchConfig, type Launched } from './launch.js';
import { rotateRunLogs } from './replica-logs.js';
import type { ReplicaLogPaths, ReplicaSpec } from '../types.js';

export interface StandbyOptions {
  readonly launch: LaunchConfig;
  readonly clock: Clock;
  /** Where a waiting standby's output file lives until a run takes it (on the file system of the replicas' logs). */
  readonly dir: string;
  /** How long after a run took the standby the next one starts: not while that run is starting on the same cores. */
  readonly refillDelayMs?: number;
}

interface Waiting {
  readonly child: ChildProcess;
  readonly logPath: string;
}

/**
 * Variables Node reads only as it starts (NODE_OPTIONS, UV_THREADPOOL_SIZE …): a run whose service sets one gets a
 * process of its own, since a standby started without them.
 */
const READ_AT_START = /^(NODE_|UV_)/;
const MAX_FAILURES = 3;

/** How a standby is started (after `node <bin/berth.js>`); a run that began as one keeps this command line. */
const STANDBY_COMMAND = ['serve', '--standby'] as const;

/** Whether a process's command line is a standby's (waiting, or now a replica's run that began as one). */
export function startedAsStandby(argv: readonly string[]): boolean {
  return STANDBY_COMMAND.every((arg) => argv.includes(arg));
}

/**
 * Keeps one standby waiting. A run takes it (`take`): its output file becomes the run's log, it joins the run's memory
 * cgroup, and it reads the run's flags, environment and directory from its standard input. The next standby starts a
 * little later. A standby whose control plane goes away sees its input end and leaves.
 *
 * What differs from a process spawned for the run: the memory Node used while loading (tens of MiB) was charged to the
 * control plane's cgroup, not the replica's; and the command line `ps` shows is `berth serve --standby`.
 */
export class StandbyServe {
  private waiting: Waiting | undefined;
  private refill: TimerHandle | undefined;
  private closed = false;
  private serial = 0;
  /** Standbys that died waiting, in a row: past MAX_FAILURES no more are started (runs spawn their own processes). */
  private failures = 0;

  constructor(private readonly o: StandbyOptions) {}

  /** Starts the first standby, after removing the files of standbys a killed control plane left (one plane per home). */
  start(): this {
    rmSync(this.o.dir, { recursive: true, force: true });
    this.spawnOne();
    return this;
  }

  /** The standby, now running `spec`'s run; undefined when none is waiting or the spec needs a process of its own. */
  take(spec: ReplicaSpec, logs: ReplicaLogPaths, cgroup: MemoryCgroup | undefined): Launched | undefined {
    const w = this.waiting;
    if (w === undefined || this.closed || !isWaiting(w.child) || Object.keys(spec.env ?? {}).some((name) => READ_AT_START.test(name))) return undefined;
    this.waiting = undefined;
    this.scheduleRefill();
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(runEnv(spec, this.o.launch))) if (value !== undefined) env[name] = value;
    try {
      rotateRunLogs(logs);
      renameSync(w.logPath, logs.current);
    } catch {
      stop(w);
      return undefined;
    }
    const joined = joinCgroup(w.child.pid!, cgroup);
    const [, ...args] = serveArgs(spec, this.o.launch);
    w.child.stdin!.end(`${JSON.stringify({ args, env, cwd: spec.sourceDir })}\n`);
    // Supervised now: its exit must be seen, as a spawned run's is.
    w.child.ref();
    this.failures = 0;
    return { child: w.child, pid: w.child.pid!, fromStandby: true, ...joined };
  }

  /** Ends the waiting standby and starts no more. */
  close(): void {
    this.closed = true;
    if (this.refill !== undefined) this.o.clock.clearTimeout(this.refill);
    if (this.waiting !== undefined) stop(this.waiting);
    this.waiting = undefined;
  }

  private scheduleRefill(): void {
    if (this.refill !== undefined) return;
    this.refill = this.o.clock.setTimeout(() => {
      this.refill = undefined;
      this.spawnOne();
    }, this.o.refillDelayMs ?? 500);
  }

  private spawnOne(): void {
    if (this.closed || this.waiting !== undefined) return;
    const { launch, dir } = this.o;
    mkdirSync(dir, { recursive: true });
    const logPath = join(dir, `standby-${process.pid}-${++this.serial}.log`);
    const fd = openSync(logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(launch.nodePath, [launch.berthBin, ...STANDBY_COMMAND], { cwd: dir, env: { ...launch.baseEnv }, detached: true, stdio: ['pipe', fd, fd] });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) {
      child.on('error', () => undefined);
      rmSync(logPath, { force: true });
      return;
    }
    child.stdin!.on('error', () => undefined); // it died: the exit below says so
    // A waiting standby must not keep the control plane's event loop alive.
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    const waiting: Waiting = { child, logPath };
    this.waiting = waiting;
    child.once('exit', () => {
      if (this.waiting !== waiting) return;
      // It died waiting (killed from outside?): its file goes, and another takes its place later.
      this.waiting = undefined;
      rmSync(logPath, { force: true });
      if (++this.failures < MAX_FAILURES) this.scheduleRefill();
    });
  }
}

function isWaiting(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null && child.stdin !== null && child.stdin.writable;
}

function stop(w: Waiting): void {
  try { w.child.kill('SIGKILL'); } catch { /* gone */ }
  rmSync(w.logPath, { force: true });
}
