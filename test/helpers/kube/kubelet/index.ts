// The simulated kubelet: runs the pods bound to any node with the one Docker engine, reports their status, serves their
// logs, and stops them on deletion. Where it knowingly differs from a real kubelet:
//  - every pod gets its own loopback IP 127.0.X.N (X random per stand-in, so parallel test files do not collide) and
//    each declared containerPort is published on that IP and the same port, so the host reaches pods at podIP:port;
//  - init containers run with host networking, so they reach a control plane on 127.0.0.1 (in a cluster they would use
//    the pod network); containers share the network of a `sleep` sandbox made from the pod's first image;
//  - no service-account token volume, no cluster DNS, no Service proxying (Services are stored, not routed);
//  - terminationMessagePolicy File reads nothing from the container (only FallbackToLogsOnError fills the message);
//  - all nodes are the same machine: allocatable is what the scheduler counts, not what Docker enforces.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Docker from 'dockerode';
import { commitUpdate } from '../commit.js';
import type { Context } from '../context.js';
import type { EventRecorder } from '../events.js';
import { PODS, findResource } from '../resources.js';
import { badRequest } from '../status.js';
import { ApiError, type Json, type KObject } from '../types.js';
import { demux, LABEL, removeAll } from './docker-ops.js';
import { PodWorker } from './pod-worker.js';

export interface KubeletConfig {
  readonly docker: () => Promise<Docker>;
  readonly instance: string;
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
}

export class Kubelet {
  private readonly workers = new Map<string, PodWorker>();
  private readonly subnet = 1 + Math.floor(Math.random() * 250);
  private next = 2;
  private readonly unsubscribe: () => void;
  private events?: NodeJS.ReadableStream;
  private dockerClient?: Docker;
  private readonly stopping: Promise<void>[] = [];

  constructor(private readonly ctx: Context, private readonly recorder: EventRecorder, private readonly cfg: KubeletConfig) {
    this.unsubscribe = ctx.store.subscribe((c) => {
      if (c.resource === PODS) this.onPod(c.object, c.type === 'DELETED');
    });
    ctx.podLog = (req, res, ns, name, q) => this.serveLog(req, res, ns, name, q);
  }

  private async docker(): Promise<Docker> {
    if (this.dockerClient !== undefined) return this.dockerClient;
    const d = await this.cfg.docker();
    this.dockerClient = d;
    const stream = (await d.getEvents({ filters: JSON.stringify({ event: ['oom'], label: [`${LABEL}=${this.cfg.instance}`] }) })) as NodeJS.ReadableStream;
    this.events = stream;
    stream.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n').filter((l) => l.trim() !== '')) {
        const e = JSON.parse(line) as { id?: string; Actor?: { ID?: string } };
        const id = e.id ?? e.Actor?.ID ?? '';
        for (const w of this.workers.values()) w.oomKill(id);
      }
    });
    return d;
  }

  private key(pod: KObject): string {
    return `${pod.metadata.namespace}/${pod.metadata.name}/${pod.metadata.uid}`;
  }

  private onPod(pod: KObject, deleted: boolean): void {
    const key = this.key(pod);
    const w = this.workers.get(key);
    if (deleted) {
      if (w !== undefined) {
        this.workers.delete(key);
        this.stopping.push(w.stop(0, false));
      }
      return;
    }
    if (pod.spec?.nodeName === undefined) return;
    if (pod.metadata.deletionTimestamp !== undefined) {
      if (w !== undefined && !(w as unknown as { deleting?: boolean }).deleting) {
        (w as unknown as { deleting?: boolean }).deleting = true;
        const grace = pod.metadata.deletionGracePeriodSeconds ?? 30;
        this.stopping.push(w.stop(grace, true).then(() => {
          this.workers.delete(key);
          this.ctx.store.remove(PODS, pod.metadata.namespace, pod.metadata.name ?? '');
        }));
      } else if (w === undefined) this.ctx.store.remove(PODS, pod.metadata.namespace, pod.metadata.name ?? '');
      return;
    }
    if (w !== undefined || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    const ip = `127.0.${this.subnet}.${this.next}`;
    this.next = this.next >= 254 ? 2 : this.next + 1;
    const ns = pod.metadata.namespace ?? '';
    const name = pod.metadata.name ?? '';
    void this.docker().then((docker) => {
      const worker = new PodWorker(pod, ip, {
        docker, events: this.recorder, instance: this.cfg.instance, backoffBaseMs: this.cfg.backoffBaseMs, backoffCapMs: this.cfg.backoffCapMs,
        current: () => this.ctx.store.get(PODS, ns, name),
        writeStatus: (status) => {
          const live = this.ctx.store.get(PODS, ns, name);
          if (live === undefined || live.metadata.uid !== pod.metadata.uid) return;
          try {
            commitUpdate(this.ctx.store, PODS, { ...live, status }, { manager: 'kubelet', subresource: 'status' });
          } catch (err) {
            process.emitWarning(`kube stand-in kubelet: status of ${ns}/${name}: ${(err as Error).message}`);
          }
        },
        lookup: (kind, n) => this.ctx.store.get(findResource('', 'v1', kind === 'Secret' ? 'secrets' : 'configmaps') as never, ns, n),
      });
      if (this.workers.has(key)) return;
      this.workers.set(key, worker);
      return worker.run();
    }).catch((err: unknown) => process.emitWarning(`kube stand-in kubelet: pod ${ns}/${name}: ${(err as Error).message}`));
  }

  private worker(ns: string, name: string): PodWorker | undefined {
    for (const [k, w] of this.workers) if (k.startsWith(`${ns}/${name}/`)) return w;
    return undefined;
  }

  private async serveLog(req: IncomingMessage, res: ServerResponse, ns: string, name: string, q: URLSearchParams): Promise<void> {
    const w = this.worker(ns, name);
    const pod = this.ctx.store.get(PODS, ns, name) as KObject;
    const all = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c: Json) => c.name as string);
    let container = q.get('container');
    if (container === null) {
      if (pod.spec.containers.length !== 1) throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${pod.spec.containers.map((c: Json) => c.name).join(' ')}]${(pod.spec.initContainers ?? []).length > 0 ? ` or one of the init containers: [${pod.spec.initContainers.map((c: Json) => c.name).join(' ')}]` : ''}`);
      container = pod.spec.containers[0].name as string;
    }
    if (!all.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
    const cs = w?.containers.find((c) => c.spec.name === container);
    const previous = q.get('previous') === 'true';
    const timestamps = q.get('timestamps') === 'true';
    const tail = q.get('tailLines') === null ? undefined : Number(q.get('tailLines'));
    const shape = (text: string): string => {
      let lines = text.split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      if (tail !== undefined) lines = lines.slice(Math.max(0, lines.length - tail));
      if (!timestamps) lines = lines.map((l) => l.replace(/^\S+Z /, ''));
      const out = lines.map((l) => `${l}\n`).join('');
      const limit = q.get('limitBytes');
      return limit === null ? out : out.slice(0, Number(limit));
    };
    if (previous) {
      if (cs?.previousLog === undefined) throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(shape(cs.previousLog));
      return;
    }
    if (cs?.id === undefined || cs.state.running === undefined && cs.state.terminated === undefined && cs.previousLog === undefined) {
      const waiting = cs?.state.waiting?.reason ?? 'ContainerCreating';
      throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `container "${container}" in pod "${name}" is waiting to start: ${waiting}`, reason: 'BadRequest', code: 400 });
    }
    if (cs.state.running === undefined) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(shape(cs.previousLog ?? ''));
      return;
    }
    const docker = await this.docker();
    const since = q.get('sinceSeconds');
    const follow = q.get('follow') === 'true';
    const opts = { stdout: true, stderr: true, timestamps, ...(tail === undefined ? {} : { tail }), ...(since === null ? {} : { since: Math.floor(Date.now() / 1000) - Number(since) }) };
    if (!follow) {
      const raw = (await docker.getContainer(cs.id).logs({ ...opts, follow: false })) as unknown as Buffer;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(demux(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw))));
      return;
    }
    const stream = (await docker.getContainer(cs.id).logs({ ...opts, follow: true })) as NodeJS.ReadableStream;
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    this.ctx.watches.add(res);
    docker.modem.demuxStream(stream, res, res);
    stream.on('end', () => res.end());
    req.on('close', () => (stream as unknown as { destroy?: () => void }).destroy?.());
    res.on('close', () => this.ctx.watches.delete(res));
  }

  async stop(): Promise<void> {
    this.unsubscribe();
    const ws = [...this.workers.values()];
    this.workers.clear();
    await Promise.all([...ws.map((w) => w.stop(0, false)), ...this.stopping]);
    (this.events as unknown as { destroy?: () => void } | undefined)?.destroy?.();
    if (this.dockerClient !== undefined) await removeAll(this.dockerClient, this.cfg.instance);
  }
}
