// The write path every change goes through: defaulting, validation (422), status/spec separation, generation,
// managedFields, no-op detection (no new resourceVersion), and deletion once the last finalizer is gone.
import { admitPod, applyDefaults } from './defaults.js';
import { deepEqual } from './fields.js';
import { recordUpdate } from './managed.js';
import { apiVersionOf, type ResourceInfo } from './resources.js';
import { schemaProblems } from './schema.js';
import { conflict, invalid, notFound, required, type FieldError } from './status.js';
import type { Store } from './store.js';
import { clone, type KObject, type ManagedFieldsEntry } from './types.js';
import { validateObject } from './validate.js';

export interface CommitOptions {
  readonly manager: string;
  /** 'status' for the status subresource; undefined for the object itself. */
  readonly subresource?: string;
  /** managedFields computed by server-side apply (else recorded as an Update by `manager`). */
  readonly managedFields?: ManagedFieldsEntry[];
  /** A PUT's metadata.resourceVersion precondition. */
  readonly expectRv?: string;
}

const hasStatus = (r: ResourceInfo): boolean => r.subresources.includes('status');

/** Schema and semantic checks of a whole object; throws 422. */
export function check(r: ResourceInfo, obj: KObject, old: KObject | undefined): void {
  const errs: FieldError[] = schemaProblems(r, obj, false).filter((p) => p.keyword === 'required').map((p) => required(p.field));
  errs.push(...validateObject(obj, old).filter((e) => !errs.some((x) => x.field === e.field && x.body === e.body)));
  if (errs.length > 0) throw invalid(r.group, r.kind, obj.metadata.name ?? '', errs);
}

/** Creates `obj`; the caller has checked the namespace and that the name is free. */
export function commitCreate(store: Store, r: ResourceInfo, input: KObject, o: CommitOptions): KObject {
  const obj = clone(input);
  obj.apiVersion = apiVersionOf(r);
  obj.kind = r.kind;
  for (const k of ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink'] as const) delete obj.metadata[k];
  if (hasStatus(r) && obj.kind !== 'Namespace') delete obj.status;
  applyDefaults(obj);
  if (obj.kind === 'Pod') {
    admitPod(obj);
    obj.status = { phase: 'Pending', qosClass: qosClass(obj) };
  }
  if (obj.kind === 'Namespace') obj.status = { phase: 'Active' };
  check(r, obj, undefined);
  obj.metadata.managedFields = o.managedFields ?? recordUpdate(undefined, obj, o.manager, apiVersionOf(r), hasStatus(r));
  return store.create(r, obj);
}

/** Writes a new version of an existing object; answers the stored object itself when nothing changed. */
export function commitUpdate(store: Store, r: ResourceInfo, input: KObject, o: CommitOptions): KObject {
  const ns = r.namespaced ? input.metadata.namespace : undefined;
  const name = input.metadata.name ?? '';
  const old = store.get(r, ns, name);
  if (old === undefined) throw notFound(r, name);
  if (o.expectRv !== undefined && o.expectRv !== '' && o.expectRv !== old.metadata.resourceVersion) throw conflict(r, name);
  let obj = clone(input);
  obj.apiVersion = apiVersionOf(r);
  obj.kind = r.kind;
  if (hasStatus(r)) {
    if (o.subresource === 'status') obj = { ...old, status: obj.status, metadata: { ...old.metadata, labels: obj.metadata.labels ?? old.metadata.labels, annotations: obj.metadata.annotations ?? old.metadata.annotations } };
    else if (old.status !== undefined) obj.status = old.status;
    else delete obj.status;
  }
  for (const k of ['uid', 'creationTimestamp', 'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const) {
    if (old.metadata[k] === undefined) delete obj.metadata[k];
    else (obj.metadata as Record<string, unknown>)[k] = old.metadata[k];
  }
  // Finalizers may be removed but not added once deletion started (the real server forbids additions then).
  if (old.metadata.deletionTimestamp !== undefined) obj.metadata.finalizers = (obj.metadata.finalizers ?? []).filter((f) => (old.metadata.finalizers ?? []).includes(f));
  applyDefaults(obj);
  if (obj.kind === 'Pod') obj.spec = { ...obj.spec, nodeName: old.spec?.nodeName, priority: old.spec?.priority, preemptionPolicy: old.spec?.preemptionPolicy };
  if (obj.kind === 'Pod' && obj.spec.nodeName === undefined) delete obj.spec.nodeName;
  check(r, obj, old);
  if (r.generation && !deepEqual(old.spec, obj.spec)) obj.metadata.generation = (old.metadata.generation ?? 1) + 1;
  obj.metadata.managedFields = o.managedFields ?? recordUpdate(old, obj, o.manager, apiVersionOf(r), hasStatus(r), o.subresource);
  obj.metadata.resourceVersion = old.metadata.resourceVersion;
  if (deepEqual(obj, old)) return old;
  if (obj.metadata.deletionTimestamp !== undefined && (obj.metadata.finalizers ?? []).length === 0 && !(obj.kind === 'Pod' && obj.spec?.nodeName !== undefined)) {
    store.update(r, obj);
    return store.remove(r, ns, name) ?? obj;
  }
  return store.update(r, obj);
}

/** Guaranteed, Burstable or BestEffort, from the containers' requests and limits. */
export function qosClass(pod: KObject): string {
  const cs = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])] as { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }[];
  const any = cs.some((c) => Object.keys(c.resources?.requests ?? {}).length > 0 || Object.keys(c.resources?.limits ?? {}).length > 0);
  if (!any) return 'BestEffort';
  const guaranteed = cs.every((c) => ['cpu', 'memory'].every((k) => c.resources?.limits?.[k] !== undefined && (c.resources.requests?.[k] ?? c.resources.limits[k]) === c.resources.limits[k]));
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
