// The local target after a control plane restart: which replicas to keep, adopting what still runs (processes by pid, containers by label), restarting or adding the rest.
import { runsFrom, type Supervisor } from '../../targets/local/index.js';
import type { EventLog } from './events.js';
import type { Placements } from './placement.js';
import { requestOf } from './placement.js';
import { ReplicaManager, type Generation } from './replicas.js';
import type { ReplicaRecord, ServiceRecord, ServiceStore } from './service-store.js';
import type { CandidateGeneration, RecoveryReport } from './target.js';

export interface LocalRestoreDeps {
  readonly store: ServiceStore;
  readonly events: EventLog;
  readonly supervisor: Supervisor;
  readonly placements: Placements;
  readonly replicas: ReplicaManager;
  readonly generationDir: (service: string, generation: number) => string;
  /** A service's state, when its replicas cannot be brought back (models or image gone). */
  readonly fail: (service: string, reason: string) => void;
}

/** Kills a leftover replica's process group (its workers with it). */
function killGroup(pid: number): void {
  for (const target of [-pid, pid]) {
    try { process.kill(target, 'SIGKILL'); } catch { /* gone already */ }
  }
}

/**
 * The replicas of `svc` to keep (of its committed generation, and of a live rollout's candidate, each up to its size);
 * the others' processes are ended and their rows removed.
 */
export function keptReplicas(d: LocalRestoreDeps, svc: ServiceRecord, candidate?: CandidateGeneration): { keep: ReplicaRecord[]; killed: number } {
  const rows = d.store.replicas(svc.name);
  // Replicas of another generation belong to an update that never finished (or a delete): never adopted.
  // An autoscaled service keeps the replicas the autoscaler had added (the replica rows are its memory), up to its max.
  const most = (spec: ServiceRecord['spec']): number => (spec.autoscale_enabled ? spec.autoscale_max_replicas : spec.replicas);
  const generations = [{ generation: svc.generation, spec: svc.spec }, ...(candidate === undefined ? [] : [candidate])];
  const keep = svc.state === 'Deleting' ? [] : generations.flatMap((g) => rows.filter((r) => r.generation === g.generation).slice(0, most(g.spec)));
  const specOf = new Map(generations.map((g) => [g.generation, g.spec]));
  let killed = 0;
  for (const r of rows.filter((x) => !keep.includes(x))) {
    if (r.pid !== undefined && runsFrom(r.pid, d.generationDir(svc.name, r.generation))) {
      killGroup(r.pid);
      killed += 1;
    }
    d.store.removeReplica(r.id);
  }
  // Every replica that exists holds its resources before any missing one is placed.
  for (const r of keep) d.placements.hold(r.id, requestOf(specOf.get(r.generation) ?? svc.spec));
  return { keep, killed };
}

/** Adopts, restarts and adds the replicas of the services that stay (and of live rollouts' candidates); containers of replicas no longer kept are removed. */
export async function resumeLocal(d: LocalRestoreDeps, services: readonly ServiceRecord[], candidates: ReadonlyMap<string, CandidateGeneration> = new Map()): Promise<RecoveryReport> {
  const report: RecoveryReport = { adopted: 0, started: 0, killed: 0 };
  // A candidate is restored as its own generation of the service: its spec, its folder, its replicas.
  const units = services.flatMap((svc) => {
    const c = candidates.get(svc.name);
    return c === undefined ? [svc] : [svc, { ...svc, generation: c.generation, spec: c.spec }];
  });
  const rows = new Map(units.map((u) => [`${u.name}:${u.generation}`, d.store.replicas(u.name).filter((r) => r.generation === u.generation)]));
  // Containers are found by label, not by a stored pid: those of replicas no longer kept are removed.
  // (Only when a service runs containers: a control plane without Docker does not wait on it at every start.)
  if (units.some((s) => s.spec.runtime === 'docker') || d.store.list().some((s) => s.spec.runtime === 'docker')) {
    const kept = new Set([...rows.values()].flatMap((r) => r.map((x) => x.id)));
    report.killed += await d.supervisor.removeLeftovers(kept);
  }
  await Promise.all(units.map((u) => restore(d, u, rows.get(`${u.name}:${u.generation}`) ?? [], report)));
  return report;
}

/** Adopts the replicas that still run, restarts the others, and starts any that are missing. */
async function restore(d: LocalRestoreDeps, svc: ServiceRecord, rows: readonly ReplicaRecord[], report: RecoveryReport): Promise<void> {
  const g: Generation = { service: svc.name, generation: svc.generation, spec: svc.spec, dir: d.generationDir(svc.name, svc.generation) };
  let modelDir: string | undefined;
  try {
    modelDir = await d.replicas.mountModels(g);
  } catch (err) {
    d.fail(svc.name, `its models could not be mounted again: ${(err as Error).message}`);
    return;
  }
  const docker = (svc.spec.runtime ?? 'process') === 'docker';
  if (docker) {
    try {
      // Reused at once when the image is there (its tag is a hash of the inputs); pulled or built otherwise.
      await d.replicas.prepare(g, new AbortController().signal);
    } catch (err) {
      d.fail(svc.name, `its image could not be prepared again: ${(err as Error).message}`);
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

