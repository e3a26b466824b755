// Benchmark load generator: runs autocannon (warm-up, then measured run) in its own process, reports via IPC.
import autocannon from 'autocannon';

/** Sorted-sample percentile (nearest rank) of a sorted Float64Array. */
function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

let reconnects = 0; // connections re-opened because the server answered `Connection: close`

/**
 * autocannon keeps every connection alive and ignores `Connection: close`: it writes the next request on a
 * socket the server is closing, counts the resulting ECONNRESET as an error and leaves the lost request in its
 * latency queue, so every later latency on that client is measured from a stale start time. Servers that close
 * after each response (gunicorn's sync workers) would be measured wrongly. This client hook makes autocannon do
 * what a correct HTTP client does: when a response says the connection will not be kept alive, open a new
 * connection for the next request. Keep-alive servers are unaffected.
 */
function honourConnectionClose(client) {
  let reconnect = false;
  client.on('headers', (info) => { reconnect = info.shouldKeepAlive === false; });
  const doRequest = client._doRequest;
  client._doRequest = function patchedDoRequest(...args) {
    if (reconnect && !this.destroyed) {
      reconnect = false;
      reconnects++;
      this._destroyConnection(); // also clears the pending-request queue
      return this._connect(); // sends the next request on the fresh socket
    }
    return doRequest.apply(this, args);
  };
}

function runOnce(cfg, durationS, onResponse) {
  const instance = autocannon({
    url: cfg.url,
    method: cfg.method,
    body: cfg.body,
    headers: cfg.headers,
    connections: cfg.connections,
    pipelining: 1,
    duration: durationS,
    timeout: cfg.requestTimeoutS,
    setupClient: honourConnectionClose,
    // A fixed offered rate across all connections (the gateway benchmark's "half of peak load"); absent = as fast as it answers.
    ...(cfg.overallRate ? { overallRate: cfg.overallRate } : {}),
  });
  if (onResponse) instance.on('response', onResponse);
  return instance;
}

async function main(cfg) {
  // Warm-up: same load, results discarded (JIT, connection pools, Python bytecode caches, etc.).
  if (cfg.warmupS > 0) await runOnce(cfg, cfg.warmupS);

  let lat = new Float64Array(1 << 16);
  let n = 0;
  const onResponse = (_client, statusCode, _bytes, responseTimeMs) => {
    if (statusCode < 200 || statusCode >= 300) return;
    if (n === lat.length) {
      const bigger = new Float64Array(lat.length * 2);
      bigger.set(lat);
      lat = bigger;
    }
    lat[n++] = responseTimeMs;
  };

  process.send({ phase: 'measure-start' });
  reconnects = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = await runOnce(cfg, cfg.durationS, onResponse);
  const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);

  const sorted = lat.subarray(0, n).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i];
  const completed = r['1xx'] + r['2xx'] + r['3xx'] + r['4xx'] + r['5xx'];
  return {
    elapsedS: +elapsedS.toFixed(3),
    completed,
    ok2xx: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    resets: r.resets,
    // New connections opened because the server closed the previous one after its response.
    reconnectsAfterClose: reconnects,
    statusCodeStats: r.statusCodeStats,
    // Throughput counts successful (2xx) responses only, so a server that fails fast cannot win.
    reqPerSec: +(r['2xx'] / elapsedS).toFixed(1),
    latencyMs: {
      mean: n ? +(sum / n).toFixed(3) : null,
      p50: n ? +percentile(sorted, 50).toFixed(3) : null,
      p90: n ? +percentile(sorted, 90).toFixed(3) : null,
      p99: n ? +percentile(sorted, 99).toFixed(3) : null,
      p999: n ? +percentile(sorted, 99.9).toFixed(3) : null,
      max: n ? +sorted[n - 1].toFixed(3) : null,
      samples: n,
    },
    // autocannon's own (integer-millisecond HDR histogram) figures, for cross-checking.
    autocannon: {
      requestsAverage: r.requests.average,
      latencyP50: r.latency.p50,
      latencyP99: r.latency.p99,
      durationS: r.duration,
    },
    loadgenCpuS: +((cpu.user + cpu.system) / 1e6).toFixed(2),
    loadgen: 'autocannon',
  };
}

process.once('message', (cfg) => {
  main(cfg).then(
    (result) => process.send({ ok: true, result }, () => process.exit(0)),
    (err) => process.send({ ok: false, error: String(err?.stack ?? err) }, () => process.exit(1)),
  );
});
// Die with the parent: if the IPC channel closes, there is nobody to report to.
process.on('disconnect', () => process.exit(1));
