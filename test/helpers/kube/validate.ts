// The API server's own validation of what berth writes (pkg/apis/*/validation): names, labels, pod specs, Deployments,
// Services, Secrets, and fields that may not change on update, worded as the real server words them.
import { configKey, dns1035Label, dns1123Label, dns1123Subdomain, envVarName, validateAnnotations, validateLabels, validateName } from './names.js';
import { deepEqual } from './fields.js';
import { quantityValue } from './quantity.js';
import { selectorMatches } from './selectors.js';
import { duplicate, fieldNotFound, forbidden, goValue, invalidRendered, invalidValue, notSupported, required, type FieldError } from './status.js';
import type { Json, KObject } from './types.js';

const STANDARD = new Set(['cpu', 'memory', 'ephemeral-storage']);

function validateContainer(c: Json, f: string, volumes: ReadonlySet<string>, out: FieldError[]): void {
  if (c.name === undefined || c.name === '') out.push(required(`${f}.name`));
  else for (const m of dns1123Label(c.name)) out.push(invalidValue(`${f}.name`, c.name, m));
  if (c.image === undefined || String(c.image).trim() === '') out.push(required(`${f}.image`));
  if (c.imagePullPolicy !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(c.imagePullPolicy)) out.push(notSupported(`${f}.imagePullPolicy`, c.imagePullPolicy, ['Always', 'IfNotPresent', 'Never']));
  if (c.terminationMessagePolicy !== undefined && !['File', 'FallbackToLogsOnError'].includes(c.terminationMessagePolicy)) out.push(notSupported(`${f}.terminationMessagePolicy`, c.terminationMessagePolicy, ['File', 'FallbackToLogsOnError']));
  (c.ports ?? []).forEach((p: Json, i: number) => {
    if (!(p.containerPort >= 1 && p.containerPort <= 65535)) out.push(invalidValue(`${f}.ports[${i}].containerPort`, p.containerPort, 'must be between 1 and 65535, inclusive'));
    if (p.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(p.protocol)) out.push(notSupported(`${f}.ports[${i}].protocol`, p.protocol, ['SCTP', 'TCP', 'UDP']));
  });
  (c.env ?? []).forEach((e: Json, i: number) => {
    if (e.name === undefined || e.name === '') out.push(required(`${f}.env[${i}].name`));
    else for (const m of envVarName(e.name)) out.push(invalidValue(`${f}.env[${i}].name`, e.name, m));
  });
  const mounts = new Set<string>();
  (c.volumeMounts ?? []).forEach((m: Json, i: number) => {
    if (m.name === undefined || m.name === '') out.push(required(`${f}.volumeMounts[${i}].name`));
    else if (!volumes.has(m.name)) out.push(fieldNotFound(`${f}.volumeMounts[${i}].name`, m.name));
    if (m.mountPath === undefined || m.mountPath === '') out.push(required(`${f}.volumeMounts[${i}].mountPath`));
    else if (mounts.has(m.mountPath)) out.push(invalidValue(`${f}.volumeMounts[${i}].mountPath`, m.mountPath, 'must be unique'));
    mounts.add(m.mountPath);
  });
  for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
    const p = c[kind];
    if (p === undefined) continue;
    const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((h) => p[h] !== undefined);
    if (handlers.length === 0) out.push(required(`${f}.${kind}`, 'must specify a handler type'));
    if (handlers.length > 1) out.push(forbidden(`${f}.${kind}.${handlers[1] as string}`, 'may not specify more than 1 handler type'));
    if (kind !== 'readinessProbe' && p.successThreshold !== undefined && p.successThreshold !== 1) out.push(invalidValue(`${f}.${kind}.successThreshold`, p.successThreshold, 'must be 1'));
    for (const k of ['periodSeconds', 'timeoutSeconds', 'failureThreshold', 'successThreshold', 'initialDelaySeconds']) {
      if (p[k] !== undefined && p[k] < 0) out.push(invalidValue(`${f}.${kind}.${k}`, p[k], 'must be greater than or equal to 0'));
    }
    const port = p.httpGet?.port;
    if (p.httpGet !== undefined && typeof port === 'number' && !(port >= 1 && port <= 65535)) out.push(invalidValue(`${f}.${kind}.httpGet.port`, port, 'must be between 1 and 65535, inclusive'));
  }
  const limits = (c.resources?.limits ?? {}) as Record<string, string>;
  const requests = (c.resources?.requests ?? {}) as Record<string, string>;
  for (const [name, req] of Object.entries(requests)) {
    const lim = limits[name];
    const field = `${f}.resources.requests[${name}]`;
    if (STANDARD.has(name)) {
      if (lim !== undefined && quantityValue(req) > quantityValue(lim)) out.push(invalidValue(`${f}.resources.requests`, req, `must be less than or equal to ${name} limit of ${lim}`));
    } else if (lim === undefined) out.push(forbidden(field, 'Limit must be set for non overcommitable resources'));
    else if (quantityValue(req) !== quantityValue(lim)) out.push(invalidValue(field, req, `must be equal to ${name} limit of ${lim}`));
  }
  for (const [kind, m] of [['limits', limits], ['requests', requests]] as const) {
    for (const [name, q] of Object.entries(m)) if (quantityValue(q) < 0) out.push(invalidValue(`${f}.resources.${kind}[${name}]`, q, 'must be greater than or equal to 0'));
  }
}

export function validatePodSpec(spec: Json, f: string, out: FieldError[]): void {
  if (spec === undefined) {
    out.push(required(f));
    return;
  }
  const volumes = new Set<string>();
  (spec.volumes ?? []).forEach((v: Json, i: number) => {
    if (v.name === undefined) out.push(required(`${f}.volumes[${i}].name`));
    else {
      for (const m of dns1123Label(v.name)) out.push(invalidValue(`${f}.volumes[${i}].name`, v.name, m));
      if (volumes.has(v.name)) out.push(duplicate(`${f}.volumes[${i}].name`, v.name));
      volumes.add(v.name);
    }
    const sources = Object.keys(v).filter((k) => k !== 'name');
    if (sources.length === 0) out.push(required(`${f}.volumes[${i}]`, 'must specify a volume type'));
    if (sources.length > 1) out.push(forbidden(`${f}.volumes[${i}].${sources[1] as string}`, 'may not specify more than 1 volume type'));
  });
  if (spec.containers === undefined || spec.containers.length === 0) out.push(required(`${f}.containers`));
  const names = new Set<string>();
  for (const [list, items] of [['initContainers', spec.initContainers ?? []], ['containers', spec.containers ?? []]] as const) {
    (items as Json[]).forEach((c, i) => {
      validateContainer(c, `${f}.${list}[${i}]`, volumes, out);
      if (c.name !== undefined && names.has(c.name)) out.push(duplicate(`${f}.${list}[${i}].name`, c.name));
      names.add(c.name);
    });
  }
  if (spec.restartPolicy !== undefined && !['Always', 'OnFailure', 'Never'].includes(spec.restartPolicy)) out.push(notSupported(`${f}.restartPolicy`, spec.restartPolicy, ['Always', 'OnFailure', 'Never']));
  (spec.imagePullSecrets ?? []).forEach((s: Json, i: number) => {
    if (s.name === undefined || s.name === '') out.push(required(`${f}.imagePullSecrets[${i}].name`));
  });
  if (spec.terminationGracePeriodSeconds !== undefined && spec.terminationGracePeriodSeconds < 0) out.push(invalidValue(`${f}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds, 'must be greater than or equal to 0'));
}

function goSelector(s: Json): string {
  const ml = s?.matchLabels === undefined ? 'map[string]string(nil)' : goValue(s.matchLabels);
  const me = s?.matchExpressions === undefined ? '[]v1.LabelSelectorRequirement(nil)' : `[]v1.LabelSelectorRequirement{${JSON.stringify(s.matchExpressions)}}`;
  return `v1.LabelSelector{MatchLabels:${ml}, MatchExpressions:${me}}`;
}

function validateWorkload(obj: KObject, old: KObject | undefined, out: FieldError[]): void {
  const s = obj.spec ?? {};
  if (s.replicas !== undefined && s.replicas < 0) out.push(invalidValue('spec.replicas', s.replicas, 'must be greater than or equal to 0'));
  if (s.selector === undefined) out.push(required('spec.selector'));
  else if (Object.keys(s.selector.matchLabels ?? {}).length === 0 && (s.selector.matchExpressions ?? []).length === 0) {
    out.push(invalidRendered('spec.selector', goSelector(s.selector), `empty selector is invalid for ${obj.kind === 'Deployment' ? 'deployment' : 'replicaset'}`));
  } else {
    out.push(...validateLabels(s.selector.matchLabels, 'spec.selector.matchLabels'));
    if (!selectorMatches(s.selector, s.template?.metadata?.labels ?? {})) out.push(invalidValue('spec.template.metadata.labels', s.template?.metadata?.labels ?? {}, '`selector` does not match template `labels`'));
  }
  if (old !== undefined && !deepEqual(old.spec?.selector, s.selector)) out.push(invalidRendered('spec.selector', goSelector(s.selector), 'field is immutable'));
  out.push(...validateLabels(s.template?.metadata?.labels, 'spec.template.metadata.labels'));
  validatePodSpec(s.template?.spec, 'spec.template.spec', out);
  const rp = s.template?.spec?.restartPolicy;
  if (rp !== undefined && rp !== 'Always') out.push(notSupported('spec.template.spec.restartPolicy', rp, ['Always']));
  if (obj.kind === 'Deployment' && s.progressDeadlineSeconds !== undefined && s.progressDeadlineSeconds <= (s.minReadySeconds ?? 0)) {
    out.push(invalidValue('spec.progressDeadlineSeconds', s.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
  }
}

function validateService(obj: KObject, old: KObject | undefined, out: FieldError[]): void {
  const s = obj.spec ?? {};
  const ports: Json[] = s.ports ?? [];
  if (ports.length === 0 && s.type !== 'ExternalName' && s.clusterIP !== 'None') out.push(required('spec.ports'));
  const names = new Set<string>();
  ports.forEach((p, i) => {
    if (ports.length > 1 && (p.name === undefined || p.name === '')) out.push(required(`spec.ports[${i}].name`));
    if (p.name !== undefined) {
      if (names.has(p.name)) out.push(duplicate(`spec.ports[${i}].name`, p.name));
      names.add(p.name);
    }
    if (!(p.port >= 1 && p.port <= 65535)) out.push(invalidValue(`spec.ports[${i}].port`, p.port, 'must be between 1 and 65535, inclusive'));
  });
  out.push(...validateLabels(s.selector, 'spec.selector'));
  if (!['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'].includes(s.type ?? 'ClusterIP')) out.push(notSupported('spec.type', s.type, ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort']));
  if (old !== undefined && s.clusterIP !== undefined && s.clusterIP !== '' && s.clusterIP !== old.spec?.clusterIP) out.push(invalidValue('spec.clusterIPs[0]', s.clusterIP, 'may not change once set'));
}

const POD_MUTABLE = 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

function podSpecWithoutMutable(spec: Json): Json {
  const s = JSON.parse(JSON.stringify(spec ?? {}));
  for (const c of [...(s.containers ?? []), ...(s.initContainers ?? [])]) delete c.image;
  delete s.activeDeadlineSeconds;
  delete s.tolerations;
  return s;
}

/** Every check for `obj` (`old`: the stored object on update). */
export function validateObject(obj: KObject, old: KObject | undefined): FieldError[] {
  const out: FieldError[] = [];
  const rule = obj.kind === 'Service' ? dns1035Label : obj.kind === 'Namespace' ? dns1123Label : dns1123Subdomain;
  out.push(...validateName(obj.metadata.name, rule));
  out.push(...validateLabels(obj.metadata.labels, 'metadata.labels'), ...validateAnnotations(obj.metadata.annotations, 'metadata.annotations'));
  switch (obj.kind) {
    case 'Deployment':
    case 'ReplicaSet':
      validateWorkload(obj, old, out);
      break;
    case 'Pod':
      validatePodSpec(obj.spec, 'spec', out);
      if (old !== undefined && !deepEqual(podSpecWithoutMutable(old.spec), podSpecWithoutMutable(obj.spec))) out.push(forbidden('spec', POD_MUTABLE));
      break;
    case 'Service':
      validateService(obj, old, out);
      break;
    case 'Secret':
    case 'ConfigMap':
      for (const k of Object.keys({ ...(obj.data ?? {}), ...(obj.binaryData ?? {}) })) for (const m of configKey(k)) out.push(invalidValue(`data[${k}]`, k, m));
      if (obj.kind === 'Secret' && old !== undefined && old.type !== obj.type) out.push(invalidValue('type', obj.type, 'field is immutable'));
      break;
  }
  return out;
}
