// Starts one run of a replica: `node bin/berth.js serve ...` as its own process group, output to its log file, inside its cgroup.
import { spawn, type ChildProcess } from 'node:child_process';
import { isAbsolute, resolve } from 'node:path';
import type { MemoryCgroup } from './cgroup.js';
import { closeFd, openRunLog } from './replica-logs.js';
import type { ReplicaLogPaths, ReplicaSpec } from '../types.js';
import { REPLICA_KEY_ENV } from '../../core/replica-key.js';
import { MODEL_NAME_ENV } from '../../inference/oip/model.js';

export interface LaunchConfig {
  /** The Node.js binary (the control plane passes process.execPath). */
  readonly nodePath: string;
  /** The repo's bin/berth.js. */
  readonly berthBin: string;
  /** Interface replicas listen on (127.0.0.1: only the gateway talks to them). */
  readonly host: string;
  /** Environment every replica gets (PATH, HOME, ...); the service's own variables go on top. */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  /** Each replica's key for /score and its scoring channel (handed over in the environment); none: replicas answer anyone. */
  readonly replicaKey?: (replicaId: string) => string;
  /** Every replica's body limit, the same the gateway enforces (else serve's default). */
  readonly maxRequestSizeMb?: number;
}

/** Where and how a run's `berth serve` finds its files and listens: on this machine, or inside a container. */
export interface ServeLocation {
  readonly entryScript: string;
  readonly host: string;
  readonly port: number;
  readonly modelDir?: string;
  readonly python?: string;
  readonly maxRequestSizeMb?: number;
}

/** `serve` and its flags for a spec, every target alike: the location's paths, then the spec's limits. */
export function serveFlags(spec: Pick<ReplicaSpec, 'workerCount' | 'scoringTimeoutMs' | 'streamFirstChunkTimeoutMs' | 'streamChunkTimeoutMs' | 'maxConcurrentRequests' | 'maxQueueWaitMs' | 'initTimeoutS'>, at: ServeLocation): string[] {
  const args = ['serve', '--entry-script', at.entryScript, '--port', String(at.port), '--host', at.host];
  const opt = (flag: string, value: string | number | undefined): void => {
    if (value !== undefined) args.push(flag, String(value));
  };
  opt('--model-dir', at.modelDir);
  opt('--python', at.python);
  opt('--worker-count', spec.workerCount);
  opt('--scoring-timeout-ms', spec.scoringTimeoutMs);
  opt('--first-chunk-timeout-ms', spec.streamFirstChunkTimeoutMs);
  opt('--chunk-timeout-ms', spec.streamChunkTimeoutMs);
  opt('--max-concurrent-requests', spec.maxConcurrentRequests);
  opt('--max-queue-wait-ms', spec.maxQueueWaitMs);
  opt('--init-timeout-s', spec.initTimeoutS);
  opt('--max-request-size-mb', at.maxRequestSizeMb);
  return args;
}

/** The `berth serve` arguments for a spec; port 0 lets serve pick a free port and say which in its `listening` line. */
export function serveArgs(spec: ReplicaSpec, config: LaunchConfig): string[] {
  const entryScript = isAbsolute(spec.entryScript) ? spec.entryScript : resolve(spec.sourceDir, spec.entryScript);
  return [config.berthBin, ...serveFlags(spec, {
    entryScript, host: config.host, port: 0,
    ...(spec.modelDir === undefined ? {} : { modelDir: spec.modelDir }),
    ...(spec.python === undefined ? {} : { python: spec.python }),
    ...(config.maxRequestSizeMb === undefined ? {} : { maxRequestSizeMb: config.maxRequestSizeMb }),
  })];
}

export interface Launched {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Set when the process could not be put in its cgroup (the run goes on, watched by RSS only). */
  readonly cgroupError?: string;
  /** The run is a pre-started standby taking its spec (standby.ts), not a process spawned for it. */
  readonly fromStandby?: boolean;
}

/** A run's environment: the plane's base, the service's variables, its model name and the replica's key. */
export function runEnv(spec: ReplicaSpec, config: LaunchConfig): Record<string, string | undefined> {
  return { ...config.baseEnv, ...spec.env, [MODEL_NAME_ENV]: spec.serviceName, [REPLICA_KEY_ENV]: config.replicaKey?.(spec.replicaId) };
}

/** Spawns the run; throws when the process could not be created at all (no pid). */
export function launchRun(spec: ReplicaSpec, config: LaunchConfig, logs: ReplicaLogPaths, cgroup: MemoryCgroup | undefined): Launched {
  const fd = openRunLog(logs);
  let child: ChildProcess;
  try {
    child = spawn(config.nodePath, serveArgs(spec, config), {
      cwd: spec.sourceDir,
      env: runEnv(spec, config),
      // Its own process group: the whole tree can be signalled at once, and a Ctrl-C to the control plane's
      // terminal does not reach replicas that should survive a control plane restart.
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    // The child holds its own copy of the descriptor.
    closeFd(fd);
  }
  if (child.pid === undefined) {
    // Spawn failures (ENOENT for the node path) arrive as an 'error' event; surface them synchronously instead.
    child.on('error', () => undefined);
    throw new Error(`could not start ${config.nodePath} in ${spec.sourceDir}`);
  }
  return { child, pid: child.pid, ...joinCgroup(child.pid, cgroup) };
}

/** Puts a run's process in its memory cgroup before it starts Python workers (they inherit it); why not, if it failed. */
export function joinCgroup(pid: number, cgroup: MemoryCgroup | undefined): { cgroupError?: string } {
  if (cgroup === undefined) return {};
  try {
    cgroup.addProcess(pid);
    return {};
  } catch (err) {
    return { cgroupError: `${(err as NodeJS.ErrnoException).code ?? String(err)} adding pid ${pid} to ${cgroup.path}` };
  }
}
