// Follows berth's pods in the cluster (a list-watch) and turns what changes into berth's replica statuses and events, the same ones local replicas produce.
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { formatInitError } from '../local/init-error.js';
import { exitMessage, oomMessage } from '../local/messages.js';
import { replicaLogPaths } from '../local/replica-logs.js';
import type { ReplicaEvent, ReplicaStatus } from '../types.js';
import type { KubeApi } from './kube-api.js';
import { ListWatch } from './list-watch.js';
import { LogMirror } from './log-mirror.js';
import { deploymentName, KUBE_LABELS } from './manifests.js';
import { parseQuantity, podFacts, podStatus, type PodFacts } from './pod-status.js';

type Without<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type EventBody = Without<ReplicaEvent, 'time' | 'serviceName' | 'replicaId'>;

/** A cluster event about one of berth's pods, in the cluster's words. */
export interface ClusterEvent {
  readonly service: string;
  readonly pod: string;
  readonly reason: string;
  readonly type: string;
  readonly message: string;
}

export interface PodTrackerDeps {
  readonly api: KubeApi;
  readonly homeLabel: string;
  readonly logDir: string;
  readonly now: () => number;
  readonly onReplicaEvent: (e: ReplicaEvent) => void;
  readonly onClusterEvent: (e: ClusterEvent) => void;
  /** A pod appeared or went: the store's replica rows follow the cluster. */
  readonly onPod: (change: { readonly kind: 'added' | 'removed'; readonly service: string; readonly generation: number; readonly pod: string; readonly index: number }) => void;
}

interface Tracked {
  facts: PodFacts;
  index: number;
  everReady: boolean;
  readyAt?: string;
  limitBytes?: number;
}

export class PodTracker {
  private readonly pods = new Map<string, Tracked>();
  private readonly podWatch: ListWatch<V1Pod>;
  private readonly eventWatch: ListWatch<CoreV1Event>;
  private readonly logs: LogMirror;
  private readonly listeners = new Set<() => void>();
  /** Events listed at start are history (recorded by an earlier control plane): only those that arrive later are news. */
  private eventsLive = false;

  constructor(private readonly d: PodTrackerDeps) {
    this.podWatch = new ListWatch<V1Pod>(d.api, 'pods', `${KUBE_LABELS.managed}=berth,${KUBE_LABELS.home}=${d.homeLabel}`, { onChange: (b, a) => this.onPod(b, a) });
    this.eventWatch = new ListWatch<CoreV1Event>(d.api, 'events', undefined, { onChange: (b, a) => this.onEvent(b, a) });
    this.logs = new LogMirror(d.api);
  }

  async start(): Promise<void> {
    await this.podWatch.start();
    await this.eventWatch.start();
    this.eventsLive = true;
  }

  stop(): void {
    this.podWatch.stop();
    this.eventWatch.stop();
    this.logs.close();
  }

  /** Called after every change of any pod (launch waits on it). */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  facts(service?: string, generation?: number): PodFacts[] {
    return [...this.pods.values()].map((t) => t.facts).filter((f) => (service === undefined || f.service === service) && (generation === undefined || f.generation === generation));
  }

  list(service?: string): ReplicaStatus[] {
    return [...this.pods.values()].filter((t) => service === undefined || t.facts.service === service).map((t) => this.status(t));
  }

  get(name: string): ReplicaStatus | undefined {
    const t = this.pods.get(name);
    return t === undefined ? undefined : this.status(t);
  }

  private status(t: Tracked): ReplicaStatus {
    const f = t.facts;
    return podStatus(f, t.index, deploymentName(f.service, f.generation), replicaLogPaths(this.d.logDir, f.service, f.name), t.limitBytes, t.readyAt);
  }

  private onPod(before: V1Pod | undefined, after: V1Pod | undefined): void {
    const name = (after ?? before)?.metadata?.name ?? '';
    const t = this.pods.get(name);
    if (after === undefined) {
      if (t !== undefined) this.remove(t);
    } else {
      const facts = podFacts(after, t?.everReady ?? false);
      if (facts !== undefined) this.update(t, facts, after);
    }
    for (const l of this.listeners) l();
  }

  private update(t: Tracked | undefined, f: PodFacts, pod: V1Pod): void {
    const logs = replicaLogPaths(this.d.logDir, f.service, f.name);
    if (t === undefined) {
      const limit = pod.spec?.containers[0]?.resources?.limits?.memory;
      const tracked: Tracked = { facts: f, index: this.freeIndex(f.service, f.generation), everReady: f.ready, ...(limit === undefined ? {} : { limitBytes: parseQuantity(String(limit)) ?? 0 }) };
      if (f.ready) tracked.readyAt = new Date(this.d.now()).toISOString();
      this.pods.set(f.name, tracked);
      this.d.onPod({ kind: 'added', service: f.service, generation: f.generation, pod: f.name, index: tracked.index });
      if (f.ready) this.emit(f, { type: 'Adopted', pid: 0, port: 5001, message: `Adopted running pod ${f.name}` });
      this.logs.observe(f.name, logs, f.startedAt, f.ready);
      return;
    }
    const was = t.facts;
    t.facts = f;
    if (f.startedAt !== undefined && f.startedAt !== was.startedAt) {
      this.emit(f, { type: 'Started', pid: 0, attempt: f.restarts + 1, message: `Started container serve in pod ${f.name}, attempt ${f.restarts + 1}` });
    }
    if (f.restarts > was.restarts || (f.lastTermination !== undefined && f.lastTermination.at !== was.lastTermination?.at)) this.exited(t, f, logs);
    if (f.ready && !was.ready) {
      t.everReady = true;
      t.readyAt = new Date(this.d.now()).toISOString();
      const startedMs = f.startedAt === undefined ? 0 : this.d.now() - new Date(f.startedAt).getTime();
      this.emit(f, { type: 'Ready', url: `http://${f.podIp ?? ''}:5001`, port: 5001, startupMs: Math.max(0, startedMs), message: `Ready at http://${f.podIp ?? ''}:5001` });
    }
    if (f.state === 'CrashLoopBackOff' && was.state !== 'CrashLoopBackOff') {
      const delay = /back-off (\d+)(m?s)/.exec(f.waiting?.message ?? '');
      const delayMs = delay === null ? 0 : Number(delay[1]) * (delay[2] === 's' ? 1000 : 1);
      this.emit(f, { type: 'BackOff', delayMs, restart: f.restarts, ...(f.initError ? { lastInitError: f.initError } : {}), message: f.waiting?.message ?? 'Back-off restarting failed container' });
    }
    if (f.state !== was.state) this.emit(f, { type: 'StateChanged', from: was.state, to: f.state, message: `${was.state} → ${f.state}` });
    this.logs.observe(f.name, logs, f.startedAt, f.ready);
  }

  private exited(t: Tracked, f: PodFacts, logs: ReturnType<typeof replicaLogPaths>): void {
    const term = f.lastTermination;
    if (term === undefined) return;
    if (!term.wasReady) this.logs.endedBeforeReady(f.name, logs);
    if (term.oom !== undefined) this.emit(f, { type: 'OOMKilled', oom: term.oom, message: oomMessage(term.oom) });
    this.emit(f, { type: 'Exited', termination: term, message: exitMessage(term) });
    if (term.initError !== undefined) this.emit(f, { type: 'InitFailed', error: term.initError, attempt: f.restarts, message: `init() failed: ${formatInitError(term.initError)}` });
    // The next run starts unready: its start-up output is the init log again.
    t.everReady = false;
  }

  private remove(t: Tracked): void {
    this.pods.delete(t.facts.name);
    this.logs.forget(t.facts.name);
    this.emit(t.facts, { type: 'StateChanged', from: t.facts.state, to: 'Stopped', message: `${t.facts.state} → Stopped` });
    this.emit(t.facts, { type: 'Stopped', message: `Pod ${t.facts.name} is gone` });
    this.d.onPod({ kind: 'removed', service: t.facts.service, generation: t.facts.generation, pod: t.facts.name, index: t.index });
  }

  private freeIndex(service: string, generation: number): number {
    const used = new Set([...this.pods.values()].filter((t) => t.facts.service === service && t.facts.generation === generation).map((t) => t.index));
    let i = 0;
    while (used.has(i)) i++;
    return i;
  }

  private onEvent(before: CoreV1Event | undefined, after: CoreV1Event | undefined): void {
    if (!this.eventsLive || after === undefined || after.involvedObject.kind !== 'Pod') return;
    // A repeated event comes back with a higher count: each repetition is news, an unchanged one is not.
    if (before !== undefined && before.count === after.count && before.message === after.message) return;
    const t = this.pods.get(after.involvedObject.name ?? '');
    if (t === undefined) return;
    this.d.onClusterEvent({ service: t.facts.service, pod: t.facts.name, reason: after.reason ?? '', type: after.type ?? 'Normal', message: after.message ?? '' });
  }

  private emit(f: PodFacts, body: EventBody): void {
    this.d.onReplicaEvent({ ...body, time: new Date(this.d.now()).toISOString(), serviceName: f.service, replicaId: f.name } as ReplicaEvent);
  }
}
