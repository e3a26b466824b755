// The Kubernetes target: a generation is a Deployment of pods running its image (server-side applied), scaled through its scale subresource, watched rather than polled.
import { BerthError } from '../../errors/catalogue.js';
import { GIB, initFailedError, oomKilledError, schedulingTimeoutError } from '../../targets/local/index.js';
import type { ContainerImage, ReplicaStatus, RestartPolicy } from '../../targets/types.js';
import type { KubeApi } from '../../targets/kubernetes/kube-api.js';
import { deploymentName, generationDeployment, KUBE_LABELS, serviceObject } from '../../targets/kubernetes/manifests.js';
import type { PodFacts } from '../../targets/kubernetes/pod-status.js';
import type { PodTracker } from '../../targets/kubernetes/pod-tracker.js';
import { FailedPods, giveUpClass } from '../../targets/kubernetes/failed-pods.js';
import type { EventLog } from './events.js';
import type { Generation, LaunchOptions } from './replicas.js';
import type { ServiceRecord, ServiceStore } from './service-store.js';
import type { CandidateGeneration, RecoveryReport, ReplicaTarget } from './target.js';

export interface KubeTargetDeps {
  readonly api: KubeApi;
  readonly tracker: PodTracker;
  readonly store: ServiceStore;
  readonly events: EventLog;
  readonly homeLabel: string;
  /** The control plane's URL as pods see it: their init containers download models from it. */
  readonly planeUrl: string;
  readonly adminTokenSecret?: string;
  readonly imagePullSecret?: string;
  readonly replicaKey: (scope: string) => string;
  readonly scheduleTimeoutMs: number;
  readonly maxRequestSizeMb: number;
  readonly now: () => number;
  /** The generation's image, pushed to the registry the cluster pulls from. */
  readonly ensureImage: (g: Generation, signal: AbortSignal, progress: (text: string) => void) => Promise<ContainerImage>;
  /** The gateway's drain: out of routing, requests on them finished. */
  readonly drain: (service: string, ids: readonly string[]) => Promise<void>;
  readonly warn: (err: unknown, what: string) => void;
}

/** How long a removed generation's pods may take to go before the stop is reported done anyway. */
const GONE_TIMEOUT_MS = 60_000;

export class KubernetesTarget implements ReplicaTarget {
  readonly kind = 'kubernetes' as const;
  readonly draining = new Set<string>();
  private readonly images = new Map<string, ContainerImage>();
  /** Restart policies of generations being rolled out (not yet the service's committed spec). */
  private readonly policies = new Map<string, RestartPolicy>();
  readonly failed: FailedPods;

  constructor(private readonly d: KubeTargetDeps) {
    this.failed = new FailedPods({
      api: d.api, tracker: d.tracker, now: d.now,
      onEvent: (e) => d.events.addReplicaEvent(e),
      policyOf: (service, generation) => this.policyOf(service, generation),
      onError: (err) => d.warn(err, 'could not take a failed pod out of its deployment'),
    });
  }

  list(service?: string): ReplicaStatus[] {
    return [...this.d.tracker.list(service).filter((s) => !this.failed.has(s.replicaId)), ...this.failed.list(service)];
  }

  get(replicaId: string): ReplicaStatus | undefined {
    return this.failed.get(replicaId) ?? this.d.tracker.get(replicaId);
  }

  neverFits(): BerthError | undefined {
    return undefined; // the cluster's scheduler decides, and says why (FailedScheduling)
  }

  async launch(g: Generation, o: LaunchOptions): Promise<string[]> {
    const n = o.count ?? g.spec.replicas;
    this.policies.set(`${g.service}:${g.generation}`, g.spec.restart_policy ?? 'auto');
    const image = await this.image(g, o.signal, o.progress);
    o.progress(`applying deployment ${deploymentName(g.service, g.generation)} (${n} replica(s)) to namespace ${this.d.api.namespace}`);
    await this.d.api.applyService(serviceObject({ service: g.service, namespace: this.d.api.namespace, homeLabel: this.d.homeLabel }));
    await this.d.api.applyDeployment(this.deployment(g, image, n));
    try {
      return await this.waitReady(g, n, o);
    } catch (err) {
      const crash = err instanceof BerthError && (err.code === 'REPLICA_INIT_FAILED' || err.code === 'REPLICA_OOM_KILLED');
      if (!(crash && o.keepCrashLooping)) await this.removeGeneration(g.service, g.generation);
      throw err;
    }
  }

  async stop(service: string, ids: readonly string[], why: string): Promise<void> {
    for (const id of ids) {
      this.draining.add(id);
      if (this.d.tracker.get(id) !== undefined) this.d.events.add(service, { type: 'Killing', replica: id, message: `Stopping pod ${id}: ${why}` });
    }
    await this.d.drain(service, ids);
    const generations = new Set(ids.map((id) => this.d.tracker.facts(service).find((f) => f.name === id)?.generation).filter((g): g is number => g !== undefined));
    for (const row of this.d.store.replicas(service)) if (ids.includes(row.id)) generations.add(row.generation);
    await this.failed.idle();
    for (const gen of generations) await this.removeGeneration(service, gen);
    for (const id of ids) {
      this.draining.delete(id);
      // A failed pod is gone already; only its record and row were left.
      if (this.failed.has(id)) this.d.store.removeReplica(id);
    }
    for (const gen of generations) this.failed.forget(service, gen);
  }

  count(service: string, generation?: number): number {
    const svc = this.d.store.find(service);
    if (svc === undefined) return 0;
    return this.d.tracker.facts(service, generation ?? svc.generation).filter((f) => f.state !== 'Stopped' && !this.draining.has(f.name) && !this.failed.has(f.name)).length;
  }

  /** Through the Deployment's scale subresource; going down, the pods that serve least go first, drained before they go. */
  async scaleTo(service: string, to: number, generation?: number): Promise<void> {
    const svc = this.d.store.find(service);
    if (svc === undefined || svc.state !== 'Settled') return;
    // During a rollout each generation is its own Deployment, scaled on its own.
    const gen = generation ?? svc.generation;
    const name = deploymentName(service, gen);
    const pods = this.d.tracker.facts(service, gen);
    // Pods drained earlier and gone since need no place in the set any more.
    for (const name of [...this.draining]) if (this.d.tracker.get(name) === undefined) this.draining.delete(name);
    const current = pods.filter((f) => f.state !== 'Stopped' && !this.draining.has(f.name) && !this.failed.has(f.name));
    if (to < current.length) {
      const victims = [...current].sort((a, b) => Number(a.ready) - Number(b.ready) || String(b.startedAt ?? '').localeCompare(String(a.startedAt ?? ''))).slice(0, current.length - to);
      for (const v of victims) this.draining.add(v.name);
      // The Deployment removes the pods of lowest deletion cost first: exactly these, once drained.
      for (const v of victims) await this.d.api.setDeletionCost(v.name, -1000);
      await this.d.drain(service, victims.map((v) => v.name));
    }
    await this.d.api.scale(name, to);
  }

  recover(): Promise<number> {
    return Promise.resolve(0); // the cluster keeps its pods; resume() sees them
  }

  /** Watches the cluster again: running pods are adopted as they are listed; Deployments of generations no longer wanted go (a live rollout's candidate is wanted). */
  async resume(services: readonly ServiceRecord[], candidates: ReadonlyMap<string, CandidateGeneration> = new Map()): Promise<RecoveryReport> {
    await this.d.tracker.start();
    const report: RecoveryReport = { adopted: 0, started: 0, killed: 0 };
    const units = services.flatMap((svc) => {
      const c = candidates.get(svc.name);
      return c === undefined ? [svc] : [svc, { ...svc, generation: c.generation, spec: c.spec }];
    });
    const wanted = new Set(units.map((s) => `${s.name}:${s.generation}`));
    for (const c of units) this.policies.set(`${c.name}:${c.generation}`, c.spec.restart_policy ?? 'auto');
    for (const d of await this.d.api.listDeployments(`${KUBE_LABELS.managed}=berth,${KUBE_LABELS.home}=${this.d.homeLabel}`)) {
      const labels = d.metadata?.labels ?? {};
      const service = labels[KUBE_LABELS.service] ?? '';
      const generation = Number(labels[KUBE_LABELS.generation]);
      if (wanted.has(`${service}:${generation}`)) continue;
      await this.d.api.deleteDeployment(d.metadata?.name ?? '');
      report.killed += d.status?.replicas ?? 0;
    }
    for (const svc of units) {
      const pods = this.d.tracker.facts(svc.name, svc.generation);
      report.adopted += pods.filter((f) => f.state !== 'Stopped').length;
      if (pods.length > 0) continue;
      // Interrupted before its pods existed: the committed generation is applied again (and the image found again).
      const g: Generation = { service: svc.name, generation: svc.generation, spec: svc.spec, dir: '' };
      try {
        const image = await this.image(g, new AbortController().signal, () => undefined);
        await this.d.api.applyDeployment(this.deployment(g, image, svc.spec.replicas));
        report.started += svc.spec.replicas;
      } catch (err) {
        this.d.events.add(svc.name, { type: 'FailedCreate', message: `could not apply generation ${svc.generation} again: ${(err as Error).message}` });
      }
    }
    return report;
  }

  async forget(service: string, generation?: number): Promise<void> {
    this.failed.forget(service, generation);
    if (generation !== undefined) {
      this.images.delete(`${service}:${generation}`);
      this.policies.delete(`${service}:${generation}`);
      // A generation whose every pod failed has no replica left to stop: its (empty) Deployment goes here.
      await this.d.api.deleteDeployment(deploymentName(service, generation));
      return;
    }
    for (const key of [...this.images.keys()]) if (key.startsWith(`${service}:`)) this.images.delete(key);
    for (const key of [...this.policies.keys()]) if (key.startsWith(`${service}:`)) this.policies.delete(key);
    for (const d of await this.d.api.listDeployments(`${KUBE_LABELS.managed}=berth,${KUBE_LABELS.home}=${this.d.homeLabel},${KUBE_LABELS.service}=${service}`)) {
      await this.d.api.deleteDeployment(d.metadata?.name ?? '');
    }
    await this.d.api.deleteService(service);
  }

  private policyOf(service: string, generation: number): RestartPolicy | undefined {
    const rolling = this.policies.get(`${service}:${generation}`);
    if (rolling !== undefined) return rolling;
    const svc = this.d.store.find(service);
    return svc?.generation === generation ? svc.spec.restart_policy : undefined;
  }

  imagesInUse(): ReadonlySet<string> {
    return new Set([...this.images.values()].map((i) => i.ref));
  }

  manifests(svc: ServiceRecord): unknown[] | undefined {
    const image = this.images.get(`${svc.name}:${svc.generation}`);
    if (image === undefined) return undefined;
    const g: Generation = { service: svc.name, generation: svc.generation, spec: svc.spec, dir: '' };
    return [serviceObject({ service: svc.name, namespace: this.d.api.namespace, homeLabel: this.d.homeLabel }), this.deployment(g, image, this.count(svc.name) || svc.spec.replicas)];
  }

  close(): Promise<void> {
    // The cluster keeps running the pods: a control plane that stops (or moves) does not take services down.
    this.d.tracker.stop();
    return Promise.resolve();
  }

  private async image(g: Generation, signal: AbortSignal, progress: (text: string) => void): Promise<ContainerImage> {
    const key = `${g.service}:${g.generation}`;
    const known = this.images.get(key);
    if (known !== undefined) return known;
    const image = await this.d.ensureImage(g, signal, progress);
    this.images.set(key, image);
    return image;
  }

  private deployment(g: Generation, image: ContainerImage, replicas: number): ReturnType<typeof generationDeployment> {
    const s = g.spec;
    const scope = deploymentName(g.service, g.generation);
    return generationDeployment({
      service: g.service, generation: g.generation, namespace: this.d.api.namespace, homeLabel: this.d.homeLabel, replicas, image,
      entryScript: s.snapshot_entry_script, models: s.models, planeUrl: this.d.planeUrl,
      ...(this.d.adminTokenSecret === undefined ? {} : { adminTokenSecret: this.d.adminTokenSecret }),
      ...(this.d.imagePullSecret === undefined ? {} : { imagePullSecret: this.d.imagePullSecret }),
      replicaKey: this.d.replicaKey(scope),
      cpu: s.cpu_cores, ...(s.cpu_cores_limit === undefined ? {} : { cpuLimit: s.cpu_cores_limit }),
      memoryBytes: Math.round(s.memory_gb * GIB), ...(s.memory_gb_limit === undefined ? {} : { memoryLimitBytes: Math.round(s.memory_gb_limit * GIB) }),
      gpus: s.gpu_cores, scoringTimeoutMs: s.scoring_timeout_ms,
      ...(s.stream_first_chunk_timeout_ms === undefined ? {} : { streamFirstChunkTimeoutMs: s.stream_first_chunk_timeout_ms }),
      ...(s.stream_chunk_timeout_ms === undefined ? {} : { streamChunkTimeoutMs: s.stream_chunk_timeout_ms }),
      maxConcurrentRequests: s.replica_max_concurrent_requests,
      maxQueueWaitMs: s.max_request_wait_time, maxRequestSizeMb: this.d.maxRequestSizeMb, initTimeoutS: 600,
      ...(s.warmup === undefined ? {} : { warmup: s.warmup }),
      liveness: { periodS: s.period_seconds, timeoutS: s.timeout_seconds, failureThreshold: s.failure_threshold, successThreshold: s.success_threshold },
    });
  }

  /** Until `n` pods of the generation are ready; the first pod failure that will not heal fails it, in the same words as local replicas. */
  private waitReady(g: Generation, n: number, o: LaunchOptions): Promise<string[]> {
    const started = this.d.now();
    let waitingSaid = '';
    let placed = false;
    return new Promise<string[]>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (f: () => void): void => {
        unsubscribe();
        clearInterval(timer);
        o.signal.removeEventListener('abort', onAbort);
        f();
      };
      const onAbort = (): void => done(() => reject(o.signal.reason));
      const check = (): void => {
        const pods = this.d.tracker.facts(g.service, g.generation).filter((f) => f.state !== 'Stopped');
        const failure = pods.map((f) => this.failureOf(g, f)).find((e) => e !== undefined);
        if (failure !== undefined) return done(() => reject(failure));
        const unschedulable = pods.find((f) => f.waiting?.reason === 'Unschedulable');
        if (unschedulable !== undefined) {
          const reason = unschedulable.waiting!.message;
          if (reason !== waitingSaid) {
            waitingSaid = reason;
            o.onWaiting(reason);
          }
          if (this.d.now() - started > this.d.scheduleTimeoutMs) return done(() => reject(schedulingTimeoutError(this.d.scheduleTimeoutMs, reason)));
        } else if (!placed && pods.length >= n) {
          placed = true;
          o.onPlaced();
        }
        const ready = pods.filter((f) => f.ready);
        o.progress(`waiting for init() (${Math.min(ready.length, n)}/${n} ready)`);
        if (ready.length >= n) done(() => resolve(ready.slice(0, n).map((f) => f.name)));
      };
      const unsubscribe = this.d.tracker.subscribe(check);
      // The schedule timeout must fire even when nothing in the cluster changes.
      timer = setInterval(check, 1000);
      if (o.signal.aborted) return onAbort();
      o.signal.addEventListener('abort', onAbort, { once: true });
      check();
    });
  }

  private failureOf(g: Generation, f: PodFacts): BerthError | undefined {
    const t = f.lastTermination;
    if (t?.initError !== undefined && !t.wasReady) {
      const stops = this.failed.has(f.name) || giveUpClass(f, this.policyOf(g.service, g.generation) ?? 'auto') !== undefined;
      return initFailedError(g.service, f.name, t.initError, stops ? 'Failed: not restarted, it fails the same way every time' : 'CrashLoopBackOff');
    }
    if (t?.oom !== undefined && !t.wasReady) return oomKilledError(g.service, f.name, t.oom);
    if (f.waiting?.reason === 'ErrImagePull' || f.waiting?.reason === 'ImagePullBackOff' || f.waiting?.reason === 'InvalidImageName') {
      return new BerthError('KUBERNETES_IMAGE_PULL_FAILED', { image: this.images.get(`${g.service}:${g.generation}`)?.ref ?? '?', pod: f.name, reason: f.waiting.reason, detail: f.waiting.message });
    }
    if (f.initContainerFailure !== undefined) return new BerthError('KUBERNETES_MODEL_FETCH_FAILED', { pod: f.name, planeUrl: this.d.planeUrl, detail: f.initContainerFailure.message });
    return undefined;
  }

  private async removeGeneration(service: string, generation: number): Promise<void> {
    await this.d.api.deleteDeployment(deploymentName(service, generation));
    const deadline = this.d.now() + GONE_TIMEOUT_MS;
    while (this.d.tracker.facts(service, generation).length > 0 && this.d.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  }
}
