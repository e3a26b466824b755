// The scale subresource (autoscaling/v1 Scale) of Deployments and ReplicaSets.
import type { ResourceInfo } from './resources.js';
import { clone, type Json, type KObject } from './types.js';

function selectorString(sel: Json): string {
  const parts = Object.entries((sel?.matchLabels ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${v}`);
  for (const e of (sel?.matchExpressions ?? []) as { key: string; operator: string; values?: string[] }[]) {
    if (e.operator === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    if (e.operator === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    if (e.operator === 'Exists') parts.push(e.key);
    if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.sort().join(',');
}

export function getScale(_r: ResourceInfo, o: KObject): Json {
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: { name: o.metadata.name, namespace: o.metadata.namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
    spec: { replicas: o.spec?.replicas ?? 0 },
    status: { replicas: o.status?.replicas ?? 0, selector: selectorString(o.spec?.selector) },
  };
}

/** The object with spec.replicas set (everything else as stored). */
export function scaleTarget(o: KObject, replicas: number): KObject {
  const next = clone(o);
  next.spec = { ...next.spec, replicas };
  return next;
}
