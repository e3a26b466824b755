// Test helper: a fake gateway window of requests, answering the dashboard sources' latencies() as the real one does.

export interface RecentRequest {
  readonly atMs: number;
  readonly status: number;
  readonly ms: number;
}

/** The latencies of `requests` answered in (fromMs, toMs], sorted ascending. */
export function latenciesOf(requests: readonly RecentRequest[], fromMs: number, toMs: number): Float64Array {
  return Float64Array.from(requests.filter((r) => r.atMs > fromMs && r.atMs <= toMs).map((r) => r.ms)).sort();
}
