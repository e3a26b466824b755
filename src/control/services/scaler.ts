// The autoscaler's hands: adds replicas of a service's running generation where they fit, or drains and removes some.
import type { ReplicaControlDeps } from './replica-control.js';
import type { Logger } from '../../core/logger.js';
import { formatResources } from '../../targets/local/index.js';
import { requestOf } from './placement.js';
import { ReplicaManager, type Generation } from './replicas.js';
import type { ReplicaRecord, ServiceRecord } from './service-store.js';
import type { CandidateGeneration } from './target.js';

export interface ScalerDeps extends ReplicaControlDeps {
  readonly generationDir: (service: string, generation: number) => string;
  readonly logger: Logger;
  /** A live rollout's candidate: scaled on its own, with its own spec. */
  readonly candidate?: (service: string) => CandidateGeneration | undefined;
}

export class ReplicaScaler {
  /** The last reason a replica could not be placed, per service: reported once, not at every tick. */
  private readonly unplaced = new Map<string, string>();

  constructor(private readonly d: ScalerDeps) {}

  /** The service's replicas that count toward its size: placed, of the running generation, not leaving. */
  current(svc: ServiceRecord): ReplicaRecord[] {
    return this.d.store.replicas(svc.name).filter((r) => r.generation === svc.generation && !this.d.replicas.draining.has(r.id));
  }

  count(service: string, generation?: number): number {
    const svc = this.unit(service, generation);
    return svc === undefined ? 0 : this.current(svc).length;
  }

  /** Adds or removes replicas until the service (or one generation of its rollout) has `to`, as far as the machine allows. Not an operation: no 409 for users. */
  async scaleTo(service: string, to: number, generation?: number): Promise<void> {
    const svc = this.unit(service, generation);
    if (svc === undefined || svc.state !== 'Settled') return;
    const current = this.current(svc);
    if (to > current.length) await this.add(svc, to - current.length);
    else if (to < current.length) await this.remove(svc, current, current.length - to, to);
  }

  private async add(svc: ServiceRecord, n: number): Promise<void> {
    const { store, ops, placements, supervisor, events, replicas } = this.d;
    const g: Generation = { service: svc.name, generation: svc.generation, spec: svc.spec, dir: this.d.generationDir(svc.name, svc.generation) };
    // The generation's models are laid out already (its replicas run), so this returns at once.
    const modelDir = await replicas.mountModels(g);
    // From here on nothing awaits: an operation that starts meanwhile either sees these replicas (and replaces them) or none.
    const now = this.unit(svc.name, svc.generation);
    if (now === undefined || now.state !== 'Settled' || ops.running(svc.name) !== undefined) return;
    const used = new Set(store.replicas(svc.name).filter((r) => r.generation === svc.generation).map((r) => r.index));
    const request = requestOf(svc.spec);
    let index = 0;
    for (let i = 0; i < n; i++) {
      while (used.has(index)) index++;
      const id = ReplicaManager.newId(svc.name, svc.generation, index);
      const reason = placements.tryPlace(id, request);
      if (reason !== undefined) {
        if (this.unplaced.get(`${svc.name}:${svc.generation}`) !== reason) {
          this.unplaced.set(`${svc.name}:${svc.generation}`, reason);
          events.add(svc.name, { type: 'FailedScheduling', message: `${reason}; the autoscaler cannot add a replica until resources free up` });
        }
        return;
      }
      this.unplaced.delete(`${svc.name}:${svc.generation}`);
      used.add(index);
      events.add(svc.name, { type: 'Scheduled', replica: id, message: `Assigned replica ${id} to this machine (${formatResources(request)}) to scale up` });
      store.addReplica({ id, service: svc.name, generation: svc.generation, index });
      supervisor.start(replicas.replicaSpec(g, id, index, modelDir));
    }
  }

  /** The service as one generation of it: the committed one (also without `generation`), or a live rollout's candidate; undefined for any other. */
  private unit(service: string, generation?: number): ServiceRecord | undefined {
    const svc = this.d.store.find(service);
    if (svc === undefined || generation === undefined || generation === svc.generation) return svc;
    const c = this.d.candidate?.(service);
    return c?.generation === generation ? { ...svc, generation: c.generation, spec: c.spec } : undefined;
  }

  /** Replicas that do not serve go first (starting, crash-looping), then the newest; each is drained before it stops. */
  private async remove(svc: ServiceRecord, current: readonly ReplicaRecord[], n: number, to: number): Promise<void> {
    const ready = (r: ReplicaRecord): number => (this.d.supervisor.get(r.id)?.state === 'Ready' ? 1 : 0);
    const victims = [...current].sort((a, b) => ready(a) - ready(b) || b.index - a.index).slice(0, n);
    this.unplaced.delete(`${svc.name}:${svc.generation}`);
    await this.d.replicas.stop(svc.name, victims.map((r) => r.id), `scaled down to ${to} replica(s)`);
  }
}
