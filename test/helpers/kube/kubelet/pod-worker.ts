// One pod on the simulated kubelet: sandbox (pod IP, published ports), volumes, image pulls with back-off, init containers
// in order, containers with probes, restarts with CrashLoopBackOff, OOM kills, termination messages, graceful stop.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type { EventRecorder } from '../events.js';
import { now, type Json, type KObject } from '../types.js';
import { containerLog, hasImage, pull, removeContainer, authFor } from './docker-ops.js';
import { createOptions, sandboxOptions, type ContainerContext } from './container-spec.js';
import { buildStatus, goDuration, logTail, podRef, type ContainerState } from './pod-status.js';
import { runProbe } from './probes.js';

export interface WorkerEnv {
  readonly docker: Docker;
  readonly events: EventRecorder;
  readonly instance: string;
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
  readonly current: () => KObject | undefined;
  readonly writeStatus: (status: Json) => void;
  readonly lookup: ContainerContext['lookup'];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class PodWorker {
  readonly containers: ContainerState[];
  sandboxId?: string;
  private stopping = false;
  private readonly volumes = new Map<string, string>();
  private readonly dirs: string[] = [];
  private readonly startTime = now();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private pod: KObject, readonly podIP: string, private readonly env: WorkerEnv) {
    const mk = (spec: Json, init: boolean): ContainerState => ({ spec, init, state: { waiting: { reason: init ? 'PodInitializing' : (pod.spec.initContainers ?? []).length > 0 ? 'PodInitializing' : 'ContainerCreating' } }, lastState: {}, restartCount: 0, ready: false, started: false, oom: false, done: false });
    this.containers = [...(pod.spec.initContainers ?? []).map((c: Json) => mk(c, true)), ...pod.spec.containers.map((c: Json) => mk(c, false))];
  }

  private event(reason: string, message: string, type: 'Normal' | 'Warning' = 'Normal', c?: ContainerState): void {
    const fieldPath = c === undefined ? undefined : `spec.${c.init ? 'initContainers' : 'containers'}{${c.spec.name}}`;
    this.env.events.record({ regarding: this.env.current() ?? this.pod, reason, message, type, component: 'kubelet', host: this.pod.spec.nodeName, ...(fieldPath === undefined ? {} : { fieldPath }) });
  }

  publish(): void {
    if (this.stopping) return;
    const live = this.env.current();
    if (live === undefined) return;
    this.pod = live;
    this.env.writeStatus(buildStatus(live, { podIP: this.podIP, startTime: this.startTime, sandboxReady: this.sandboxId !== undefined, containers: this.containers }));
  }

  async run(): Promise<void> {
    this.makeVolumes();
    const first = this.containers[0] as ContainerState;
    if (!(await this.ensureImage(first))) return;
    const sb = await this.env.docker.createContainer(sandboxOptions({ pod: this.pod, podIP: this.podIP, instance: this.env.instance, volumes: this.volumes, lookup: this.env.lookup }, first.spec.image, `k8s_POD_${this.pod.metadata.name}_${this.pod.metadata.namespace}_${(this.pod.metadata.uid ?? '').slice(0, 8)}`));
    this.sandboxId = sb.id;
    await sb.start();
    this.publish();
    for (const c of this.containers.filter((x) => x.init)) {
      await this.loop(c);
      if (this.stopping || !c.done) return;
    }
    await Promise.all(this.containers.filter((x) => !x.init).map((c) => this.loop(c)));
  }

  private makeVolumes(): void {
    for (const v of this.pod.spec.volumes ?? []) {
      if (v.hostPath !== undefined) {
        this.volumes.set(v.name, v.hostPath.path);
        continue;
      }
      const dir = mkdtempSync(join(tmpdir(), `berth-kube-vol-${v.name}-`));
      chmodSync(dir, 0o777);
      this.dirs.push(dir);
      this.volumes.set(v.name, dir);
      const source = v.secret ?? v.configMap;
      if (source !== undefined) {
        const obj = this.env.lookup(v.secret !== undefined ? 'Secret' : 'ConfigMap', v.secret?.secretName ?? v.configMap?.name);
        for (const [k, val] of Object.entries((obj?.data ?? {}) as Record<string, string>)) writeFileSync(join(dir, k), v.secret !== undefined ? Buffer.from(val, 'base64') : val, { mode: 0o644 });
      }
    }
  }

  private backoff(n: number): number {
    return Math.min(this.env.backoffBaseMs * 2 ** Math.max(0, n - 1), this.env.backoffCapMs);
  }

  /** The image is there (or was pulled); false while stopping. ErrImagePull / ImagePullBackOff meanwhile. */
  private async ensureImage(c: ContainerState): Promise<boolean> {
    const image: string = c.spec.image;
    for (let attempt = 1; !this.stopping; attempt++) {
      const present = await hasImage(this.env.docker, image);
      const policy = c.spec.imagePullPolicy ?? 'IfNotPresent';
      if (present !== undefined && policy !== 'Always') {
        c.imageID = present.id;
        if (attempt === 1) this.event('Pulled', `Container image "${image}" already present on machine`, 'Normal', c);
        return true;
      }
      if (policy === 'Never') {
        c.state = { waiting: { reason: 'ErrImageNeverPull', message: `Container image "${image}" is not present with pull policy of Never` } };
        this.event('ErrImageNeverPull', `Container image "${image}" is not present with pull policy of Never`, 'Warning', c);
        this.publish();
        await sleep(this.backoff(attempt));
        continue;
      }
      this.event('Pulling', `Pulling image "${image}"`, 'Normal', c);
      const t0 = Date.now();
      try {
        const secrets = (this.pod.spec.imagePullSecrets ?? []).map((s: Json) => this.env.lookup('Secret', s.name)).filter((s: Json) => s !== undefined);
        await pull(this.env.docker, image, authFor(image, secrets));
        const got = await hasImage(this.env.docker, image);
        c.imageID = got?.id;
        const took = goDuration(Date.now() - t0);
        this.event('Pulled', `Successfully pulled image "${image}" in ${took} (${took} including waiting). Image size: ${got?.size ?? 0} bytes.`, 'Normal', c);
        return true;
      } catch (err) {
        const msg = (err as Error).message.replace(/^\(HTTP code \d+\) [a-z ]+- /, '').trim();
        c.state = { waiting: { reason: 'ErrImagePull', message: msg } };
        this.event('Failed', `Failed to pull image "${image}": ${msg}`, 'Warning', c);
        this.event('Failed', 'Error: ErrImagePull', 'Warning', c);
        this.publish();
        await sleep(Math.min(1000, this.backoff(attempt)));
        c.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` } };
        this.event('BackOff', `Back-off pulling image "${image}"`, 'Normal', c);
        this.event('Failed', 'Error: ImagePullBackOff', 'Warning', c);
        this.publish();
        await sleep(this.backoff(attempt));
      }
    }
    return false;
  }

  private ctx(c: ContainerState): ContainerContext {
    return { pod: this.pod, podIP: this.podIP, instance: this.env.instance, volumes: this.volumes, lookup: this.env.lookup, network: c.init ? 'host' : { sandboxId: this.sandboxId ?? '' } };
  }

  /** Runs a container until it is done (init: exited 0) or the pod stops, restarting it as restartPolicy says. */
  private async loop(c: ContainerState): Promise<void> {
    const name = c.spec.name as string;
    while (!this.stopping) {
      if (!(await this.ensureImage(c))) return;
      const created = await this.env.docker.createContainer(createOptions(this.ctx(c), c.spec, `k8s_${name}_${this.pod.metadata.name}_${this.pod.metadata.namespace}_${c.restartCount}_${Math.random().toString(36).slice(2, 7)}`));
      c.id = created.id;
      c.oom = false;
      this.event('Created', `Created container ${name}`, 'Normal', c);
      await created.start();
      const startedAt = now();
      c.state = { running: { startedAt } };
      c.started = c.spec.startupProbe === undefined;
      this.event('Started', `Started container ${name}`, 'Normal', c);
      this.publish();
      if (!c.init) this.probe(c, created.id);
      await created.wait().catch(() => undefined);
      c.ready = false;
      c.started = false;
      const info = (await created.inspect().catch(() => undefined)) as { State?: { ExitCode: number; OOMKilled: boolean; StartedAt: string; FinishedAt: string } } | undefined;
      if (this.stopping) return;
      const exitCode = info?.State?.ExitCode ?? 137;
      const reason = c.oom || info?.State?.OOMKilled === true ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
      const log = await containerLog(this.env.docker, created.id);
      const plain = log.split('\n').map((l) => l.replace(/^\S+Z /, '')).join('\n');
      const message = c.spec.terminationMessagePolicy === 'FallbackToLogsOnError' && exitCode !== 0 ? logTail(plain) : undefined;
      const terminated = { exitCode, reason, ...(message === undefined || message === '' ? {} : { message }), startedAt, finishedAt: info?.State?.FinishedAt?.replace(/\.\d+Z$/, 'Z') ?? now(), containerID: `docker://${created.id}` };
      c.previousLog = log;
      await created.remove({ force: true }).catch(() => undefined);
      const policy = this.pod.spec.restartPolicy ?? 'Always';
      if ((c.init && exitCode === 0) || policy === 'Never' || (policy === 'OnFailure' && exitCode === 0)) {
        c.state = { terminated };
        c.done = true;
        this.publish();
        return;
      }
      c.lastState = { terminated };
      const delay = this.backoff(c.restartCount + 1);
      c.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${goDuration(delay)} restarting failed container=${name} pod=${podRef(this.pod)}` } };
      this.event('BackOff', `Back-off restarting failed container ${name} in pod ${podRef(this.pod)}`, 'Warning', c);
      this.publish();
      await sleep(delay);
      c.restartCount++;
    }
  }

  /** Startup, readiness and liveness probes of a running container instance. */
  private probe(c: ContainerState, id: string): void {
    const spec = c.spec;
    const counts = { readiness: 0, liveness: 0, startup: 0 };
    const schedule = (kind: 'readiness' | 'liveness' | 'startup', first: boolean): void => {
      const p = spec[`${kind}Probe`];
      if (p === undefined) {
        if (kind === 'readiness' && c.started) {
          c.ready = true;
          this.publish();
        }
        return;
      }
      const delay = first ? (p.initialDelaySeconds ?? 0) * 1000 : (p.periodSeconds ?? 10) * 1000;
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (this.stopping || c.id !== id) return;
        void runProbe(this.env.docker, this.podIP, id, p, spec).then((r) => {
          if (this.stopping || c.id !== id || c.state.running === undefined) return;
          const label = `${kind[0]?.toUpperCase()}${kind.slice(1)}`;
          if (r.ok) {
            counts[kind] = 0;
            if (kind === 'startup') {
              c.started = true;
              this.publish();
              schedule('readiness', true);
              schedule('liveness', true);
              return;
            }
            if (kind === 'readiness' && !c.ready) {
              c.ready = true;
              this.publish();
            }
          } else {
            counts[kind]++;
            this.event('Unhealthy', `${label} probe failed: ${r.output}`, 'Warning', c);
            if (kind === 'readiness' && c.ready) {
              c.ready = false;
              this.publish();
            }
            if (kind !== 'readiness' && counts[kind] >= (p.failureThreshold ?? 3)) {
              this.event('Killing', `Container ${spec.name} failed ${kind} probe, will be restarted`, 'Normal', c);
              void this.env.docker.getContainer(id).stop({ t: this.pod.spec.terminationGracePeriodSeconds ?? 30 }).catch(() => undefined);
              return;
            }
          }
          schedule(kind, false);
        });
      }, delay);
      this.timers.add(t);
    };
    if (spec.startupProbe !== undefined) schedule('startup', true);
    else {
      schedule('readiness', true);
      schedule('liveness', true);
    }
  }

  /** An OOM event for one of this pod's containers: the whole container is killed (cgroup v2 memory.oom.group). */
  oomKill(containerId: string): void {
    const c = this.containers.find((x) => x.id === containerId);
    if (c === undefined) return;
    c.oom = true;
    void this.env.docker.getContainer(containerId).kill({ signal: 'SIGKILL' }).catch(() => undefined);
  }

  /** Stops every container (SIGTERM, then SIGKILL after the grace period) and removes them, the sandbox and volumes. */
  async stop(graceSeconds: number, announce: boolean): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all(this.containers.filter((c) => c.id !== undefined && c.state.running !== undefined).map(async (c) => {
      if (announce) this.event('Killing', `Stopping container ${c.spec.name}`, 'Normal', c);
      await removeContainer(this.env.docker, c.id as string, graceSeconds);
    }));
    for (const c of this.containers) if (c.id !== undefined) await removeContainer(this.env.docker, c.id, 0);
    if (this.sandboxId !== undefined) await removeContainer(this.env.docker, this.sandboxId, 0);
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}
