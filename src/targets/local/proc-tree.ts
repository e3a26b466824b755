// A replica's process tree under /proc: its members, their resident memory, whether they live, and killing them all.
import { readdirSync, readFileSync } from 'node:fs';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Child pids of `pid` from /proc/<pid>/task/<tid>/children (every thread: a fork from any thread counts). */
function childrenOf(pid: number): number[] | undefined {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tids) {
    const text = read(`/proc/${pid}/task/${tid}/children`);
    // Kernels without CONFIG_PROC_CHILDREN lack the file: the caller falls back to a full scan.
    if (text === undefined) return undefined;
    for (const c of text.trim().split(/\s+/)) if (c !== '') out.push(Number(c));
  }
  return out;
}

/** Parent pid of every process, for kernels without the children files. */
function parentMap(): Map<number, number[]> {
  const byParent = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`);
    if (stat === undefined) continue;
    // The command name (field 2) may hold spaces and parentheses: fields restart after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = byParent.get(ppid) ?? [];
    list.push(Number(name));
    byParent.set(ppid, list);
  }
  return byParent;
}

/** `root` and all its descendants that exist now. */
export function processTree(root: number): number[] {
  if (!isAlive(root)) return [];
  const seen = new Set<number>([root]);
  const queue = [root];
  let byParent: Map<number, number[]> | undefined;
  while (queue.length > 0) {
    const pid = queue.shift()!;
    let kids = childrenOf(pid);
    if (kids === undefined) kids = (byParent ??= parentMap()).get(pid) ?? [];
    for (const k of kids) if (!seen.has(k)) { seen.add(k); queue.push(k); }
  }
  return [...seen];
}

/** Resident memory (VmRSS) of one process in bytes; 0 when it is gone or a zombie. */
export function rssBytes(pid: number): number {
  const status = read(`/proc/${pid}/status`);
  const m = status === undefined ? null : /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Summed RSS of `root` and its descendants (shared pages count once per process, as the kernel's RSS does). */
export function treeRssBytes(root: number): number {
  return processTree(root).reduce((sum, pid) => sum + rssBytes(pid), 0);
}

/** Whether a process with this pid exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = read(`/proc/${pid}/stat`);
  if (stat === undefined) return true;
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** The command line of a process as its arguments, or undefined when it is gone. */
export function commandLine(pid: number): string[] | undefined {
  const text = read(`/proc/${pid}/cmdline`);
  return text === undefined ? undefined : text.split('\0').filter((a) => a !== '');
}

/**
 * Sends `signal` to the process group led by `root` (replicas are started as group leaders), and to every
 * descendant found, in case one left the group; plus any extra pids (a cgroup's members).
 */
export function killTree(root: number, signal: NodeJS.Signals, extra: readonly number[] = []): void {
  const pids = new Set([...processTree(root), ...extra]);
  try {
    process.kill(-root, signal);
  } catch {
    // No such group (already gone, or the root was adopted and is not a leader): the per-pid kills below cover it.
  }
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}
