// What a replica's container is made of: image, `berth serve` command, limits, read-only model mount, loopback port, labels, GPUs.
import { posix } from 'node:path';
import type Docker from 'dockerode';
import { serveFlags } from '../local/launch.js';
import { MODELS_FOLDER } from '../../control/materialize.js';
import { REPLICA_KEY_ENV } from '../../core/replica-key.js';
import { MODEL_NAME_ENV } from '../../inference/oip/model.js';
import type { ReplicaSpec } from '../types.js';

/** The port `berth serve` listens on inside every container; published on a free loopback port of the host. */
export const CONTAINER_PORT = 5001;
export const PORT_KEY = `${CONTAINER_PORT}/tcp`;

/** Labels berth puts on its containers: how a restarted control plane finds (and only finds) its own. */
export const LABELS = {
  managed: 'berth.managed',
  home: 'berth.home',
  service: 'berth.service',
  generation: 'berth.generation',
  replica: 'berth.replica',
} as const;

/**
 * bridge: each container has its own network; its port 5001 is published on a free loopback port. host: containers
 * share this machine's network and `berth serve` listens on a free 127.0.0.1 port itself (no relay or NAT in between:
 * faster, less isolated).
 */
export type ContainerNetwork = 'bridge' | 'host';

export interface ContainerSettings {
  /** Identifies the control plane's home (a digest of its path), so planes of different homes never adopt each other's. */
  readonly homeLabel: string;
  readonly network?: ContainerNetwork;
  readonly replicaKey?: (replicaId: string) => string;
  readonly maxRequestSizeMb?: number;
}

/**
 * The models folder of a generation (`…/azureml-models`) is mounted read-only at `<appRoot>/azureml-models`; the
 * replica's model dir (the version folder for one model, the folder itself for several) maps to the same place inside.
 */
export function modelMount(hostModelDir: string, appRoot: string): { bind: string; modelDir: string } {
  const marker = `/${MODELS_FOLDER}`;
  const at = hostModelDir.lastIndexOf(marker);
  if (at < 0) return { bind: `${hostModelDir}:${posix.join(appRoot, MODELS_FOLDER)}:ro`, modelDir: posix.join(appRoot, MODELS_FOLDER) };
  const root = hostModelDir.slice(0, at + marker.length);
  const rest = hostModelDir.slice(at + marker.length);
  return { bind: `${root}:${posix.join(appRoot, MODELS_FOLDER)}:ro`, modelDir: posix.join(appRoot, MODELS_FOLDER) + rest };
}

/** Where a replica's log file on the host is mounted inside its container. */
export const CONTAINER_LOG_PATH = '/var/log/berth/replica.log';

/**
 * `hostLogPath`: the run's log file on the host. berth serve appends its log lines to it through a bind mount instead
 * of writing them to standard output, which the engine would copy line by line (containerd's shim, then dockerd, then
 * this plane): at an access line per request that copying took about a seventh of a 2-core machine and a fifth of a
 * container replica's throughput. What still reaches standard output (a crash's trace) is copied as before.
 */
export function containerOptions(spec: ReplicaSpec, settings: ContainerSettings, name: string, hostLogPath?: string): Docker.ContainerCreateOptions {
  const image = spec.container;
  if (image === undefined) throw new Error(`replica ${spec.replicaId} has no image to run`);
  const mount = spec.modelDir === undefined ? undefined : modelMount(spec.modelDir, image.appRoot);
  const entryScript = posix.isAbsolute(spec.entryScript) ? spec.entryScript : posix.join(image.appRoot, spec.entryScript);
  const host = settings.network === 'host';
  const cmd = serveFlags(spec, {
    entryScript, host: host ? '127.0.0.1' : '0.0.0.0', port: host ? 0 : CONTAINER_PORT, python: image.python,
    ...(mount === undefined ? {} : { modelDir: mount.modelDir }),
    ...(settings.maxRequestSizeMb === undefined ? {} : { maxRequestSizeMb: settings.maxRequestSizeMb }),
  });
  // The service name is the model name of the Open Inference Protocol routes behind the gateway.
  if (hostLogPath !== undefined) cmd.push('--log-file', CONTAINER_LOG_PATH);
  const binds = [...(mount === undefined ? [] : [mount.bind]), ...(hostLogPath === undefined ? [] : [`${hostLogPath}:${CONTAINER_LOG_PATH}`])];
  const env: Record<string, string> = { ...image.env, ...spec.env, [MODEL_NAME_ENV]: spec.serviceName };
  const key = settings.replicaKey?.(spec.replicaId);
  if (key !== undefined) env[REPLICA_KEY_ENV] = key;
  const limit = spec.memoryLimitBytes;
  return {
    name,
    Image: image.ref,
    Entrypoint: [image.node, image.berthBin],
    Cmd: cmd,
    WorkingDir: image.appRoot,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: {
      [LABELS.managed]: 'true',
      [LABELS.home]: settings.homeLabel,
      [LABELS.service]: spec.serviceName,
      [LABELS.replica]: spec.replicaId,
      ...(spec.generation === undefined ? {} : { [LABELS.generation]: String(spec.generation) }),
    },
    ...(host ? {} : { ExposedPorts: { [PORT_KEY]: {} } }),
    HostConfig: {
      // A small init as PID 1: signals reach berth serve, and workers it leaves behind are reaped.
      Init: true,
      ...(host ? { NetworkMode: 'host' } : { PortBindings: { [PORT_KEY]: [{ HostIp: '127.0.0.1', HostPort: '' }] } }),
      ...(binds.length === 0 ? {} : { Binds: binds }),
      // No swap on top of the limit: over it is an OOM kill, as on the process target and on Kubernetes.
      ...(limit === undefined ? {} : { Memory: limit, MemorySwap: limit }),
      ...(spec.cpuLimit === undefined ? {} : { NanoCpus: Math.round(spec.cpuLimit * 1e9) }),
      ...(spec.gpus === undefined || spec.gpus <= 0 ? {} : { DeviceRequests: [{ Driver: 'nvidia', Count: Math.ceil(spec.gpus), Capabilities: [['gpu']] }] }),
    },
  };
}
