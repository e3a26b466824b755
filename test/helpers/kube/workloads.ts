// The deployment and replica set controllers: a ReplicaSet per pod template (`<deploy>-<hash>`, pod-template-hash label),
// pods `<rs>-<5 chars>` with the template's labels and ownerReferences, scaling, rolling updates (maxSurge /
// maxUnavailable) or Recreate, and the status and conditions kube-controller-manager reports.
import { commitCreate, commitUpdate } from './commit.js';
import { deleteObject } from './delete.js';
import type { EventRecorder } from './events.js';
import { deepEqual } from './fields.js';
import { DEPLOYMENTS, PODS, REPLICASETS } from './resources.js';
import { setCondition } from './scheduler.js';
import type { Change, Store } from './store.js';
import { clone, now, type Json, type KObject } from './types.js';

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';
const MANAGER = { manager: 'kube-controller-manager' } as const;

/** fnv-32a of the template, encoded as the controller's rand.SafeEncodeString does. */
export function templateHash(template: Json): string {
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(JSON.stringify(template))) h = Math.imul(h ^ ch, 0x01000193) >>> 0;
  return [...String(h)].map((c) => SAFE[c.charCodeAt(0) % SAFE.length]).join('');
}

const isReady = (p: KObject): boolean => (p.status?.conditions ?? []).some((c: Json) => c.type === 'Ready' && c.status === 'True');
const owned = (o: KObject, owner: KObject): boolean => (o.metadata.ownerReferences ?? []).some((r) => r.controller === true && r.uid === owner.metadata.uid);
const ownerRef = (o: KObject): Json => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, uid: o.metadata.uid, controller: true, blockOwnerDeletion: true });

function intOrPercent(v: Json, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  const pct = Number(String(v).replace('%', '')) / 100;
  return roundUp ? Math.ceil(pct * total) : Math.floor(pct * total);
}

export class WorkloadControllers {
  private readonly queued = new Set<string>();
  private readonly unsubscribe: () => void;
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly store: Store, private readonly events: EventRecorder) {
    this.unsubscribe = store.subscribe((c) => this.onChange(c));
  }

  stop(): void {
    this.unsubscribe();
    for (const t of this.timers.values()) clearTimeout(t);
  }

  private onChange(c: Change): void {
    const o = c.object;
    const ns = o.metadata.namespace ?? '';
    if (c.resource === DEPLOYMENTS) this.enqueue(`d/${ns}/${o.metadata.name ?? ''}`);
    if (c.resource === REPLICASETS && c.type !== 'DELETED') this.enqueue(`r/${ns}/${o.metadata.name ?? ''}`);
    if (c.resource === REPLICASETS || c.resource === PODS) {
      for (const ref of o.metadata.ownerReferences ?? []) {
        if (ref.kind === 'ReplicaSet') this.enqueue(`r/${ns}/${ref.name}`);
        if (ref.kind === 'Deployment') this.enqueue(`d/${ns}/${ref.name}`);
      }
    }
  }

  private enqueue(key: string): void {
    if (this.queued.has(key)) return;
    this.queued.add(key);
    setImmediate(() => {
      this.queued.delete(key);
      const [kind, ns, name] = key.split('/') as [string, string, string];
      if (kind === 'r') this.syncReplicaSet(ns, name);
      else this.syncDeployment(ns, name);
    });
  }

  private later(ms: number, key: string): void {
    if (this.timers.has(key)) return;
    this.timers.set(key, setTimeout(() => {
      this.timers.delete(key);
      this.enqueue(key);
    }, ms));
  }

  private syncReplicaSet(ns: string, name: string): void {
    const rs = this.store.get(REPLICASETS, ns, name);
    if (rs === undefined) return;
    const all = this.store.list(PODS, ns).filter((p) => owned(p, rs));
    const pods = all.filter((p) => p.metadata.deletionTimestamp === undefined && p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded');
    const want = rs.metadata.deletionTimestamp === undefined ? rs.spec?.replicas ?? 1 : pods.length;
    for (let i = pods.length; i < want; i++) {
      const pod: KObject = {
        apiVersion: 'v1', kind: 'Pod',
        metadata: { name: `${name}-${Array.from({ length: 5 }, () => SAFE[Math.floor(Math.random() * SAFE.length)]).join('')}`, namespace: ns, labels: { ...(rs.spec.template?.metadata?.labels ?? {}) }, annotations: { ...(rs.spec.template?.metadata?.annotations ?? {}) }, ownerReferences: [ownerRef(rs)] },
        spec: clone(rs.spec.template?.spec),
      };
      try {
        const created = commitCreate(this.store, PODS, pod, MANAGER);
        pods.push(created);
        this.events.record({ regarding: rs, reason: 'SuccessfulCreate', message: `Created pod: ${created.metadata.name}`, type: 'Normal', component: 'replicaset-controller' });
      } catch (err) {
        this.events.record({ regarding: rs, reason: 'FailedCreate', message: `Error creating: ${(err as Error).message}`, type: 'Warning', component: 'replicaset-controller' });
        break;
      }
    }
    if (pods.length > want) {
      const rank = (p: KObject): number => (p.spec?.nodeName === undefined ? 0 : p.status?.phase === 'Pending' ? 1 : !isReady(p) ? 2 : 3);
      // As the real controller ranks them: unassigned, pending, not ready first; then the lower pod-deletion-cost; then the newest.
      const cost = (p: KObject): number => Number(p.metadata.annotations?.['controller.kubernetes.io/pod-deletion-cost'] ?? 0) || 0;
      const victims = [...pods].sort((a, b) => rank(a) - rank(b) || cost(a) - cost(b) || String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp))).slice(0, pods.length - want);
      for (const v of victims) {
        try {
          deleteObject(this.store, PODS, ns, v.metadata.name ?? '', {});
          this.events.record({ regarding: rs, reason: 'SuccessfulDelete', message: `Deleted pod: ${v.metadata.name}`, type: 'Normal', component: 'replicaset-controller' });
        } catch {
          // gone already
        }
      }
    }
    const live = this.store.list(PODS, ns).filter((p) => owned(p, rs) && p.metadata.deletionTimestamp === undefined);
    const ready = live.filter(isReady).length;
    const status = { replicas: live.length, fullyLabeledReplicas: live.length, readyReplicas: ready, availableReplicas: ready, observedGeneration: rs.metadata.generation };
    const clean = Object.fromEntries(Object.entries(status).filter(([k, v]) => v !== 0 || k === 'replicas'));
    if (!deepEqual(rs.status, clean)) commitUpdate(this.store, REPLICASETS, { ...rs, status: clean }, { ...MANAGER, subresource: 'status' });
  }

  private syncDeployment(ns: string, name: string): void {
    const d = this.store.get(DEPLOYMENTS, ns, name);
    if (d === undefined || d.metadata.deletionTimestamp !== undefined) return;
    const replicas: number = d.spec.replicas ?? 1;
    const hash = templateHash(d.spec.template);
    const rses = this.store.list(REPLICASETS, ns).filter((rs) => owned(rs, d));
    let newRs = rses.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
    const olds = rses.filter((rs) => rs !== newRs);
    const strategy = d.spec.strategy ?? { type: 'RollingUpdate' };
    const surge = strategy.type === 'RollingUpdate' ? intOrPercent(strategy.rollingUpdate?.maxSurge ?? '25%', replicas, true) : 0;
    let unavailable = strategy.type === 'RollingUpdate' ? intOrPercent(strategy.rollingUpdate?.maxUnavailable ?? '25%', replicas, false) : 0;
    if (surge === 0 && unavailable === 0) unavailable = 1;
    let created = false;
    if (newRs === undefined) {
      const revision = Math.max(0, ...rses.map((rs) => Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0))) + 1;
      const labels = { ...(d.spec.template.metadata?.labels ?? {}), 'pod-template-hash': hash };
      const template = clone(d.spec.template);
      template.metadata = { ...(template.metadata ?? {}), labels };
      newRs = commitCreate(this.store, REPLICASETS, {
        apiVersion: 'apps/v1', kind: 'ReplicaSet',
        metadata: { name: `${name}-${hash}`, namespace: ns, labels, ownerReferences: [ownerRef(d)], annotations: { 'deployment.kubernetes.io/desired-replicas': String(replicas), 'deployment.kubernetes.io/max-replicas': String(replicas + surge), 'deployment.kubernetes.io/revision': String(revision) } },
        spec: { replicas: 0, minReadySeconds: d.spec.minReadySeconds ?? 0, selector: { ...clone(d.spec.selector), matchLabels: { ...(d.spec.selector?.matchLabels ?? {}), 'pod-template-hash': hash } }, template },
      }, MANAGER);
      created = true;
    }
    const scale = (rs: KObject, to: number): void => {
      const from = rs.spec.replicas ?? 0;
      if (from === to) return;
      commitUpdate(this.store, REPLICASETS, { ...rs, spec: { ...rs.spec, replicas: to }, metadata: { ...rs.metadata, annotations: { ...(rs.metadata.annotations ?? {}), 'deployment.kubernetes.io/desired-replicas': String(replicas) } } }, MANAGER);
      this.events.record({ regarding: d, reason: 'ScalingReplicaSet', message: `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata.name} to ${to} from ${from}`, type: 'Normal', component: 'deployment-controller' });
    };
    const avail = (rs: KObject): number => rs.status?.availableReplicas ?? 0;
    if (strategy.type === 'Recreate') {
      for (const rs of olds) scale(rs, 0);
      const oldPods = this.store.list(PODS, ns).filter((p) => olds.some((rs) => owned(p, rs)));
      if (oldPods.length === 0) scale(newRs, replicas);
    } else if (olds.every((rs) => (rs.spec.replicas ?? 0) === 0)) scale(newRs, replicas);
    else {
      const total = rses.reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);
      const up = Math.min(replicas, (newRs.spec.replicas ?? 0) + Math.max(0, replicas + surge - total));
      scale(newRs, up);
      const fresh = this.store.get(REPLICASETS, ns, newRs.metadata.name ?? '') ?? newRs;
      let canRemove = olds.reduce((n, rs) => n + avail(rs), 0) + avail(fresh) - (replicas - unavailable);
      for (const rs of olds) {
        const unhealthy = (rs.spec.replicas ?? 0) - avail(rs);
        const cut = Math.min(rs.spec.replicas ?? 0, Math.max(0, canRemove) + unhealthy);
        if (cut > 0) scale(rs, (rs.spec.replicas ?? 0) - cut);
        canRemove -= Math.max(0, cut - unhealthy);
      }
    }
    this.writeStatus(d, this.store.get(REPLICASETS, ns, newRs.metadata.name ?? '') ?? newRs, this.store.list(REPLICASETS, ns).filter((rs) => owned(rs, d)), replicas, unavailable, created);
  }

  private writeStatus(d: KObject, newRs: KObject, all: KObject[], replicas: number, maxUnavailable: number, created: boolean): void {
    const sum = (f: (rs: KObject) => number): number => all.reduce((n, rs) => n + f(rs), 0);
    const available = sum((rs) => rs.status?.availableReplicas ?? 0);
    const total = sum((rs) => rs.status?.replicas ?? 0);
    const updated = newRs.status?.replicas ?? 0;
    const t = now();
    let conditions = d.status?.conditions ?? [];
    const availableOk = available >= replicas - maxUnavailable;
    conditions = setCondition(conditions, availableOk
      ? { type: 'Available', status: 'True', lastUpdateTime: t, lastTransitionTime: t, reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
      : { type: 'Available', status: 'False', lastUpdateTime: t, lastTransitionTime: t, reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' });
    const rsName = newRs.metadata.name;
    const complete = updated === replicas && (newRs.status?.availableReplicas ?? 0) === replicas && total === replicas;
    const prev = conditions.find((c: Json) => c.type === 'Progressing');
    const deadline = (d.spec.progressDeadlineSeconds ?? 600) * 1000;
    let progressing: Json;
    if (complete) progressing = { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` };
    else if (created || prev === undefined) progressing = { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${rsName}"` };
    else if (prev.reason === 'ProgressDeadlineExceeded' || Date.now() - Date.parse(prev.lastUpdateTime) > deadline) progressing = { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rsName}" has timed out progressing.` };
    else progressing = { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` };
    const moved = prev === undefined || prev.reason !== progressing.reason || (d.status?.updatedReplicas ?? 0) !== updated || (d.status?.availableReplicas ?? 0) !== available;
    progressing = { ...progressing, lastUpdateTime: moved ? t : prev.lastUpdateTime, lastTransitionTime: t };
    conditions = setCondition(conditions, progressing);
    if (!complete && progressing.status === 'True') this.later(deadline + 50, `d/${d.metadata.namespace}/${d.metadata.name}`);
    const status: Json = {
      observedGeneration: d.metadata.generation, replicas: total, updatedReplicas: updated, readyReplicas: sum((rs) => rs.status?.readyReplicas ?? 0),
      availableReplicas: available, unavailableReplicas: Math.max(0, replicas - available), conditions,
    };
    for (const k of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas']) if (status[k] === 0) delete status[k];
    const same = (a: Json, b: Json): boolean => deepEqual({ ...a, conditions: (a?.conditions ?? []).map((c: Json) => ({ ...c, lastUpdateTime: 0, lastTransitionTime: 0 })) }, { ...b, conditions: (b?.conditions ?? []).map((c: Json) => ({ ...c, lastUpdateTime: 0, lastTransitionTime: 0 })) });
    if (!same(d.status ?? {}, status)) commitUpdate(this.store, DEPLOYMENTS, { ...d, status }, { ...MANAGER, subresource: 'status' });
  }
}
