// The local target: replicas on this machine, placed against its capacity and run by berth's own supervisor as processes or containers.
import { exceedsCapacityError, type Supervisor } from '../../targets/local/index.js';
import type { BerthError } from '../../errors/catalogue.js';
import type { ReplicaStatus } from '../../targets/types.js';
import { keptReplicas, resumeLocal, type LocalRestoreDeps } from './local-restore.js';
import { requestOf, type Placements } from './placement.js';
import type { Generation, LaunchOptions, ReplicaManager } from './replicas.js';
import type { ReplicaScaler } from './scaler.js';
import type { ServiceRecord } from './service-store.js';
import type { ServiceSpec } from './spec.js';
import type { CandidateGeneration, RecoveryReport, ReplicaTarget } from './target.js';

export interface LocalTargetDeps extends LocalRestoreDeps {
  readonly supervisor: Supervisor;
  readonly placements: Placements;
  readonly replicas: ReplicaManager;
  readonly scaler: ReplicaScaler;
}

export class LocalTarget implements ReplicaTarget {
  readonly kind = 'local' as const;

  constructor(private readonly d: LocalTargetDeps) {}

  get draining(): ReadonlySet<string> {
    return this.d.replicas.draining;
  }

  list(service?: string): ReplicaStatus[] {
    return this.d.supervisor.list(service);
  }

  get(replicaId: string): ReplicaStatus | undefined {
    return this.d.supervisor.get(replicaId);
  }

  neverFits(spec: ServiceSpec): BerthError | undefined {
    return exceedsCapacityError(this.d.placements.capacity, requestOf(spec));
  }

  launch(g: Generation, o: LaunchOptions): Promise<string[]> {
    return this.d.replicas.launch(g, o);
  }

  stop(service: string, ids: readonly string[], why: string): Promise<void> {
    return this.d.replicas.stop(service, ids, why);
  }

  count(service: string, generation?: number): number {
    return this.d.scaler.count(service, generation);
  }

  scaleTo(service: string, to: number, generation?: number): Promise<void> {
    return this.d.scaler.scaleTo(service, to, generation);
  }

  recover(svc: ServiceRecord, candidate?: CandidateGeneration): Promise<number> {
    return Promise.resolve(keptReplicas(this.d, svc, candidate).killed);
  }

  resume(services: readonly ServiceRecord[], candidates?: ReadonlyMap<string, CandidateGeneration>): Promise<RecoveryReport> {
    return resumeLocal(this.d, services, candidates);
  }

  forget(service: string, generation?: number): Promise<void> {
    if (generation === undefined) this.d.replicas.forgetImages(service);
    else this.d.replicas.forgetImage(service, generation);
    return Promise.resolve();
  }

  imagesInUse(): ReadonlySet<string> {
    return new Set(this.d.replicas.imagesInUse().map((i) => i.ref));
  }

  close(): Promise<void> {
    return this.d.supervisor.stopAll();
  }
}
