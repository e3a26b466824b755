// Benchmark helpers for child processes: spawn in own process group, /proc tree RSS/CPU, guaranteed cleanup.
import { spawn } from 'node:child_process';
import fs from 'node:fs';

const CLK_TCK = 100; // Linux USER_HZ; /proc/<pid>/stat times are in these ticks.
const tracked = new Set(); // every Proc we started that may still be alive

/** Read /proc/<pid>/stat fields (after the `(comm)` part) or null when the process is gone. */
function readStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // rest[0] = state (field 3), so field N is rest[N - 3].
    return { state: rest[0], ppid: Number(rest[1]), pgrp: Number(rest[2]), utime: Number(rest[11]), stime: Number(rest[12]) };
  } catch {
    return null;
  }
}

/** All live pids that descend from `root` (root included), by scanning /proc once. */
export function processTree(root) {
  const children = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(name);
    if (!st || st.state === 'Z') continue;
    const pid = Number(name);
    if (!children.has(st.ppid)) children.set(st.ppid, []);
    children.get(st.ppid).push(pid);
  }
  const out = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop();
    if (pid !== root || readStat(pid)) out.push(pid);
    for (const c of children.get(pid) ?? []) stack.push(c);
  }
  return out;
}

function rssKiB(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resident memory of the process tree rooted at `pid`: total MiB and per-process detail. */
export function treeRss(pid) {
  const procs = processTree(pid).map((p) => {
    let comm = '?';
    try { comm = fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim(); } catch { /* gone */ }
    return { pid: p, comm, rssMiB: +(rssKiB(p) / 1024).toFixed(1) };
  });
  const totalMiB = +(procs.reduce((a, p) => a + p.rssMiB, 0)).toFixed(1);
  return { totalMiB, processes: procs };
}

/** Per-process CPU seconds so far for the live processes of the tree rooted at `pid`: Map pid → {comm, cpuS}. */
export function treeCpuByProcess(pid) {
  const out = new Map();
  for (const p of processTree(pid)) {
    const st = readStat(p);
    if (!st) continue;
    let comm = '?';
    try { comm = fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim(); } catch { /* gone */ }
    out.set(p, { comm, cpuS: (st.utime + st.stime) / CLK_TCK });
  }
  return out;
}

/** Percent of one core used by each process between two treeCpuByProcess() samples `wallS` seconds apart. */
export function cpuSplit(before, after, wallS) {
  const rows = [];
  for (const [pid, a] of after) {
    const b = before.get(pid);
    rows.push({ pid, comm: a.comm, cpuPct: +((100 * (a.cpuS - (b?.cpuS ?? 0))) / wallS).toFixed(0), startedDuringRun: !b });
  }
  return rows.sort((x, y) => y.cpuPct - x.cpuPct);
}

/** CPU seconds (user+system) consumed so far by the live processes of the tree rooted at `pid`. */
export function treeCpuSeconds(pid) {
  let ticks = 0;
  for (const p of processTree(pid)) {
    const st = readStat(p);
    if (st) ticks += st.utime + st.stime;
  }
  return ticks / CLK_TCK;
}

/**
 * Start a server command in its own process group with stdout/stderr appended to `logFile`.
 * Returns { child, pid, logFile, exited: Promise<{code, signal}>, stop() }.
 */
export function startProcess(cmd, args, { cwd, env, logFile, output = 'file' }) {
  const fd = fs.openSync(logFile, 'a');
  fs.writeSync(fd, `$ ${[cmd, ...args].join(' ')}\n`);
  // Where stdout (berth's log: an access line per request) goes: the log file, /dev/null, or a pipe this process
  // reads and drops (as a terminal or a log collector reads it). stderr stays in the log file.
  const nul = output === 'null' ? fs.openSync('/dev/null', 'w') : undefined;
  const stdout = output === 'pipe' ? 'pipe' : nul ?? fd;
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', stdout, fd] });
  if (output === 'pipe') child.stdout.resume();
  fs.closeSync(fd);
  if (nul !== undefined) fs.closeSync(nul);
  let exitInfo = null;
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => { exitInfo = { code, signal }; resolve(exitInfo); });
    child.once('error', (err) => { exitInfo = { code: null, signal: null, error: err.message }; resolve(exitInfo); });
  });
  const proc = {
    child,
    pid: child.pid,
    logFile,
    exited,
    get exitInfo() { return exitInfo; },
    /** SIGTERM the group, wait up to `graceMs`, then SIGKILL the group and any stray descendant. */
    async stop(graceMs = 5000) {
      const tree = child.pid ? processTree(child.pid) : [];
      if (!exitInfo) signalGroup(child.pid, 'SIGTERM');
      const timer = new Promise((r) => setTimeout(r, graceMs).unref());
      await Promise.race([exited, timer]);
      signalGroup(child.pid, 'SIGKILL');
      for (const p of tree) safeKill(p, 'SIGKILL'); // descendants that left the group, if any
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000).unref())]);
      tracked.delete(proc);
    },
    /** Synchronous last resort (exit handler). */
    killNow() {
      const tree = child.pid ? processTree(child.pid) : [];
      signalGroup(child.pid, 'SIGKILL');
      for (const p of tree) safeKill(p, 'SIGKILL');
      tracked.delete(proc);
    },
  };
  tracked.add(proc);
  return proc;
}

/** Register any other child (e.g. the forked load generator) for cleanup on exit. */
export function trackChild(child) {
  const proc = {
    killNow() { safeKill(child.pid, 'SIGKILL'); tracked.delete(proc); },
  };
  tracked.add(proc);
  child.once('exit', () => tracked.delete(proc));
  return proc;
}

function signalGroup(pid, sig) {
  if (!pid) return;
  try { process.kill(-pid, sig); } catch { /* group already gone */ }
}

function safeKill(pid, sig) {
  if (!pid) return;
  try { process.kill(pid, sig); } catch { /* gone */ }
}

export function killAllNow() {
  for (const p of [...tracked]) p.killNow();
}

/** Kill everything we started on exit, uncaught errors and Ctrl-C / SIGTERM. */
export function installCleanupHandlers() {
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`\n${sig}: stopping every process the benchmark started\n`);
      killAllNow();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`benchmark crashed: ${err?.stack ?? err}\n`);
    killAllNow();
    process.exit(2);
  });
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`benchmark crashed: ${err?.stack ?? err}\n`);
    killAllNow();
    process.exit(2);
  });
}

/** Last `n` lines of a log file (for failure messages). */
export function tailFile(file, n = 30) {
  try {
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    return lines.slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}
