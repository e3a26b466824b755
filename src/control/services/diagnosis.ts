// Gathers what `berth diagnose` reads (state, replicas, events, logs, gateway figures, operations, environment, capacity) and runs the rules.
import { diagnose, type DiagnoseInput, type Diagnosis, type DiagReplica, type DiagRequest, type DiagResources } from '../../diagnose/index.js';
import type { ReplicaObserver } from './target.js';
import { parseEnvRef } from '../environments/env-schema.js';
import type { Environments } from '../environments/environments.js';
import type { EventLog } from './events.js';
import type { ServiceLogs } from './logs.js';
import type { Operation, OperationStore } from './operations.js';
import type { ServiceStore } from './service-store.js';
import type { ServiceViews } from './view.js';

export interface DiagnosisDeps {
  readonly store: ServiceStore;
  readonly views: ServiceViews;
  readonly ops: OperationStore;
  readonly events: EventLog;
  readonly logs: ServiceLogs;
  readonly target: ReplicaObserver;
  readonly now: () => Date;
  /** The gateway's last minute of requests to a service. */
  readonly requests: (service: string) => readonly DiagRequest[];
  readonly capacity?: () => { capacity: DiagResources; used: DiagResources };
  readonly environments?: Environments;
}

/** Lines read from the end of each log: enough for a busy 15 minutes of access lines, bounded for a long window. */
const LOG_TAIL = 20_000;
const EVENTS = 2000;

export class Diagnoser {
  constructor(private readonly d: DiagnosisDeps) {}

  run(name: string, windowMs: number): Diagnosis {
    return diagnose(this.gather(name, windowMs));
  }

  gather(name: string, windowMs: number): DiagnoseInput {
    const d = this.d;
    const svc = d.store.get(name);
    const detail = d.views.detail(name);
    const s = svc.spec;
    const replicas: DiagReplica[] = d.target.list(name).map((r) => {
      const t = r.lastTermination;
      return {
        id: r.replicaId, state: r.state, restarts: r.restarts,
        ...(t === undefined ? {} : { lastTermination: { reason: t.reason, at: t.at, message: t.reason, ...(t.oom === undefined ? {} : { oom: { limitBytes: t.oom.limitBytes, usageBytes: t.oom.usageBytes } }) } }),
        ...(r.lastInitError === undefined ? {} : { lastInitError: r.lastInitError }),
        ...(r.memory.limitBytes === undefined ? {} : { memoryLimitMb: Math.round(r.memory.limitBytes / 1048576) }),
      };
    });
    const logs = (['current', 'previous', 'init'] as const).flatMap((kind) => d.logs.read(name, { kind, tail: LOG_TAIL }).map((c) => ({ replica: c.replica, kind, text: c.text })));
    const [last] = d.ops.recent(name, 1);
    const running = d.ops.running(name);
    const envRef = s.environment?.ref;
    let environment: DiagnoseInput['environment'];
    if (envRef !== undefined && d.environments !== undefined) {
      try {
        const v = d.environments.show(parseEnvRef(envRef));
        environment = { ref: envRef, state: v.state, ...(v.error === undefined ? {} : { error: { code: v.error.code, message: v.error.message } }) };
      } catch {
        environment = { ref: envRef, state: 'Unknown' };
      }
    }
    const cap = d.capacity?.();
    return {
      now: d.now(), windowMs,
      service: { name, state: detail.state, reason: detail.reason, ready: detail.ready_replicas, desired: detail.desired_replicas },
      spec: {
        cpu_cores: s.cpu_cores, memory_gb: s.memory_gb, ...(s.memory_gb_limit === undefined ? {} : { memory_gb_limit: s.memory_gb_limit }), gpu_cores: s.gpu_cores,
        replicas: s.replicas, autoscale_enabled: s.autoscale_enabled, autoscale_min_replicas: s.autoscale_min_replicas, autoscale_max_replicas: s.autoscale_max_replicas,
        autoscale_target_utilization: s.autoscale_target_utilization, scoring_timeout_ms: s.scoring_timeout_ms, replica_max_concurrent_requests: s.replica_max_concurrent_requests,
        max_request_wait_time: s.max_request_wait_time, period_seconds: s.period_seconds, failure_threshold: s.failure_threshold,
        ...(envRef === undefined ? {} : { environment: envRef }),
      },
      replicas,
      events: d.events.list(name, { limit: EVENTS }),
      logs,
      requests: d.requests(name),
      utilization: detail.traffic.utilization,
      queued: detail.traffic.queued,
      ...(running === undefined ? {} : { running: opView(running) }),
      ...(last === undefined ? {} : { lastOperation: opView(last) }),
      ...(environment === undefined ? {} : { environment }),
      ...(cap === undefined ? {} : { capacity: cap.capacity, used: cap.used }),
      ...(detail.rollout === undefined ? {} : { rollout: detail.rollout }),
    };
  }
}

function opView(o: Operation): NonNullable<DiagnoseInput['running']> {
  return {
    id: o.id, kind: o.kind, status: o.status, progress: o.progress, started_at: o.started_at,
    ...(o.ended_at === undefined ? {} : { ended_at: o.ended_at }),
    ...(o.error === undefined ? {} : { error: o.error }),
  };
}
