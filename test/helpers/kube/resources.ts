// The resources the stand-in serves: group/version/kind, scope, subresources, and the models that describe and validate them.
export interface ResourceInfo {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly subresources: readonly string[];
  /** The @kubernetes/client-node model name: its attributeTypeMap is the field schema (unknown-field checks). */
  readonly model: string;
  /** The kubernetes-models module and class that validate objects against the official OpenAPI schema. */
  readonly validator: { readonly module: string; readonly name: string };
  /** Delete answers with the object (pods, namespaces, services) rather than a Status Success. */
  readonly returnsDeleted: boolean;
  /** PUT without metadata.resourceVersion is allowed (unconditional update). */
  readonly unconditionalUpdate: boolean;
  /** Whether metadata.generation counts spec changes. */
  readonly generation: boolean;
  readonly shortNames?: readonly string[];
  readonly readOnly?: boolean;
}

const core = (resource: string, kind: string, o: Partial<ResourceInfo> = {}): ResourceInfo => ({
  group: '', version: 'v1', resource, kind, namespaced: true, subresources: [], model: `V1${kind}`,
  validator: { module: `kubernetes-models/v1/${kind}`, name: kind }, returnsDeleted: false, unconditionalUpdate: true, generation: false, ...o,
});

export const RESOURCES: readonly ResourceInfo[] = [
  core('namespaces', 'Namespace', { namespaced: false, subresources: ['status'], returnsDeleted: true }),
  core('nodes', 'Node', { namespaced: false, subresources: ['status'], readOnly: true }),
  core('pods', 'Pod', { subresources: ['status', 'log', 'binding'], returnsDeleted: true }),
  core('services', 'Service', { subresources: ['status'], returnsDeleted: true }),
  core('secrets', 'Secret'),
  core('configmaps', 'ConfigMap'),
  core('events', 'Event', { model: 'CoreV1Event', validator: { module: 'kubernetes-models/v1/Event', name: 'Event' } }),
  {
    group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true, subresources: ['status', 'scale'], model: 'V1Deployment',
    validator: { module: 'kubernetes-models/apps/v1/Deployment', name: 'Deployment' }, returnsDeleted: false, unconditionalUpdate: true, generation: true,
  },
  {
    group: 'apps', version: 'v1', resource: 'replicasets', kind: 'ReplicaSet', namespaced: true, subresources: ['status', 'scale'], model: 'V1ReplicaSet',
    validator: { module: 'kubernetes-models/apps/v1/ReplicaSet', name: 'ReplicaSet' }, returnsDeleted: false, unconditionalUpdate: true, generation: true,
  },
  {
    group: 'events.k8s.io', version: 'v1', resource: 'events', kind: 'Event', namespaced: true, subresources: [], model: 'EventsV1Event',
    validator: { module: 'kubernetes-models/events.k8s.io/v1/Event', name: 'Event' }, returnsDeleted: false, unconditionalUpdate: true, generation: false,
  },
];

export const apiVersionOf = (r: Pick<ResourceInfo, 'group' | 'version'>): string => (r.group === '' ? r.version : `${r.group}/${r.version}`);

export function findResource(group: string, version: string, resource: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}

export function resourceForKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
}

export const PODS = findResource('', 'v1', 'pods') as ResourceInfo;
export const NAMESPACES = findResource('', 'v1', 'namespaces') as ResourceInfo;
export const NODES = findResource('', 'v1', 'nodes') as ResourceInfo;
export const EVENTS = findResource('', 'v1', 'events') as ResourceInfo;
export const NEW_EVENTS = findResource('events.k8s.io', 'v1', 'events') as ResourceInfo;
export const DEPLOYMENTS = findResource('apps', 'v1', 'deployments') as ResourceInfo;
export const REPLICASETS = findResource('apps', 'v1', 'replicasets') as ResourceInfo;
export const SERVICES = findResource('', 'v1', 'services') as ResourceInfo;

/** APIResourceList for discovery (`/api/v1`, `/apis/apps/v1`): what KubernetesObjectApi reads to map a kind to its path. */
export function resourceList(group: string, version: string): object | undefined {
  const rs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (rs.length === 0) return undefined;
  const verbs = (r: ResourceInfo): string[] => (r.readOnly === true ? ['get', 'list', 'watch'] : ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']);
  const resources: object[] = [];
  for (const r of rs) {
    resources.push({ name: r.resource, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: verbs(r) });
    for (const sub of r.subresources) {
      const kind = sub === 'scale' ? 'Scale' : sub === 'binding' ? 'Binding' : r.kind;
      const group = sub === 'scale' ? { group: 'autoscaling', version: 'v1' } : {};
      const subVerbs = sub === 'log' ? ['get'] : sub === 'binding' ? ['create'] : ['get', 'patch', 'update'];
      resources.push({ name: `${r.resource}/${sub}`, singularName: '', namespaced: r.namespaced, ...group, kind, verbs: subVerbs });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources };
}
