// One-line, human messages for replica events and reports, worded like Kubernetes' where it has words for them.
import { BerthError } from '../../errors/catalogue.js';
import { formatInitError } from './init-error.js';
import type { InitError, OomReport, Termination } from '../types.js';

export const mb = (bytes: number): number => Math.round(bytes / (1024 * 1024));

export function oomMessage(oom: OomReport): string {
  const by = oom.detectedBy === 'kernel' ? 'the kernel (memory cgroup limit)' : 'berth (process-tree RSS over the limit)';
  return `Killed by SIGKILL for out-of-memory (OOMKilled) by ${by}: used ${mb(oom.usageBytes)} MB (peak), limit ${mb(oom.limitBytes)} MB; raise memory_gb (or memory_gb_limit) for the service`;
}

export function exitMessage(t: Termination): string {
  const how = t.signal !== null ? `killed by ${t.signal}` : t.exitCode === null ? 'exited (code unknown: adopted process)' : `exited with code ${t.exitCode}`;
  const init = t.initError === undefined ? '' : `; init() failed: ${formatInitError(t.initError)}`;
  return `berth serve ${how} (${t.reason}) after ${Math.round(t.ranMs)} ms${t.wasReady ? '' : ', before it was ready'}${init}`;
}

export function backOffMessage(delayMs: number, restart: number, lastInitError: InitError | undefined): string {
  const why = lastInitError === undefined ? '' : ` (last init() error: ${formatInitError(lastInitError)})`;
  return `Back-off restarting failed replica: retrying in ${delayMs / 1000} s (attempt ${restart + 1})${why}`;
}

/** Why a replica is left down: its restart policy, or a start-up failure that repeats on every start. */
export function notRestartingMessage(policy: 'auto' | 'always' | 'never', lastInitError: InitError | undefined): string {
  const why = policy === 'never' || lastInitError === undefined
    ? 'restart policy never'
    : `${formatInitError(lastInitError)} fails the same way on every start (a permanent failure)`;
  return `Not restarting: ${why}; fix it and update the service (restart_policy always retries anyway)`;
}

/** REPLICA_INIT_FAILED for the deploy operation: exception, file and line, and the command to read the logs. */
export function initFailedError(serviceName: string, replicaId: string, e: InitError, outcome = 'CrashLoopBackOff'): BerthError {
  return new BerthError('REPLICA_INIT_FAILED', {
    outcome,
    service: serviceName,
    replica: replicaId,
    exception: `${e.exception}${e.message === '' ? '' : `: ${e.message}`}`,
    file: e.file ?? '?',
    line: e.line ?? '?',
  });
}

/** REPLICA_OOM_KILLED: the limit, the usage seen and the advice to raise memory_gb. */
export function oomKilledError(serviceName: string, replicaId: string, oom: OomReport): BerthError {
  return new BerthError('REPLICA_OOM_KILLED', { service: serviceName, replica: replicaId, usageMb: mb(oom.usageBytes), limitMb: mb(oom.limitBytes) });
}
