// What diagnosis reads and what it reports: plain data gathered by the control plane, findings with evidence and a fix.
import type { ErrorCode } from '../errors/catalogue.js';

/** critical: the service cannot serve; error: requests fail; warning: it serves, but something needs attention. */
export type Severity = 'critical' | 'error' | 'warning';
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { critical: 0, error: 1, warning: 2 };

export interface Finding {
  readonly severity: Severity;
  readonly code: ErrorCode;
  /** What the user sees. */
  readonly symptom: string;
  /** Why it happens. */
  readonly cause: string;
  /** The log lines, numbers and events (with times) the finding rests on. */
  readonly evidence: readonly string[];
  readonly fix: string;
}

export interface DiagEvent {
  readonly time: string;
  readonly type: string;
  readonly replica?: string;
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

export interface DiagInitError { readonly exception: string; readonly message: string; readonly file?: string; readonly line?: number; readonly kind?: 'import' | 'missing' | 'init' | 'timeout' | 'spawn' | 'warmup' }

export interface DiagOom { readonly limitBytes: number; readonly usageBytes: number }

export interface DiagReplica {
  readonly id: string;
  readonly state: string;
  readonly restarts: number;
  readonly lastTermination?: { readonly reason: string; readonly at: string; readonly message: string; readonly oom?: DiagOom };
  readonly lastInitError?: DiagInitError;
  readonly memoryLimitMb?: number;
}

export interface DiagLog { readonly replica: string; readonly kind: 'current' | 'previous' | 'init'; readonly text: string }

/** One request seen by the gateway in its last minute: when it ended, its status, latency and queue wait. */
export interface DiagRequest { readonly atMs: number; readonly status: number; readonly ms: number; readonly waitMs?: number }

export interface DiagSpec {
  readonly cpu_cores: number;
  readonly memory_gb: number;
  readonly memory_gb_limit?: number;
  readonly gpu_cores: number;
  readonly replicas: number;
  readonly autoscale_enabled: boolean;
  readonly autoscale_min_replicas: number;
  readonly autoscale_max_replicas: number;
  readonly autoscale_target_utilization: number;
  readonly scoring_timeout_ms: number;
  readonly replica_max_concurrent_requests: number;
  readonly max_request_wait_time: number;
  readonly period_seconds: number;
  readonly failure_threshold: number;
  /** NAME:VERSION of the environment, when the service runs in one. */
  readonly environment?: string;
}

export interface DiagOperation {
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  readonly progress: string;
  readonly started_at: string;
  readonly ended_at?: string;
  readonly error?: { readonly code: string; readonly message: string; readonly fix: string };
}

export interface DiagResources { readonly cpu: number; readonly memoryGb: number; readonly gpu: number }

/** One generation of a rollout: its share, replicas and figures (as `service show` reports them). */
export interface DiagGeneration {
  readonly generation: number;
  readonly role: 'stable' | 'candidate';
  readonly weight_percent: number;
  readonly effective_percent: number;
  readonly ready_replicas: number;
  readonly desired_replicas: number;
  readonly requests: number;
  readonly mirrored: number;
  readonly errors: number;
  readonly error_rate_percent: number | null;
  readonly latency_p50_ms: number | null;
  readonly latency_p99_ms: number | null;
  readonly utilization: number | null;
}

export interface DiagRollout {
  readonly state: string;
  readonly stable_generation: number;
  readonly candidate_generation: number;
  readonly mirror_percent: number;
  readonly guardrail: string | null;
  readonly generations: readonly DiagGeneration[];
}

export interface DiagnoseInput {
  readonly now: Date;
  readonly windowMs: number;
  readonly service: { readonly name: string; readonly state: string; readonly reason: string; readonly ready: number; readonly desired: number };
  readonly spec: DiagSpec;
  readonly replicas: readonly DiagReplica[];
  /** Oldest first. */
  readonly events: readonly DiagEvent[];
  readonly logs: readonly DiagLog[];
  /** The gateway's recent requests (up to its last minute). */
  readonly requests: readonly DiagRequest[];
  /** Busy share of the replicas in percent at the autoscaler's last sample. */
  readonly utilization: number | null;
  readonly queued: number;
  readonly running?: DiagOperation;
  readonly lastOperation?: DiagOperation;
  readonly environment?: { readonly ref: string; readonly state: string; readonly error?: { readonly code: string; readonly message: string } };
  readonly capacity?: DiagResources;
  /** What placed replicas of all services requested. */
  readonly used?: DiagResources;
  /** A rollout under way: each generation on its own. */
  readonly rollout?: DiagRollout;
}

export interface KeyNumbers {
  readonly state: string;
  readonly ready_replicas: number;
  readonly desired_replicas: number;
  readonly restarts: number;
  readonly requests: number;
  readonly request_rate: number;
  readonly latency_p50_ms: number | null;
  readonly latency_p99_ms: number | null;
  readonly errors: Readonly<Record<string, number>>;
  readonly utilization: number | null;
  /** During a rollout: each generation's share, replicas and figures. */
  readonly generations?: readonly DiagGeneration[];
}

export interface Diagnosis {
  readonly service: string;
  readonly since: string;
  readonly findings: readonly Finding[];
  readonly summary: string;
  readonly numbers: KeyNumbers;
}
