// A pod's status as the kubelet reports it: phase, conditions, container statuses (state, lastState, ready,
// restartCount, started), pod IP, and the CrashLoopBackOff / termination message texts.
import type { Json, KObject } from '../types.js';
import { now } from '../types.js';

export interface ContainerState {
  readonly spec: Json;
  readonly init: boolean;
  id?: string;
  state: Json;
  lastState: Json;
  restartCount: number;
  ready: boolean;
  started: boolean;
  imageID?: string;
  /** The previous instance's log (with timestamps), for `previous=true`. */
  previousLog?: string;
  oom: boolean;
  done: boolean;
}

/** `5m0s`, `10s`, `1m20s`: Go's time.Duration printing, as in `back-off 10s restarting failed container`. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 100) / 10;
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  const rest = Math.round((s - m * 60) * 10) / 10;
  return m < 60 ? `${m}m${rest}s` : `${Math.floor(m / 60)}h${m % 60}m${rest}s`;
}

export const podRef = (pod: KObject): string => `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;

/** The last 80 lines, at most 2048 bytes, of a failed container's log: FallbackToLogsOnError's message. */
export function logTail(log: string): string {
  const lines = log.replace(/\n$/, '').split('\n').slice(-80).join('\n');
  const buf = Buffer.from(lines);
  return buf.length <= 2048 ? lines : buf.subarray(buf.length - 2048).toString('utf8');
}

function statusOf(c: ContainerState): Json {
  return {
    name: c.spec.name, state: c.state, lastState: c.lastState, ready: c.ready, restartCount: c.restartCount, image: c.spec.image,
    imageID: c.imageID ?? '', ...(c.id === undefined ? {} : { containerID: `docker://${c.id}` }), started: c.started,
  };
}

export interface PodView {
  readonly podIP?: string;
  readonly startTime: string;
  readonly sandboxReady: boolean;
  readonly containers: readonly ContainerState[];
}

function condition(type: string, ok: boolean, reason?: string, message?: string): Json {
  return { type, status: ok ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: now(), ...(ok || reason === undefined ? {} : { reason, message }) };
}

export function buildStatus(pod: KObject, v: PodView): Json {
  const inits = v.containers.filter((c) => c.init);
  const mains = v.containers.filter((c) => !c.init);
  const initialized = inits.every((c) => c.done);
  const unready = mains.filter((c) => !c.ready).map((c) => c.spec.name as string);
  const ready = initialized && unready.length === 0;
  const running = initialized && mains.some((c) => c.started || c.restartCount > 0 || c.state.running !== undefined);
  const failed = pod.spec.restartPolicy !== 'Always' && mains.every((c) => c.done) && mains.some((c) => (c.state.terminated?.exitCode ?? 0) !== 0);
  const succeeded = pod.spec.restartPolicy !== 'Always' && mains.every((c) => c.done && (c.state.terminated?.exitCode ?? 1) === 0);
  const keep = (pod.status?.conditions ?? []).filter((c: Json) => c.type === 'PodScheduled');
  const old = new Map<string, Json>((pod.status?.conditions ?? []).map((c: Json) => [c.type, c]));
  const conds = [
    condition('PodReadyToStartContainers', v.sandboxReady),
    condition('Initialized', initialized, 'ContainersNotInitialized', `containers with incomplete status: [${inits.filter((c) => !c.done).map((c) => c.spec.name).join(' ')}]`),
    condition('Ready', ready, 'ContainersNotReady', `containers with unready status: [${unready.join(' ')}]`),
    condition('ContainersReady', ready, 'ContainersNotReady', `containers with unready status: [${unready.join(' ')}]`),
  ].map((c) => {
    const prev = old.get(c.type);
    return prev !== undefined && prev.status === c.status ? { ...c, lastTransitionTime: prev.lastTransitionTime } : c;
  });
  return {
    phase: failed ? 'Failed' : succeeded ? 'Succeeded' : running ? 'Running' : 'Pending',
    conditions: [...conds, ...keep],
    hostIP: '127.0.0.1', hostIPs: [{ ip: '127.0.0.1' }],
    ...(v.podIP === undefined ? {} : { podIP: v.podIP, podIPs: [{ ip: v.podIP }] }),
    startTime: v.startTime,
    ...(inits.length === 0 ? {} : { initContainerStatuses: inits.map(statusOf) }),
    containerStatuses: mains.map(statusOf),
    qosClass: pod.status?.qosClass ?? 'BestEffort',
  };
}
