// At control plane start: brings the stored desired state and what runs on this machine together (adopt, restart, finish, clean).
import type { ReplicaControlDeps } from './replica-control.js';
import { readFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../core/logger.js';
import { BerthError } from '../../errors/catalogue.js';
import type { ServiceManager } from './manager.js';
import { operationError } from './operations.js';
import { requestOf } from './placement.js';
import { ReplicaManager, type Generation } from './replicas.js';
import type { ReplicaRecord, ServiceRecord } from './service-store.js';
import { removeGeneration } from './snapshot.js';

export interface ReconcileDeps extends ReplicaControlDeps {
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

/**
 * Whether `pid` runs a `berth serve` of files under `dir` (a generation folder): the pid recorded for a replica may
 * have been reused by anything since, and only our own replica may be adopted or killed.
 */
export function runsFrom(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((arg) => arg.startsWith(dir + '/'));
  } catch {
    return false;
  }
}

/** Kills a leftover replica's process group (its workers with it). */
function killGroup(pid: number): void {
  for (const target of [-pid, pid]) {
    try { process.kill(target, 'SIGKILL'); } catch { /* gone already */ }
  }
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
  const pending: Array<Promise<void>> = [];
  const services: Array<[ServiceRecord, ReplicaRecord[]]> = [];
  for (const svc of d.store.list()) {
    const dirOf = (generation: number): string => d.manager.generationDir(svc.name, generation);
    const rows = d.store.replicas(svc.name);
    // Replicas of another generation belong to an update that never finished (or a delete): never adopted.
    // An autoscaled service keeps the replicas the autoscaler had added (the replica rows are its memory), up to its max.
    const most = svc.spec.autoscale_enabled ? svc.spec.autoscale_max_replicas : svc.spec.replicas;
    const keep = svc.state === 'Deleting' ? [] : rows.filter((r) => r.generation === svc.generation).slice(0, most);
    for (const r of rows.filter((x) => !keep.includes(x))) {
      if (r.pid !== undefined && runsFrom(r.pid, dirOf(r.generation))) {
        killGroup(r.pid);
        report.killed += 1;
      }
      d.store.removeReplica(r.id);
    }
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
    // Every replica that exists holds its resources before any missing one is placed.
    for (const r of keep) d.placements.hold(r.id, requestOf(svc.spec));
    services.push([svc, keep]);
  }
  // Containers are found by label, not by a stored pid: those of replicas no longer kept are removed.
  // (Only when a service runs containers: a control plane without Docker does not wait on it at every start.)
  if (d.store.list().some((s) => s.spec.runtime === 'docker')) {
    const kept = new Set(services.flatMap(([, keep]) => keep.map((r) => r.id)));
    report.killed += await d.supervisor.removeLeftovers(kept);
  }
  for (const [svc, keep] of services) pending.push(restore(d, svc, keep, report));
  await Promise.all(pending);
  d.logger.info({ ...report }, 'services reconciled');
  return report;
}

/** Adopts the replicas that still run, restarts the others, and starts any that are missing. */
async function restore(d: ReconcileDeps, svc: ServiceRecord, rows: readonly ReplicaRecord[], report: ReconcileReport): Promise<void> {
  const g: Generation = { service: svc.name, generation: svc.generation, spec: svc.spec, dir: d.manager.generationDir(svc.name, svc.generation) };
  let modelDir: string | undefined;
  try {
    modelDir = await d.replicas.mountModels(g);
  } catch (err) {
    d.manager.setState(svc.name, 'Failed', `its models could not be mounted again: ${(err as Error).message}`);
    return;
  }
  const docker = (svc.spec.runtime ?? 'process') === 'docker';
  if (docker) {
    try {
      // Reused at once when the image is there (its tag is a hash of the inputs); pulled or built otherwise.
      await d.replicas.prepare(g, new AbortController().signal);
    } catch (err) {
      d.manager.setState(svc.name, 'Failed', `its image could not be prepared again: ${(err as Error).message}`);
      return;
    }
  }
  const request = requestOf(svc.spec);
  const adoptions: Array<Promise<void>> = [];
  for (const r of rows) {
    const spec = d.replicas.replicaSpec(g, r.id, r.index, modelDir);
    if (docker) {
      adoptions.push(d.supervisor.locate(spec).catch(() => undefined).then(async (record) => {
        if (record !== undefined && (await d.supervisor.adopt(spec, record)).adopted) report.adopted += 1;
        else {
          if (record === undefined) d.supervisor.start(spec);
          report.started += 1;
        }
      }));
      continue;
    }
    const ours = r.pid !== undefined && runsFrom(r.pid, g.dir);
    if (ours && r.port !== undefined) {
      const record = { pid: r.pid!, port: r.port, ...(r.cgroupPath === undefined ? {} : { cgroupPath: r.cgroupPath }) };
      adoptions.push(d.supervisor.adopt(spec, record).then((result) => {
        if (result.adopted) report.adopted += 1;
        else report.started += 1;
      }));
      continue;
    }
    // Still starting when the control plane went away: where it listens is unknown, so it is replaced.
    if (ours) {
      killGroup(r.pid!);
      report.killed += 1;
    }
    d.supervisor.start(spec);
    report.started += 1;
  }
  // Replicas that never got placed (a failed or interrupted deployment) start only when they fit now: a Failed
  // service stays as it was, and a restart never overcommits the machine.
  const present = new Set(rows.map((r) => r.index));
  for (let index = 0; index < svc.spec.replicas && svc.state !== 'Failed'; index++) {
    if (present.has(index)) continue;
    const id = ReplicaManager.newId(svc.name, svc.generation, index);
    const reason = d.placements.tryPlace(id, request);
    if (reason !== undefined) {
      d.events.add(svc.name, { type: 'FailedScheduling', message: `${reason}; replica ${index} was not started (update the service to try again)` });
      continue;
    }
    d.store.addReplica({ id, service: svc.name, generation: svc.generation, index });
    d.supervisor.start(d.replicas.replicaSpec(g, id, index, modelDir));
    report.started += 1;
  }
  await Promise.all(adoptions);
}

async function removeOtherGenerations(manager: ServiceManager, svc: ServiceRecord): Promise<void> {
  const dir = join(manager.generationDir(svc.name, svc.generation), '..');
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (e.isDirectory() && e.name !== String(svc.generation)) await removeGeneration(join(dir, e.name));
  }
}
