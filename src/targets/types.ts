// The local target's data: what a replica should run (ReplicaSpec), what it is doing (ReplicaStatus) and what happened (ReplicaEvent).

/** Kubernetes' liveness probe fields; seconds may be fractional (tests use short periods). */
export interface ProbeConfig {
  readonly periodS: number;
  readonly timeoutS: number;
  readonly failureThreshold: number;
  readonly successThreshold: number;
}

export const defaultLivenessProbe: ProbeConfig = { periodS: 10, timeoutS: 2, failureThreshold: 3, successThreshold: 1 };

/** Where a replica's runs happen: `berth serve` processes (the default) or containers of the service's image. */
export type RuntimeKind = 'process' | 'docker';

export interface ReplicaSpec {
  readonly serviceName: string;
  /** Default: process. */
  readonly runtime?: RuntimeKind;
  /** Unique across services, e.g. `my-svc-0-ab12`; names the log files and the cgroup. */
  readonly replicaId: string;
  readonly index: number;
  /** Relative paths are taken from `sourceDir`. */
  readonly entryScript: string;
  /** The replica's working directory (the snapshotted source dir). */
  readonly sourceDir: string;
  readonly modelDir?: string;
  readonly python?: string;
  readonly workerCount?: number;
  readonly scoringTimeoutMs?: number;
  /** A streaming run()'s first-chunk and between-chunk limits (serve's default: the scoring timeout). */
  readonly streamFirstChunkTimeoutMs?: number;
  readonly streamChunkTimeoutMs?: number;
  readonly maxConcurrentRequests?: number;
  readonly maxQueueWaitMs?: number;
  readonly initTimeoutS?: number;
  /** Enforced memory limit of the whole process tree; undefined = none. */
  readonly memoryLimitBytes?: number;
  /** Requested CPU cores (for scheduling and reports; not enforced). */
  readonly cpu: number;
  /** Environment variables of the service, on top of the supervisor's base environment. */
  readonly env?: Readonly<Record<string, string>>;
  readonly liveness?: ProbeConfig;
  /** For runtime docker: the image each run starts from. */
  readonly container?: ContainerImage;
  /** Cores a container may use at most (cpu_cores_limit); the process runtime does not enforce it. */
  readonly cpuLimit?: number;
  /** GPUs a container asks for (gpu_cores). */
  readonly gpus?: number;
  /** The service generation the replica belongs to (labels containers). */
  readonly generation?: number;
  /** What a failed run leads to (default auto: by its failure class). */
  readonly restartPolicy?: RestartPolicy;
}

/** The service's image as a container runs it: where berth serve, node and python are inside, and its variables. */
export interface ContainerImage {
  /** What to run: `repo@sha256:…` when the image is in a registry, else the local image id. */
  readonly ref: string;
  readonly node: string;
  readonly berthBin: string;
  readonly python: string;
  /** Where the source snapshot is (`/var/azureml-app`, as in the classic images); models are mounted below it. */
  readonly appRoot: string;
  readonly env: Readonly<Record<string, string>>;
}

/** Failed: stopped for good after a permanent start-up failure (or any failure with restart policy never). */
/** A starting replica's phase. */
export interface StartupPhaseView {
  readonly name: string;
  readonly since: string;
  readonly lastOutput?: string;
}

export type ReplicaState = 'Starting' | 'Ready' | 'CrashLoopBackOff' | 'Failed' | 'Stopped';

/** Why a run ended, in Kubernetes' words where it has them. */
export type TerminationReason = 'Completed' | 'Error' | 'OOMKilled' | 'LivenessProbeFailed' | 'StartupTimeout' | 'Stopped';

/** The entry script's start-up failure, parsed from the exit-3 report of `berth serve`. */
export interface InitError {
  readonly exception: string;
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  /** Where start-up failed: importing the entry script, a missing init/run, init() raising, its time budget, the interpreter. */
  readonly kind?: 'import' | 'missing' | 'init' | 'timeout' | 'spawn' | 'warmup';
}

/**
 * permanent: fails the same way every run (the script does not import, init/run missing, a model path that is not there,
 * no interpreter), so restarting is a storm; transient: anything that may pass on a retry (networks, timeouts, the rest).
 */
export type FailureClass = 'permanent' | 'transient';

/** auto: permanent start-up failures stop the replica, transient ones back off (default); always: restart whatever failed; never: no restarts. */
export type RestartPolicy = 'auto' | 'always' | 'never';

export interface OomReport {
  readonly limitBytes: number;
  /** The highest usage seen: cgroup peak when a cgroup enforces the limit, else the sampled process-tree RSS. */
  readonly usageBytes: number;
  readonly rssPeakBytes: number;
  readonly cgroupPeakBytes?: number;
  /** `kernel`: the cgroup's OOM killer struck first; `sampler`: berth's RSS sampler saw the tree over the limit. */
  readonly detectedBy: 'kernel' | 'sampler';
}

export interface Termination {
  readonly reason: TerminationReason;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly at: string;
  readonly ranMs: number;
  readonly wasReady: boolean;
  readonly initError?: InitError;
  readonly oom?: OomReport;
}

export type MemoryEnforcement = 'cgroup-v1' | 'cgroup-v2' | 'rss' | 'container' | 'kubernetes' | 'none';

/** How a replica's memory limit is enforced. */
export interface MemoryStatus {
  readonly enforcement: MemoryEnforcement;
  readonly limitBytes?: number;
  readonly cgroupPath?: string;
  /** Why a cgroup is not used when the machine has one (e.g. creating it failed). */
  readonly note?: string;
}

export interface ReplicaStatus {
  readonly serviceName: string;
  readonly replicaId: string;
  readonly index: number;
  readonly state: ReplicaState;
  readonly pid?: number;
  readonly port?: number;
  readonly url?: string;
  /** What the replica's key is derived from when not its id (pods of one Deployment share their generation's key). */
  readonly keyScope?: string;
  /** The service generation it runs, when the target knows it without the store (a pod's label); rollouts route by it. */
  readonly generation?: number;
  /** Why it is not running yet, in its target's words (a cluster's `ImagePullBackOff: ...`). */
  readonly waiting?: string;
  /** While it starts: where (pulling, fetching-models, importing, init, warming), since when, and its last output line. */
  readonly phase?: StartupPhaseView;
  /** Restarts since the replica was created (or adopted). */
  readonly restarts: number;
  readonly startedAt?: string;
  readonly readyAt?: string;
  readonly lastTermination?: Termination;
  /** How the last runs ended (up to 5, newest first; their output: `logs --previous=N`). */
  readonly recentTerminations?: readonly Termination[];
  /** The last init() error, kept across restarts while the replica crash-loops. */
  readonly lastInitError?: InitError;
  readonly nextRestartAt?: string;
  readonly memory: MemoryStatus;
  readonly logs: ReplicaLogPaths;
}

export interface ReplicaLogPaths {
  /** Output of the current (or last) run. */
  readonly current: string;
  /** Output of the run before it (`logs --previous`). */
  readonly previous: string;
  /** Start-up output of the last run that became ready or died trying (`logs --init`). */
  readonly init: string;
  /** The current run's older output, moved aside when its log grew past the cap. */
  readonly rotated: string;
}

interface EventBase {
  /** ISO time from the supervisor's clock. */
  readonly time: string;
  readonly serviceName: string;
  readonly replicaId: string;
  /** One human line, like a Kubernetes event message. */
  readonly message: string;
}

export type ReplicaEvent =
  | EventBase & { readonly type: 'Started'; readonly pid: number; readonly attempt: number }
  | EventBase & { readonly type: 'Ready'; readonly url: string; readonly port: number; readonly startupMs: number }
  | EventBase & { readonly type: 'Exited'; readonly termination: Termination }
  | EventBase & { readonly type: 'InitFailed'; readonly error: InitError; readonly attempt: number }
  | EventBase & { readonly type: 'OOMKilled'; readonly oom: OomReport }
  | EventBase & { readonly type: 'ProbeFailed'; readonly probe: 'liveness'; readonly consecutive: number; readonly threshold: number; readonly detail: string }
  | EventBase & { readonly type: 'LivenessKill'; readonly consecutive: number }
  | EventBase & { readonly type: 'StartupTimeout'; readonly timeoutMs: number }
  | EventBase & { readonly type: 'BackOff'; readonly delayMs: number; readonly restart: number; readonly lastInitError?: InitError }
  | EventBase & { readonly type: 'NotRestarting'; readonly failureClass: FailureClass; readonly policy: RestartPolicy; readonly lastInitError?: InitError }
  | EventBase & { readonly type: 'Adopted'; readonly pid: number; readonly port: number }
  | EventBase & { readonly type: 'AdoptFailed'; readonly pid: number; readonly port: number; readonly detail: string }
  | EventBase & { readonly type: 'Stopped' }
  | EventBase & { readonly type: 'LogRotated' }
  | EventBase & { readonly type: 'Phase'; readonly phase: string }
  | EventBase & { readonly type: 'StateChanged'; readonly from: ReplicaState; readonly to: ReplicaState };

export type ReplicaEventType = ReplicaEvent['type'];

/** Where a running replica can be found again after the control plane restarts; store it with the replica. */
export type AdoptionRecord = ProcessAdoptionRecord | ContainerAdoptionRecord;

export interface ProcessAdoptionRecord {
  readonly pid: number;
  readonly port: number;
  readonly cgroupPath?: string;
}

export interface ContainerAdoptionRecord {
  readonly containerId: string;
  readonly port: number;
  /** The container's main process on this machine when it was recorded (for messages). */
  readonly pid: number;
}

export function isContainerRecord(r: AdoptionRecord): r is ContainerAdoptionRecord {
  return 'containerId' in r;
}
