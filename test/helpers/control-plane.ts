// Runs the compiled `berth` CLI against a real control plane on a free loopback port with a temporary BERTH_HOME.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive as isRunning } from '../../src/control/runfile.js';
import { berthBin } from './serve-process.js';

export { berthBin, repoRoot } from './serve-process.js';

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Temp folders created by tests; removed by cleanup(). */
const made: string[] = [];
/** Control plane pids started by tests; any still alive at cleanup() are killed. */
const pids = new Set<number>();

export function tempDir(prefix = 'berth-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Runs `berth ARGS` with BERTH_HOME=home (and no inherited BERTH_SERVER or BERTH_ADMIN_TOKEN) and collects its output. */
export function berth(args: readonly string[], options: { home: string; env?: Record<string, string>; timeoutMs?: number }): Promise<CliRun> {
  const env: Record<string, string | undefined> = { ...process.env, BERTH_HOME: options.home, BERTH_SERVER: undefined, BERTH_ADMIN_TOKEN: undefined, ...options.env };
  const child = spawn(process.execPath, [berthBin, ...args], { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`berth ${args.join(' ')} did not finish in time:\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Like berth(), but fails the test unless it exits 0. */
export async function ok(args: readonly string[], home: string): Promise<string> {
  const run = await berth(args, { home });
  if (run.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

export interface RunningPlane {
  readonly url: string;
  readonly pid: number;
  readonly home: string;
  readonly startMs: number;
  /** What `berth up --detach` printed (the admin token lines among it). */
  readonly output: string;
}

/** `berth up --detach --port 0 [extra flags]`: returns once the control plane answers. */
export async function up(home: string, extra: readonly string[] = []): Promise<RunningPlane> {
  const started = performance.now();
  const out = await ok(['up', '--detach', '--port', '0', '--home', home, ...extra], home);
  const startMs = performance.now() - started;
  const m = /running at (http:\/\/\S+) \(pid (\d+)/.exec(out);
  if (m === null) throw new Error(`unexpected berth up output: ${out}`);
  const pid = Number(m[2]);
  pids.add(pid);
  return { url: m[1]!, pid, home, startMs, output: out };
}

export async function down(home: string): Promise<void> {
  await ok(['down', '--home', home], home);
}

/** True while the process runs (a zombie waiting to be reaped does not count). */
export function isAlive(pid: number): boolean {
  return isRunning({ pid });
}

/** Kills every control plane a test started and removes the temp folders (making read-only ones writable first). */
export function cleanup(): void {
  for (const pid of pids) {
    try {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    } catch (err) {
      // It ended between the check and the kill (a plane finishing its own shutdown): nothing left to stop.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
  pids.clear();
  for (const dir of made.splice(0)) {
    makeWritable(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

function makeWritable(dir: string): void {
  try {
    if (!statSync(dir).isDirectory()) return;
    chmodSync(dir, 0o755);
    for (const name of readdirSync(dir)) makeWritable(join(dir, name));
  } catch {
    // gone already
  }
}
