// `npm run bench:serve`: berth serve vs Flask/gunicorn (Python) and vs raw node:http (JS) under the same load.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, pollUntil, HOST } from './lib/http.mjs';
import { USAGE, parseOptions } from './lib/options.mjs';
import { cpuSplit, installCleanupHandlers, processTree, startProcess, tailFile, treeCpuByProcess, treeCpuSeconds, treeRss } from './lib/procs.mjs';
import { formatProfile, summariseProfile } from './lib/cpuprofile.mjs';
import { busyPct, irqPct, machineCpu, waitForQuiet } from './lib/machine.mjs';
import { NOISY_OTHER_CPU_PCT, combineRounds, consoleReport, evaluateChecks, markdownReport } from './lib/report.mjs';
import { scenarios, verifyAnswer } from './lib/targets.mjs';
import { runLoad } from './lib/run-load.mjs';
import { wrkVersion } from './lib/wrk.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);

function tryExec(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    return null;
  }
}

function environment(opts) {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const acPkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'node_modules/autocannon/package.json'), 'utf8'));
  return {
    cpus: os.availableParallelism(),
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown CPU',
    memTotalMiB: Math.round(os.totalmem() / 2 ** 20),
    kernel: os.release(),
    versions: {
      node: process.version,
      python: tryExec(opts.python, ['--version']),
      gunicorn: tryExec(opts.python, ['-c', 'import gunicorn; print(gunicorn.__version__)']),
      flask: tryExec(opts.python, ['-c', 'from importlib.metadata import version; print(version("flask"))']),
      autocannon: acPkg.version,
      wrk: wrkVersion(),
    },
    loadgen: opts.loadgen === 'wrk' ? `wrk (${opts.wrkThreads} thread${opts.wrkThreads === 1 ? '' : 's'})` : 'autocannon',
    logTo: opts.logTo,
    gitCommit: tryExec('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD']),
    // Uncommitted changes to tracked files outside bench/ (the code being measured).
    gitDirty: (tryExec('git', ['-C', repoRoot, 'status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench']) ?? '') !== '',
  };
}


/** Start one target, wait for readiness, verify its answer, measure RSS/CPU and load it; always stops it. */
async function measureTarget(scenario, target, opts, logDir) {
  const out = { id: target.id, label: target.label, note: target.note ?? null, command: null, port: null, error: null };
  let proc = null;
  let profDir = null;
  try {
    if (opts.quietWaitS > 0) out.beforeStart = await waitForQuiet({ maxBusyPct: opts.quietLimitPct, timeoutS: opts.quietWaitS, log });
    const port = await freePort();
    out.port = port;
    const { cmd, env, args: baseArgs } = target.start(port);
    let args = baseArgs;
    if (opts.cpuProf && target.isBerth) {
      profDir = path.join(path.dirname(opts.out), 'profiles', target.id);
      fs.rmSync(profDir, { recursive: true, force: true });
      fs.mkdirSync(profDir, { recursive: true });
      args = ['--cpu-prof', '--cpu-prof-dir', profDir, ...args];
    }
    out.command = [cmd, ...args].map((a) => path.isAbsolute(a) ? path.relative(repoRoot, a) || a : a).join(' ');
    const logFile = path.join(logDir, `${target.id}.log`);
    fs.writeFileSync(logFile, '');
    out.logFile = path.relative(repoRoot, logFile);
    log(`${target.label}: starting on ${HOST}:${port}`);
    const t0 = Date.now();
    proc = startProcess(cmd, args, { cwd: repoRoot, env: { ...process.env, ...env }, logFile, output: opts.logTo });
    const abort = () => (proc.exitInfo ? `process exited (${JSON.stringify(proc.exitInfo)}); log tail:\n${tailFile(logFile)}` : null);
    await pollUntil(() => target.ready(port), { timeoutMs: target.readyTimeoutMs, what: `${target.label} readiness`, abort });
    if (target.minProcesses) {
      await pollUntil(() => processTree(proc.pid).length >= target.minProcesses,
        { timeoutMs: target.readyTimeoutMs, what: `${target.label} worker processes`, abort });
    }
    out.readyMs = Date.now() - t0;
    out.answer = await verifyAnswer(port, scenario);
    log(`${target.label}: ready in ${out.readyMs} ms, answer ok: ${out.answer.body.trim()}`);
    out.idleRss = treeRss(proc.pid);

    let cpuAtStart = null;
    let perProcAtStart = null;
    let machineAtStart = null;
    let tStart = null;
    const loadTimeoutMs = (opts.warmupS + opts.durationS) * 1000 + 60_000;
    log(`${target.label}: ${opts.warmupS} s warm-up + ${opts.durationS} s measured, ${opts.connections} connections`);
    const load = await runLoad({
      url: `http://${HOST}:${port}${scenario.request.path}`,
      method: scenario.request.method,
      body: scenario.request.body,
      headers: { 'content-type': 'application/json' },
      connections: opts.connections,
      warmupS: opts.warmupS,
      durationS: opts.durationS,
      requestTimeoutS: 10,
      loadgen: opts.loadgen,
      threads: opts.wrkThreads,
      onMeasureStart: () => {
        perProcAtStart = treeCpuByProcess(proc.pid);
        cpuAtStart = treeCpuSeconds(proc.pid);
        machineAtStart = machineCpu();
        tStart = process.hrtime.bigint();
      },
    }, loadTimeoutMs);
    if (cpuAtStart !== null) {
      const wallS = Number(process.hrtime.bigint() - tStart) / 1e9;
      const serverPct = (100 * (treeCpuSeconds(proc.pid) - cpuAtStart)) / wallS;
      out.serverCpuByProcess = cpuSplit(perProcAtStart, treeCpuByProcess(proc.pid), wallS);
      const machineNow = machineCpu();
      const machinePct = busyPct(machineAtStart, machineNow);
      const irq = irqPct(machineAtStart, machineNow);
      out.serverCpuPct = +serverPct.toFixed(0);
      out.machineBusyPct = +machinePct.toFixed(0);
      out.irqCpuPct = +irq.toFixed(0);
      // Everything that is neither the server, the load generator nor interrupt/softirq work (loopback
      // networking): in practice, other processes competing for the cores.
      out.otherCpuPct = Math.max(0, +(machinePct - irq - serverPct - (100 * load.loadgenCpuS) / load.elapsedS).toFixed(0));
    }
    out.load = load;
    out.loadedRss = treeRss(proc.pid);
    // The server must still answer correctly after the load.
    await verifyAnswer(port, scenario);
    if (proc.exitInfo) throw new Error(`server exited during the run: ${JSON.stringify(proc.exitInfo)}`);
    log(`${target.label}: ${load.reqPerSec} req/s, p50 ${load.latencyMs.p50} ms, p99 ${load.latencyMs.p99} ms, ` +
      `non-2xx ${load.non2xx}, errors ${load.errors}`);
  } catch (err) {
    out.error = String(err?.message ?? err);
    log(`${target.label}: FAILED: ${out.error}`);
  } finally {
    if (proc) await proc.stop();
  }
  if (profDir) {
    // node writes the profile when the process exits; summarise the main thread's (largest) profile.
    const files = fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => path.join(profDir, f)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size);
    if (files.length) {
      out.cpuProfile = summariseProfile(files[0], repoRoot);
      out.cpuProfile.allFiles = files.map((f) => path.relative(repoRoot, f));
    } else {
      out.cpuProfile = { error: `no .cpuprofile written in ${path.relative(repoRoot, profDir)} (did the server exit cleanly on SIGTERM?)` };
    }
  }
  return out;
}

/** measureTarget, repeated (up to --noisy-retries times) while other processes disturbed the measured window. */
async function measureQuietly(scenario, target, opts, logDir) {
  let best = await measureTarget(scenario, target, opts, logDir);
  for (let i = 0; i < opts.noisyRetries && best.load && (best.otherCpuPct ?? 0) > NOISY_OTHER_CPU_PCT; i++) {
    log(`${target.label}: other processes used ${best.otherCpuPct}% of a core during the measurement; measuring again`);
    const again = await measureTarget(scenario, target, opts, logDir);
    if (again.load && (again.otherCpuPct ?? 0) < (best.otherCpuPct ?? 0)) best = again;
  }
  return best;
}

async function main() {
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2), process.env, repoRoot);
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  installCleanupHandlers();
  const logDir = path.join(path.dirname(opts.out), 'logs');
  fs.mkdirSync(logDir, { recursive: true });

  const env = environment(opts);
  const results = {
    meta: {
      date: new Date().toISOString(),
      ...env,
      connections: opts.connections,
      warmupS: opts.warmupS,
      durationS: opts.durationS,
      berthWorkers: opts.berthWorkers,
      rounds: opts.rounds,
      loadAverageAtStart: os.loadavg().map((x) => +x.toFixed(2)),
      python: opts.python,
      cpuProf: opts.cpuProf,
      note: `${env.cpus} CPU cores shared by the load generator and the servers under test`,
    },
    scenarios: [],
  };
  log(`${env.cpus} CPU cores (${env.cpuModel}); the load generator and the servers share them`);

  for (const s of scenarios(opts, repoRoot)) {
    const rounds = [];
    for (let i = 1; i <= opts.rounds; i++) {
      log(`— ${s.title}${opts.rounds > 1 ? ` — round ${i}/${opts.rounds}` : ''}`);
      // The baseline runs first, then berth; each server is stopped before the next one starts.
      const baseline = await measureQuietly(s, s.baseline, opts, logDir);
      const berth = await measureQuietly(s, s.berth, opts, logDir);
      const reference = s.reference ? await measureQuietly(s, s.reference, opts, logDir) : undefined;
      rounds.push({ berth, baseline, reference });
    }
    results.scenarios.push({
      id: s.id,
      title: s.title,
      request: s.request,
      expected: s.expected,
      targets: [combineRounds(rounds.map((r) => r.berth)), combineRounds(rounds.map((r) => r.baseline)),
        ...(s.reference ? [combineRounds(rounds.map((r) => r.reference))] : [])],
      checks: evaluateChecks(s, rounds),
    });
  }

  fs.mkdirSync(path.dirname(opts.out), { recursive: true });
  results.markdown = markdownReport(results);
  fs.writeFileSync(opts.out, `${JSON.stringify(results, null, 2)}\n`);
  // Keep every run too (serve-<date>.json beside serve-latest.json), so a noisy rerun does not hide a clean one.
  const stamped = path.join(path.dirname(opts.out), `serve-${results.meta.date.replace(/[:.]/g, '-')}.json`);
  fs.copyFileSync(opts.out, stamped);

  process.stdout.write(`${consoleReport(results)}\n\nMarkdown (for the README):\n\n${results.markdown}\n\n`);
  for (const s of results.scenarios) {
    for (const t of s.targets) {
      if (!t.cpuProfile) continue;
      process.stdout.write(t.cpuProfile.error ? `CPU profile of ${t.label}: ${t.cpuProfile.error}\n\n` : `${formatProfile(t.label, t.cpuProfile)}\n\n`);
    }
  }
  if (opts.cpuProf) process.stdout.write('(profiled run: the figures above include --cpu-prof overhead)\n\n');
  process.stdout.write(`JSON results: ${path.relative(process.cwd(), opts.out)} (and ${path.relative(process.cwd(), stamped)}); server logs: ${path.relative(process.cwd(), logDir)}/\n`);
  const allPass = results.scenarios.every((s) => s.checks.every((c) => c.result !== 'FAIL') && s.targets.every((t) => !t.error));
  return allPass ? 0 : 1;
}

main().then((code) => process.exit(code));
