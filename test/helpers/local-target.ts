// Builds a local-target Supervisor for integration tests: collects its events, waits on them, and cleans up processes and temp dirs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Supervisor, type SupervisorOptions } from '../../src/targets/local/supervisor.js';
import type { ReplicaEvent, ReplicaSpec } from '../../src/targets/types.js';
import { berthBin, fixture } from './serve-process.js';

export interface TestSupervisor {
  readonly sup: Supervisor;
  readonly events: ReplicaEvent[];
  readonly logDir: string;
  waitForEvent<T extends ReplicaEvent['type']>(type: T, match?: (e: Extract<ReplicaEvent, { type: T }>) => boolean, timeoutMs?: number): Promise<Extract<ReplicaEvent, { type: T }>>;
  /** Stops every replica, kills any process group a replica ever had, removes the log dir. */
  cleanup(): Promise<void>;
}

export function testSupervisor(options: Partial<SupervisorOptions> = {}): TestSupervisor {
  const logDir = mkdtempSync(join(tmpdir(), 'berth-local-'));
  const events: ReplicaEvent[] = [];
  const waiters = new Set<{ test: (e: ReplicaEvent) => boolean; resolve: (e: ReplicaEvent) => void }>();
  const sup = new Supervisor({
    berthBin,
    nodePath: process.execPath,
    logDir,
    baseEnv: process.env,
    backoff: { baseMs: 200, capMs: 800, resetAfterMs: 60_000 },
    stopGraceMs: 5000,
    ...options,
    onEvent: (e) => {
      events.push(e);
      options.onEvent?.(e);
      for (const w of waiters) if (w.test(e)) { waiters.delete(w); w.resolve(e); }
    },
  });
  const waitForEvent = <T extends ReplicaEvent['type']>(type: T, match: (e: Extract<ReplicaEvent, { type: T }>) => boolean = () => true, timeoutMs = 20_000): Promise<Extract<ReplicaEvent, { type: T }>> => {
    const test = (e: ReplicaEvent): boolean => e.type === type && match(e as Extract<ReplicaEvent, { type: T }>);
    const seen = events.find(test);
    if (seen !== undefined) return Promise.resolve(seen as Extract<ReplicaEvent, { type: T }>);
    return new Promise((resolve, reject) => {
      const w = { test, resolve: (e: ReplicaEvent) => { clearTimeout(timer); resolve(e as Extract<ReplicaEvent, { type: T }>); } };
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`no ${type} event within ${timeoutMs} ms; events:\n${events.map((e) => `${e.type}: ${e.message}`).join('\n')}`));
      }, timeoutMs);
      waiters.add(w);
    });
  };
  return {
    sup,
    events,
    logDir,
    waitForEvent,
    async cleanup() {
      await sup.stopAll();
      for (const e of events) {
        if (e.type !== 'Started' && e.type !== 'Adopted') continue;
        try { process.kill(-e.pid, 'SIGKILL'); } catch { /* gone, as it should be */ }
      }
      rmSync(logDir, { recursive: true, force: true });
    },
  };
}

let counter = 0;

/** A replica spec for a fixture script with short probes; override any field. */
export function fixtureSpec(script: string, overrides: Partial<ReplicaSpec> = {}): ReplicaSpec {
  counter += 1;
  return {
    serviceName: 'test-svc',
    replicaId: `test-svc-${process.pid}-${counter}`,
    index: counter,
    entryScript: fixture(script),
    sourceDir: fixture('.'),
    cpu: 0.1,
    liveness: { periodS: 0.5, timeoutS: 1, failureThreshold: 3, successThreshold: 1 },
    ...overrides,
  };
}

/** Polls `check` until it returns true (bounded), instead of sleeping a fixed time. */
export async function until(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
