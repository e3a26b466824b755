// Benchmark helper: machine-wide CPU use from /proc/stat, to detect (and wait out) load from other processes.
import fs from 'node:fs';
import os from 'node:os';

const CLK_TCK = 100;

/** Cumulative machine CPU counters in seconds: { busy, softirq, total }. */
export function machineCpu() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (user + nice + system + irq + softirq + steal) / CLK_TCK, irq: (irq + softirq) / CLK_TCK, idle: (idle + iowait) / CLK_TCK, total: total / CLK_TCK };
}

/** Busy share between two machineCpu() samples, in percent of one core (100 × cores = every core busy). */
export function busyPct(a, b) {
  const total = b.total - a.total;
  if (total <= 0) return 0;
  return (100 * os.availableParallelism() * (b.busy - a.busy)) / total;
}

/** Interrupt + softirq share (kernel network processing on loopback lands here), same unit as busyPct. */
export function irqPct(a, b) {
  const total = b.total - a.total;
  if (total <= 0) return 0;
  return (100 * os.availableParallelism() * (b.irq - a.irq)) / total;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Before a measurement (nothing of ours running), wait until the machine is quiet: busy under `maxBusyPct`
 * (percent of one core) over a 1 s sample. Gives up after `timeoutS` and returns the last figure either way.
 */
export async function waitForQuiet({ maxBusyPct, timeoutS, log }) {
  const deadline = Date.now() + timeoutS * 1000;
  let warned = false;
  for (;;) {
    const a = machineCpu();
    await sleep(1000);
    const pct = busyPct(a, machineCpu());
    if (pct <= maxBusyPct) return { quiet: true, busyPct: +pct.toFixed(0), waitedS: 0 };
    if (Date.now() >= deadline) {
      log(`machine still busy (${pct.toFixed(0)}% of a core used by other processes); measuring anyway — figures will be noisy`);
      return { quiet: false, busyPct: +pct.toFixed(0) };
    }
    if (!warned) {
      log(`machine busy (${pct.toFixed(0)}% of a core used by other processes, limit ${maxBusyPct}%); waiting up to ${timeoutS} s for it to calm down`);
      warned = true;
    }
  }
}
