// `npm run bench:gateway`: the same load straight to a replica and through the gateway; added p50/p99 at half of peak load, throughput ratio.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST, freePort, pollUntil } from './lib/http.mjs';
import { waitForQuiet } from './lib/machine.mjs';
import { startPlane } from './lib/plane.mjs';
import { installCleanupHandlers, startProcess } from './lib/procs.mjs';
import { runLoad } from './lib/run-load.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (msg) => process.stderr.write(`[bench:gateway] ${msg}\n`);

const USAGE = `Usage: npm run bench:gateway -- [options]

  --duration S      measured seconds per run              (default 10)
  --warmup S        warm-up seconds per run               (default 2)
  --connections N   concurrent keep-alive connections     (default 16)
  --rounds N        rounds; medians are reported          (default 3)
  --script KIND     python (sum of rows) or js (no-op)    (default python)
  --quiet-wait S    wait up to S s for a quiet machine    (default 30)
  --out FILE        JSON results                          (default bench/results/gateway-latest.json)
  --quick           --warmup 1 --duration 3 --rounds 1 (for trying things out, not a measurement)`;

const TARGETS = { addedP50Ms: 1, addedP99Ms: 3, throughputRatio: 0.85 };
/**
 * References in front of the same replica, so the cost of any extra hop on this machine shows: a bare Node reverse
 * proxy, a Node TCP relay that does not read HTTP at all, and the same relay in C (the cheapest hop there is).
 */
const BARE_PROXY = 'fixtures/minimal_proxy.mjs';
const TCP_PIPE = 'fixtures/tcp_pipe.mjs';
const C_RELAY = 'fixtures/tcp_relay.c';
/** Each reference's path id, the summary's names for its [peak, ÷ direct, gateway ÷ it], and its row in the table. */
const REFERENCES = [
  { path: 'proxy', figures: ['peakProxy', 'proxyRatio', 'gatewayVsProxy'], label: 'a bare Node proxy (no auth, metrics, logs or queue)' },
  { path: 'pipe', figures: ['peakPipe', 'pipeRatio', 'gatewayVsPipe'], label: 'a TCP relay that only copies bytes (no HTTP parsing)' },
  { path: 'crelay', figures: ['peakCRelay', 'cRelayRatio', 'gatewayVsCRelay'], label: 'the same relay in C (epoll, one thread)' },
];

/** Compiles the C relay with the machine's C compiler; null (the reference is left out) when there is none. */
function buildCRelay() {
  const binary = path.join(os.tmpdir(), `berth-bench-tcp-relay-${process.pid}`);
  try {
    execFileSync('cc', ['-O2', '-o', binary, path.join(repoRoot, 'bench', C_RELAY)], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    return binary;
  } catch (err) {
    log(`no C relay reference: cannot compile ${C_RELAY} (${err.message.split('\n')[0]})`);
    return null;
  }
}

function parse(argv) {
  const o = { durationS: 10, warmupS: 2, connections: 16, rounds: 3, script: 'python', quietWaitS: 30, out: path.join(repoRoot, 'bench/results/gateway-latest.json') };
  const args = [...argv];
  while (args.length) {
    const a = args.shift();
    const v = () => { const x = args.shift(); if (x === undefined) throw new Error(`${a} needs a value`); return x; };
    if (a === '--duration') o.durationS = Number(v());
    else if (a === '--warmup') o.warmupS = Number(v());
    else if (a === '--connections') o.connections = Number(v());
    else if (a === '--rounds') o.rounds = Number(v());
    else if (a === '--script') o.script = v();
    else if (a === '--quiet-wait') o.quietWaitS = Number(v());
    else if (a === '--out') o.out = path.resolve(v());
    else if (a === '--quick') Object.assign(o, { warmupS: 1, durationS: 3, rounds: 1 });
    else if (a === '-h' || a === '--help') { process.stdout.write(`${USAGE}\n`); process.exit(0); }
    else throw new Error(`unknown option ${a}\n\n${USAGE}`);
  }
  if (!['python', 'js'].includes(o.script)) throw new Error('--script must be python or js');
  return o;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const f2 = (v) => (v === null || v === undefined ? '—' : v.toFixed(2));

async function main() {
  const o = parse(process.argv.slice(2));
  installCleanupHandlers();
  const logDir = path.join(path.dirname(o.out), 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const scenario = o.script === 'python'
    ? { entry: 'sum_score.py', body: '{"data": [[1,2,3],[4,5,6]]}', expected: '{"result": [6, 15]}' }
    : { entry: 'noop_score.mjs', body: '{"data": [[1,2,3],[4,5,6]]}', expected: '{"ok":true}' };
  if (o.quietWaitS > 0) await waitForQuiet({ maxBusyPct: 25, timeoutS: o.quietWaitS, log });
  const references = [];
  const cRelay = buildCRelay();
  const plane = await startPlane(repoRoot, logDir, ['--capacity', 'cpu=8,memory_gb=8,gpu=0']);
  try {
    log(`control plane at ${plane.url}; deploying ${scenario.entry} (1 replica, ${o.connections} requests at once)`);
    await plane.cli(['deploy', '--name', 'bench-gw', '--entry-script', scenario.entry, '--source-dir', path.join(repoRoot, 'bench/fixtures'),
      '--replicas', '1', '--max-concurrent-requests', String(o.connections), '--max-request-wait-ms', '10000']);
    const svc = await plane.api('/v1/services/bench-gw');
    const direct = `${svc.replicas[0].url}/score`;
    const gateway = svc.scoring_uri;
    /** Starts a reference in front of the replica (`args` given its port) and resolves with its scoring URL once it answers. */
    const startReference = async (command, args, logName, what) => {
      const port = await freePort();
      references.push(startProcess(command, args(port), { cwd: repoRoot, env: process.env, logFile: path.join(logDir, logName) }));
      const url = `http://${HOST}:${port}/score`;
      await pollUntil(async () => (await fetch(url, { method: 'POST', body: scenario.body })).ok, { timeoutMs: 10_000, what });
      return url;
    };
    const nodeFixture = (fixture) => (port) => [path.join(repoRoot, 'bench', fixture), String(port), svc.replicas[0].url];
    const proxy = await startReference(process.execPath, nodeFixture(BARE_PROXY), 'minimal-proxy.log', 'bare proxy');
    const pipe = await startReference(process.execPath, nodeFixture(TCP_PIPE), 'tcp-pipe.log', 'TCP relay');
    const crelay = cRelay === null ? null : await startReference(cRelay, (port) => [String(port), new URL(svc.replicas[0].url).port], 'tcp-relay-c.log', 'C TCP relay');
    const referencePaths = crelay === null ? ['proxy', 'pipe'] : ['proxy', 'pipe', 'crelay'];
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${svc.keys.primary}` };
    for (const url of [direct, gateway, proxy, pipe, crelay].filter((u) => u !== null)) {
      const r = await fetch(url, { method: 'POST', body: scenario.body, headers });
      const text = (await r.text()).replace(/\s/g, '');
      if (r.status !== 200 || text !== scenario.expected.replace(/\s/g, '')) throw new Error(`unexpected answer from ${url}: ${r.status} ${text}`);
    }
    const load = (url, extra) => runLoad({ url, method: 'POST', body: scenario.body, headers, connections: o.connections, warmupS: o.warmupS, durationS: o.durationS, requestTimeoutS: 10, ...extra }, (o.warmupS + o.durationS) * 1000 + 60_000);
    const rounds = [];
    for (let i = 1; i <= o.rounds; i++) {
      // Alternate which path goes first, so neither always runs on a warmer (or more tired) machine.
      const order = i % 2 ? ['direct', 'gateway'] : ['gateway', 'direct'];
      const urls = { direct, gateway, proxy, pipe, crelay };
      const peak = {};
      for (const p of [...order, ...referencePaths]) {
        peak[p] = await load(urls[p]);
        log(`round ${i}: peak ${p}: ${peak[p].reqPerSec} req/s (p50 ${peak[p].latencyMs.p50} ms, non-2xx ${peak[p].non2xx}, errors ${peak[p].errors})`);
      }
      const rate = Math.max(1, Math.round(peak.direct.reqPerSec / 2));
      const half = {};
      for (const p of order) {
        half[p] = await load(urls[p], { overallRate: rate });
        log(`round ${i}: ${rate} req/s ${p}: p50 ${half[p].latencyMs.p50} ms, p99 ${half[p].latencyMs.p99} ms (${half[p].reqPerSec} req/s)`);
      }
      rounds.push({ rate, peak, half });
    }
    const m = (fn) => median(rounds.map(fn));
    const summary = {
      peakDirect: m((r) => r.peak.direct.reqPerSec),
      peakGateway: m((r) => r.peak.gateway.reqPerSec),
      throughputRatio: m((r) => r.peak.gateway.reqPerSec / r.peak.direct.reqPerSec),
      ...Object.fromEntries(REFERENCES.flatMap(({ path: p, figures: [peak, ratio, gatewayVs] }) => {
        const figure = (fn) => (referencePaths.includes(p) ? m(fn) : null);
        return [
          [peak, figure((r) => r.peak[p].reqPerSec)],
          [ratio, figure((r) => r.peak[p].reqPerSec / r.peak.direct.reqPerSec)],
          [gatewayVs, figure((r) => r.peak.gateway.reqPerSec / r.peak[p].reqPerSec)],
        ];
      })),
      halfRate: m((r) => r.rate),
      /** What the gateway path carried when asked for halfRate: below it, the latencies are those of a saturated path. */
      halfCarriedGateway: m((r) => r.half.gateway.reqPerSec),
      p50Direct: m((r) => r.half.direct.latencyMs.p50),
      p50Gateway: m((r) => r.half.gateway.latencyMs.p50),
      p99Direct: m((r) => r.half.direct.latencyMs.p99),
      p99Gateway: m((r) => r.half.gateway.latencyMs.p99),
      addedP50Ms: m((r) => r.half.gateway.latencyMs.p50 - r.half.direct.latencyMs.p50),
      addedP99Ms: m((r) => r.half.gateway.latencyMs.p99 - r.half.direct.latencyMs.p99),
      failures: rounds.reduce((a, r) => a + ['peak', 'half'].reduce((b, k) => b + r[k].gateway.non2xx + r[k].gateway.errors + r[k].direct.non2xx + r[k].direct.errors, 0), 0),
    };
    const checks = [
      ['added p50 at half of peak load', `≤ ${TARGETS.addedP50Ms} ms`, summary.addedP50Ms <= TARGETS.addedP50Ms],
      ['added p99 at half of peak load', `≤ ${TARGETS.addedP99Ms} ms`, summary.addedP99Ms <= TARGETS.addedP99Ms],
      ['throughput through the gateway ÷ direct', `≥ ${TARGETS.throughputRatio}×`, summary.throughputRatio >= TARGETS.throughputRatio],
      ['no failed requests', '0', summary.failures === 0],
    ];
    const markdown = [
      `Gateway overhead (${scenario.entry}, 1 replica, ${o.connections} connections, ${o.durationS} s runs, median of ${o.rounds} round(s), ${os.availableParallelism()} CPU cores shared by load generator, control plane and replica):`,
      '',
      `| path | peak req/s | p50 at ${summary.halfRate} req/s | p99 at ${summary.halfRate} req/s |`,
      '|---|---:|---:|---:|',
      `| straight to the replica | ${summary.peakDirect.toFixed(0)} | ${f2(summary.p50Direct)} ms | ${f2(summary.p99Direct)} ms |`,
      `| through the gateway (key auth) | ${summary.peakGateway.toFixed(0)} | ${f2(summary.p50Gateway)} ms | ${f2(summary.p99Gateway)} ms |`,
      `| gateway cost | ${summary.throughputRatio.toFixed(2)}× throughput (target ≥ ${TARGETS.throughputRatio}) | +${f2(summary.addedP50Ms)} ms (target ≤ ${TARGETS.addedP50Ms}) | +${f2(summary.addedP99Ms)} ms (target ≤ ${TARGETS.addedP99Ms}) |`,
      ...REFERENCES.filter(({ path: p }) => referencePaths.includes(p)).map(({ figures: [peak, ratio, gatewayVs], label }) =>
        `| reference: ${label} | ${summary[peak].toFixed(0)} (${summary[ratio].toFixed(2)}× direct; the gateway does ${summary[gatewayVs].toFixed(2)}× of it) | | |`),
      ...(summary.halfCarriedGateway < 0.97 * summary.halfRate
        ? ['', `At ${summary.halfRate} req/s (half of the direct peak) the gateway path carried ${summary.halfCarriedGateway.toFixed(0)} req/s: that is its own peak, so its latencies above are those of a saturated path.`]
        : []),
    ].join('\n');
    const results = { date: new Date().toISOString(), host: HOST, cpus: os.availableParallelism(), options: o, summary, checks: checks.map(([what, target, pass]) => ({ what, target, pass })), rounds, markdown };
    fs.mkdirSync(path.dirname(o.out), { recursive: true });
    fs.writeFileSync(o.out, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`\n${checks.map(([what, target, pass]) => `${pass ? 'PASS' : 'FAIL'}  ${what} (target ${target})`).join('\n')}\n\nMarkdown (for the README):\n\n${markdown}\n\nJSON results: ${path.relative(process.cwd(), o.out)}\n`);
    return checks.every(([, , pass]) => pass) ? 0 : 1;
  } finally {
    for (const reference of references) await reference.stop();
    await plane.stop();
    if (cRelay !== null) fs.rmSync(cRelay, { force: true });
  }
}

main().then((code) => process.exit(code), (err) => { process.stderr.write(`${err?.stack ?? err}\n`); process.exit(2); });
