// Memory cgroups for replicas: detects at run time whether this process may create a limited child group (v2 or v1), and drives one.
import { mkdirSync, readFileSync, rmdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export type CgroupVersion = 1 | 2;

export type CgroupSupport =
  | { readonly ok: true; readonly version: CgroupVersion; readonly parent: string }
  | { readonly ok: false; readonly why: string };

export interface CgroupDetectOptions {
  /** Create replica groups under this directory instead of this process's own memory cgroup. */
  readonly parent?: string;
  /** Seams for tests: the files normally read from /proc/self. */
  readonly mountinfo?: string;
  readonly selfCgroup?: string;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** This process's own memory cgroup directory for v2 and v1, from mountinfo and /proc/self/cgroup. */
export function ownCgroupDirs(mountinfo: string, selfCgroup: string): { v2?: string; v1?: string } {
  const out: { v2?: string; v1?: string } = {};
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const f = left.split(' ');
    const [fstype, , superOpts] = right.split(' ');
    const root = f[3] ?? '/';
    const mountPoint = f[4] ?? '';
    const inside = (path: string): string => join(mountPoint, root === '/' ? path : path.slice(root.length));
    for (const cg of selfCgroup.split('\n')) {
      const [, , controllers, path] = /^(\d+):([^:]*):(.*)$/.exec(cg.trim()) ?? [];
      if (path === undefined) continue;
      if (fstype === 'cgroup2' && controllers === '' && out.v2 === undefined) out.v2 = inside(path);
      if (fstype === 'cgroup' && (superOpts ?? '').split(',').includes('memory') && controllers!.split(',').includes('memory')) out.v1 = inside(path);
    }
  }
  return out;
}

/** Whether `parent` takes a child group whose memory limit can be written; leaves nothing behind. */
function probe(parent: string, version: CgroupVersion): string | undefined {
  const dir = join(parent, `berth-probe-${process.pid}`);
  try {
    mkdirSync(dir);
  } catch (err) {
    return `cannot create a group under ${parent} (${(err as NodeJS.ErrnoException).code})`;
  }
  try {
    const file = join(dir, version === 2 ? 'memory.max' : 'memory.limit_in_bytes');
    if (!existsSync(file)) return `${parent} does not delegate the memory controller (no ${file})`;
    writeFileSync(file, String(64 * 1024 * 1024));
    return undefined;
  } catch (err) {
    return `cannot write a memory limit under ${parent} (${(err as NodeJS.ErrnoException).code})`;
  } finally {
    try { rmdirSync(dir); } catch { /* nothing was created inside it */ }
  }
}

/** Finds a writable memory cgroup parent: v2 first (a delegated subtree), then v1. Never assumes: probes by creating one. */
export function detectMemoryCgroup(options: CgroupDetectOptions = {}): CgroupSupport {
  const reasons: string[] = [];
  const candidates: Array<[CgroupVersion, string]> = [];
  if (options.parent !== undefined) {
    candidates.push([existsSync(join(options.parent, 'cgroup.controllers')) ? 2 : 1, options.parent]);
  } else {
    const dirs = ownCgroupDirs(options.mountinfo ?? read('/proc/self/mountinfo') ?? '', options.selfCgroup ?? read('/proc/self/cgroup') ?? '');
    if (dirs.v2 !== undefined) candidates.push([2, dirs.v2]);
    if (dirs.v1 !== undefined) candidates.push([1, dirs.v1]);
    if (candidates.length === 0) return { ok: false, why: 'no cgroup v2 mount or v1 memory controller found for this process' };
  }
  for (const [version, parent] of candidates) {
    if (version === 2 && !(read(join(parent, 'cgroup.controllers')) ?? '').split(/\s+/).includes('memory')) {
      reasons.push(`cgroup v2 at ${parent} has no memory controller`);
      continue;
    }
    const why = probe(parent, version);
    if (why === undefined) return { ok: true, version, parent };
    reasons.push(why);
  }
  return { ok: false, why: reasons.join('; ') };
}

/** One replica's memory cgroup. */
export class MemoryCgroup {
  private constructor(readonly path: string, readonly version: CgroupVersion) {}

  /** Creates (or reuses an empty leftover) group `name` under the detected parent, limited to `limitBytes`. */
  static create(support: { version: CgroupVersion; parent: string }, name: string, limitBytes: number): MemoryCgroup {
    const path = join(support.parent, name.replace(/[^A-Za-z0-9_.-]/g, '_'));
    mkdirSync(path, { recursive: true });
    const group = new MemoryCgroup(path, support.version);
    group.setLimit(limitBytes);
    return group;
  }

  /** Re-opens a group recorded for an adopted replica; undefined when it is gone. */
  static open(path: string): MemoryCgroup | undefined {
    if (existsSync(join(path, 'memory.max'))) return new MemoryCgroup(path, 2);
    if (existsSync(join(path, 'memory.limit_in_bytes'))) return new MemoryCgroup(path, 1);
    return undefined;
  }

  private setLimit(bytes: number): void {
    if (this.version === 2) {
      writeFileSync(join(this.path, 'memory.max'), String(bytes));
      // Without swap off, the group would swap instead of being OOM-killed; oom.group kills the whole tree at once.
      for (const [file, value] of [['memory.swap.max', '0'], ['memory.oom.group', '1']] as const) {
        try { writeFileSync(join(this.path, file), value); } catch { /* older kernel: the file is missing */ }
      }
      return;
    }
    writeFileSync(join(this.path, 'memory.limit_in_bytes'), String(bytes));
    try {
      // memsw (memory + swap) must be set after the memory limit, which it may not undercut.
      writeFileSync(join(this.path, 'memory.memsw.limit_in_bytes'), String(bytes));
    } catch { /* swap accounting is off: nothing to limit */ }
  }

  /** Forgets the previous run's peak (v1 only: v2's memory.peak cannot be reset for all readers). */
  resetPeak(): void {
    if (this.version === 1) {
      try { writeFileSync(join(this.path, 'memory.max_usage_in_bytes'), '0'); } catch { /* keep the old peak */ }
    }
  }

  /** Moves a process (and the children it starts later) into the group. */
  addProcess(pid: number): void {
    writeFileSync(join(this.path, 'cgroup.procs'), String(pid));
  }

  procs(): number[] {
    return (read(join(this.path, 'cgroup.procs')) ?? '').split('\n').filter((l) => l !== '').map(Number);
  }

  /** How many processes the kernel OOM-killed in this group so far. */
  oomKills(): number {
    const text = read(join(this.path, this.version === 2 ? 'memory.events' : 'memory.oom_control')) ?? '';
    const m = /^oom_kill (\d+)$/m.exec(text);
    return m ? Number(m[1]) : 0;
  }

  /** The highest usage the kernel recorded for the group (v2 kernels before 5.19 have none: the current usage). */
  peakBytes(): number | undefined {
    const file = this.version === 2 ? (existsSync(join(this.path, 'memory.peak')) ? 'memory.peak' : 'memory.current') : 'memory.max_usage_in_bytes';
    const text = read(join(this.path, file));
    return text === undefined ? undefined : Number(text.trim());
  }

  /** Removes the group once its processes are gone; retries briefly because exiting processes leave it asynchronously. */
  async remove(wait: (ms: number) => Promise<void>, attempts = 40, delayMs = 50): Promise<boolean> {
    for (let i = 0; i < attempts; i++) {
      try {
        rmdirSync(this.path);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
        await wait(delayMs);
      }
    }
    return false;
  }
}
