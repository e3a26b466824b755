// What Docker container a pod's container becomes: image, command/args, env (values, fieldRef, secretKeyRef,
// configMapKeyRef), workingDir, volume mounts (readOnly honoured), memory limit without swap, CPU limit, network.
import type Docker from 'dockerode';
import { quantityValue } from '../quantity.js';
import type { Json, KObject } from '../types.js';
import { LABEL } from './docker-ops.js';

export interface ContainerContext {
  readonly pod: KObject;
  readonly podIP: string;
  readonly instance: string;
  /** Host folder of each volume (emptyDir, secret, configMap, hostPath). */
  readonly volumes: ReadonlyMap<string, string>;
  /** Join the pod's network (the sandbox container), or the host's (init containers: see kubelet/index.ts). */
  readonly network: { readonly sandboxId: string } | 'host';
  readonly lookup: (kind: 'Secret' | 'ConfigMap', name: string) => KObject | undefined;
}

function envValue(ctx: ContainerContext, e: Json): string | undefined {
  if (e.value !== undefined) return String(e.value);
  const f = e.valueFrom;
  if (f === undefined) return '';
  if (f.fieldRef !== undefined) {
    const m: Record<string, string | undefined> = {
      'metadata.name': ctx.pod.metadata.name, 'metadata.namespace': ctx.pod.metadata.namespace, 'metadata.uid': ctx.pod.metadata.uid,
      'spec.nodeName': ctx.pod.spec.nodeName, 'spec.serviceAccountName': ctx.pod.spec.serviceAccountName, 'status.podIP': ctx.podIP, 'status.hostIP': '127.0.0.1',
    };
    return m[f.fieldRef.fieldPath] ?? '';
  }
  const ref = f.secretKeyRef ?? f.configMapKeyRef;
  if (ref !== undefined) {
    const obj = ctx.lookup(f.secretKeyRef !== undefined ? 'Secret' : 'ConfigMap', ref.name);
    const raw = obj?.data?.[ref.key];
    if (raw === undefined) return ref.optional === true ? undefined : '';
    return f.secretKeyRef !== undefined ? Buffer.from(raw, 'base64').toString('utf8') : String(raw);
  }
  return '';
}

/** Variables of a container: `$(VAR)` references to earlier ones expanded, as the kubelet does. */
export function containerEnv(ctx: ContainerContext, c: Json): string[] {
  const vars = new Map<string, string>();
  for (const e of c.env ?? []) {
    const v = envValue(ctx, e);
    if (v !== undefined) vars.set(e.name, v.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, name: string) => vars.get(name) ?? all));
  }
  return [...vars].map(([k, v]) => `${k}=${v}`);
}

export function createOptions(ctx: ContainerContext, c: Json, name: string): Docker.ContainerCreateOptions {
  const limits = (c.resources?.limits ?? {}) as Record<string, string>;
  const memory = limits.memory === undefined ? undefined : Math.round(quantityValue(limits.memory));
  const cpu = limits.cpu === undefined ? undefined : Math.round(quantityValue(limits.cpu) * 1e9);
  const binds = (c.volumeMounts ?? []).map((m: Json) => `${ctx.volumes.get(m.name) ?? ''}${m.subPath === undefined ? '' : `/${String(m.subPath)}`}:${m.mountPath}${m.readOnly === true ? ':ro' : ''}`);
  const gpus = quantityValue(limits['nvidia.com/gpu'] ?? '0');
  return {
    name,
    Image: c.image,
    ...(c.command === undefined ? {} : { Entrypoint: c.command }),
    ...(c.args === undefined ? (c.command === undefined ? {} : { Cmd: [] }) : { Cmd: c.args }),
    ...(c.workingDir === undefined ? {} : { WorkingDir: c.workingDir }),
    Env: containerEnv(ctx, c),
    Labels: { [LABEL]: ctx.instance, 'io.kubernetes.pod.name': ctx.pod.metadata.name ?? '', 'io.kubernetes.pod.namespace': ctx.pod.metadata.namespace ?? '', 'io.kubernetes.pod.uid': ctx.pod.metadata.uid ?? '', 'io.kubernetes.container.name': c.name },
    HostConfig: {
      Init: true,
      NetworkMode: ctx.network === 'host' ? 'host' : `container:${ctx.network.sandboxId}`,
      Binds: binds,
      ...(memory === undefined ? {} : { Memory: memory, MemorySwap: memory }),
      ...(cpu === undefined ? {} : { NanoCpus: cpu }),
      ...(gpus > 0 ? { DeviceRequests: [{ Driver: 'nvidia', Count: Math.ceil(gpus), Capabilities: [['gpu']] }] } : {}),
    },
  };
}

/** The pod's network: a paused container holding its IP and the published container ports (HostIp = pod IP). */
export function sandboxOptions(ctx: Omit<ContainerContext, 'network'>, image: string, name: string): Docker.ContainerCreateOptions {
  const ports: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const c of ctx.pod.spec.containers ?? []) {
    for (const p of c.ports ?? []) {
      const key = `${p.containerPort}/${String(p.protocol ?? 'TCP').toLowerCase()}`;
      ports[key] = {};
      bindings[key] = [{ HostIp: ctx.podIP, HostPort: String(p.containerPort) }];
    }
  }
  return {
    name, Image: image, Entrypoint: ['sleep'], Cmd: ['infinity'], Hostname: ctx.pod.metadata.name ?? 'pod', ExposedPorts: ports,
    Labels: { [LABEL]: ctx.instance, 'io.kubernetes.pod.name': ctx.pod.metadata.name ?? '', 'io.kubernetes.pod.uid': ctx.pod.metadata.uid ?? '', 'io.kubernetes.container.name': 'POD' },
    HostConfig: { Init: true, PortBindings: bindings },
  };
}
