// The one interface the control plane runs replicas through, wherever they run: this machine (processes or containers) or a Kubernetes cluster.
import type { BerthError } from '../../errors/catalogue.js';
import type { ReplicaStatus } from '../../targets/types.js';
import type { Generation, LaunchOptions } from './replicas.js';
import type { ServiceRecord } from './service-store.js';
import type { ServiceSpec } from './spec.js';

/** What every part that shows or routes replicas reads: the same statuses on every target. */
export interface ReplicaObserver {
  /** Every replica (of one service), running, starting, crash-looping or just stopped. */
  list(service?: string): ReplicaStatus[];
  get(replicaId: string): ReplicaStatus | undefined;
}

/** A rollout's candidate, beside the service's committed generation: kept and adopted after a restart too. */
export interface CandidateGeneration {
  readonly generation: number;
  readonly spec: ServiceSpec;
}

export interface RecoveryReport {
  adopted: number;
  started: number;
  killed: number;
}

export interface ReplicaTarget extends ReplicaObserver {
  readonly kind: 'local' | 'kubernetes';
  /** Replicas on their way out: the gateway stops routing to them before they stop. */
  readonly draining: ReadonlySet<string>;
  /** Refuses at deploy time a request no state of the target could ever hold (the local machine's size). */
  neverFits(spec: ServiceSpec): BerthError | undefined;
  /** Places, starts and waits for a generation's replicas (preparing its environment or image first); their ids once all are ready. */
  launch(g: Generation, o: LaunchOptions): Promise<string[]>;
  /** Takes replicas out of routing, lets their requests finish, stops and forgets them. */
  stop(service: string, ids: readonly string[], why: string): Promise<void>;
  /**
   * The autoscaler's view and hands: replicas of the running generation (or, during a rollout, of `generation`: the
   * committed one or the candidate) that count, and adding or removing toward `to`.
   */
  count(service: string, generation?: number): number;
  scaleTo(service: string, to: number, generation?: number): Promise<void>;
  /** After a restart, per stored service: ends and forgets replicas not to be kept (a live rollout's candidate is); the kept ones hold their resources. */
  recover(svc: ServiceRecord, candidate?: CandidateGeneration): Promise<number>;
  /** Then, for the services that stay: adopts what still runs, restarts or adds what is missing (of candidates too). */
  resume(services: readonly ServiceRecord[], candidates?: ReadonlyMap<string, CandidateGeneration>): Promise<RecoveryReport>;
  /** A generation's (or a whole service's) leftovers, once none of its replicas runs: its image, its objects. */
  forget(service: string, generation?: number): Promise<void>;
  /** The image refs generations run now (image prune keeps them). */
  imagesInUse(): ReadonlySet<string>;
  /** The objects the target applies for a service's running generation, for GitOps; undefined where it applies none (this machine). */
  manifests?(svc: ServiceRecord): unknown[] | undefined;
  /** The control plane stops: the local target stops its replicas; a cluster keeps running them. */
  close(): Promise<void>;
}
