// The gateway benchmark's targets and its markdown table for the README.
/** Issue 18's targets, checked in one run. */
export const TARGETS = { gw1VsDirect: 0.5, gw2VsGw1: 1.6, addedP99Ms: 3, deployFirstOkMs: 600 };

const f0 = (v) => (v === null || v === undefined ? '—' : Math.round(v).toLocaleString('en-US'));
const f2 = (v) => (v === null || v === undefined ? '—' : v.toFixed(2));

/** The defaults section: throughput and latency of the three paths, the ratios against their targets, deploy timing. */
export function defaultsMarkdown(s, deploys, o) {
  const pass = (ok) => (ok ? 'PASS' : 'FAIL');
  return [
    `At the classic defaults (\`replica_max_concurrent_requests\` 1, \`max_request_wait_time\` 500 ms), sum_score.py, ${o.connections} keep-alive connections, ${o.loadgen} for the peaks, ${o.durationS} s runs, median of ${o.rounds} round(s):`,
    '',
    `| path | peak req/s | machine busy at peak (of ${o.cores * 100}%) | p99 at peak | p50 at ${f0(s.halfRate)} req/s | p99 at ${f0(s.halfRate)} req/s |`,
    '|---|---:|---:|---:|---:|---:|',
    `| \`berth serve --worker-count 1\`, direct | ${f0(s.peakDirect)} | ${f0(s.busyDirect)}% | ${f2(s.p99PeakDirect)} ms | ${f2(s.p50HalfDirect)} ms | ${f2(s.p99HalfDirect)} ms |`,
    `| gateway + 1 replica | ${f0(s.peakGw1)} | ${f0(s.busyGw1)}% | ${f2(s.p99PeakGw1)} ms | ${f2(s.p50HalfGw1)} ms | ${f2(s.p99HalfGw1)} ms |`,
    `| gateway + 2 replicas | ${f0(s.peakGw2)} | ${f0(s.busyGw2)}% | ${f2(s.p99PeakGw2)} ms | | |`,
    `| reference: two \`berth serve --worker-count 1\` at once, direct (half the connections each) | ${f0(s.peakPair)} | ${f0(s.busyPair)}% | | | |`,
    `| reference: a TCP relay in Node (copies bytes, reads no HTTP) in front of the direct berth serve | | | | ${f2(s.p50HalfPipe)} ms | ${f2(s.p99HalfPipe)} ms |`,
    `| reference: a bare Node HTTP proxy (\`node:http\` in, undici out, nothing else) in front of it | | | | ${f2(s.p50HalfProxy)} ms | ${f2(s.p99HalfProxy)} ms |`,
    '',
    '| check | target | measured | result |',
    '|---|---:|---:|:---:|',
    `| gateway + 1 replica ÷ direct | ≥ ${TARGETS.gw1VsDirect}× | ${f2(s.gw1VsDirect)}× | ${pass(s.gw1VsDirect >= TARGETS.gw1VsDirect)} |`,
    `| gateway + 2 replicas ÷ gateway + 1 replica | ≥ ${TARGETS.gw2VsGw1}× | ${f2(s.gw2VsGw1)}× (reference, no gateway: two berth serve ÷ one ${f2(s.pairVsDirect)}×) | ${pass(s.gw2VsGw1 >= TARGETS.gw2VsGw1)} |`,
    `| p99 added by the gateway at half of its own peak (${f0(s.halfRate)} req/s) | ≤ ${TARGETS.addedP99Ms} ms | ${f2(s.addedP99Ms)} ms (at the same rate the Node relay adds ${f2(s.addedP99PipeMs)} ms, the bare Node proxy ${f2(s.addedP99ProxyMs)} ms) | ${pass(s.addedP99Ms <= TARGETS.addedP99Ms)} |`,
    `| \`berth deploy\` onto a running plane → first 200 through the gateway | ≤ ${TARGETS.deployFirstOkMs / 1000} s | ${s.deployFirstOkMs === null ? '—' : `${(s.deployFirstOkMs / 1000).toFixed(2)} s`} (median of ${deploys.length}; the command returned after ${s.deployCliMs === null ? '—' : `${(s.deployCliMs / 1000).toFixed(2)} s`}) | ${pass(s.deployFirstOkMs !== null && s.deployFirstOkMs <= TARGETS.deployFirstOkMs)} |`,
    '',
    `Python: ${o.python} for berth serve and the replicas. Other processes used at most ${s.maxOtherCpuPct}% of a core during the kept runs (a run above 20% is measured again, up to ${o.noisyRetries} times).`,
  ].join('\n');
}
