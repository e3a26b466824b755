// `npm run bench:gateway`: berth serve direct vs the gateway at the classic defaults (1 and 2 replicas), deploy-to-first-200, and references for the cost of a hop.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST, freePort, pollUntil } from './lib/http.mjs';
import { waitForQuiet } from './lib/machine.mjs';
import { startPlane } from './lib/plane.mjs';
import { installCleanupHandlers, startProcess } from './lib/procs.mjs';
import { runLoad } from './lib/run-load.mjs';
import { timeDeploy } from './lib/deploy-timing.mjs';
import { loadPair } from './lib/load-pair.mjs';
import { wrkVersion } from './lib/wrk.mjs';
import { quietRun } from './lib/quiet-run.mjs';
import { HOPS, measureReferences, startHop } from './lib/gateway-references.mjs';
import { defaultsMarkdown, TARGETS } from './lib/gateway-report.mjs';
import { deployRolloutServices, rolloutChecks, rolloutMarkdown, rolloutSummary } from './lib/gateway-rollouts.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (msg) => process.stderr.write(`[bench:gateway] ${msg}\n`);

const USAGE = `Usage: npm run bench:gateway -- [options]

  --duration S      measured seconds per run              (default 10)
  --warmup S        warm-up seconds per run               (default 2)
  --connections N   concurrent keep-alive connections     (default 16)
  --rounds N        rounds; medians are reported          (default 3)
  --deploys N       timed deploys onto the running plane  (default 5)
  --loadgen NAME    load generator for the peak runs: wrk (C, the lighter of the two on a machine shared with the
                    servers) or autocannon (Node); the fixed-rate runs use autocannon (default wrk when installed)
  --python PATH     Python of berth serve and the replicas (default /usr/bin/python3)
  --no-rollouts     skip the 90/10 split and 20 % mirror runs at half load
  --references      also measure the wide gateway (max concurrent = connections) against a bare Node proxy and
                    TCP relays in front of the same berth serve (the cost of any hop on this machine)
  --quiet-wait S    wait up to S s for a quiet machine    (default 30)
  --noisy-retries N run again (up to N times) a run during which other processes used > 20% of a core
                                                          (default 2)
  --out FILE        JSON results                          (default bench/results/gateway-latest.json)
  --quick           --warmup 1 --duration 3 --rounds 1 --deploys 2 (for trying things out, not a measurement)`;

function parse(argv) {
  const o = { durationS: 10, warmupS: 2, connections: 16, rounds: 3, deploys: 5, loadgen: wrkVersion() === null ? 'autocannon' : 'wrk', python: '/usr/bin/python3', references: false, rollouts: true, quietWaitS: 30, noisyRetries: 2, out: path.join(repoRoot, 'bench/results/gateway-latest.json') };
  const args = [...argv];
  while (args.length) {
    const a = args.shift();
    const v = () => { const x = args.shift(); if (x === undefined) throw new Error(`${a} needs a value`); return x; };
    if (a === '--duration') o.durationS = Number(v());
    else if (a === '--warmup') o.warmupS = Number(v());
    else if (a === '--connections') o.connections = Number(v());
    else if (a === '--rounds') o.rounds = Number(v());
    else if (a === '--deploys') o.deploys = Number(v());
    else if (a === '--loadgen') o.loadgen = v();
    else if (a === '--python') o.python = v();
    else if (a === '--references') o.references = true;
    else if (a === '--no-rollouts') o.rollouts = false;
    else if (a === '--quiet-wait') o.quietWaitS = Number(v());
    else if (a === '--noisy-retries') o.noisyRetries = Number(v());
    else if (a === '--out') o.out = path.resolve(v());
    else if (a === '--quick') Object.assign(o, { warmupS: 1, durationS: 3, rounds: 1, deploys: 2 });
    else if (a === '-h' || a === '--help') { process.stdout.write(`${USAGE}\n`); process.exit(0); }
    else throw new Error(`unknown option ${a}\n\n${USAGE}`);
  }
  if (!['autocannon', 'wrk'].includes(o.loadgen)) throw new Error('--loadgen must be autocannon or wrk');
  return o;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

const SCENARIO = { entry: 'sum_score.py', body: '{"data": [[1,2,3],[4,5,6]]}', expected: '{"result":[6,15]}' };

/** A folder whose `python3` is `python`, put first on the plane's PATH: replicas then run the Python berth serve does. */
function pythonOnPath(python) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-python-'));
  fs.symlinkSync(python, path.join(dir, 'python3'));
  return dir;
}

/** `berth serve` straight, as a user runs it; resolves its scoring URL once it answers. */
async function startServe(args, logFile, python) {
  const port = await freePort();
  const proc = startProcess(process.execPath, [path.join(repoRoot, 'bin/berth.js'), 'serve', '--entry-script', path.join(repoRoot, 'bench/fixtures', SCENARIO.entry), '--port', String(port), '--python', python, ...args], { cwd: repoRoot, env: process.env, logFile });
  const url = `http://${HOST}:${port}/score`;
  await pollUntil(async () => (await fetch(`http://${HOST}:${port}/ready`)).ok, { timeoutMs: 30_000, what: `berth serve ${args.join(' ')}`, abort: () => (proc.exitInfo ? 'exited' : null) });
  return { proc, url };
}

async function checkAnswer(url, headers) {
  const r = await fetch(url, { method: 'POST', body: SCENARIO.body, headers });
  const text = (await r.text()).replace(/\s/g, '');
  if (r.status !== 200 || text !== SCENARIO.expected) throw new Error(`unexpected answer from ${url}: ${r.status} ${text}`);
}

async function main() {
  const o = parse(process.argv.slice(2));
  installCleanupHandlers();
  const logDir = path.join(path.dirname(o.out), 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  if (o.quietWaitS > 0) await waitForQuiet({ maxBusyPct: 25, timeoutS: o.quietWaitS, log });
  const pyDir = pythonOnPath(o.python);
  const planeEnv = { PATH: `${pyDir}:${process.env.PATH ?? ''}` };
  const plane = await startPlane(repoRoot, logDir, ['--capacity', 'cpu=8,memory_gb=8,gpu=0'], planeEnv);
  const stops = [];
  try {
    const fixtures = path.join(repoRoot, 'bench/fixtures');
    log(`control plane at ${plane.url}; deploying ${SCENARIO.entry} with every setting at its default, on 1 and on 2 replicas`);
    for (const [name, n] of [['gw-one', 1], ['gw-two', 2]]) await plane.cli(['deploy', '--name', name, '--entry-script', SCENARIO.entry, '--source-dir', fixtures, '--replicas', String(n)]);
    const one = await plane.api('/v1/services/gw-one');
    const two = await plane.api('/v1/services/gw-two');
    const direct = await startServe(['--worker-count', '1'], path.join(logDir, 'serve-direct.log'), o.python);
    stops.push(() => direct.proc.stop());
    // The reference for a second replica: a second berth serve beside the first, both loaded at once, no gateway.
    const direct2 = await startServe(['--worker-count', '1'], path.join(logDir, 'serve-direct-2.log'), o.python);
    stops.push(() => direct2.proc.stop());
    // What a hop alone adds at the half-load rate: a byte-copying TCP relay and a bare HTTP proxy, both in Node, in front of the same berth serve.
    const hops = {};
    for (const h of ['pipe', 'proxy']) {
      hops[h] = await startHop({ repoRoot, reference: HOPS[h], upstreamPort: new URL(direct.url).port, logDir, body: SCENARIO.body });
      stops.push(hops[h].stop);
    }
    const json = { 'content-type': 'application/json' };
    const urls = { direct: direct.url, gw1: one.scoring_uri, gw2: two.scoring_uri, pipe: hops.pipe.url, proxy: hops.proxy.url };
    const headers = { direct: json, gw1: { ...json, authorization: `Bearer ${one.keys.primary}` }, gw2: { ...json, authorization: `Bearer ${two.keys.primary}` }, pipe: json, proxy: json };
    if (o.rollouts) {
      log('starting a 90/10 rollout (gw-split) and a 20 % mirror (gw-mirror), two replicas each');
      const r = await deployRolloutServices(plane, SCENARIO.entry, fixtures);
      Object.assign(urls, r.urls);
      Object.assign(headers, r.headers);
    }
    for (const p of Object.keys(urls)) await checkAnswer(urls[p], headers[p]);
    const ours = () => [plane.pid, direct.proc.pid, direct2.proc.pid, hops.pipe.pid, hops.proxy.pid];
    const load = (p, extra = {}) => quietRun(() => runLoad({ url: urls[p], method: 'POST', body: SCENARIO.body, headers: headers[p], connections: o.connections, warmupS: o.warmupS, durationS: o.durationS, requestTimeoutS: 10, ...(extra.overallRate ? {} : { loadgen: o.loadgen }), ...extra }, (o.warmupS + o.durationS) * 1000 + 60_000), ours, o.noisyRetries, log);
    const rounds = [];
    for (let i = 1; i <= o.rounds; i++) {
      // Alternate the order, so no path always runs on a warmer (or more tired) machine.
      const order = i % 2 ? ['direct', 'gw1', 'gw2'] : ['gw2', 'gw1', 'direct'];
      const peak = {};
      for (const p of order) {
        peak[p] = await load(p);
        log(`round ${i}: peak ${p}: ${peak[p].reqPerSec} req/s (p50 ${peak[p].latencyMs.p50} ms, p99 ${peak[p].latencyMs.p99} ms, non-2xx ${peak[p].non2xx}, errors ${peak[p].errors}; machine busy ${peak[p].machineBusyPct}% of ${os.availableParallelism() * 100}%, others used ${peak[p].otherCpuPct}% of a core)`);
      }
      peak.pair = await quietRun(() => loadPair([direct.url, direct2.url], { method: 'POST', body: SCENARIO.body, headers: json, connections: o.connections, warmupS: o.warmupS, durationS: o.durationS, requestTimeoutS: 10, loadgen: o.loadgen }), ours, o.noisyRetries, log);
      log(`round ${i}: peak of two berth serve processes at once (no gateway): ${peak.pair.reqPerSec} req/s (machine busy ${peak.pair.machineBusyPct}% of ${os.availableParallelism() * 100}%)`);
      // Half of the gateway's own peak (one replica): the same offered rate straight to berth serve and through the gateway.
      const rate = Math.max(1, Math.round(peak.gw1.reqPerSec / 2));
      const half = {};
      for (const p of i % 2 ? ['direct', 'gw1', 'pipe', 'proxy'] : ['proxy', 'pipe', 'gw1', 'direct']) {
        half[p] = await load(p, { overallRate: rate });
        log(`round ${i}: ${rate} req/s ${p}: p50 ${half[p].latencyMs.p50} ms, p99 ${half[p].latencyMs.p99} ms (${half[p].reqPerSec} req/s; others used ${half[p].otherCpuPct}% of a core)`);
      }
      // The same rate through two replicas without a split, with a 90/10 split and with a 20 % mirror.
      const rollout = {};
      if (o.rollouts) {
        for (const p of i % 2 ? ['gw2', 'split', 'mirror'] : ['mirror', 'split', 'gw2']) {
          rollout[p] = await load(p, { overallRate: rate });
          log(`round ${i}: ${rate} req/s ${p}: ${rollout[p].reqPerSec} req/s, p50 ${rollout[p].latencyMs.p50} ms, p99 ${rollout[p].latencyMs.p99} ms (non-2xx ${rollout[p].non2xx}, errors ${rollout[p].errors})`);
        }
      }
      rounds.push({ rate, peak, half, ...(o.rollouts ? { rollout } : {}) });
    }
    const m = (fn) => median(rounds.map(fn));
    const deploys = [];
    for (let i = 1; i <= o.deploys; i++) {
      // A deploy is over in half a second: wait for a quiet moment rather than judge it afterwards.
      if (o.quietWaitS > 0) await waitForQuiet({ maxBusyPct: 25, timeoutS: o.quietWaitS, log });
      const t = await timeDeploy({ berthBin: path.join(repoRoot, 'bin/berth.js'), env: { ...process.env, BERTH_HOME: plane.home, BERTH_SERVER: plane.url }, planeUrl: plane.url, name: `dep-${i}`, entryScript: SCENARIO.entry, sourceDir: fixtures, body: SCENARIO.body });
      deploys.push(t);
      log(`deploy ${i}: first 200 through the gateway after ${t.firstOkMs} ms; berth deploy returned after ${t.cliMs} ms`);
      await plane.cli(['service', 'delete', `dep-${i}`]);
    }
    const summary = {
      peakDirect: m((r) => r.peak.direct.reqPerSec),
      peakGw1: m((r) => r.peak.gw1.reqPerSec),
      peakGw2: m((r) => r.peak.gw2.reqPerSec),
      busyDirect: m((r) => r.peak.direct.machineBusyPct),
      busyGw1: m((r) => r.peak.gw1.machineBusyPct),
      busyGw2: m((r) => r.peak.gw2.machineBusyPct),
      gw1VsDirect: m((r) => r.peak.gw1.reqPerSec / r.peak.direct.reqPerSec),
      gw2VsGw1: m((r) => r.peak.gw2.reqPerSec / r.peak.gw1.reqPerSec),
      peakPair: m((r) => r.peak.pair.reqPerSec),
      busyPair: m((r) => r.peak.pair.machineBusyPct),
      pairVsDirect: m((r) => r.peak.pair.reqPerSec / r.peak.direct.reqPerSec),
      p99PeakDirect: m((r) => r.peak.direct.latencyMs.p99),
      p99PeakGw1: m((r) => r.peak.gw1.latencyMs.p99),
      p99PeakGw2: m((r) => r.peak.gw2.latencyMs.p99),
      halfRate: m((r) => r.rate),
      p50HalfDirect: m((r) => r.half.direct.latencyMs.p50),
      p50HalfGw1: m((r) => r.half.gw1.latencyMs.p50),
      p99HalfDirect: m((r) => r.half.direct.latencyMs.p99),
      p99HalfGw1: m((r) => r.half.gw1.latencyMs.p99),
      addedP99Ms: m((r) => r.half.gw1.latencyMs.p99 - r.half.direct.latencyMs.p99),
      p50HalfPipe: m((r) => r.half.pipe.latencyMs.p50),
      p99HalfPipe: m((r) => r.half.pipe.latencyMs.p99),
      addedP99PipeMs: m((r) => r.half.pipe.latencyMs.p99 - r.half.direct.latencyMs.p99),
      p50HalfProxy: m((r) => r.half.proxy.latencyMs.p50),
      p99HalfProxy: m((r) => r.half.proxy.latencyMs.p99),
      addedP99ProxyMs: m((r) => r.half.proxy.latencyMs.p99 - r.half.direct.latencyMs.p99),
      deployFirstOkMs: deploys.length ? median(deploys.map((d) => d.firstOkMs)) : null,
      deployCliMs: deploys.length ? median(deploys.map((d) => d.cliMs)) : null,
      maxOtherCpuPct: Math.max(...rounds.flatMap((r) => [...Object.values(r.peak), ...Object.values(r.half)].map((x) => x.otherCpuPct))),
      failures: rounds.reduce((a, r) => a + ['peak', 'half', ...(o.rollouts ? ['rollout'] : [])].reduce((b, k) => b + Object.values(r[k]).reduce((c, x) => c + x.non2xx + x.errors, 0), 0), 0),
    };
    const checks = [
      ['gateway + 1 replica (defaults) ÷ berth serve --worker-count 1 direct', `≥ ${TARGETS.gw1VsDirect}×`, summary.gw1VsDirect >= TARGETS.gw1VsDirect],
      ['gateway + 2 replicas ÷ gateway + 1 replica', `≥ ${TARGETS.gw2VsGw1}×`, summary.gw2VsGw1 >= TARGETS.gw2VsGw1],
      ['added p99 through the gateway at half of its own peak', `≤ ${TARGETS.addedP99Ms} ms`, summary.addedP99Ms <= TARGETS.addedP99Ms],
      ['berth deploy onto a running plane → first 200 through the gateway (median)', `≤ ${TARGETS.deployFirstOkMs} ms`, summary.deployFirstOkMs !== null && summary.deployFirstOkMs <= TARGETS.deployFirstOkMs],
      ['no failed requests', '0', summary.failures === 0],
    ];
    const rollouts = o.rollouts ? rolloutSummary(rounds) : null;
    if (rollouts !== null) for (const c of rolloutChecks(rollouts)) checks.push(c);
    const references = o.references ? await measureReferences({ repoRoot, logDir, plane, o, log, startServe, checkAnswer, scenario: SCENARIO }) : null;
    if (references !== null) for (const c of references.checks) checks.push(c);
    const markdown = [defaultsMarkdown(summary, deploys, { ...o, cores: os.availableParallelism() }), ...(rollouts === null ? [] : ['', rolloutMarkdown(rollouts)]), ...(references === null ? [] : ['', references.markdown])].join('\n');
    const results = { date: new Date().toISOString(), host: HOST, cpus: os.availableParallelism(), loadAverage: os.loadavg(), options: o, summary, rollouts, deploys, references: references?.summary ?? null, checks: checks.map(([what, target, pass]) => ({ what, target, pass })), rounds, markdown };
    fs.mkdirSync(path.dirname(o.out), { recursive: true });
    fs.writeFileSync(o.out, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`\n${checks.map(([what, target, pass]) => `${pass ? 'PASS' : 'FAIL'}  ${what} (target ${target})`).join('\n')}\n\nMarkdown (for the README):\n\n${markdown}\n\nJSON results: ${path.relative(process.cwd(), o.out)}\n`);
    return checks.every(([, , pass]) => pass) ? 0 : 1;
  } finally {
    for (const stop of stops) await stop();
    await plane.stop();
    fs.rmSync(pyDir, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code), (err) => { process.stderr.write(`${err?.stack ?? err}\n`); process.exit(2); });
