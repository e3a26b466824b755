// The simulated kube-scheduler: binds each pending pod to a node whose free allocatable covers its requests (least
// allocated first); when none fits, PodScheduled=False/Unschedulable and a FailedScheduling event worded as
// kube-scheduler's FitError (`0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are
// available: 3 No preemption victims found for incoming pod.`). Unschedulable pods are retried when pods go away.
import type { EventRecorder } from './events.js';
import { quantityValue } from './quantity.js';
import { NODES, PODS } from './resources.js';
import type { Change, Store } from './store.js';
import { now, type Json, type KObject } from './types.js';

/** A pod's effective requests: the larger of its containers' sum and any one init container's. */
export function podRequests(pod: KObject): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const c of pod.spec?.containers ?? []) for (const [k, v] of Object.entries((c.resources?.requests ?? {}) as Record<string, string>)) sum[k] = (sum[k] ?? 0) + quantityValue(v);
  for (const c of pod.spec?.initContainers ?? []) for (const [k, v] of Object.entries((c.resources?.requests ?? {}) as Record<string, string>)) sum[k] = Math.max(sum[k] ?? 0, quantityValue(v));
  return sum;
}

const active = (p: KObject): boolean => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';

export class Scheduler {
  private scheduled = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly store: Store, private readonly events: EventRecorder) {
    this.unsubscribe = store.subscribe((c) => this.onChange(c));
  }

  stop(): void {
    this.unsubscribe();
  }

  private onChange(c: Change): void {
    if (c.resource !== PODS && c.resource !== NODES) return;
    const p = c.object;
    const interesting = c.resource === NODES || (c.type === 'ADDED' && p.spec?.nodeName === undefined) || c.type === 'DELETED' || (c.prev !== undefined && active(c.prev) && !active(p));
    if (!interesting || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.run();
    });
  }

  private run(): void {
    const pending = this.store.list(PODS).filter((p) => p.spec?.nodeName === undefined && p.metadata.deletionTimestamp === undefined && (p.spec?.schedulerName ?? 'default-scheduler') === 'default-scheduler')
      .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)));
    for (const pod of pending) this.scheduleOne(pod);
  }

  private scheduleOne(pod: KObject): void {
    const nodes = this.store.list(NODES);
    const pods = this.store.list(PODS).filter((p) => p.spec?.nodeName !== undefined && active(p));
    const want = podRequests(pod);
    const reasons = new Map<string, string[]>();
    const fits: { node: KObject; score: number }[] = [];
    for (const node of nodes) {
      const alloc = (node.status?.allocatable ?? {}) as Record<string, string>;
      const used: Record<string, number> = {};
      let count = 0;
      for (const p of pods.filter((x) => x.spec.nodeName === node.metadata.name)) {
        count++;
        for (const [k, v] of Object.entries(podRequests(p))) used[k] = (used[k] ?? 0) + v;
      }
      const why: string[] = [];
      if (count + 1 > quantityValue(alloc.pods ?? '110')) why.push('Too many pods');
      for (const [k, v] of Object.entries(want)) {
        if (v > 0 && (used[k] ?? 0) + v > quantityValue(alloc[k] ?? '0') + 1e-9) why.push(`Insufficient ${k}`);
      }
      const selector = (pod.spec?.nodeSelector ?? {}) as Record<string, string>;
      const labels = (node.metadata.labels ?? {}) as Record<string, string>;
      if (Object.entries(selector).some(([k, v]) => labels[k] !== v)) why.push("node(s) didn't match Pod's node affinity/selector");
      if (why.length > 0) reasons.set(node.metadata.name ?? '', why);
      else fits.push({ node, score: 1 - ((used.cpu ?? 0) + (want.cpu ?? 0)) / Math.max(quantityValue(alloc.cpu ?? '1'), 1e-9) });
    }
    const best = fits.sort((a, b) => b.score - a.score)[0];
    if (best !== undefined) return this.bind(pod, best.node.metadata.name ?? '');
    this.unschedulable(pod, nodes.length === 0 ? 'no nodes available to schedule pods' : fitError(nodes.length, reasons));
  }

  private bind(pod: KObject, node: string): void {
    const live = this.store.get(PODS, pod.metadata.namespace, pod.metadata.name ?? '');
    if (live === undefined || live.spec?.nodeName !== undefined) return;
    live.spec.nodeName = node;
    live.status = { ...(live.status ?? {}), conditions: setCondition(live.status?.conditions, { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now() }) };
    const bound = this.store.update(PODS, live);
    this.events.record({ regarding: bound, reason: 'Scheduled', message: `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${node}`, type: 'Normal', component: 'default-scheduler', modern: true, action: 'Binding' });
  }

  private unschedulable(pod: KObject, message: string): void {
    const live = this.store.get(PODS, pod.metadata.namespace, pod.metadata.name ?? '');
    if (live === undefined) return;
    const cond = { type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: now(), reason: 'Unschedulable', message };
    const old = (live.status?.conditions ?? []).find((c: Json) => c.type === 'PodScheduled');
    if (old?.message !== message) {
      live.status = { ...(live.status ?? {}), conditions: setCondition(live.status?.conditions, cond) };
      this.store.update(PODS, live);
    }
    this.events.record({ regarding: live, reason: 'FailedScheduling', message, type: 'Warning', component: 'default-scheduler', modern: true, action: 'Scheduling' });
  }
}

/** kube-scheduler's FitError text, with DefaultPreemption's post-filter message (all pods have priority 0 here). */
export function fitError(numNodes: number, reasons: ReadonlyMap<string, readonly string[]>): string {
  const histogram = new Map<string, number>();
  for (const rs of reasons.values()) for (const r of rs) histogram.set(r, (histogram.get(r) ?? 0) + 1);
  const sorted = [...histogram].map(([r, n]) => `${n} ${r}`).sort();
  const resolvable = [...reasons.values()].filter((rs) => rs.every((r) => r.startsWith('Insufficient') || r === 'Too many pods')).length;
  const post = new Map<string, number>();
  if (resolvable > 0) post.set('No preemption victims found for incoming pod', resolvable);
  if (reasons.size - resolvable > 0) post.set('Preemption is not helpful for scheduling', reasons.size - resolvable);
  const postSorted = [...post].map(([r, n]) => `${n} ${r}`).sort();
  return `0/${numNodes} nodes are available: ${sorted.join(', ')}. preemption: 0/${numNodes} nodes are available: ${postSorted.join(', ')}.`;
}

export function setCondition(conditions: Json[] | undefined, c: Json): Json[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((x) => x.type === c.type);
  if (i < 0) return [...list, c];
  const prev = list[i];
  list[i] = { ...c, lastTransitionTime: prev.status === c.status ? prev.lastTransitionTime : c.lastTransitionTime };
  return list;
}
