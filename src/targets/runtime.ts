// The seam between a replica's supervision (states, readiness, probes, back-off, events: the same on every target) and how one run of it is started, watched and ended (a process, a container).
import type { AdoptionRecord, MemoryStatus, OomReport, ReplicaLogPaths, ReplicaSpec } from './types.js';

/** How a run ended. */
export interface RunExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the kernel ended it for memory (a cgroup's or a container's OOM kill), as the run itself reports it. */
  readonly oom?: OomReport;
}

/** One run of `berth serve` for a replica: a process we started, a container, or one a previous control plane left running. */
export interface RunHandle {
  /** What the run is, for messages: `pid 1234`, `container 3f2a1b9c04d2 (pid 1234)`. */
  readonly label: string;
  /** The run's main process on this machine, when there is one to name. */
  readonly pid: number | undefined;
  readonly adopted: boolean;
  /** The host port `berth serve` answers on, once known (the replica polls until it is). */
  port(): number | undefined;
  /** Calls `onExit` once, when the run has ended and what it left behind is gone. */
  onExit(onExit: (exit: RunExit) => void): void;
  /** SIGTERM lets `berth serve` drain; SIGKILL ends every process of the run at once. */
  kill(signal: 'SIGTERM' | 'SIGKILL'): void;
  /** Watches memory against `limitBytes` where nothing else enforces it; `onOom` once when over (the caller kills). */
  watchMemory(limitBytes: number, onOom: (report: OomReport) => void): void;
  /** What a restarted control plane needs to find the run again; undefined once it has ended. */
  adoptionRecord(): AdoptionRecord | undefined;
  /** Stops watching without touching the run (the control plane is going away; the run is adopted later). */
  release(): void;
}

/** How one target runs replicas. The supervisor picks one per replica by its spec's `runtime`. */
export interface ReplicaRuntime {
  readonly kind: 'process' | 'docker';
  /** Where a run listening on `port` is reached. */
  url(port: number): string;
  /** Starts a run whose output goes to `logs.current`; rejects when nothing could be started (a failed run). */
  launch(spec: ReplicaSpec, logs: ReplicaLogPaths): Promise<RunHandle>;
  /** Takes over a run a previous control plane started; the problem (and nothing taken) when it is not there or not answering. */
  adopt(spec: ReplicaSpec, record: AdoptionRecord, logs: ReplicaLogPaths): Promise<RunHandle | { readonly problem: string }>;
  /** Finds a replica's running run by what the runtime itself knows (a container's labels); the process runtime relies on the store's record instead. */
  locate?(spec: ReplicaSpec): Promise<AdoptionRecord | undefined>;
  /** Removes every run this control plane made that belongs to none of `keep` (replica ids): leftovers of deleted services or unfinished updates. */
  removeLeftovers?(keep: ReadonlySet<string>): Promise<number>;
  /** Ends what is left of a run that could not be adopted, so two copies never run. */
  discard(record: AdoptionRecord): Promise<void>;
  /** How the replica's memory limit is enforced, for its status. */
  memory(spec: ReplicaSpec): MemoryStatus;
  /** The replica is gone for good: removes what it kept across runs (a cgroup). */
  dispose(spec: ReplicaSpec): Promise<void>;
}
