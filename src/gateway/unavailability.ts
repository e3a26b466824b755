// Why a service cannot take a request now, as its client is told: a reason code, a Retry-After computed from what is known, one line.

/** The 503 reasons a client can act on: wait (starting), fix the script (init-failed), wait or scale (no-ready-replica, overloaded). */
export type UnavailableReason = 'starting' | 'no-ready-replica' | 'init-failed' | 'overloaded';

export interface Unavailability {
  readonly reason: UnavailableReason;
  /** Seconds until a retry may succeed; undefined when waiting cannot help (a replica that will not be restarted). */
  readonly retryAfterS?: number;
  /** One line: what the replicas are doing. */
  readonly detail: string;
}

/** A Retry-After beyond this is no better than asking again then. */
const MAX_RETRY_AFTER_S = 300;

/** Whole seconds for a Retry-After: at least 1 (0 would invite a retry storm), at most 5 minutes. */
export const retrySeconds = (ms: number): number => Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil(ms / 1000)));

/**
 * Overloaded: the queue drains at the rate replicas finish requests, so a retry once the requests queued ahead of it
 * are served may get a slot. With no rate known yet, the service's own wait bound.
 */
export function overloaded(queued: number, servedPerS: number, maxWaitMs: number): Unavailability {
  if (servedPerS <= 0) return { reason: 'overloaded', retryAfterS: retrySeconds(maxWaitMs), detail: `${queued} request(s) queued; no request finished recently` };
  return {
    reason: 'overloaded', retryAfterS: retrySeconds(((queued + 1) / servedPerS) * 1000),
    detail: `${queued} request(s) queued; replicas finish about ${servedPerS < 10 ? servedPerS.toFixed(1) : Math.round(servedPerS)} request(s)/s`,
  };
}

/** The 503's headers (x-berth-reason, Retry-After when waiting can help) and the fields added to its JSON body. */
export function unavailableReply(u: Unavailability): { headers: Record<string, string>; extra: Record<string, unknown> } {
  const headers: Record<string, string> = { 'x-berth-reason': u.reason };
  if (u.retryAfterS !== undefined) headers['retry-after'] = String(u.retryAfterS);
  return { headers, extra: { reason: u.reason, retry_after_s: u.retryAfterS ?? null, detail: u.detail } };
}
