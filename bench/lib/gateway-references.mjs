// The gateway benchmark's reference part: the gateway with room for every connection against berth serve direct, and
// against a bare Node proxy and TCP relays (Node and C) in front of the same berth serve: what any hop costs here.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HOST, freePort, pollUntil } from './http.mjs';
import { startProcess } from './procs.mjs';
import { runLoad } from './run-load.mjs';

/** Issue 5's targets for the wide gateway (max concurrent = connections) against direct, at half of direct's peak. */
const TARGETS = { addedP50Ms: 1, addedP99Ms: 3, throughputRatio: 0.85 };
const REFERENCES = [
  { path: 'proxy', fixture: 'fixtures/minimal_proxy.mjs', label: 'a bare Node proxy (no auth, metrics, logs or queue)' },
  { path: 'pipe', fixture: 'fixtures/tcp_pipe.mjs', label: 'a TCP relay that only copies bytes (no HTTP parsing)' },
  { path: 'crelay', fixture: 'fixtures/tcp_relay.c', label: 'the same relay in C (epoll, one thread)' },
];

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const f2 = (v) => (v === null || v === undefined ? '—' : v.toFixed(2));

/** Compiles the C relay with the machine's C compiler; null (the reference is left out) when there is none. */
function buildCRelay(repoRoot, log) {
  const binary = path.join(os.tmpdir(), `berth-bench-tcp-relay-${process.pid}`);
  try {
    execFileSync('cc', ['-O2', '-o', binary, path.join(repoRoot, 'bench/fixtures/tcp_relay.c')], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    return binary;
  } catch (err) {
    log(`no C relay reference: cannot compile tcp_relay.c (${err.message.split('\n')[0]})`);
    return null;
  }
}

/** The reference hops by path name: 'proxy', 'pipe', 'crelay'. */
export const HOPS = Object.fromEntries(REFERENCES.map((r) => [r.path, r]));

/**
 * Starts one reference hop in front of a berth serve on 127.0.0.1:upstreamPort (`binary`: the compiled C relay, for
 * 'crelay'); resolves { url, pid, stop } once a scoring request through it answers.
 */
export async function startHop({ repoRoot, reference: r, binary, upstreamPort, logDir, body }) {
  const port = await freePort();
  const [cmd, args] = r.path === 'crelay' ? [binary, [String(port), String(upstreamPort)]] : [process.execPath, [path.join(repoRoot, 'bench', r.fixture), String(port), `http://${HOST}:${upstreamPort}`]];
  const proc = startProcess(cmd, args, { cwd: repoRoot, env: process.env, logFile: path.join(logDir, `reference-${r.path}-${port}.log`) });
  const url = `http://${HOST}:${port}/score`;
  await pollUntil(async () => (await fetch(url, { method: 'POST', body })).ok, { timeoutMs: 10_000, what: r.label, abort: () => (proc.exitInfo ? 'exited' : null) });
  return { url, pid: proc.pid, stop: () => proc.stop() };
}

/** Measures the references; returns { summary, checks, markdown }. */
export async function measureReferences({ repoRoot, logDir, plane, o, log, startServe, checkAnswer, scenario }) {
  const stops = [];
  const cRelay = buildCRelay(repoRoot, log);
  try {
    const wide = String(o.connections);
    await plane.cli(['deploy', '--name', 'gw-wide', '--entry-script', scenario.entry, '--source-dir', path.join(repoRoot, 'bench/fixtures'), '--replicas', '1', '--max-concurrent-requests', wide, '--max-request-wait-ms', '10000']);
    const svc = await plane.api('/v1/services/gw-wide');
    const direct = await startServe(['--max-concurrent-requests', wide, '--max-queue-wait-ms', '10000'], path.join(logDir, 'serve-wide.log'), o.python);
    stops.push(() => direct.proc.stop());
    const directPort = new URL(direct.url).port;
    const urls = { direct: direct.url, gateway: svc.scoring_uri };
    for (const r of REFERENCES) {
      if (r.path === 'crelay' && cRelay === null) continue;
      const hop = await startHop({ repoRoot, reference: r, binary: cRelay, upstreamPort: directPort, logDir, body: scenario.body });
      stops.push(hop.stop);
      urls[r.path] = hop.url;
    }
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${svc.keys.primary}` };
    for (const url of Object.values(urls)) await checkAnswer(url, headers);
    const load = (url, extra = {}) => runLoad({ url, method: 'POST', body: scenario.body, headers, connections: o.connections, warmupS: o.warmupS, durationS: o.durationS, requestTimeoutS: 10, ...extra }, (o.warmupS + o.durationS) * 1000 + 60_000);
    const refs = REFERENCES.filter((r) => urls[r.path] !== undefined);
    const rounds = [];
    for (let i = 1; i <= o.rounds; i++) {
      const order = i % 2 ? ['direct', 'gateway'] : ['gateway', 'direct'];
      const peak = {};
      for (const p of [...order, ...refs.map((r) => r.path)]) {
        peak[p] = await load(urls[p]);
        log(`references round ${i}: peak ${p}: ${peak[p].reqPerSec} req/s`);
      }
      const rate = Math.max(1, Math.round(peak.direct.reqPerSec / 2));
      const half = {};
      for (const p of order) half[p] = await load(urls[p], { overallRate: rate });
      rounds.push({ rate, peak, half });
    }
    const m = (fn) => median(rounds.map(fn));
    const summary = {
      peakDirect: m((r) => r.peak.direct.reqPerSec),
      peakGateway: m((r) => r.peak.gateway.reqPerSec),
      throughputRatio: m((r) => r.peak.gateway.reqPerSec / r.peak.direct.reqPerSec),
      halfRate: m((r) => r.rate),
      halfCarriedGateway: m((r) => r.half.gateway.reqPerSec),
      p50Direct: m((r) => r.half.direct.latencyMs.p50),
      p50Gateway: m((r) => r.half.gateway.latencyMs.p50),
      p99Direct: m((r) => r.half.direct.latencyMs.p99),
      p99Gateway: m((r) => r.half.gateway.latencyMs.p99),
      addedP50Ms: m((r) => r.half.gateway.latencyMs.p50 - r.half.direct.latencyMs.p50),
      addedP99Ms: m((r) => r.half.gateway.latencyMs.p99 - r.half.direct.latencyMs.p99),
      references: Object.fromEntries(refs.map((r) => [r.path, { peak: m((x) => x.peak[r.path].reqPerSec), vsDirect: m((x) => x.peak[r.path].reqPerSec / x.peak.direct.reqPerSec), gatewayVs: m((x) => x.peak.gateway.reqPerSec / x.peak[r.path].reqPerSec) }])),
    };
    const checks = [
      ['wide gateway: added p50 at half of direct peak (issue 5)', `≤ ${TARGETS.addedP50Ms} ms`, summary.addedP50Ms <= TARGETS.addedP50Ms],
      ['wide gateway: added p99 at half of direct peak (issue 5)', `≤ ${TARGETS.addedP99Ms} ms`, summary.addedP99Ms <= TARGETS.addedP99Ms],
      ['wide gateway: throughput ÷ direct (issue 5)', `≥ ${TARGETS.throughputRatio}×`, summary.throughputRatio >= TARGETS.throughputRatio],
    ];
    const markdown = [
      `With room for every connection (\`replica_max_concurrent_requests\` ${wide}), and references in front of the same \`berth serve\`:`,
      '',
      `| path | peak req/s | p50 at ${summary.halfRate} req/s | p99 at ${summary.halfRate} req/s |`,
      '|---|---:|---:|---:|',
      `| \`berth serve\` direct | ${summary.peakDirect.toFixed(0)} | ${f2(summary.p50Direct)} ms | ${f2(summary.p99Direct)} ms |`,
      `| through the gateway (key auth) | ${summary.peakGateway.toFixed(0)} | ${f2(summary.p50Gateway)} ms | ${f2(summary.p99Gateway)} ms |`,
      `| gateway cost | ${summary.throughputRatio.toFixed(2)}× throughput (target ≥ ${TARGETS.throughputRatio}) | +${f2(summary.addedP50Ms)} ms (target ≤ ${TARGETS.addedP50Ms}) | +${f2(summary.addedP99Ms)} ms (target ≤ ${TARGETS.addedP99Ms}) |`,
      ...refs.map((r) => { const x = summary.references[r.path]; return `| reference: ${r.label} | ${x.peak.toFixed(0)} (${x.vsDirect.toFixed(2)}× direct; the gateway does ${x.gatewayVs.toFixed(2)}× of it) | | |`; }),
      ...(summary.halfCarriedGateway < 0.97 * summary.halfRate ? ['', `At ${summary.halfRate} req/s (half of the direct peak) the gateway path carried ${summary.halfCarriedGateway.toFixed(0)} req/s: that is its own peak, so its latencies above are those of a saturated path.`] : []),
    ].join('\n');
    return { summary, checks, markdown };
  } finally {
    for (const stop of stops) await stop();
    if (cRelay !== null) fs.rmSync(cRelay, { force: true });
  }
}
