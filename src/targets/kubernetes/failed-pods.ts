// Restart policies on a cluster: the kubelet restarts every container of a Deployment's pods, so a pod berth gives up on
// (a start-up failure that repeats on every start, or restart_policy never) is taken out of its Deployment and kept as
// a Failed replica, with its last termination and init() error, until its generation goes.
import { failureClass } from '../local/init-error.js';
import { notRestartingMessage } from '../local/messages.js';
import type { FailureClass, ReplicaEvent, ReplicaStatus, RestartPolicy } from '../types.js';
import type { KubeApi } from './kube-api.js';
import { deploymentName } from './manifests.js';
import type { PodFacts } from './pod-status.js';
import type { PodTracker } from './pod-tracker.js';

/** Whether berth stops restarting a pod: the same rule local replicas follow. */
export function giveUpClass(f: PodFacts, policy: RestartPolicy): FailureClass | undefined {
  const t = f.lastTermination;
  if (t === undefined || f.ready || f.state === 'Stopped' || policy === 'always') return undefined;
  const klass: FailureClass = t.initError !== undefined && !t.wasReady ? failureClass(t.initError) : 'transient';
  if (policy === 'never') return klass;
  return klass === 'permanent' ? klass : undefined;
}

export interface FailedPodsDeps {
  readonly api: KubeApi;
  readonly tracker: PodTracker;
  readonly now: () => number;
  readonly onEvent: (e: ReplicaEvent) => void;
  /** The restart policy of a service's generation (one being rolled out may differ from the running one). */
  readonly policyOf: (service: string, generation: number) => RestartPolicy | undefined;
  readonly onError: (err: unknown) => void;
}

interface FailedPod {
  readonly status: ReplicaStatus;
  readonly service: string;
  readonly generation: number;
}

export class FailedPods {
  private readonly failed = new Map<string, FailedPod>();
  /** Scale-downs run one at a time: each reads the count the previous one wrote. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly d: FailedPodsDeps) {
    d.tracker.subscribe(() => this.check());
  }

  has(pod: string): boolean {
    return this.failed.has(pod);
  }

  list(service?: string): ReplicaStatus[] {
    return [...this.failed.values()].filter((p) => service === undefined || p.service === service).map((p) => p.status);
  }

  get(pod: string): ReplicaStatus | undefined {
    return this.failed.get(pod)?.status;
  }

  generationOf(pod: string): number | undefined {
    return this.failed.get(pod)?.generation;
  }

  /** A generation (or a whole service) went: its failed records go with it. */
  forget(service: string, generation?: number): void {
    for (const [name, p] of this.failed) if (p.service === service && (generation === undefined || p.generation === generation)) this.failed.delete(name);
  }

  /** Settles once the scale-downs asked for so far are done (tests, and a stop that must not race them). */
  idle(): Promise<void> {
    return this.chain;
  }

  private check(): void {
    for (const f of this.d.tracker.facts()) {
      if (this.failed.has(f.name)) continue;
      const policy = this.d.policyOf(f.service, f.generation) ?? 'auto';
      const klass = giveUpClass(f, policy);
      if (klass !== undefined) this.giveUp(f, klass, policy);
    }
  }

  private giveUp(f: PodFacts, klass: FailureClass, policy: RestartPolicy): void {
    const seen = this.d.tracker.get(f.name);
    if (seen === undefined) return;
    const status: ReplicaStatus = { ...seen, state: 'Failed' };
    this.failed.set(f.name, { status, service: f.service, generation: f.generation });
    const initError = f.lastTermination?.initError;
    const base = { time: new Date(this.d.now()).toISOString(), serviceName: f.service, replicaId: f.name };
    this.d.onEvent({ ...base, type: 'StateChanged', from: f.state, to: 'Failed', message: `${f.state} → Failed` });
    this.d.onEvent({ ...base, type: 'NotRestarting', failureClass: klass, policy, ...(initError === undefined ? {} : { lastInitError: initError }), message: notRestartingMessage(policy, initError) });
    // The pod leaves its Deployment: first in line for removal, and one fewer wanted.
    const deployment = deploymentName(f.service, f.generation);
    this.chain = this.chain.then(async () => {
      await this.d.api.setDeletionCost(f.name, -2000);
      const wanted = await this.d.api.readScale(deployment);
      if (wanted > 0) await this.d.api.scale(deployment, wanted - 1);
    }).catch((err: unknown) => this.d.onError(err));
  }
}
