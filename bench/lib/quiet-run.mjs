// Benchmark helper: one load run measured together with what other processes took from the machine meanwhile, repeated while that was too much.
import { busyPct, irqPct, machineCpu } from './machine.mjs';
import { treeCpuSeconds } from './procs.mjs';
import { NOISY_OTHER_CPU_PCT } from './report.mjs';

/**
 * Runs `load()` (a runLoad call) and figures how much of the machine processes other than `ours` (root pids of the
 * servers under test) and the load generator used during it, in percent of one core; a run where they used more than
 * NOISY_OTHER_CPU_PCT is done again, up to `retries` times, and the quietest kept. Resolves the result with `otherCpuPct`.
 */
export async function quietRun(load, ours, retries, log) {
  let best;
  for (let attempt = 0; attempt <= retries; attempt++) {
    const cpu0 = ours().reduce((a, pid) => a + treeCpuSeconds(pid), 0);
    const m0 = machineCpu();
    const t0 = performance.now();
    const result = await load();
    const wallS = (performance.now() - t0) / 1000;
    const m1 = machineCpu();
    const oursPct = (100 * (ours().reduce((a, pid) => a + treeCpuSeconds(pid), 0) - cpu0)) / wallS;
    // The load generator's warm-up is inside the window too; its CPU is known only for the measured part, so the
    // figure errs towards "quiet" by at most the warm-up's share.
    const loadgenPct = (100 * result.loadgenCpuS) / result.elapsedS;
    const other = Math.max(0, busyPct(m0, m1) - irqPct(m0, m1) - oursPct - loadgenPct);
    // The whole machine's busy share too (percent of one core; 100 × cores is every core busy): is the path CPU-bound?
    const run = { ...result, otherCpuPct: +other.toFixed(0), machineBusyPct: +busyPct(m0, m1).toFixed(0) };
    if (best === undefined || run.otherCpuPct < best.otherCpuPct) best = run;
    if (run.otherCpuPct <= NOISY_OTHER_CPU_PCT) break;
    if (attempt < retries) log(`other processes used ${run.otherCpuPct}% of a core during that run; measuring it again`);
  }
  return best;
}
