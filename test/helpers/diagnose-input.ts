// A hand-made diagnosis input of a healthy service at a fixed time, for rule tests to change one thing at a time.
import type { DiagnoseInput } from '../../src/diagnose/index.js';

export const NOW = Date.parse('2026-01-01T12:00:00.000Z');
export const at = (secondsAgo: number): string => new Date(NOW - secondsAgo * 1000).toISOString();

export function healthy(over: Partial<DiagnoseInput> = {}): DiagnoseInput {
  return {
    now: new Date(NOW), windowMs: 15 * 60_000,
    service: { name: 'svc', state: 'Healthy', reason: '', ready: 1, desired: 1 },
    spec: {
      cpu_cores: 0.5, memory_gb: 0.5, gpu_cores: 0, replicas: 1, autoscale_enabled: false, autoscale_min_replicas: 1, autoscale_max_replicas: 10,
      autoscale_target_utilization: 70, scoring_timeout_ms: 1000, replica_max_concurrent_requests: 1, max_request_wait_time: 500, period_seconds: 10, failure_threshold: 3,
    },
    replicas: [{ id: 'svc-1-0-aa', state: 'Ready', restarts: 0 }],
    events: [{ time: at(600), type: 'Ready', replica: 'svc-1-0-aa', message: 'ready' }],
    logs: [{ replica: 'svc-1-0-aa', kind: 'current', text: access(30, 200, 12, 'r1') + access(20, 200, 15, 'r2') }],
    requests: [{ atMs: NOW - 30_000, status: 200, ms: 13 }, { atMs: NOW - 20_000, status: 200, ms: 16 }],
    utilization: 10, queued: 0,
    ...over,
  };
}

/** One access-log line of a replica, `secondsAgo` before NOW. */
export function access(secondsAgo: number, status: number, ms: number, requestId: string): string {
  return `${JSON.stringify({ level: 30, time: at(secondsAgo), pid: 1, name: 'berth-serve', method: 'POST', path: '/score', status, duration_ms: ms, bytes: 10, request_id: requestId, msg: 'request' })}\n`;
}
