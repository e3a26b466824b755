// Starts what runs beside the API server: garbage collector, deployment and replica set controllers, scheduler, kubelet.
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import type { Context } from './context.js';
import type { EventRecorder } from './events.js';
import { GarbageCollector } from './gc.js';
import { PODS } from './resources.js';
import { Kubelet } from './kubelet/index.js';
import { Scheduler } from './scheduler.js';
import { WorkloadControllers } from './workloads.js';
import { DockerConnection } from '../../../src/images/docker.js';

export interface KubeletOptions {
  /** Restart (and image pull) back-off base in ms (real kubelet: 10 000, doubling to a 300 000 cap). */
  readonly backoffBaseMs: number;
  readonly backoffCapMs?: number;
  /** The Docker engine (default: DOCKER_HOST or /var/run/docker.sock). */
  readonly docker?: () => Promise<Docker>;
}

export interface Controllers {
  stop(): Promise<void>;
}

export function startControllers(ctx: Context, recorder: EventRecorder, kubelet: KubeletOptions | undefined): Controllers {
  const gc = new GarbageCollector(ctx.store);
  const workloads = new WorkloadControllers(ctx.store, recorder);
  const scheduler = new Scheduler(ctx.store, recorder);
  const connection = new DockerConnection({ ...process.env });
  const k = kubelet === undefined ? undefined : new Kubelet(ctx, recorder, {
    docker: kubelet.docker ?? (() => connection.get()), instance: randomBytes(6).toString('hex'),
    backoffBaseMs: kubelet.backoffBaseMs, backoffCapMs: kubelet.backoffCapMs ?? kubelet.backoffBaseMs * 30,
  });
  // Without a kubelet, pods being deleted are finished at once (as if a kubelet had stopped them).
  const finisher = k !== undefined ? undefined : ctx.store.subscribe((c) => {
    if (c.resource !== PODS || c.type === 'DELETED' || c.object.metadata.deletionTimestamp === undefined) return;
    setImmediate(() => ctx.store.remove(PODS, c.object.metadata.namespace, c.object.metadata.name ?? ''));
  });
  return {
    stop: async () => {
      finisher?.();
      scheduler.stop();
      workloads.stop();
      gc.stop();
      await k?.stop();
    },
  };
}
