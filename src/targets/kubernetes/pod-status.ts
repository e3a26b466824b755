// Reads a pod as berth reports replicas: state, restarts, last termination (exit code, OOMKilled, the init() error from the termination message), address.
import { constants } from 'node:os';
import type { V1ContainerStateTerminated, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { EXIT_ENTRY_SCRIPT, parseInitError } from '../local/init-error.js';
import type { InitError, ReplicaLogPaths, ReplicaState, ReplicaStatus, Termination, TerminationReason } from '../types.js';
import { KUBE_LABELS, SERVE_CONTAINER, SERVE_PORT } from './manifests.js';

export interface PodFacts {
  readonly name: string;
  readonly service: string;
  readonly generation: number;
  readonly state: ReplicaState;
  /** Why it is not running, in the cluster's words (`ImagePullBackOff: ...`, `Unschedulable: 0/3 nodes ...`). */
  readonly waiting?: { readonly reason: string; readonly message: string };
  readonly ready: boolean;
  readonly restarts: number;
  readonly podIp?: string;
  readonly startedAt?: string;
  readonly lastTermination?: Termination;
  readonly initError?: InitError;
  /** Where a starting pod is, as far as the cluster says: pulling its image, fetching models (init containers), starting. */
  readonly phase?: 'pulling' | 'fetching-models' | 'starting';
  /** A failed init container (a model that could not be fetched). */
  readonly initContainerFailure?: { readonly name: string; readonly message: string };
}

const serveStatus = (pod: V1Pod): V1ContainerStatus | undefined => pod.status?.containerStatuses?.find((c) => c.name === SERVE_CONTAINER);

function signalOf(exitCode: number): NodeJS.Signals | null {
  if (exitCode <= 128) return null;
  for (const [name, n] of Object.entries(constants.signals)) if (n === exitCode - 128) return name as NodeJS.Signals;
  return null;
}

/** A terminated container as berth's termination; `limitBytes` names the limit an OOM kill hit. */
export function terminationOf(t: V1ContainerStateTerminated, wasReady: boolean, limitBytes: number | undefined): Termination {
  const signal = t.reason === 'OOMKilled' ? 'SIGKILL' : signalOf(t.exitCode);
  const reason: TerminationReason = t.reason === 'OOMKilled' ? 'OOMKilled' : t.reason === 'Completed' || t.exitCode === 0 ? 'Completed' : 'Error';
  const started = t.startedAt === undefined ? undefined : new Date(t.startedAt).getTime();
  const finished = t.finishedAt === undefined ? Date.now() : new Date(t.finishedAt).getTime();
  const initError = !wasReady && t.exitCode === EXIT_ENTRY_SCRIPT && t.message !== undefined ? parseInitError(t.message) : undefined;
  return {
    reason,
    exitCode: signal === null ? t.exitCode : null,
    signal,
    at: new Date(finished).toISOString(),
    ranMs: started === undefined ? 0 : Math.max(0, finished - started),
    wasReady,
    ...(initError === undefined ? {} : { initError }),
    ...(reason === 'OOMKilled' && limitBytes !== undefined ? { oom: { limitBytes, usageBytes: limitBytes, rssPeakBytes: 0, detectedBy: 'kernel' as const } } : {}),
  };
}

function limitOf(pod: V1Pod): number | undefined {
  const text = pod.spec?.containers.find((c) => c.name === SERVE_CONTAINER)?.resources?.limits?.memory;
  return text === undefined ? undefined : parseQuantity(String(text));
}

/** A memory quantity (`536870912`, `512Mi`, `1G`) in bytes. */
export function parseQuantity(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(text.trim());
  if (m === null) return undefined;
  const units: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Math.round(Number(m[1]) * (m[2] === undefined ? 1 : units[m[2]]!));
}

export function podFacts(pod: V1Pod, everReady: boolean): PodFacts | undefined {
  const labels = pod.metadata?.labels ?? {};
  const name = pod.metadata?.name;
  const service = labels[KUBE_LABELS.service];
  const generation = Number(labels[KUBE_LABELS.generation]);
  if (name === undefined || service === undefined || !Number.isInteger(generation)) return undefined;
  const c = serveStatus(pod);
  const ready = c?.ready === true && pod.metadata?.deletionTimestamp === undefined;
  const limit = limitOf(pod);
  const last = c?.state?.terminated ?? c?.lastState?.terminated;
  const lastTermination = last === undefined ? undefined : terminationOf(last, everReady, limit);
  const waitingRaw = c?.state?.waiting;
  const scheduled = pod.status?.conditions?.find((x) => x.type === 'PodScheduled');
  const failedInit = pod.status?.initContainerStatuses?.find((s) => (s.state?.terminated?.exitCode ?? 0) !== 0 || (s.lastState?.terminated?.exitCode ?? 0) !== 0);
  const initTerm = failedInit?.state?.terminated ?? failedInit?.lastState?.terminated;
  let waiting: PodFacts['waiting'];
  if (scheduled?.status === 'False') waiting = { reason: scheduled.reason ?? 'Unschedulable', message: scheduled.message ?? '' };
  else if (waitingRaw?.reason !== undefined && waitingRaw.reason !== 'ContainerCreating' && waitingRaw.reason !== 'PodInitializing') waiting = { reason: waitingRaw.reason, message: waitingRaw.message ?? '' };
  const initRunning = pod.status?.initContainerStatuses?.some((s) => s.state?.running !== undefined || s.state?.waiting !== undefined) === true;
  const phase = initRunning ? 'fetching-models' : waitingRaw?.reason === 'ContainerCreating' || waitingRaw?.reason === 'ErrImagePull' || waitingRaw?.reason === 'ImagePullBackOff' ? 'pulling' : 'starting';
  let state: ReplicaState = 'Starting';
  if (pod.metadata?.deletionTimestamp !== undefined) state = 'Stopped';
  else if (ready) state = 'Ready';
  else if (waitingRaw?.reason === 'CrashLoopBackOff' || failedInit?.state?.waiting?.reason === 'CrashLoopBackOff') state = 'CrashLoopBackOff';
  return {
    name, service, generation, state, ready,
    restarts: c?.restartCount ?? 0,
    phase,
    ...(pod.status?.podIP === undefined ? {} : { podIp: pod.status.podIP }),
    ...(c?.state?.running?.startedAt === undefined ? {} : { startedAt: new Date(c.state.running.startedAt).toISOString() }),
    ...(waiting === undefined ? {} : { waiting }),
    ...(lastTermination === undefined ? {} : { lastTermination }),
    ...(lastTermination?.initError === undefined ? {} : { initError: lastTermination.initError }),
    ...(failedInit === undefined ? {} : { initContainerFailure: { name: failedInit.name, message: initTerm?.message ?? initTerm?.reason ?? `exit code ${initTerm?.exitCode ?? '?'}` } }),
  };
}

/** The replica status berth shows for a pod. */
export function podStatus(f: PodFacts, index: number, keyScope: string, logs: ReplicaLogPaths, limitBytes: number | undefined, readyAt: string | undefined): ReplicaStatus {
  return {
    serviceName: f.service,
    replicaId: f.name,
    index,
    state: f.state,
    ...(f.podIp === undefined ? {} : { port: SERVE_PORT, url: `http://${f.podIp}:${SERVE_PORT}` }),
    keyScope,
    generation: f.generation,
    restarts: f.restarts,
    ...(f.startedAt === undefined ? {} : { startedAt: f.startedAt }),
    ...(readyAt === undefined ? {} : { readyAt }),
    ...(f.lastTermination === undefined ? {} : { lastTermination: f.lastTermination }),
    ...(f.initError === undefined ? {} : { lastInitError: f.initError }),
    ...(f.waiting === undefined ? {} : { waiting: `${f.waiting.reason}${f.waiting.message === '' ? '' : `: ${f.waiting.message}`}` }),
    ...(f.phase === undefined || f.ready ? {} : { phase: { name: f.phase, since: f.startedAt ?? new Date().toISOString() } }),
    memory: limitBytes === undefined ? { enforcement: 'none' } : { enforcement: 'kubernetes', limitBytes },
    logs,
  };
}
