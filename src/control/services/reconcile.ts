// At control plane start: brings the stored desired state and what runs on the target together (adopt, restart, finish, clean).
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../core/logger.js';
import { BerthError } from '../../errors/catalogue.js';
import type { EventLog } from './events.js';
import type { ServiceManager } from './manager.js';
import { operationError, type OperationStore } from './operations.js';
import type { ServiceRecord, ServiceStore } from './service-store.js';
import { removeGeneration } from './snapshot.js';
import type { CandidateGeneration, ReplicaTarget } from './target.js';
import type { RolloutStore } from './rollout-store.js';

export interface ReconcileDeps {
  readonly store: ServiceStore;
  readonly ops: OperationStore;
  readonly events: EventLog;
  readonly target: ReplicaTarget;
  readonly manager: ServiceManager;
  readonly logger: Logger;
  readonly rollouts?: RolloutStore;
}

export interface ReconcileReport {
  adopted: number;
  started: number;
  killed: number;
  interrupted: number;
  deleted: number;
}

export async function reconcile(d: ReconcileDeps): Promise<ReconcileReport> {
  const report: ReconcileReport = { adopted: 0, started: 0, killed: 0, interrupted: 0, deleted: 0 };
  for (const op of d.ops.allRunning()) {
    const error = operationError(new BerthError('OPERATION_INTERRUPTED', { operation: op.id, service: op.service, detail: 'the control plane stopped while it ran' }));
    d.ops.finish(op.id, error);
    if (d.store.find(op.service) !== undefined) d.events.add(op.service, { type: 'OperationFailed', message: `${op.kind} operation ${op.id} failed: ${error.message}`, data: { operation: op.id, code: error.code } });
    report.interrupted += 1;
  }
  // Source copies of changes that never got to their operation.
  await rm(d.manager.stagingRoot(), { recursive: true, force: true });
  const services: ServiceRecord[] = [];
  const candidates = new Map<string, CandidateGeneration>();
  for (const svc of d.store.list()) {
    const candidate = settleRollout(d, svc);
    if (candidate !== undefined) candidates.set(svc.name, candidate);
    report.killed += await d.target.recover(svc, candidate);
    if (svc.state === 'Deleting') {
      await d.manager.remove(svc.name);
      report.deleted += 1;
      continue;
    }
    await removeOtherGenerations(d.manager, svc, candidate?.generation);
    // An interrupted update held both versions' models; only the committed version's (and a live candidate's) are in use now.
    d.store.setModels(svc.name, [...svc.spec.models, ...(candidate?.spec.models ?? [])]);
    // An interrupted deployment's spec is committed; it is rolled out again below, so the state follows the replicas.
    if (svc.state === 'Transitioning' || svc.state === 'Unschedulable') d.manager.setState(svc.name, 'Settled');
    services.push(svc);
  }
  const resumed = await d.target.resume(services, candidates);
  report.adopted += resumed.adopted;
  report.started += resumed.started;
  report.killed += resumed.killed;
  d.logger.info({ ...report }, 'services reconciled');
  return report;
}

async function removeOtherGenerations(manager: ServiceManager, svc: ServiceRecord, candidate: number | undefined): Promise<void> {
  const dir = join(manager.generationDir(svc.name, svc.generation), '..');
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (e.isDirectory() && e.name !== String(svc.generation) && e.name !== String(candidate)) await removeGeneration(join(dir, e.name));
  }
}

/**
 * A rollout a restart found: a live one is kept (its candidate is returned, to be adopted beside the committed
 * generation); one that was starting is undone (its update was interrupted); a promote or rollback under way is
 * finished (the commit, or not, is already in the service's row; the generation that goes is simply not kept).
 */
function settleRollout(d: ReconcileDeps, svc: ServiceRecord): CandidateGeneration | undefined {
  const r = d.rollouts?.find(svc.name);
  if (r === undefined) return undefined;
  if (r.state === 'Live' && svc.state !== 'Deleting' && r.generation !== svc.generation) return { generation: r.generation, spec: r.spec };
  d.rollouts!.remove(svc.name);
  if (svc.state === 'Deleting') return undefined;
  const what = r.state === 'Starting' ? `undone: generation ${r.generation} had not started when the control plane stopped`
    : r.state === 'Promoting' ? `finished: generation ${svc.generation} was promoted; generation ${r.baseGeneration} is stopped`
      : `finished: generation ${r.generation} was being rolled back; generation ${svc.generation} takes every request`;
  d.events.add(svc.name, { type: r.state === 'Promoting' ? 'RolloutPromoted' : 'RolloutRolledBack', message: `the rollout was ${what}`, data: { generation: r.generation, state: r.state } });
  return undefined;
}
