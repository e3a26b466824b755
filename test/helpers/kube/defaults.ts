// What the real API server fills in on write (defaulting and admission): pod spec and container defaults, a Deployment's
// strategy and limits, a Service's type and ports, a Secret's type, a Namespace's finalizer and phase, canonical quantities.
import { canonicalMap } from './quantity.js';
import type { Json, KObject } from './types.js';

function defaultProbe(p: Json): void {
  if (p === undefined) return;
  p.timeoutSeconds ??= 1;
  p.periodSeconds ??= 10;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  if (p.httpGet !== undefined) p.httpGet.scheme ??= 'HTTP';
}

function defaultContainer(c: Json): void {
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  if (c.imagePullPolicy === undefined && typeof c.image === 'string') {
    const last = c.image.split('/').pop() as string;
    const tagged = c.image.includes('@') || (last.includes(':') && !last.endsWith(':latest'));
    c.imagePullPolicy = tagged ? 'IfNotPresent' : 'Always';
  }
  for (const port of c.ports ?? []) port.protocol ??= 'TCP';
  c.resources ??= {};
  if (c.resources.limits !== undefined) {
    c.resources.limits = canonicalMap(c.resources.limits);
    c.resources.requests = { ...c.resources.limits, ...(c.resources.requests ?? {}) };
  }
  if (c.resources.requests !== undefined) c.resources.requests = canonicalMap(c.resources.requests);
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  for (const e of c.env ?? []) if (e.valueFrom?.fieldRef !== undefined) e.valueFrom.fieldRef.apiVersion ??= 'v1';
}

export function defaultPodSpec(spec: Json): void {
  if (spec === undefined) return;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  spec.enableServiceLinks ??= true;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) defaultContainer(c);
  for (const v of spec.volumes ?? []) {
    if (v.secret !== undefined) v.secret.defaultMode ??= 420;
    if (v.configMap !== undefined) v.configMap.defaultMode ??= 420;
  }
}

/** Defaults for an object of `kind` (on create, update and apply alike). */
export function applyDefaults(obj: KObject): void {
  switch (obj.kind) {
    case 'Pod':
      defaultPodSpec(obj.spec);
      break;
    case 'Deployment': {
      const s = (obj.spec ??= {});
      s.replicas ??= 1;
      s.revisionHistoryLimit ??= 10;
      s.progressDeadlineSeconds ??= 600;
      s.strategy ??= { type: 'RollingUpdate' };
      s.strategy.type ??= 'RollingUpdate';
      if (s.strategy.type === 'RollingUpdate') {
        s.strategy.rollingUpdate ??= {};
        s.strategy.rollingUpdate.maxSurge ??= '25%';
        s.strategy.rollingUpdate.maxUnavailable ??= '25%';
      }
      defaultPodSpec(s.template?.spec);
      break;
    }
    case 'ReplicaSet':
      obj.spec ??= {};
      obj.spec.replicas ??= 1;
      defaultPodSpec(obj.spec.template?.spec);
      break;
    case 'Service': {
      const s = (obj.spec ??= {});
      s.type ??= 'ClusterIP';
      s.sessionAffinity ??= 'None';
      s.internalTrafficPolicy ??= 'Cluster';
      s.ipFamilies ??= ['IPv4'];
      s.ipFamilyPolicy ??= 'SingleStack';
      for (const p of s.ports ?? []) {
        p.protocol ??= 'TCP';
        p.targetPort ??= p.port;
      }
      break;
    }
    case 'Secret':
      obj.type ??= 'Opaque';
      if (obj.stringData !== undefined) {
        obj.data = { ...(obj.data ?? {}) };
        for (const [k, v] of Object.entries(obj.stringData as Record<string, string>)) obj.data[k] = Buffer.from(v).toString('base64');
        delete obj.stringData;
      }
      break;
    case 'Namespace':
      obj.spec ??= {};
      obj.spec.finalizers ??= ['kubernetes'];
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name ?? '' };
      break;
  }
}

/** Admission on pod creation: priority, and the default tolerations for not-ready and unreachable nodes. */
export function admitPod(pod: KObject): void {
  pod.spec.priority ??= 0;
  pod.spec.preemptionPolicy ??= 'PreemptLowerPriority';
  const tolerations: Json[] = (pod.spec.tolerations ??= []);
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerations.some((t) => t.key === key)) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  }
}
