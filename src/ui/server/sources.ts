// What the dashboard reads from the rest of the control plane, as narrow functions, so its parts can be tested with fakes.
import type { ServiceEventView, OperationView, ServiceRow, LogChunkView, LogKind } from '../shared/protocol.js';

/** A service's facts for a row, read once a second: the stored record and its shown state (views.summary). */
export type ServiceFacts = Omit<ServiceRow, 'traffic' | 'sample'>;

export interface LiveTraffic {
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly utilization: number | null;
  readonly inFlight: number;
  readonly queued: number;
}

export type Unsubscribe = () => void;

export interface LiveSources {
  /** The plane's clock, in ms since the epoch. */
  now(): number;
  services(): ServiceFacts[];
  /** Cumulative gateway requests per service and status code (the Prometheus counter). */
  counts(): Promise<ReadonlyMap<string, ReadonlyMap<number, number>>>;
  /** Latencies of a service's requests answered in (fromMs, toMs], sorted ascending (from the gateway's window: the last minute, up to 4096). */
  latencies(service: string, fromMs: number, toMs: number): Float64Array;
  traffic(service: string): LiveTraffic;
  /** Calls back after each stored service event. */
  onEvent(listener: (service: string, e: ServiceEventView) => void): Unsubscribe;
  /** Calls back after each operation change (begun, a step, finished). */
  onOperation(listener: (op: OperationView) => void): Unsubscribe;
  /** A replica's log: the tail, or what follows `offset` (ServiceLogs.read). */
  readLog(service: string, q: { replica: string; kind: LogKind; tail: number; offset?: number }): LogChunkView | undefined;
}
