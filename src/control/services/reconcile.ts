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
import type { ReplicaTarget } from './target.js';

export interface ReconcileDeps {
  readonly store: ServiceStore;
  readonly ops: OperationStore;
  readonly events: EventLog;
  readonly target: ReplicaTarget;
  readonly manager: ServiceManager;
  readonly logger: Logger;
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
  for (const svc of d.store.list()) {
    report.killed += await d.target.recover(svc);
    if (svc.state === 'Deleting') {
      await d.manager.remove(svc.name);
      report.deleted += 1;
      continue;
    }
    await removeOtherGenerations(d.manager, svc);
    // An interrupted update held both versions' models; only the committed version's are in use now.
    d.store.setModels(svc.name, svc.spec.models);
    // An interrupted deployment's spec is committed; it is rolled out again below, so the state follows the replicas.
    if (svc.state === 'Transitioning' || svc.state === 'Unschedulable') d.manager.setState(svc.name, 'Settled');
    services.push(svc);
  }
  const resumed = await d.target.resume(services);
  report.adopted += resumed.adopted;
  report.started += resumed.started;
  report.killed += resumed.killed;
  d.logger.info({ ...report }, 'services reconciled');
  return report;
}

async function removeOtherGenerations(manager: ServiceManager, svc: ServiceRecord): Promise<void> {
  const dir = join(manager.generationDir(svc.name, svc.generation), '..');
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (e.isDirectory() && e.name !== String(svc.generation)) await removeGeneration(join(dir, e.name));
  }
}
