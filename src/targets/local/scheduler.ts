// The local scheduler: a pure function deciding whether a replica's request fits this machine, in Kubernetes' words.
import { BerthError } from '../../errors/catalogue.js';
import { formatResources, GIB, type Resources } from './resources.js';

/** Kubernetes' names for the resources, as they appear in `Insufficient <name>`. */
export type ResourceName = 'cpu' | 'memory' | 'nvidia.com/gpu';

export type Decision =
  | { readonly fits: true; readonly free: Resources }
  | { readonly fits: false; readonly free: Resources; readonly insufficient: readonly ResourceName[]; readonly reason: string };

// Compare in integer units (millicores, bytes, milli-GPUs) so 0.1 + 0.2 never fails to fit 0.3.
interface Units { cpu: number; memory: number; gpu: number }
const toUnits = (r: Resources): Units => ({ cpu: Math.round(r.cpu * 1000), memory: Math.round(r.memoryGb * GIB), gpu: Math.round(r.gpu * 1000) });
const fromUnits = (u: Units): Resources => ({ cpu: u.cpu / 1000, memoryGb: u.memory / GIB, gpu: u.gpu / 1000 });

/** Capacity minus what the placed replicas requested (may go negative when capacity was lowered under them). */
export function freeResources(capacity: Resources, placed: readonly Resources[]): Resources {
  const free = toUnits(capacity);
  for (const p of placed) {
    const u = toUnits(p);
    free.cpu -= u.cpu;
    free.memory -= u.memory;
    free.gpu -= u.gpu;
  }
  return fromUnits(free);
}

/** `0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory`: the kube-scheduler's sentence for one node. */
export function unschedulableReason(insufficient: readonly ResourceName[]): string {
  const parts = [...new Set(insufficient)].map((name) => `1 Insufficient ${name}`).sort();
  return `0/1 nodes are available: ${parts.join(', ')}`;
}

/** Whether `request` fits next to the `placed` requests on a machine of `capacity`; when not, which resources lack and why. */
export function schedule(capacity: Resources, placed: readonly Resources[], request: Resources): Decision {
  const free = freeResources(capacity, placed);
  const f = toUnits(free);
  const r = toUnits(request);
  const insufficient: ResourceName[] = [];
  // As the kube-scheduler's NodeResourcesFit: a resource that is not requested is never insufficient.
  if (r.cpu > 0 && r.cpu > f.cpu) insufficient.push('cpu');
  if (r.memory > 0 && r.memory > f.memory) insufficient.push('memory');
  if (r.gpu > 0 && r.gpu > f.gpu) insufficient.push('nvidia.com/gpu');
  if (insufficient.length === 0) return { fits: true, free };
  return { fits: false, free, insufficient, reason: unschedulableReason(insufficient) };
}

/** Whether the request could fit the machine at all, with nothing else placed; when not, waiting is pointless. */
export function fitsMachine(capacity: Resources, request: Resources): Decision {
  return schedule(capacity, [], request);
}

/** The REQUEST_EXCEEDS_CAPACITY error for a request that can never fit, or undefined when it can. */
export function exceedsCapacityError(capacity: Resources, request: Resources): BerthError | undefined {
  const d = fitsMachine(capacity, request);
  if (d.fits) return undefined;
  return new BerthError('REQUEST_EXCEEDS_CAPACITY', { request: formatResources(request), capacity: formatResources(capacity), reason: d.reason });
}

/** `00:05:00` for 300000 ms: the classic message's HH:MM:SS (hours keep counting past 99; seconds round up). */
export function formatHms(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(Math.floor(total / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
}

/** The classic scheduling-timeout sentence for a configured timeout. */
export function schedulingTimeoutMessage(timeoutMs: number): string {
  return `Couldn't Schedule because the kubernetes cluster didn't have available resources after trying for ${formatHms(timeoutMs)}`;
}

/** The SCHEDULING_TIMEOUT error: the classic sentence, then the scheduler's last reason. */
export function schedulingTimeoutError(timeoutMs: number, reason: string): BerthError {
  return new BerthError('SCHEDULING_TIMEOUT', { timeoutMessage: schedulingTimeoutMessage(timeoutMs), reason, timeout: formatHms(timeoutMs) });
}
