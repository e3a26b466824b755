// Why a service with no ready replica cannot answer, and when a retry may succeed: the gateway's 503 reason and Retry-After.
import { formatInitError } from '../../targets/local/init-error.js';
import type { ReplicaStatus } from '../../targets/types.js';
import { retrySeconds as seconds, type Unavailability } from '../../gateway/unavailability.js';

/** What a start-up takes when the service has no history yet (a first deploy): a guess, said as one. */
const DEFAULT_STARTUP_MS = 5000;

/** The median of recent start-up durations (ms), or the default guess. */
export function expectedStartupMs(recent: readonly number[]): number {
  if (recent.length === 0) return DEFAULT_STARTUP_MS;
  const sorted = [...recent].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Reads the replicas of a service none of which is ready. `recentStartupMs`: how long its last replicas took from start to
 * ready; `state`: the service's shown state (a deploy under way with no replica yet is starting).
 */
export function noReadyReplica(replicas: readonly ReplicaStatus[], recentStartupMs: readonly number[], now: number, state: string): Unavailability {
  const expected = expectedStartupMs(recentStartupMs);
  const since = (r: ReplicaStatus): number => {
    const at = r.phase?.since ?? r.startedAt;
    return at === undefined ? 0 : Math.max(0, now - Date.parse(at));
  };
  // A replica starting for the first time (or again after a failure that was not init()'s) is expected ready soon.
  const starting = replicas.filter((r) => r.state === 'Starting' && r.lastInitError === undefined);
  if (starting.length > 0) {
    const soonest = Math.min(...starting.map((r) => Math.max(0, expected - since(r))));
    const where = starting[0]!.phase?.name;
    return { reason: 'starting', retryAfterS: seconds(soonest), detail: `${starting.length} replica(s) starting${where === undefined ? '' : ` (${where})`}; start-up takes about ${Math.round(expected / 1000)} s here` };
  }
  const initFailed = replicas.filter((r) => r.lastInitError !== undefined && r.state !== 'Stopped');
  if (initFailed.length > 0) {
    const error = `init() failed: ${formatInitError(initFailed[0]!.lastInitError!)}`;
    const retrying = initFailed.filter((r) => r.state !== 'Failed');
    if (retrying.length === 0) return { reason: 'init-failed', detail: `${error}; not restarted (it fails the same way every time): fix the script and update the service` };
    const next = Math.min(...retrying.map((r) => (r.nextRestartAt === undefined ? 0 : Math.max(0, Date.parse(r.nextRestartAt) - now)) + Math.max(0, expected - (r.state === 'Starting' ? since(r) : 0))));
    return { reason: 'init-failed', retryAfterS: seconds(next), detail: `${error}; retrying (${retrying.length} replica(s) in back-off)` };
  }
  const looping = replicas.filter((r) => r.state === 'CrashLoopBackOff');
  if (looping.length > 0) {
    const next = Math.min(...looping.map((r) => (r.nextRestartAt === undefined ? 0 : Math.max(0, Date.parse(r.nextRestartAt) - now)) + expected));
    return { reason: 'no-ready-replica', retryAfterS: seconds(next), detail: `${looping.length} replica(s) restarting after a crash` };
  }
  const live = replicas.filter((r) => r.state !== 'Stopped' && r.state !== 'Failed');
  if (live.length === 0 && state === 'Transitioning') {
    return { reason: 'starting', retryAfterS: seconds(expected), detail: `the service is ${state}: its replicas are being placed` };
  }
  if (replicas.some((r) => r.state === 'Failed')) return { reason: 'no-ready-replica', detail: 'its replicas failed and are not restarted: see berth service show' };
  return { reason: 'no-ready-replica', retryAfterS: seconds(expected), detail: live.length === 0 ? `no replica runs (service ${state})` : `${live.length} replica(s), none ready` };
}
