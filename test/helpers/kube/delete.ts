// Deletion as the real server does it: preconditions, graceful pod deletion (deletionTimestamp, the kubelet finishes it),
// propagationPolicy (Background: now, dependents by the garbage collector; Foreground: after them; Orphan), finalizers.
import { commitUpdate } from './commit.js';
import { NAMESPACES, PODS, type ResourceInfo } from './resources.js';
import { ApiError, now, type KObject } from './types.js';
import type { Store } from './store.js';
import { badRequest, notFound, qualified } from './status.js';

export interface DeleteOptions {
  readonly propagationPolicy?: string;
  readonly gracePeriodSeconds?: number;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
}

function preconditionFailed(r: ResourceInfo, name: string, detail: string): ApiError {
  return new ApiError({
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Conflict', code: 409,
    message: `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${detail}`,
    details: { name, ...(r.group === '' ? {} : { group: r.group }), kind: r.resource },
  });
}

const inFuture = (seconds: number): string => new Date(Date.now() + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Deletes or marks for deletion; answers the object as it now is (with its deletion resourceVersion when gone). */
export function deleteObject(store: Store, r: ResourceInfo, ns: string | undefined, name: string, o: DeleteOptions): { object: KObject; gone: boolean } {
  const obj = store.get(r, ns, name);
  if (obj === undefined) throw notFound(r, name);
  if (o.preconditions?.uid !== undefined && o.preconditions.uid !== obj.metadata.uid) {
    throw preconditionFailed(r, name, `Precondition failed: UID in precondition: ${o.preconditions.uid}, UID in object meta: ${obj.metadata.uid ?? ''}`);
  }
  if (o.preconditions?.resourceVersion !== undefined && o.preconditions.resourceVersion !== obj.metadata.resourceVersion) {
    throw preconditionFailed(r, name, `Precondition failed: ResourceVersion in precondition: ${o.preconditions.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion ?? ''}`);
  }
  const policy = o.propagationPolicy ?? 'Background';
  if (!['Background', 'Foreground', 'Orphan'].includes(policy)) throw badRequest(`propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
  if (o.gracePeriodSeconds !== undefined && o.gracePeriodSeconds < 0) throw badRequest('gracePeriodSeconds: Invalid value: must be >= 0');

  if (r === PODS && obj.spec?.nodeName !== undefined) {
    const grace = o.gracePeriodSeconds ?? obj.spec?.terminationGracePeriodSeconds ?? 30;
    const terminal = obj.status?.phase === 'Succeeded' || obj.status?.phase === 'Failed';
    if (grace > 0 && !terminal && (obj.metadata.deletionGracePeriodSeconds === undefined || grace < obj.metadata.deletionGracePeriodSeconds)) {
      obj.metadata.deletionTimestamp = inFuture(grace);
      obj.metadata.deletionGracePeriodSeconds = grace;
      return { object: store.update(r, obj), gone: false };
    }
    if (grace > 0 && obj.metadata.deletionTimestamp !== undefined) return { object: obj, gone: false };
  }
  if (r === NAMESPACES) {
    if (obj.metadata.deletionTimestamp === undefined) {
      obj.metadata.deletionTimestamp = now();
      obj.status = { ...(obj.status ?? {}), phase: 'Terminating' };
      return { object: store.update(r, obj), gone: false };
    }
    return { object: obj, gone: false };
  }
  const finalizers = [...(obj.metadata.finalizers ?? [])];
  if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
  if (policy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
  if (finalizers.length > 0) {
    if (obj.metadata.deletionTimestamp !== undefined && finalizers.length === (obj.metadata.finalizers ?? []).length) return { object: obj, gone: false };
    obj.metadata.finalizers = finalizers;
    obj.metadata.deletionTimestamp ??= now();
    obj.metadata.deletionGracePeriodSeconds ??= 0;
    store.update(r, obj);
    return { object: store.get(r, ns, name) ?? obj, gone: false };
  }
  const removed = store.remove(r, ns, name);
  return { object: removed ?? obj, gone: true };
}

/** Removes a finalizer (the garbage collector's, when its work is done); the object goes when none is left. */
export function dropFinalizer(store: Store, r: ResourceInfo, obj: KObject, finalizer: string): void {
  const next = { ...obj, metadata: { ...obj.metadata, finalizers: (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer) } };
  commitUpdate(store, r, next, { manager: 'kube-controller-manager' });
}

/** Removes a pod whose containers the kubelet has stopped (the kubelet's final delete with grace 0). */
export function removePod(store: Store, ns: string, name: string): void {
  store.remove(PODS, ns, name);
}
