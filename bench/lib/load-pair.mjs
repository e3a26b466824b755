// Benchmark helper: the same load on two servers at once (half the connections each), as one result: what two replicas could serve here without a gateway.
import { runLoad } from './run-load.mjs';

/** Runs `cfg` against both URLs at once with half its connections each; sums the throughput and counts, keeps the worse latencies. */
export async function loadPair(urls, cfg) {
  const connections = Math.max(1, Math.floor(cfg.connections / urls.length));
  const timeoutMs = (cfg.warmupS + cfg.durationS) * 1000 + 60_000;
  const results = await Promise.all(urls.map((url) => runLoad({ ...cfg, url, connections }, timeoutMs)));
  const sum = (f) => results.reduce((a, r) => a + f(r), 0);
  const worst = (f) => Math.max(...results.map(f));
  return {
    ...results[0],
    reqPerSec: +sum((r) => r.reqPerSec).toFixed(1),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    latencyMs: { ...results[0].latencyMs, p50: worst((r) => r.latencyMs.p50), p99: worst((r) => r.latencyMs.p99) },
    loadgenCpuS: sum((r) => r.loadgenCpuS),
    elapsedS: worst((r) => r.elapsedS),
  };
}
