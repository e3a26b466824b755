// The gateway routing set's public shapes: endpoints, limits, members, leases, load samples and hooks.
export interface Endpoint {
  readonly replicaId: string;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** What the replica asks of the gateway on /score and its scoring channel (none for a replica started without one). */
  readonly key?: string;
}

export interface PoolLimits {
  /** replica_max_concurrent_requests: never more than this many requests on one replica at once. */
  readonly maxConcurrent: number;
  /** max_request_wait_time: a request that found every replica full waits this long at most, then 503. */
  readonly maxWaitMs: number;
}

/** A replica in (or just out of) routing; `routed` turns false when it leaves, its in-flight count stays exact. */
export interface Member extends Endpoint {
  inFlight: number;
  routed: boolean;
}

/** One granted slot on a member; give it back with release(), requeue() or expired(), once. */
export interface Lease {
  readonly member: Member;
  /** How long the request waited for a replica: in the queue, and sent ahead until it started (0 when a slot was free). */
  readonly waitedMs: number;
  /** When the request first asked for a replica. */
  readonly arrivedAt: number;
  /**
   * Sent ahead to a full replica: how long it may wait there for a slot before it is answered 503 unstarted.
   * Undefined: a slot is free and it runs at once.
   */
  readonly aheadBudgetMs: number | undefined;
  /** Set by the sender once a request sent ahead is on its way: asks the replica to give it back while it waits. */
  recall: (() => void) | undefined;
}

/** Load since the previous sample: the autoscaler's input. */
export interface LoadSample {
  readonly ready: number;
  /** Time-weighted mean of requests in flight over the sampled period. */
  readonly meanInFlight: number;
  readonly inFlight: number;
  readonly queued: number;
  /** How long the oldest waiter has waited now (0 with an empty queue). */
  readonly oldestWaitMs: number;
}

export interface PoolHooks {
  /** A member left routing and has nothing in flight: its connections can be closed. */
  readonly onLeave?: (m: Member) => void;
  /** The service's state, for the message of a 503 without ready replicas. */
  readonly state?: () => string;
  /** Whether requests may be sent ahead to this replica now (its scoring channel speaks send-ahead); never when absent. */
  readonly sendsAhead?: (m: Member) => boolean;
  /** The high-resolution clock replicas' service times are measured on (performance.now by default). */
  readonly precise?: () => number;
}
